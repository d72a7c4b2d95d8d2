// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_scan_check: scan correctness of etmem_scan.ko on this very process.
 *
 * Maps 4 KiB pages (THP off), THP, hugetlb and file-backed regions with a
 * known access pattern, scans them through lib/ and checks that exactly
 * the touched pages come back accessed, that a second scan sees all idle,
 * that a thread spinning on another CPU keeps its page accessed, that each
 * scan flag filters, that a concurrent scan gets EBUSY, that a target
 * exiting mid-dump ends the dump with EOWNERDEAD and one exec'ing with
 * ESTALE, that a zombie is refused with EOWNERDEAD, that a process whose
 * main thread exited while another runs is scanned, and that a thread
 * that sleeps between touches is seen as often as one that spins, and
 * that zero pages (4 KiB and huge) are absent. Needs root, 2 CPUs and 8
 * reserved 2 MiB hugetlb pages. Prints "ok"/"not ok" lines; exit 1 on
 * any failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "etmem_genl.h"
#include "check.h"

#define MB (1UL << 20)
#define R4K_SIZE (4 * MB)
#define R4K_PAGES (R4K_SIZE >> 12)
#define RTHP_SIZE (8 * MB)
#define RHUGE_SIZE (8 * MB)
#define RFILE_SIZE (1 * MB)

static char *r4k, *rthp, *rhuge, *rfile;
static struct etmem_client *client;

/* ---- collecting a scan --------------------------------------------- */

struct unit {
	uint64_t addr;
	unsigned int shift;
	int state;
};

struct scan_result {
	struct unit *units;
	size_t nr, cap;
};

static int collect(const struct etmem_chunk *chunk, void *arg)
{
	struct scan_result *res = arg;
	uint32_t i;

	for (i = 0; i < chunk->nr_pages; i++) {
		if (res->nr == res->cap) {
			res->cap = res->cap ? res->cap * 2 : 4096;
			res->units = realloc(res->units, res->cap * sizeof(*res->units));
		}
		res->units[res->nr++] = (struct unit){
			chunk->addr + ((uint64_t)i << chunk->page_shift),
			chunk->page_shift, etmem_chunk_state(chunk, i) };
	}
	return 0;
}

static int scan(const struct etmem_range *ranges, size_t n, uint32_t flags,
		struct scan_result *res)
{
	res->nr = 0;
	return etmem_scan(client, getpid(), ranges, n, flags, collect, res);
}

static struct etmem_range range_of(void *p, size_t len)
{
	return (struct etmem_range){ (uintptr_t)p, (uintptr_t)p + len };
}

/* Units of @res inside [p, p + len). */
static size_t units_in(const struct scan_result *res, void *p, size_t len,
		       unsigned int shift, int state)
{
	size_t i, n = 0;

	for (i = 0; i < res->nr; i++) {
		const struct unit *u = &res->units[i];

		if (u->addr >= (uintptr_t)p && u->addr < (uintptr_t)p + len &&
		    (!shift || u->shift == shift) && (state < 0 || u->state == state))
			n++;
	}
	return n;
}

static int state_at(const struct scan_result *res, void *p)
{
	size_t i;

	for (i = 0; i < res->nr; i++)
		if (res->units[i].addr == (uintptr_t)p)
			return res->units[i].state;
	return -1;
}

/* ---- memory -------------------------------------------------------- */

static void *map_aligned(size_t len, int advice)
{
	char *p = mmap(NULL, len + 2 * MB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + 2 * MB - 1) & ~(2 * MB - 1));
	munmap(p, a - p);
	munmap(a + len, p + len + 2 * MB - (a + len));
	madvise(a, len, advice);
	memset(a, 0x5a, len);
	return a;
}

