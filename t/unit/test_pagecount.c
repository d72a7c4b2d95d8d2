// SPDX-License-Identifier: GPL-2.0
/* Unit tests of per-page access counting (etmemd/engine/pagecount.c). */
// wrap: etmem_scan proc_alive
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pagecount.h"
#include "procs.h"

#define A ETMEM_PAGE_STATE_ACCESSED
#define I ETMEM_PAGE_STATE_IDLE
#define X ETMEM_PAGE_STATE_ABSENT
#define R ETMEM_PAGE_STATE_RECENT	/* a hot table left unread (SAMPLE_HOT) */
#define BASE 0x10000000ull

/* Feeds one chunk of 4 KiB pages with the given states. */
static void feed(struct page_counts *pc, uint64_t addr, const int *states, uint32_t nr)
{
	uint8_t packed[16] = { 0 };
	struct etmem_chunk chunk = { .addr = addr, .page_shift = 12, .nr_pages = nr,
				     .states = packed };

	for (uint32_t i = 0; i < nr; i++)
		packed[i / 4] |= states[i] << (2 * (i % 4));
	assert_int_equal(page_counts_add_chunk(&chunk, pc), 0);
}

struct cold_case {
	const char *what;
	int pass1[8], pass2[8];
	unsigned int threshold;
	uint64_t nr_cold;
	size_t nr_ranges;
	uint64_t first_start, first_end;	/* page indexes */
};

static const struct cold_case cases[] = {
	{ "idle twice is cold at T=1", { I, I, I, I, I, I, I, I }, { I, I, I, I, I, I, I, I },
	  1, 8, 1, 0, 8 },
	{ "accessed once is hot at T=1", { A, I, I, I, I, I, I, A }, { I, I, I, I, I, I, I, I },
	  1, 6, 1, 1, 7 },
	{ "accessed once is cold at T=2", { A, A, I, I, I, I, I, I }, { I, A, I, I, I, I, I, I },
	  2, 7, 2, 0, 1 },
	{ "T=0: nothing is cold", { I, I, I, I, I, I, I, I }, { I, I, I, I, I, I, I, I },
	  0, 0, 0, 0, 0 },
	{ "absent in any pass is never cold", { X, I, I, I, I, I, I, I }, { I, X, I, A, I, I, I, I },
	  1, 5, 2, 2, 3 },
	/* RECENT counts as accessed, in the first pass and in later ones. */
	{ "recent in pass 2 is hot at T=1", { I, I, I, I, I, I, I, I }, { R, R, I, I, I, I, I, I },
	  1, 6, 1, 2, 8 },
	{ "recent in pass 1 is hot at T=1", { R, I, I, I, I, I, I, R }, { I, I, I, I, I, I, I, I },
	  1, 6, 1, 1, 7 },
	{ "recent once and accessed once is hot at T=2", { R, A, I, I, I, I, I, I },
	  { A, R, I, I, I, I, I, I }, 2, 6, 1, 2, 8 },
};

static void test_cold(void **state)
{
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct cold_case *tc = &cases[c];
		struct page_counts *pc = page_counts_new();
		GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
		uint64_t cold;

		page_counts_begin_pass(pc, 1);
		/* Two chunks per pass, as the kernel may split them. */
		feed(pc, BASE, tc->pass1, 4);
		feed(pc, BASE + 4 * 4096, tc->pass1 + 4, 4);
		page_counts_begin_pass(pc, 2);
		feed(pc, BASE, tc->pass2, 8);
		cold = page_counts_cold_ranges(pc, tc->threshold, 0, ranges);
		if (cold != tc->nr_cold || ranges->len != tc->nr_ranges)
			fail_msg("%s: %llu cold in %u ranges", tc->what,
				 (unsigned long long)cold, ranges->len);
		if (tc->nr_ranges) {
			struct etmem_range *r = &g_array_index(ranges, struct etmem_range, 0);

			assert_int_equal(r->start, BASE + tc->first_start * 4096);
			assert_int_equal(r->end, BASE + tc->first_end * 4096);
		}
		g_array_free(ranges, TRUE);
		page_counts_free(pc);
	}
}

