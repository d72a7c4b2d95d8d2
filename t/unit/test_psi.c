// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the psi engine's feedback step (etmemd/engine/psi.c, included so
 * its static functions can be driven) on a directory of plain files made
 * to look like a cgroup: memory.pressure's "some total" and
 * memory.current. Writes to memory.reclaim go to a stand-in for the kernel
 * (write is wrapped) that sums what was asked and, when told to, lowers
 * memory.current by a multiple of it, as an over-reclaiming kernel does.
 */
// wrap: write
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "psi.c"

#define MIB (1ull << 20)

static char *dir;
static uint64_t reclaim_asked;	/* bytes written to memory.reclaim */
static unsigned int reclaim_takes;	/* memory.current drops by this many times the request */

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	char link[64], target[PATH_MAX], text[32], *path, *cur;
	uint64_t req, usage;
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, target, sizeof(target) - 1);
	if (!dir || len < 0 || n >= sizeof(text))
		return __real_write(fd, buf, n);
	target[len] = '\0';
	path = g_strdup_printf("%s/memory.reclaim", dir);
	if (strcmp(target, path)) {
		g_free(path);
		return __real_write(fd, buf, n);
	}
	g_free(path);
	memcpy(text, buf, n);
	text[n] = '\0';
	req = strtoull(text, NULL, 10);
	reclaim_asked += req;
	if (reclaim_takes) {
		path = g_strdup_printf("%s/memory.current", dir);
		assert_true(g_file_get_contents(path, &cur, NULL, NULL));
		usage = strtoull(cur, NULL, 10);
		g_free(cur);
		usage -= MIN(usage, reclaim_takes * req);
		snprintf(text, sizeof(text), "%" PRIu64 "\n", usage);
		assert_true(g_file_set_contents(path, text, -1, NULL));
		g_free(path);
	}
	return n;
}

static void put(const char *file, const char *fmt, ...)
{
	char *path = g_strdup_printf("%s/%s", dir, file), *text;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(text);
	g_free(path);
}

/* What the step asked of memory.reclaim in all (0: nothing), then forgets it. */
static uint64_t asked(void)
{
	uint64_t n = reclaim_asked;

	reclaim_asked = 0;
	return n;
}

static uint64_t current(void)
{
	char *path = g_strdup_printf("%s/memory.current", dir), *text = NULL;
	uint64_t n;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	n = strtoull(text, NULL, 10);
	g_free(text);
	g_free(path);
	return n;
}

static void cgroup_files(uint64_t stall_us, uint64_t usage)
{
	put("memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=%" PRIu64
	    "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", stall_us);
	put("memory.current", "%" PRIu64 "\n", usage);
}

static void test_feedback(void **state)
{
	struct psi_run run = { .params = { .pressure = 0.1, .limit_min_bytes = 160 * MIB } };
	struct psi_cgroup *cg;
	uint64_t stall = 1000;

	dir = g_dir_make_tmp("etmem-psi-XXXXXX", NULL);
	assert_non_null(dir);
	snprintf(run.name, sizeof(run.name), "p/t");
	run.cgroups = g_ptr_array_new_with_free_func(cgroup_free);
	cg = cgroup_get(&run, dir);
	put("memory.reclaim", "%s", "");

	/* First sight: only remembers the stall counter. */
	cgroup_files(stall, 512 * MIB);
	cgroup_step(&run, cg);
	assert_true(cg->primed);
	assert_int_equal(asked(), 0);
	assert_int_equal(cg->step, 4 * MIB);

	/* No stall: reclaim a step, then twice as much. */
	cgroup_step(&run, cg);
	assert_true(cg->pressure == 0);
	assert_int_equal(asked(), 4 * MIB);
	assert_int_equal(cg->step, 8 * MIB);
	cgroup_step(&run, cg);
	assert_int_equal(asked(), 8 * MIB);
	assert_int_equal(cg->step, 16 * MIB);

	/* A stall far above 10% of the interval: nothing, and half the step. */
	stall += 10 * 1000000;
	cgroup_files(stall, 512 * MIB);
	cgroup_step(&run, cg);
	assert_true(cg->pressure > 0.1);
	assert_int_equal(asked(), 0);
	assert_int_equal(cg->step, 8 * MIB);
	assert_non_null(strstr(cg->note, "is not below the target 0.1000: no reclaim"));

	/* Never asks below limit_min_bytes. */
	cgroup_files(stall, 163 * MIB);
	cgroup_step(&run, cg);
	assert_int_equal(asked(), 3 * MIB);
	cgroup_files(stall, 160 * MIB);
	cgroup_step(&run, cg);
	assert_int_equal(asked(), 0);
	assert_non_null(strstr(cg->note, "usage is at limit_min_bytes"));

	/* Reclaimed counts drops of memory.current only: these files never drop. */
	cgroup_files(stall, 300 * MIB);
	cgroup_step(&run, cg);
	assert_int_equal(asked(), 16 * MIB);
	assert_int_equal(cg->reclaimed, 0);

	/*
	 * A kernel that takes three times what is asked (as 6.1 can): the step
	 * goes in chunks and ends at limit_min_bytes, within a chunk's excess.
	 */
	reclaim_takes = 3;
	cgroup_files(stall, 187 * MIB);
	cgroup_step(&run, cg);
	assert_true(current() < 160 * MIB);
	assert_true(current() >= 160 * MIB - 2 * PSI_CHUNK);
	assert_true(asked() <= 27 * MIB / 3 + PSI_CHUNK);
	assert_int_equal(cg->usage, current());
	assert_int_equal(cg->reclaimed, 187 * MIB - current());
	reclaim_takes = 0;

	/* A cgroup without the memory controller's files. */
	unlink(g_strdup_printf("%s/memory.pressure", dir));
	cgroup_step(&run, cg);
	assert_non_null(strstr(cg->note, "cannot read memory.pressure or memory.current"));
	assert_false(cg->primed);

	g_ptr_array_free(run.cgroups, TRUE);
	assert_int_equal(system(g_strdup_printf("rm -rf '%s'", dir)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feedback),
	};

	log_init("test_psi", LOG_LEVEL_ERROR, true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