static int setup_memory(void)
{
	int fd;

	r4k = map_aligned(R4K_SIZE, MADV_NOHUGEPAGE);
	rthp = map_aligned(RTHP_SIZE, MADV_HUGEPAGE);
	rhuge = mmap(NULL, RHUGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	fd = memfd_create("kmod_scan_check", 0);
	if (!r4k || !rthp || rhuge == MAP_FAILED || fd < 0 || ftruncate(fd, RFILE_SIZE))
		return -1;
	rfile = mmap(NULL, RFILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (rfile == MAP_FAILED)
		return -1;
	memset(rhuge, 0x5b, RHUGE_SIZE);
	memset(rfile, 0x5c, RFILE_SIZE);
	return 0;
}

static void touch(volatile char *p)
{
	(void)*p;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ---- cases --------------------------------------------------------- */

static void sort_ranges(struct etmem_range *r, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && r[j - 1].start > r[j].start; j--) {
			struct etmem_range t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
}

static void test_pattern(struct etmem_range *all, size_t nall)
{
	struct scan_result res = { 0 };
	size_t i, bad = 0;
	int ret;

	ret = scan(all, nall, 0, &res);
	check(ret == 0, "first scan of all regions (ret %d: %s)", ret,
	      etmem_client_errmsg(client));
	for (i = 0; i < R4K_PAGES; i += 3)
		touch(r4k + i * 4096);
	touch(rthp + 2 * MB + 100);
	touch(rthp + 6 * MB + 100);
	touch(rhuge + 100);
	touch(rhuge + 4 * MB + 100);
	ret = scan(all, nall, 0, &res);
	check(ret == 0, "second scan (ret %d)", ret);
	for (i = 0; i < R4K_PAGES; i++)
		bad += state_at(&res, r4k + i * 4096) !=
		       (i % 3 == 0 ? ETMEM_PAGE_STATE_ACCESSED : ETMEM_PAGE_STATE_IDLE);
	check(bad == 0, "4 KiB pages: accessed exactly every third of %lu (%zu wrong)",
	      R4K_PAGES, bad);
	check(units_in(&res, rthp, RTHP_SIZE, 21, -1) == 4 &&
	      units_in(&res, rthp, RTHP_SIZE, 12, -1) == 0,
	      "THP region reported as 4 units of 2 MiB (%zu 2M, %zu 4K)",
	      units_in(&res, rthp, RTHP_SIZE, 21, -1), units_in(&res, rthp, RTHP_SIZE, 12, -1));
	check(state_at(&res, rthp) == ETMEM_PAGE_STATE_IDLE &&
	      state_at(&res, rthp + 2 * MB) == ETMEM_PAGE_STATE_ACCESSED &&
	      state_at(&res, rthp + 4 * MB) == ETMEM_PAGE_STATE_IDLE &&
	      state_at(&res, rthp + 6 * MB) == ETMEM_PAGE_STATE_ACCESSED,
	      "THP: units 1 and 3 accessed, 0 and 2 idle");
	check(units_in(&res, rhuge, RHUGE_SIZE, 21, -1) == 4 &&
	      state_at(&res, rhuge) == ETMEM_PAGE_STATE_ACCESSED &&
	      state_at(&res, rhuge + 2 * MB) == ETMEM_PAGE_STATE_IDLE &&
	      state_at(&res, rhuge + 4 * MB) == ETMEM_PAGE_STATE_ACCESSED &&
	      state_at(&res, rhuge + 6 * MB) == ETMEM_PAGE_STATE_IDLE,
	      "hugetlb: 4 units of 2 MiB, 0 and 2 accessed");
	ret = scan(all, nall, 0, &res);
	check(ret == 0 && units_in(&res, r4k, R4K_SIZE, 0, ETMEM_PAGE_STATE_IDLE) == R4K_PAGES &&
	      units_in(&res, rthp, RTHP_SIZE, 21, ETMEM_PAGE_STATE_IDLE) == 4 &&
	      units_in(&res, rhuge, RHUGE_SIZE, 21, ETMEM_PAGE_STATE_IDLE) == 4 &&
	      units_in(&res, rfile, RFILE_SIZE, 12, ETMEM_PAGE_STATE_IDLE) == RFILE_SIZE / 4096,
	      "third scan without touches: all idle");
	free(res.units);
}

static volatile int spinning = 1;

/*
 * Reads by the reader threads below, so that a scan round in which the
 * reader did not run at all (its vCPU stalled by the host for the whole
 * 100 ms) is told apart from a read the scan missed: such a round is not
 * counted, and another is run in its place.
 */
static volatile unsigned long reader_reads;

static void *spinner(void *arg)
{
	volatile char *p = arg;

	pin_to_cpu(1);
	while (spinning) {
		(void)*p;
		reader_reads++;
	}
	return NULL;
}

/*
 * reader_rounds - scan the range of 4 KiB pages every 100 ms until @want rounds had
 * reads of @hot between the end of the scan before and the start of this
 * one (at most 3 * @want rounds): the second of them came after the scan
 * before cleared the accessed bit, so the page must read as accessed.
 * @others, if not NULL, gets the other pages found accessed in those rounds.
 * Return: the rounds in which @hot read as accessed; *@counted the rounds
 * counted, *@skipped those without a read.
 */
static int reader_rounds(char *hot, int want, int *counted, int *skipped, int *others)
{
	struct etmem_range r = range_of(r4k, R4K_SIZE);
	struct scan_result res = { 0 };
	unsigned long before;
	int round, seen = 0, acc;

	*counted = *skipped = 0;
	scan(&r, 1, 0, &res);
	for (round = 0; round < 3 * want && *counted < want; round++) {
		before = reader_reads;
		usleep(100000);
		/* Two reads: the first may have loaded before the scan ended. */
		if (reader_reads - before < 2) {
			(*skipped)++;
			/* This round's scan clears what came in late. */
			if (scan(&r, 1, 0, &res))
				break;
			continue;
		}
		if (scan(&r, 1, 0, &res))
			break;
		(*counted)++;
		acc = state_at(&res, hot) == ETMEM_PAGE_STATE_ACCESSED;
		seen += acc;
		if (others)
			*others += units_in(&res, r4k, R4K_SIZE, 12, ETMEM_PAGE_STATE_ACCESSED) - acc;
	}
	free(res.units);
	return seen;
}

static void test_spinner(void)
{
	char *hot = r4k + 5 * 4096;
	pthread_t thread;
	int seen, counted, skipped, others = 0;

	pin_to_cpu(0);
	pthread_create(&thread, NULL, spinner, hot);
	usleep(100000);
	seen = reader_rounds(hot, 5, &counted, &skipped, &others);
	spinning = 0;
	pthread_join(thread, NULL);
	check(counted == 5 && seen == 5,
	      "page read by a thread spinning on CPU 1: accessed in %d of %d scans (%d rounds without a read not counted)",
	      seen, counted, skipped);
	check(others == 0, "no other page accessed meanwhile (%d)", others);
}

static volatile int sleeping = 1;

/* Touch, then sleep 5 ms: the CPU switches away from the mm and back. */
static void *sleeper(void *arg)
{
	volatile char *p = arg;

	pin_to_cpu(1);
	while (sleeping) {
		(void)*p;
		reader_reads++;
		usleep(5000);
	}
	return NULL;
}

static void test_sleeper(void)
{
	char *hot = r4k + 9 * 4096;
	pthread_t thread;
	int seen, counted, skipped;

	pin_to_cpu(0);
	pthread_create(&thread, NULL, sleeper, hot);
	usleep(100000);
	seen = reader_rounds(hot, 10, &counted, &skipped, NULL);
	sleeping = 0;
	pthread_join(thread, NULL);
	check(counted == 10 && seen == 10,
	      "page read by a thread on CPU 1 that sleeps 5 ms between reads: accessed in %d of %d scans (%d rounds without a read not counted)",
	      seen, counted, skipped);
}

static void test_flags(struct etmem_range *all, size_t nall)
{
	struct etmem_range r = range_of(r4k, R4K_SIZE);
	struct scan_result res = { 0 };
	int ret;

	scan(all, nall, 0, &res);
	touch(r4k + 100);
	ret = scan(&r, 1, ETMEM_SCAN_FLAGS_AS_HUGE, &res);
	check(ret == 0 && res.nr == 2 && res.units[0].shift == 21 &&
	      res.units[0].state == ETMEM_PAGE_STATE_ACCESSED &&
	      res.units[1].state == ETMEM_PAGE_STATE_IDLE,
	      "AS_HUGE: 4 MiB of 4 KiB pages as 2 units of 2 MiB, first accessed (%zu units)",
	      res.nr);

	ret = scan(all, nall, ETMEM_SCAN_FLAGS_ANON_ONLY, &res);
	check(ret == 0 && units_in(&res, rfile, RFILE_SIZE, 0, -1) == 0 &&
	      units_in(&res, r4k, R4K_SIZE, 0, -1) == R4K_PAGES,
	      "ANON_ONLY: file mapping skipped, anonymous kept");

	ret = scan(all, nall, ETMEM_SCAN_FLAGS_HUGETLB_ONLY, &res);
	check(ret == 0 && res.nr == 4 && units_in(&res, rhuge, RHUGE_SIZE, 21, -1) == 4,
	      "HUGETLB_ONLY: only the 4 hugetlb pages (%zu units)", res.nr);

	ret = etmem_madvise_swapflag(r4k + 100 * 4096, 100 * 4096, true);
	check(ret == 0, "etmem_madvise_swapflag marks 100 pages (%s)",
	      ret ? strerror(errno) : "done");
	ret = scan(all, nall, ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY, &res);
	check(ret == 0 && res.nr == 100 && res.units[0].addr == (uintptr_t)r4k + 100 * 4096,
	      "SWAPFLAG_ONLY: exactly the 100 marked pages (%zu)", res.nr);
	ret = etmem_madvise_swapflag(r4k + 150 * 4096, 50 * 4096, false);
	ret |= scan(all, nall, ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY, &res);
	check(ret == 0 && res.nr == 50, "after unmarking half: 50 pages (%zu)", res.nr);
	etmem_madvise_swapflag(r4k, R4K_SIZE, false);

	ret = scan(NULL, 0, 0, &res);
	check(ret == 0 && units_in(&res, r4k, R4K_SIZE, 12, -1) == R4K_PAGES,
	      "no ranges: the whole address space, 4 KiB region included");

	ret = scan(&r, 1, 0x100, &res);
	check(ret == -EINVAL &&
	      strstr(etmem_client_errmsg(client), "reserved bit set: attribute scan-flags"),
	      "unknown flag 0x100: EINVAL \"%s\"", etmem_client_errmsg(client));
	free(res.units);
}

static pid_t victim;

/* On the first chunk, a second scan of the same process must get EBUSY. */
static int try_concurrent(const struct etmem_chunk *chunk, void *arg)
{
	struct etmem_client *other;
	int *result = arg, ret;

	if (*result != 1)
		return 0;
	if (etmem_client_open(&other))
		return -1;
	ret = etmem_scan(other, victim, NULL, 0, 0, collect,
			 &(struct scan_result){ 0 });
	*result = ret;
	printf("# concurrent: %d \"%s\"\n", ret, etmem_client_errmsg(other));
	if (ret == -EBUSY && !strstr(etmem_client_errmsg(other), "concurrent scan of pid"))
		*result = -1000;
	etmem_client_close(other);
	return 0;
}

/* Kill the target after the first chunk: the dump must end with ESRCH. */
static int kill_target(const struct etmem_chunk *chunk, void *arg)
{
	int *killed = arg;

	if (!*killed) {
		kill(victim, SIGKILL);
		waitpid(victim, NULL, 0);
		*killed = 1;
	}
	return 0;
}

/*
 * In a child: 20000 one-page anonymous mappings, each between two
 * mappings of a memfd's page. An ANON_ONLY scan leaves the memfd's out,
 * so each anonymous page is a chunk of its own: 20000 chunks, far more
 * than the socket buffers, and the dump runs in many rounds. (Holes
 * would not do: the scan reports a page table that mappings share, holes
 * and all, in one step.)
 */
#define MANY_CHUNKS	20000
#define MANY_CHUNKS_FLAGS ETMEM_SCAN_FLAGS_ANON_ONLY

static void map_many_chunks(void)
{
	char *area = mmap(NULL, 2 * MANY_CHUNKS * 4096UL, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = memfd_create("etmem-many-chunks", 0), i;

	if (area == MAP_FAILED || fd < 0 || ftruncate(fd, 4096))
		_exit(1);
	for (i = 0; i < 2 * MANY_CHUNKS; i += 2) {
		area[i * 4096UL] = 1;
		if (mmap(area + (i + 1) * 4096UL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
			_exit(1);
	}
}

/* A victim whose scan is many chunks (map_many_chunks()). */
static pid_t start_victim(void)
{
	int pipefd[2];
	pid_t pid;
	char c;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		map_many_chunks();
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(pipefd[0], &c, 1) != 1)
		return -1;
	return pid;
}

static void test_concurrency(void)
{
	int result = 1, killed = 0, ret;

	victim = start_victim();
	ret = etmem_scan(client, victim, NULL, 0, MANY_CHUNKS_FLAGS, try_concurrent, &result);
	check(ret == 0 && result == -EBUSY,
	      "second scan of the same process during a scan: EBUSY with message (%d)", result);
	ret = etmem_scan(client, victim, NULL, 0, MANY_CHUNKS_FLAGS, kill_target, &killed);
	check(ret == -EOWNERDEAD && strstr(etmem_client_errmsg(client), "exited"),
	      "target killed mid-dump: EOWNERDEAD \"%s\" (ret %d)",
	      etmem_client_errmsg(client), ret);
}

/* ---- small rules ----------------------------------------------------- */

/* A THP that two requested ranges both fall in is reported once. */
static void test_thp_once(void)
{
	struct etmem_range two[2] = {
		{ (uintptr_t)rthp, (uintptr_t)rthp + MB },
		{ (uintptr_t)rthp + MB, (uintptr_t)rthp + 2 * MB },
	};
	struct scan_result res = { 0 };
	int ret = scan(two, 2, 0, &res);

	check(ret == 0 && res.nr == 1 && res.units[0].shift == 21,
	      "two ranges inside one THP: one 2 MiB unit (%zu units)", res.nr);
	free(res.units);
}

/*
 * Whether a read fault on MADV_HUGEPAGE memory maps the huge zero page:
 * THP not "never" and use_zero_page 1 (kmod_scan.sh sets THP "always").
 */
static bool huge_zero_usable(void)
{
	char enabled[128] = "", zero[8] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f) {
		if (!fgets(enabled, sizeof(enabled), f))
			enabled[0] = '\0';
		fclose(f);
	}
	f = fopen("/sys/kernel/mm/transparent_hugepage/use_zero_page", "r");
	if (f) {
		if (!fgets(zero, sizeof(zero), f))
			zero[0] = '\0';
		fclose(f);
	}
	return !strstr(enabled, "[never]") && enabled[0] && zero[0] == '1';
}

/* The huge zero page (a read fault on THP memory) is never approved. */
static void test_huge_zero_page(void)
{
	struct etmem_swap_result sr = { 0 };
	struct etmem_range r;
	char *raw = mmap(NULL, 6 * MB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *z;
	int ret;

	if (raw == MAP_FAILED)
		return;
	z = (char *)(((uintptr_t)raw + 2 * MB - 1) & ~(2 * MB - 1));
	madvise((char *)z, 4 * MB, MADV_HUGEPAGE);
	(void)z[0];
	(void)z[2 * MB];
	r.start = (uintptr_t)z;
	r.end = r.start + 4 * MB;
	/*
	 * A scan first (zero pages are absent to it), then the page-out:
	 * young or not, they are refused as unevictable.
	 */
	scan(&r, 1, 0, &(struct scan_result){ 0 });
	ret = etmem_swap_out(client, getpid(), &r, 1, 0, &sr);
	printf("# read-faulted THP memory: ret %d eligible %" PRIu64 " unevictable %" PRIu64
	       " young %" PRIu64 " absent %" PRIu64 "\n", ret, sr.nr_eligible, sr.nr_unevictable,
	       sr.nr_young, sr.nr_absent);
	check(huge_zero_usable(),
	      "THP and its huge zero page are on (transparent_hugepage/enabled, use_zero_page)");
	check(ret == 0 && sr.nr_eligible == 0 && sr.nr_unevictable == 1024 && sr.nr_young == 0,
	      "the huge zero page of read-faulted memory is never approved: all 1024 pages refused as unevictable, young or not (%"
	      PRIu64 ")", sr.nr_unevictable);
	munmap(raw, 6 * MB);
}

/*
 * Zero pages are no memory of the process's own: a scan reports them
 * absent (not idle, which slide would ask to page out every cycle, and the
 * page-out refuse), both the 4 KiB one and the huge one; written, the same
 * pages are the process's and are reported again.
 */
static void test_zero_pages_absent(void)
{
	char *raw = mmap(NULL, 8 * MB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct scan_result res = { 0 };
	struct etmem_range r[2];
	volatile char *small, *huge;
	size_t i, nr_small = 64, n_units, n_absent, n_live;
	int ret;

	if (raw == MAP_FAILED) {
		check(0, "zero pages: mmap: %s", strerror(errno));
		return;
	}
	small = (char *)(((uintptr_t)raw + 2 * MB - 1) & ~(2 * MB - 1));
	huge = small + 2 * MB;
	madvise((char *)small, 2 * MB, MADV_NOHUGEPAGE);
	madvise((char *)huge, 4 * MB, MADV_HUGEPAGE);
	for (i = 0; i < nr_small; i++)
		(void)small[i << 12];
	(void)huge[0];
	(void)huge[2 * MB];
	r[0] = range_of((char *)small, nr_small << 12);
	r[1] = range_of((char *)huge, 4 * MB);
	/* Twice: the second scan sees the pages idle if they count at all. */
	scan(r, 2, 0, &res);
	ret = scan(r, 2, 0, &res);
	n_units = units_in(&res, (char *)small, nr_small << 12, 12, -1);
	n_absent = units_in(&res, (char *)small, nr_small << 12, 0, ETMEM_PAGE_STATE_ABSENT);
	check(ret == 0 && n_units == nr_small && n_absent == nr_small,
	      "read-faulted 4 KiB pages (the zero page) are absent: %zu of %zu (%zu units)",
	      n_absent, nr_small, n_units);
	n_units = units_in(&res, (char *)huge, 4 * MB, 0, -1);
	n_absent = units_in(&res, (char *)huge, 4 * MB, 0, ETMEM_PAGE_STATE_ABSENT);
	n_live = units_in(&res, (char *)huge, 4 * MB, 0, ETMEM_PAGE_STATE_IDLE) +
		 units_in(&res, (char *)huge, 4 * MB, 0, ETMEM_PAGE_STATE_ACCESSED);
	/* Two 2 MiB units: the huge zero page really was mapped. */
	check(ret == 0 && n_live == 0 && n_units == 2 &&
	      units_in(&res, (char *)huge, 4 * MB, 21, ETMEM_PAGE_STATE_ABSENT) == 2,
	      "read-faulted THP memory (the huge zero page) is 2 absent 2 MiB units (%zu units, %zu absent)",
	      n_units, n_absent);
	for (i = 0; i < nr_small; i++)
		small[i << 12] = 1;
	huge[0] = 1;
	scan(r, 2, 0, &res);
	ret = scan(r, 2, 0, &res);
	n_live = units_in(&res, (char *)small, nr_small << 12, 0, ETMEM_PAGE_STATE_IDLE);
	check(ret == 0 && n_live == nr_small,
	      "written, the same 4 KiB pages are the process's: %zu of %zu idle", n_live, nr_small);
	/* Idle, or accessed if khugepaged collapsed it between the scans. */
	n_live = units_in(&res, (char *)huge, 2 * MB, 0, ETMEM_PAGE_STATE_IDLE) +
		 units_in(&res, (char *)huge, 2 * MB, 0, ETMEM_PAGE_STATE_ACCESSED);
	check(ret == 0 && n_live > 0,
	      "written, the THP memory is the process's: %zu idle or accessed units", n_live);
	free(res.units);
	munmap(raw, 8 * MB);
}

/* ---- targets in odd states ------------------------------------------ */

static int count_present(const struct etmem_chunk *chunk, void *arg)
{
	uint64_t *present = arg;
	uint32_t i;

	for (i = 0; i < chunk->nr_pages; i++)
		*present += etmem_chunk_state(chunk, i) != ETMEM_PAGE_STATE_ABSENT;
	return 0;
}

static char proc_state(pid_t pid)
{
	char path[64], line[256];
	char state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return state;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "State: %c", &state) == 1)
			break;
	fclose(f);
	return state;
}

static void *park(void *arg)
{
	pause();
	return NULL;
}

/* A process whose main thread called pthread_exit() while another runs. */
static void test_leader_exited(void)
{
	const size_t len = 4 * MB;
	struct etmem_range r;
	uint64_t present = 0;
	int pipefd[2], ret, i;
	uintptr_t addr;
	pid_t pid;

	if (pipe(pipefd))
		return;
	pid = fork();
	if (pid == 0) {
		char *p = map_aligned(len, MADV_NOHUGEPAGE);
		pthread_t t;

		memset(p, 1, len);
		addr = (uintptr_t)p;
		pthread_create(&t, NULL, park, NULL);
		if (write(pipefd[1], &addr, sizeof(addr)) != sizeof(addr))
			_exit(1);
		pthread_exit(NULL);
	}
	if (read(pipefd[0], &addr, sizeof(addr)) != sizeof(addr))
		return;
	for (i = 0; i < 100 && proc_state(pid) != 'Z'; i++)
		usleep(10000);
	r.start = addr;
	r.end = addr + len;
	ret = etmem_scan(client, pid, &r, 1, 0, count_present, &present);
	check(ret == 0 && present == len >> 12,
	      "main thread exited, another runs (state %c): scanned, %" PRIu64 " of %zu pages present (ret %d \"%s\")",
	      proc_state(pid), present, len >> 12, ret, ret ? etmem_client_errmsg(client) : "");
	{
		struct etmem_swap_result sr = { 0 };

		ret = etmem_swap_out(client, pid, &r, 1, 0, &sr);
		printf("# page-out of that process: ret %d, %" PRIu64 " approved, %" PRIu64
		       " bytes advised: \"%s\"\n", ret, sr.nr_eligible, sr.bytes_advised,
		       etmem_client_errmsg(client));
		check(sr.nr_eligible == len >> 12 &&
		      ((ret == 0 && sr.bytes_advised > 0) ||
		       (ret < 0 && strstr(etmem_client_errmsg(client), "main thread exited"))),
		      "main thread exited: the kernel check approves all %zu pages, the page-out works or says why not",
		      len >> 12);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A zombie: exited, not reaped. */
static void test_zombie(void)
{
	struct etmem_range r = range_of(r4k, R4K_SIZE);
	struct etmem_swap_result sr;
	uint64_t present = 0;
	pid_t pid = fork();
	int ret, i;

	if (pid == 0)
		_exit(0);
	for (i = 0; i < 100 && proc_state(pid) != 'Z'; i++)
		usleep(10000);
	ret = etmem_scan(client, pid, &r, 1, 0, count_present, &present);
	check(ret == -EOWNERDEAD && strstr(etmem_client_errmsg(client), "exited"),
	      "zombie target: scan EOWNERDEAD \"%s\" (ret %d)", etmem_client_errmsg(client), ret);
	ret = etmem_swap_out(client, pid, &r, 1, 0, &sr);
	check(ret == -EOWNERDEAD && strstr(etmem_client_errmsg(client), "exited"),
	      "zombie target: swap EOWNERDEAD \"%s\" (ret %d)", etmem_client_errmsg(client), ret);
	waitpid(pid, NULL, 0);
}

static int exec_pipe = -1;

/* On the first chunk, have the target exec and wait until it did. */
static int trigger_exec(const struct etmem_chunk *chunk, void *arg)
{
	int *done = arg, i;
	char path[64], exe[256];

	if (*done)
		return 0;
	*done = 1;
	if (write(exec_pipe, "x", 1) != 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/exe", victim);
	for (i = 0; i < 500; i++) {
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);

		if (n > 0) {
			exe[n] = 0;
			if (strstr(exe, "sleep"))
				return 0;
		}
		usleep(10000);
	}
	return 0;
}

static void test_exec(void)
{
	int pipefd[2], ready[2], done = 0, ret;
	char c;

	if (pipe(pipefd) || pipe(ready))
		return;
	victim = fork();
	if (victim == 0) {
		map_many_chunks();
		if (write(ready[1], "r", 1) != 1 || read(pipefd[0], &c, 1) != 1)
			_exit(1);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(1);
	}
	if (read(ready[0], &c, 1) != 1)
		return;
	exec_pipe = pipefd[1];
	ret = etmem_scan(client, victim, NULL, 0, MANY_CHUNKS_FLAGS, trigger_exec, &done);
	check(ret == -ESTALE && strstr(etmem_client_errmsg(client), "exec'd"),
	      "target exec'd mid-dump: ESTALE \"%s\" (ret %d)", etmem_client_errmsg(client), ret);
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	struct etmem_range all[4];
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup_memory()) {
		printf("not ok - cannot map the test regions (hugetlb reserved?): %s\n",
		       strerror(errno));
		return 1;
	}
	ret = etmem_client_open(&client);
	if (ret) {
		printf("not ok - etmem_client_open: %s\n", etmem_client_errmsg(NULL));
		return 1;
	}
	all[0] = range_of(r4k, R4K_SIZE);
	all[1] = range_of(rthp, RTHP_SIZE);
	all[2] = range_of(rhuge, RHUGE_SIZE);
	all[3] = range_of(rfile, RFILE_SIZE);
	sort_ranges(all, 4);
	test_pattern(all, 4);
	test_spinner();
	test_sleeper();
	test_flags(all, 4);
	test_thp_once();
	test_huge_zero_page();
	test_zero_pages_absent();
	test_concurrency();
	test_leader_exited();
	test_zombie();
	test_exec();
	etmem_client_close(client);
	printf("%s\n", check_failures ? "FAILED" : "PASSED");
	return check_failures ? 1 : 0;
}