static void test_new_pages_ignored(void **state)
{
	static const int idle[4] = { I, I, I, I };
	struct page_counts *pc = page_counts_new();
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));

	page_counts_begin_pass(pc, 1);
	feed(pc, BASE, idle, 4);
	page_counts_begin_pass(pc, 2);
	feed(pc, BASE - 8 * 4096, idle, 4);	/* mapped after pass 1 */
	feed(pc, BASE, idle, 4);
	assert_int_equal(page_counts_nr_pages(pc), 4);
	assert_int_equal(page_counts_cold_ranges(pc, 1, 0, ranges), 4);
	g_array_free(ranges, TRUE);
	page_counts_free(pc);
}

/* Feeds one chunk of 4 KiB pages with states and kernel idle ages. */
static void feed_aged(struct page_counts *pc, const int *states, const uint8_t *ages,
		      uint32_t nr)
{
	uint8_t packed[16] = { 0 };
	struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12, .nr_pages = nr,
				     .states = packed, .idle_ages = ages };

	for (uint32_t i = 0; i < nr; i++)
		packed[i / 4] |= states[i] << (2 * (i % 4));
	assert_int_equal(page_counts_add_chunk(&chunk, pc), 0);
}

/*
 * With a minimum idle age, a page idle in every pass of the cycle is cold
 * only if the kernel's age of the latest pass reaches it; without an age
 * (THP, hugetlb) the count decides alone; min_age 0 ignores ages.
 */
static void test_min_idle_age(void **state)
{
	static const int idle[6] = { I, I, I, I, I, I };
	static const int last[6] = { I, I, I, I, A, I };
	static const uint8_t ages1[6] = { 5, 6, 9, 1, 9, ETMEM_IDLE_AGE_UNKNOWN };
	static const uint8_t ages2[6] = { 6, 7, 10, 2, 0, ETMEM_IDLE_AGE_UNKNOWN };
	struct page_counts *pc = page_counts_new();
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	struct etmem_range *r;

	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, ages1, 6);
	page_counts_begin_pass(pc, 2);
	feed_aged(pc, last, ages2, 6);
	/* T=1: page 4 was accessed; min age 7: pages 1, 2 and 5 (no age). */
	assert_int_equal(page_counts_cold_ranges(pc, 1, 7, ranges), 3);
	assert_int_equal(ranges->len, 2);
	r = &g_array_index(ranges, struct etmem_range, 0);
	assert_int_equal(r->start, BASE + 1 * 4096);
	assert_int_equal(r->end, BASE + 3 * 4096);
	r = &g_array_index(ranges, struct etmem_range, 1);
	assert_int_equal(r->start, BASE + 5 * 4096);
	g_array_set_size(ranges, 0);
	assert_int_equal(page_counts_cold_ranges(pc, 1, 0, ranges), 5);
	g_array_free(ranges, TRUE);
	page_counts_free(pc);
}

/*
 * Budget mode: the kernel's age decides where there is one; where there
 * is none, our own count of passes idle in a row, kept across cycles and
 * reset by an access, and dropped for pages that now have a kernel age.
 */
static void test_aged_ranges(void **state)
{
	static const int idle[4] = { I, I, I, I };
	static const int hit3[4] = { I, I, I, A };
	static const uint8_t u = ETMEM_IDLE_AGE_UNKNOWN;
	static const uint8_t ages[4] = { 3, 9, u, u };
	static const uint8_t aged_all[4] = { 3, 9, 4, u };
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	GHashTable *own = NULL;
	struct page_counts *pc;

	/* Cycle 1, 2 passes: pages 2 and 3 have no kernel age: own age 2. */
	pc = page_counts_new();
	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, ages, 4);
	page_counts_begin_pass(pc, 2);
	feed_aged(pc, idle, ages, 4);
	assert_int_equal(page_counts_aged_ranges(pc, 3, &own, ranges), 2);	/* pages 0, 1 */
	assert_int_equal(g_hash_table_size(own), 2);
	page_counts_free(pc);
	/* Cycle 2: page 3 accessed in pass 2 (own age 0); page 2 reaches 4. */
	pc = page_counts_new();
	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, ages, 4);
	page_counts_begin_pass(pc, 2);
	feed_aged(pc, hit3, ages, 4);
	g_array_set_size(ranges, 0);
	assert_int_equal(page_counts_aged_ranges(pc, 4, &own, ranges), 2);	/* pages 1, 2 */
	assert_int_equal(ranges->len, 1);
	assert_int_equal(g_array_index(ranges, struct etmem_range, 0).start, BASE + 4096);
	assert_int_equal(g_array_index(ranges, struct etmem_range, 0).end, BASE + 3 * 4096);
	page_counts_free(pc);
	/* Cycle 3: page 2 has a kernel age (4) now; its own entry goes. */
	pc = page_counts_new();
	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, aged_all, 4);
	g_array_set_size(ranges, 0);
	assert_int_equal(page_counts_aged_ranges(pc, 4, &own, ranges), 2);	/* pages 1, 2 */
	assert_int_equal(g_hash_table_size(own), 1);
	page_counts_free(pc);
	g_hash_table_destroy(own);
	g_array_free(ranges, TRUE);
}

/* A module older than hot sampling: its policy refuses the flag. */
static uint32_t flags_seen[4];
static unsigned int nr_scans;

int __wrap_etmem_scan(struct etmem_client *client, pid_t pid,
		      const struct etmem_range *ranges, size_t nr_ranges,
		      uint32_t scan_flags, etmem_scan_cb cb, void *arg);
int __wrap_etmem_scan(struct etmem_client *client, pid_t pid,
		      const struct etmem_range *ranges, size_t nr_ranges,
		      uint32_t scan_flags, etmem_scan_cb cb, void *arg)
{
	static const uint8_t idle[1] = { 0x55 };
	struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12, .nr_pages = 4,
				     .states = idle };

	(void)client, (void)pid, (void)ranges, (void)nr_ranges;
	if (nr_scans < 4)
		flags_seen[nr_scans] = scan_flags;
	nr_scans++;
	if (scan_flags & ETMEM_SCAN_FLAGS_SAMPLE_HOT)
		return -EINVAL;
	return cb(&chunk, arg);
}

bool __wrap_proc_alive(const struct proc_id *id);
bool __wrap_proc_alive(const struct proc_id *id)
{
	(void)id;
	return true;
}

/*
 * slide asks for hot sampling; a module that refuses the flag gets the
 * pass again without it, and every later pass goes without at once.
 */
static void test_old_module_without_sample_hot(void **state)
{
	struct page_counts *pc = page_counts_new();
	struct proc_id id = { .pid = 1 };
	char err[128] = "";
	uint32_t f = ETMEM_SCAN_FLAGS_SAMPLE_HOT | ETMEM_SCAN_FLAGS_IDLE_AGES;

	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id,
					       f, 1, err, sizeof(err)), 0);
	assert_int_equal(nr_scans, 2);
	assert_int_equal(flags_seen[0], f);
	assert_int_equal(flags_seen[1], ETMEM_SCAN_FLAGS_IDLE_AGES);
	assert_int_equal(page_counts_nr_pages(pc), 4);	/* one chunk, not two */
	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id,
					       f, 2, err, sizeof(err)), 0);
	assert_int_equal(nr_scans, 3);
	assert_int_equal(flags_seen[2], ETMEM_SCAN_FLAGS_IDLE_AGES);
	page_counts_free(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cold),
		cmocka_unit_test(test_new_pages_ignored),
		cmocka_unit_test(test_min_idle_age),
		cmocka_unit_test(test_aged_ranges),
		cmocka_unit_test(test_old_module_without_sample_hot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
