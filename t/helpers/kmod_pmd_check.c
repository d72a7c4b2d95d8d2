// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_pmd_check: the PMD accessed-bit pre-check of etmem_scan.ko, on this
 * very process (see kmod/scan_dump.c).
 *
 * Maps 32 MiB of 4 KiB pages (16 PTE tables), touches them, and scans
 * them again and again, checking after every scan that each page's state
 * is exactly what the process did to it, and from the module's counters
 * (ETMEM_CMD_STATUS) which tables were read and which reported from their
 * last read:
 *  - idle tables are reported without reading them (6.12 on; before, only
 *    tables without mapped pages are, see SCAN_SKIP_MAPPED_TABLES);
 *  - a page touched in a table is reported accessed, the rest idle;
 *  - pages dropped with MADV_DONTNEED (no walk) are reported absent after
 *    at most pmd_skip_max_passes passes, and then their tables are not
 *    read on any kernel (skipped, or freed by the kernel: 7.x);
 *  - a page faulted in by the process in a skipped table is accessed;
 *  - a page written through /proc/self/mem (the kernel faults it in, no
 *    walk of ours) is never reported idle, and is found within 4 times
 *    pmd_skip_max_passes passes (the bound of a table without pages);
 *  - a request that covers a table partly reads it;
 *  - pmd_skip_max_passes=0 reads every table;
 *  - idle ages (ETMEM_SCAN_FLAGS_IDLE_AGES) count consecutive idle passes
 *    across reads and skips, restart at 0 on an access, are 0 for absent
 *    pages, and go on with the pre-check off; a THP has its own;
 *  - hot sampling (ETMEM_SCAN_FLAGS_SAMPLE_HOT, hot_skip_max_passes=1): a
 *    table found all accessed in 4 reads is left unread every other pass
 *    (RECENT, also unaligned in a chunk and as AS_HUGE units), the next
 *    read sees an access of either pass and gives a page found idle age 1,
 *    a cooled table is read and found idle, and neither a scan without
 *    the flag nor hot_skip_max_passes=0 skips;
 *  - run-length replies (ETMEM_SCAN_FLAGS_RUNS): exact states and ages in
 *    either form, runs only where shorter, ages capped by
 *    ETMEM_A_SCAN_MIN_IDLE_AGE running together.
 * Needs root. Prints "ok"/"not ok" lines; exit 1 on any failure.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "etmem_genl.h"
#include "check.h"

#define MB		(1UL << 20)
#define TABLE		(2 * MB)
#define NR_TABLES	16
#define LEN		(NR_TABLES * TABLE)
#define PAGES		(LEN >> 12)
#define PER_TABLE	512
#define PARAM		"/sys/module/etmem_scan/parameters/pmd_skip_max_passes"
#define HOT_PARAM	"/sys/module/etmem_scan/parameters/hot_skip_max_passes"

static struct etmem_client *client;
static char *mem;
static uint8_t states[PAGES];
static uint8_t ages[PAGES];	/* idle ages (ETMEM_SCAN_FLAGS_IDLE_AGES) */

static int collect(const struct etmem_chunk *chunk, void *arg)
{
	uint32_t i;

	(void)arg;
	if (chunk->page_shift != 12)
		return 0;
	for (i = 0; i < chunk->nr_pages; i++) {
		uint64_t a = chunk->addr + ((uint64_t)i << 12);

		if (a >= (uintptr_t)mem && a < (uintptr_t)mem + LEN) {
			states[(a - (uintptr_t)mem) >> 12] = etmem_chunk_state(chunk, i);
			ages[(a - (uintptr_t)mem) >> 12] = chunk->idle_ages ? chunk->idle_ages[i] : 0xee;
		}
	}
	return 0;
}

struct counts {
	uint64_t read, skipped, hot_skipped;
};

static struct counts counts_now(void)
{
	struct etmem_status st;

	if (etmem_status(client, &st)) {
		fprintf(stderr, "status: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
	return (struct counts){ st.scan_tables_read, st.scan_tables_skipped,
				st.scan_tables_hot_skipped };
}

/* Scan [mem + from, mem + LEN); the tables read and skipped meanwhile. */
static struct counts scan_from(size_t from)
{
	struct etmem_range r = { (uintptr_t)mem + from, (uintptr_t)mem + LEN };
	struct counts c0 = counts_now(), c1;

	/* What a scan does not report (no page table there) is absent. */
	memset(states, ETMEM_PAGE_STATE_ABSENT, sizeof(states));
	memset(ages, 0, sizeof(ages));
	if (etmem_scan(client, getpid(), &r, 1, ETMEM_SCAN_FLAGS_IDLE_AGES, collect, NULL)) {
		fprintf(stderr, "scan: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
	c1 = counts_now();
	return (struct counts){ c1.read - c0.read, c1.skipped - c0.skipped,
				c1.hot_skipped - c0.hot_skipped };
}

static struct counts scan(void)
{
	return scan_from(0);
}

/* Pages of [first, last) whose idle age is not @want. */
static size_t wrong_age(size_t first, size_t last, int want)
{
	size_t i, n = 0;

	for (i = first; i < last; i++)
		n += ages[i] != want;
	return n;
}

/* Pages of [first, last) whose state is not @want. */
static size_t wrong(size_t first, size_t last, int want)
{
	size_t i, n = 0;

	for (i = first; i < last; i++)
		n += states[i] != want;
	return n;
}

static void write_param(const char *path, unsigned int v)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%u\n", v) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void set_param(unsigned int v)
{
	write_param(PARAM, v);
}

/* Whether the running kernel reports idle mapped tables from history. */
static int skips_mapped_tables(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	return major > 6 || (major == 6 && minor >= 12);
}

/* ---- a table shared by VMAs: read whole, once a pass ---- */

static char *sh;			/* 2 MiB, aligned: one PTE table */
static uint8_t sh_states[PER_TABLE], sh_ages[PER_TABLE];

static int collect_shared(const struct etmem_chunk *chunk, void *arg)
{
	uint32_t i;

	(void)arg;
	for (i = 0; i < chunk->nr_pages; i++) {
		uint64_t a = chunk->addr + ((uint64_t)i << chunk->page_shift);

		if (chunk->page_shift != 12 || a < (uintptr_t)sh || a >= (uintptr_t)sh + TABLE)
			continue;
		sh_states[(a - (uintptr_t)sh) >> 12] = etmem_chunk_state(chunk, i);
		sh_ages[(a - (uintptr_t)sh) >> 12] = chunk->idle_ages ? chunk->idle_ages[i] : 0xee;
	}
	return 0;
}

/* Scan pages [from, PER_TABLE) of the shared table; the tables read. */
static struct counts scan_shared_flags(unsigned int from, uint32_t flags)
{
	struct etmem_range r = { (uintptr_t)sh + from * 4096ul, (uintptr_t)sh + TABLE };
	struct counts c0 = counts_now(), c1;

	memset(sh_states, ETMEM_PAGE_STATE_ABSENT, sizeof(sh_states));
	memset(sh_ages, 0, sizeof(sh_ages));
	if (etmem_scan(client, getpid(), &r, 1, ETMEM_SCAN_FLAGS_IDLE_AGES | flags,
		       collect_shared, NULL)) {
		fprintf(stderr, "scan: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
	c1 = counts_now();
	return (struct counts){ c1.read - c0.read, c1.skipped - c0.skipped,
				c1.hot_skipped - c0.hot_skipped };
}

static struct counts scan_shared(unsigned int from)
{
	return scan_shared_flags(from, 0);
}

/* Pages of the shared table whose state is not what the test did. */
static size_t shared_wrong(const int *want)
{
	size_t i, n = 0;

	for (i = 0; i < PER_TABLE; i++)
		n += sh_states[i] != want[i];
	return n;
}

/* Pages 300-309: a hole at first, then a memfd's. */
static int in_hole(size_t i)
{
	return i >= 300 && i < 310;
}

/* Mapped pages whose idle age is not @want, but for @but (-1: none). */
static size_t shared_wrong_age(int want, size_t but, int want_but)
{
	size_t i, n = 0;

	for (i = 0; i < PER_TABLE; i++)
		if (!in_hole(i))
			n += sh_ages[i] != (i == but ? want_but : want);
	return n;
}

/*
 * One 2 MiB table, four VMAs (pages 0-99 read-write, 100-199 read-only,
 * 200-299 and 310-511 read-write again, 300-309 unmapped): the scan
 * reads it once a pass, not once per VMA, reports each share exactly
 * (the hole absent), and keeps the pre-check, idle ages and hot sampling
 * across passes. A request that leaves a VMA out (a range that starts
 * inside the table, or a file VMA under ANON_ONLY) reads only its shares
 * and clears no other bit.
 */
static void check_shared_table(void)
{
	char *raw = mmap(NULL, 2 * TABLE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int want[PER_TABLE], fd;
	uint64_t skips = 0, reads = 0;
	struct counts c;
	size_t i, pass;

	if (raw == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	/* The skip bound a record is dated back within (set_param(3) before). */
	set_param(8);
	write_param(HOT_PARAM, 1);
	sh = (char *)(((uintptr_t)raw + TABLE - 1) & ~(uintptr_t)(TABLE - 1));
	/* 4 KiB pages only: THP may be "always" here. */
	if (madvise(sh, TABLE, MADV_NOHUGEPAGE)) {
		perror("madvise");
		exit(1);
	}
	memset(sh, 1, TABLE);
	if (mprotect(sh + 100 * 4096, 100 * 4096, PROT_READ) ||
	    munmap(sh + 300 * 4096, 10 * 4096)) {
		perror("mprotect/munmap");
		exit(1);
	}
	for (i = 0; i < PER_TABLE; i++)
		want[i] = in_hole(i) ? ETMEM_PAGE_STATE_ABSENT : ETMEM_PAGE_STATE_ACCESSED;
	c = scan_shared(0);
	check(!shared_wrong(want) && c.read == 1,
	      "shared table: written pages accessed, the hole absent (%zu wrong), read once for 4 VMAs (%" PRIu64 " reads)",
	      shared_wrong(want), c.read);
	for (i = 0; i < PER_TABLE; i++)
		want[i] = in_hole(i) ? ETMEM_PAGE_STATE_ABSENT : ETMEM_PAGE_STATE_IDLE;
	/*
	 * Two passes with nothing touched: each reads the table or reports
	 * it from its record (the first may find the record due, as it is
	 * dated back), and from 6.12 at least one of them skips it.
	 */
	for (pass = 1; pass <= 2; pass++) {
		c = scan_shared(0);
		check(!shared_wrong(want) && !shared_wrong_age(pass, -1, 0) &&
		      c.read + c.skipped == 1,
		      "shared table, untouched pass %zu: all idle at age %zu (%zu wrong states, %zu wrong ages), read or skipped once (%" PRIu64 " + %" PRIu64 ")",
		      pass, pass, shared_wrong(want), shared_wrong_age(pass, -1, 0),
		      c.read, c.skipped);
		skips += c.skipped;
		reads += c.read;
	}
	check(skips_mapped_tables() ? skips >= 1 : reads == 2,
	      "shared table, nothing touched: %s (%" PRIu64 " skipped, %" PRIu64 " read in 2 passes)",
	      skips_mapped_tables() ? "reported from its record" : "read once a pass", skips, reads);
	/* One access in the first share, one in the read-only one, one in the last. */
	sh[50 * 4096] = 2;
	(void)*(volatile char *)(sh + 150 * 4096);
	sh[400 * 4096] = 2;
	want[50] = want[150] = want[400] = ETMEM_PAGE_STATE_ACCESSED;
	c = scan_shared(0);
	for (i = 0, pass = 0; i < PER_TABLE; i++)
		pass += !in_hole(i) && sh_ages[i] != (want[i] == ETMEM_PAGE_STATE_ACCESSED ? 0 : 3);
	check(!shared_wrong(want) && !pass && c.read == 1,
	      "shared table, 3 pages touched in 3 VMAs: those accessed, the rest idle at age 3 (%zu wrong states, %zu wrong ages), read once (%" PRIu64 ")",
	      shared_wrong(want), pass, c.read);
	want[50] = want[150] = want[400] = ETMEM_PAGE_STATE_IDLE;
	c = scan_shared(0);
	for (i = 0, pass = 0; i < PER_TABLE; i++)
		pass += !in_hole(i) && sh_ages[i] != (i == 50 || i == 150 || i == 400 ? 1 : 4);
	check(!shared_wrong(want) && !pass,
	      "shared table, next pass: all idle, the 3 at age 1, the rest at 4 (%zu wrong states, %zu wrong ages)",
	      shared_wrong(want), pass);
	/*
	 * A request from page 120 leaves pages 0-119 out: its 3 shares are
	 * read on their own, and the access to page 10 stays for the next
	 * whole request.
	 */
	sh[10 * 4096] = 2;
	c = scan_shared(120);
	for (i = 0, pass = 0; i < PER_TABLE; i++)
		pass += sh_states[i] != (i < 120 ? ETMEM_PAGE_STATE_ABSENT : want[i]);
	check(!pass && c.read == 3,
	      "a request that leaves part of a shared table out reads the 3 shares it covers (%" PRIu64 " reads), exactly (%zu wrong)",
	      c.read, pass);
	want[10] = ETMEM_PAGE_STATE_ACCESSED;
	c = scan_shared(0);
	check(!shared_wrong(want) && c.read == 1 && sh_ages[10] == 0 && sh_ages[20] == 1,
	      "then a whole request: page 10's access was kept (state %d), the table read whole again with new ages (%zu wrong, %" PRIu64 " reads, page 20 age %d)",
	      sh_states[10], shared_wrong(want), c.read, sh_ages[20]);
	want[10] = ETMEM_PAGE_STATE_IDLE;

	/* A memfd's pages in the hole: a file VMA, left out by ANON_ONLY. */
	fd = memfd_create("etmem-shared-table", 0);
	if (fd < 0 || ftruncate(fd, 10 * 4096) ||
	    mmap(sh + 300 * 4096, 10 * 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		perror("memfd");
		exit(1);
	}
	memset(sh + 300 * 4096, 3, 10 * 4096);
	sh[20 * 4096] = 2;
	c = scan_shared_flags(0, ETMEM_SCAN_FLAGS_ANON_ONLY);
	want[20] = ETMEM_PAGE_STATE_ACCESSED;
	check(!shared_wrong(want) && c.read == 4,
	      "ANON_ONLY with a file VMA in the table: its 4 anonymous shares read on their own (%" PRIu64 " reads), the file's pages not reported (%zu wrong)",
	      c.read, shared_wrong(want));
	want[20] = ETMEM_PAGE_STATE_IDLE;
	for (i = 300; i < 310; i++)
		want[i] = ETMEM_PAGE_STATE_ACCESSED;
	c = scan_shared(0);
	check(!shared_wrong(want) && c.read == 1,
	      "then a request for all: the file's pages accessed, their bits kept (%zu wrong), the table read once (%" PRIu64 ")",
	      shared_wrong(want), c.read);
	for (i = 300; i < 310; i++)
		want[i] = ETMEM_PAGE_STATE_IDLE;

	/* Hot sampling: all touched at every pass; after 4 reads, a skip. */
	for (pass = 0; pass < 6; pass++) {
		for (i = 0; i < PER_TABLE; i++)
			if (i >= 100 && i < 200)
				(void)*(volatile char *)(sh + i * 4096);
			else
				sh[i * 4096] = 4;
		c = scan_shared_flags(0, ETMEM_SCAN_FLAGS_SAMPLE_HOT);
		if (c.hot_skipped)
			break;
	}
	for (i = 0; i < PER_TABLE; i++)
		want[i] = ETMEM_PAGE_STATE_RECENT;
	check(c.hot_skipped == 1 && c.read == 0 && !shared_wrong(want) && pass == 4,
	      "shared table all accessed in 4 reads: left unread (%" PRIu64 " hot skipped at pass %zu), every page RECENT (%zu wrong)",
	      c.hot_skipped, pass + 1, shared_wrong(want));
	/*
	 * A new table at the same address (the old one freed, and maybe its
	 * page reused for the new one: 7.2 did) is not hot from the old
	 * one's reads: it is read 4 times, all accessed, before a skip.
	 */
	close(fd);
	if (munmap(sh, TABLE) ||
	    mmap(sh, TABLE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED || madvise(sh, TABLE, MADV_NOHUGEPAGE)) {
		perror("mmap again");
		exit(1);
	}
	for (pass = 0, reads = 0; pass < 5; pass++) {
		memset(sh, 5, TABLE);
		c = scan_shared_flags(0, ETMEM_SCAN_FLAGS_SAMPLE_HOT);
		if (c.hot_skipped)
			break;
		reads += c.read;
	}
	check(pass == 4 && reads == 4 && c.hot_skipped == 1,
	      "a new table at the same address: read %" PRIu64 " times before a hot skip (want 4, skipped at pass %zu)",
	      reads, pass + 1);
	/*
	 * 64 KiB unmapped from a quiet table (no walk through it): the table
	 * is now shared by two VMAs, and its record, of one VMA, is not
	 * reported from: the unmapped pages are absent at once, not idle.
	 */
	scan_shared(0);
	if (munmap(sh + 200 * 4096, 16 * 4096)) {
		perror("munmap");
		exit(1);
	}
	c = scan_shared(0);
	for (i = 0, pass = 0; i < PER_TABLE; i++)
		pass += sh_states[i] != (i >= 200 && i < 216 ? ETMEM_PAGE_STATE_ABSENT :
					 ETMEM_PAGE_STATE_IDLE);
	check(!pass && c.read == 1,
	      "64 KiB unmapped from a quiet table: absent at once, the rest idle (%zu wrong), the table read (%" PRIu64 ")",
	      pass, c.read);
	munmap(raw, 2 * TABLE);
	set_param(3);
}

/* ---- huge pages: an age of their own ---- */

static char *thp;
static uint8_t thp_ages[2];
static int thp_units;

static int collect_thp(const struct etmem_chunk *chunk, void *arg)
{
	uint32_t i;

	(void)arg;
	for (i = 0; i < chunk->nr_pages; i++) {
		uint64_t a = chunk->addr + ((uint64_t)i << chunk->page_shift);

		if (chunk->page_shift != 21 || a < (uintptr_t)thp || a >= (uintptr_t)thp + 2 * TABLE)
			continue;
		thp_ages[(a - (uintptr_t)thp) / TABLE] = chunk->idle_ages ? chunk->idle_ages[i] : 0xee;
		thp_units++;
	}
	return 0;
}

static void scan_thp(void)
{
	struct etmem_range r = { (uintptr_t)thp, (uintptr_t)thp + 2 * TABLE };

	thp_units = 0;
	if (etmem_scan(client, getpid(), &r, 1, ETMEM_SCAN_FLAGS_IDLE_AGES, collect_thp, NULL)) {
		fprintf(stderr, "scan: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
}

/* Two THPs (THP "always", set by kmod_scan.sh): ages per huge page. */
static void check_thp_ages(void)
{
	char *p = mmap(NULL, 3 * TABLE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	thp = (char *)(((uintptr_t)p + TABLE - 1) & ~(TABLE - 1));
	madvise(thp, 2 * TABLE, MADV_HUGEPAGE);
	memset(thp, 1, 2 * TABLE);
	scan_thp();
	scan_thp();
	scan_thp();
	check(thp_units == 2 && thp_ages[0] == 2 && thp_ages[1] == 2,
	      "THP: %d huge pages, idle ages %d and %d after two idle scans (want 2)",
	      thp_units, thp_ages[0], thp_ages[1]);
	thp[TABLE + 5] = 2;
	scan_thp();
	check(thp_ages[0] == 3 && thp_ages[1] == 0,
	      "THP: the untouched one %d (want 3), the touched one %d (want 0)",
	      thp_ages[0], thp_ages[1]);
}

/* ---- hot sampling ---- */

#define HOT_TABLES	8
#define HOT_PAGES	(HOT_TABLES * PER_TABLE)

static char *hot;
static uint8_t hot_states[HOT_PAGES];
static uint8_t hot_ages[HOT_PAGES];

static int collect_hot(const struct etmem_chunk *chunk, void *arg)
{
	uint32_t i;

	(void)arg;
	for (i = 0; i < chunk->nr_pages; i++) {
		uint64_t a = chunk->addr + ((uint64_t)i << chunk->page_shift);
		size_t j, n = 1ul << (chunk->page_shift - 12);

		/* An AS_HUGE unit gives its state to each of its pages. */
		for (j = 0; a >= (uintptr_t)hot && a < (uintptr_t)hot + HOT_TABLES * TABLE &&
			    j < n; j++) {
			hot_states[((a - (uintptr_t)hot) >> 12) + j] = etmem_chunk_state(chunk, i);
			hot_ages[((a - (uintptr_t)hot) >> 12) + j] = chunk->idle_ages[i];
		}
	}
	return 0;
}

/* Write every page of the hot range but @spare (-1: none), then scan it. */
static size_t hot_from;	/* the scans start this far into the range */

static struct counts touch_scan_hot(long spare, uint32_t flags)
{
	struct etmem_range r = { (uintptr_t)hot + hot_from, (uintptr_t)hot + HOT_TABLES * TABLE };
	struct counts c0, c1;
	size_t i;

	for (i = 0; i < HOT_PAGES; i++)
		if ((long)i != spare)
			hot[i << 12]++;
	c0 = counts_now();
	memset(hot_states, 0xee, sizeof(hot_states));
	if (etmem_scan(client, getpid(), &r, 1, ETMEM_SCAN_FLAGS_IDLE_AGES | flags,
		       collect_hot, NULL)) {
		fprintf(stderr, "scan: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
	c1 = counts_now();
	return (struct counts){ c1.read - c0.read, c1.skipped - c0.skipped,
				c1.hot_skipped - c0.hot_skipped };
}

/* Hot pages with an idle age other than 0. */
static size_t hot_aged(void)
{
	size_t i, n = 0;

	for (i = 0; i < HOT_PAGES; i++)
		n += hot_ages[i] != 0;
	return n;
}

/* Hot pages of [first, last) whose state is not @want. */
static size_t hot_wrong(size_t first, size_t last, int want)
{
	size_t i, n = 0;

	for (i = first; i < last; i++)
		n += hot_states[i] != want;
	return n;
}

static void check_hot_sampling(void)
{
	const uint32_t f = ETMEM_SCAN_FLAGS_SAMPLE_HOT;
	char *p = mmap(NULL, (HOT_TABLES + 1) * TABLE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const long spare = 5;	/* a page of table 0 left alone for a while */
	struct counts c;
	size_t i, n;

	if (p == MAP_FAILED)
		exit(1);
	hot = (char *)(((uintptr_t)p + TABLE - 1) & ~(TABLE - 1));
	madvise(hot, HOT_TABLES * TABLE, MADV_NOHUGEPAGE);
	write_param(HOT_PARAM, 1);
	/* Four reads that find every page accessed make the tables hot. */
	for (i = 0, n = 0; i < 4; i++) {
		c = touch_scan_hot(-1, f);
		n += c.hot_skipped || c.read < HOT_TABLES ||
		     hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_ACCESSED);
	}
	check(n == 0, "sample-hot: the first 4 scans read every table, all accessed (%zu wrong)", n);
	c = touch_scan_hot(-1, f);
	check(c.hot_skipped == HOT_TABLES && c.read == 0 &&
	      !hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_RECENT) && !hot_aged(),
	      "5th scan: %" PRIu64 " of %d hot tables left unread, %zu pages not RECENT",
	      c.hot_skipped, HOT_TABLES, hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_RECENT));
	c = touch_scan_hot(-1, f);
	check(c.hot_skipped == 0 && c.read == HOT_TABLES &&
	      !hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_ACCESSED),
	      "6th scan: read again (%" PRIu64 " read, %" PRIu64 " hot-skipped), all accessed",
	      c.read, c.hot_skipped);
	/* Page 5 left alone over a skipped pass and a read. */
	c = touch_scan_hot(spare, f);
	check(c.hot_skipped == HOT_TABLES && hot_states[spare] == ETMEM_PAGE_STATE_RECENT,
	      "7th scan, page %ld untouched: skipped (%" PRIu64 "), RECENT (state %d)",
	      spare, c.hot_skipped, hot_states[spare]);
	c = touch_scan_hot(spare, f);
	/* Age 1, not 2: an access in the skipped pass may have been hidden. */
	check(c.read == HOT_TABLES && hot_states[spare] == ETMEM_PAGE_STATE_IDLE &&
	      hot_ages[spare] == 1 && hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_ACCESSED) == 1,
	      "8th scan reads: page %ld idle, age %d after a skipped pass (want 1), the rest accessed",
	      spare, hot_ages[spare]);
	/* Table 0 had an idle page: no longer hot; the other 7 still are. */
	c = touch_scan_hot(-1, f);
	check(c.read == 1 && c.hot_skipped == HOT_TABLES - 1 &&
	      !hot_wrong(0, PER_TABLE, ETMEM_PAGE_STATE_ACCESSED) &&
	      !hot_wrong(PER_TABLE, HOT_PAGES, ETMEM_PAGE_STATE_RECENT),
	      "9th scan: the table with an idle page read (%" PRIu64 "), %" PRIu64 " hot ones not",
	      c.read, c.hot_skipped);
	/* Nothing touched any more: cooled tables are read or idle by PMD. */
	for (i = 0, n = 0; i < 2; i++) {
		struct etmem_range r = { (uintptr_t)hot, (uintptr_t)hot + HOT_TABLES * TABLE };
		struct counts c0 = counts_now(), c1;

		if (etmem_scan(client, getpid(), &r, 1, ETMEM_SCAN_FLAGS_IDLE_AGES | f,
			       collect_hot, NULL))
			exit(1);
		c1 = counts_now();
		n += c1.hot_skipped - c0.hot_skipped;
	}
	check(n == 0 && !hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_IDLE),
	      "untouched for two passes: no table left unread (%zu), every page idle (%zu not)",
	      n, hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_IDLE));
	for (i = 0, n = 0; i < 6; i++)
		n += touch_scan_hot(-1, 0).hot_skipped;
	check(n == 0 && !hot_wrong(0, HOT_PAGES, ETMEM_PAGE_STATE_ACCESSED),
	      "without the flag every hot table is read (%zu skipped)", n);
	write_param(HOT_PARAM, 0);
	for (i = 0, n = 0; i < 6; i++)
		n += touch_scan_hot(-1, f).hot_skipped;
	check(n == 0, "hot_skip_max_passes=0: every hot table is read (%zu skipped)", n);
	write_param(HOT_PARAM, 1);
	/*
	 * A request starting a page into the range: the first table is read
	 * in part (no record), the hot ones after it land at chunk offsets
	 * that are not a multiple of 4 units (RECENT set page by page).
	 */
	hot_from = 4096;
	c = touch_scan_hot(-1, f);
	hot_from = 0;
	check(c.hot_skipped == HOT_TABLES - 1 &&
	      !hot_wrong(PER_TABLE, HOT_PAGES, ETMEM_PAGE_STATE_RECENT) &&
	      !hot_wrong(1, PER_TABLE, ETMEM_PAGE_STATE_ACCESSED),
	      "unaligned in the chunk: %" PRIu64 " hot tables left unread, %zu pages not RECENT",
	      c.hot_skipped, hot_wrong(PER_TABLE, HOT_PAGES, ETMEM_PAGE_STATE_RECENT));
	touch_scan_hot(-1, f);	/* all read */
	c = touch_scan_hot(-1, f | ETMEM_SCAN_FLAGS_AS_HUGE);
	check(c.hot_skipped == HOT_TABLES - 1 &&
	      !hot_wrong(PER_TABLE, HOT_PAGES, ETMEM_PAGE_STATE_RECENT) &&
	      !hot_wrong(0, PER_TABLE, ETMEM_PAGE_STATE_ACCESSED),
	      "AS_HUGE: %" PRIu64 " hot tables one RECENT unit each, the re-made one accessed",
	      c.hot_skipped);
	munmap(p, (HOT_TABLES + 1) * TABLE);
}

/*
 * Run-length replies (ETMEM_SCAN_FLAGS_RUNS) and the age cap
 * (ETMEM_A_SCAN_MIN_IDLE_AGE), on 8 tables of their own: every unit's
 * state and age is exact whichever form a chunk comes in, a chunk of few
 * runs comes as runs and one of many as states, and capped ages run
 * together.
 */
/*
 * Pages zapped without a walk while one page of each table stays mapped,
 * so that no kernel frees the emptied tables (7.x frees a table that
 * MADV_DONTNEED empties, and a table that is gone is read as absent
 * anyway): the history's notifier marks their records, and the next pass
 * reads them, even at the longest skip bound.
 */
#define DROP_TABLES	8
#define DROP_PAGES	(DROP_TABLES * PER_TABLE)
static char *dmem;
static uint8_t drop_states[DROP_PAGES];

static int collect_drop(const struct etmem_chunk *chunk, void *arg)
{
	(void)arg;
	if (chunk->page_shift != 12)
		return 0;
	for (uint32_t i = 0; i < chunk->nr_pages; i++) {
		uint64_t a = chunk->addr + ((uint64_t)i << 12);

		if (a >= (uintptr_t)dmem && a < (uintptr_t)dmem + DROP_TABLES * TABLE)
			drop_states[(a - (uintptr_t)dmem) >> 12] = etmem_chunk_state(chunk, i);
	}
	return 0;
}

static struct counts scan_drop(void)
{
	struct etmem_range r = { (uintptr_t)dmem, (uintptr_t)dmem + DROP_TABLES * TABLE };
	struct counts c0 = counts_now(), c1;

	memset(drop_states, ETMEM_PAGE_STATE_ABSENT, sizeof(drop_states));
	if (etmem_scan(client, getpid(), &r, 1, ETMEM_SCAN_FLAGS_IDLE_AGES, collect_drop, NULL)) {
		fprintf(stderr, "scan: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
	c1 = counts_now();
	return (struct counts){ c1.read - c0.read, c1.skipped - c0.skipped,
				c1.hot_skipped - c0.hot_skipped };
}

static void check_dropped_kept_tables(int mapped)
{
	char *p = mmap(NULL, (DROP_TABLES + 1) * TABLE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t t, i, bad = 0;
	struct counts c;

	if (p == MAP_FAILED) {
		check(0, "dropped: mmap");
		return;
	}
	dmem = (char *)(((uintptr_t)p + TABLE - 1) & ~(TABLE - 1));
	madvise(dmem, DROP_TABLES * TABLE, MADV_NOHUGEPAGE);
	memset(dmem, 0x3c, DROP_TABLES * TABLE);
	/* Records dated back up to 31 passes: at most 1 table in 8 falls due. */
	set_param(32);
	scan_drop();
	c = scan_drop();
	for (i = 0; i < DROP_PAGES; i++)
		bad += drop_states[i] != ETMEM_PAGE_STATE_IDLE;
	check(!bad && (!mapped || c.skipped >= DROP_TABLES - 1),
	      "dropped: all idle before (%zu pages not; %" PRIu64 " tables skipped)", bad, c.skipped);
	for (t = 0; t < DROP_TABLES; t++)
		madvise(dmem + t * TABLE + 4096, TABLE - 4096, MADV_DONTNEED);
	c = scan_drop();
	for (t = 0, bad = 0; t < DROP_TABLES; t++) {
		bad += drop_states[t * PER_TABLE] != ETMEM_PAGE_STATE_IDLE;
		for (i = 1; i < PER_TABLE; i++)
			bad += drop_states[t * PER_TABLE + i] != ETMEM_PAGE_STATE_ABSENT;
	}
	check(!bad && c.read >= DROP_TABLES,
	      "zapped with a page of each table kept: absent at the next pass, the kept page idle (%zu pages wrong; %"
	      PRIu64 " tables read, %" PRIu64 " skipped)", bad, c.read, c.skipped);
	/* Read once, the records hold again: reported from them. */
	c = scan_drop();
	check(!mapped || c.skipped >= DROP_TABLES - 1,
	      "and then reported from their new records (%" PRIu64 " skipped, %" PRIu64 " read)",
	      c.skipped, c.read);
	set_param(3);
	munmap(p, (DROP_TABLES + 1) * TABLE);
}

#define RUN_TABLES	8
#define RUN_PAGES	(RUN_TABLES * PER_TABLE)
static char *rmem;
static uint8_t run_states[RUN_PAGES], run_ages[RUN_PAGES];
static unsigned int run_chunks, state_chunks, nr_runs;

static int collect_runs(const struct etmem_chunk *chunk, void *arg)
{
	struct etmem_chunk_cursor cur = { 0 };
	struct etmem_unit_run run;

	(void)arg;
	if (chunk->page_shift != 12)
		return 0;
	if (chunk->runs)
		run_chunks++, nr_runs += chunk->nr_runs;
	else
		state_chunks++;
	while (etmem_chunk_next_run(chunk, &cur, &run)) {
		for (uint32_t i = run.first; i < run.first + run.nr_units; i++) {
			uint64_t a = chunk->addr + ((uint64_t)i << 12);

			if (a >= (uintptr_t)rmem && a < (uintptr_t)rmem + RUN_TABLES * TABLE) {
				run_states[(a - (uintptr_t)rmem) >> 12] = run.state;
				run_ages[(a - (uintptr_t)rmem) >> 12] = run.idle_age;
			}
		}
	}
	return 0;
}

static void scan_runs(uint32_t flags, unsigned int min_age)
{
	struct etmem_range r = { (uintptr_t)rmem, (uintptr_t)rmem + RUN_TABLES * TABLE };

	memset(run_states, ETMEM_PAGE_STATE_ABSENT, sizeof(run_states));
	memset(run_ages, 0xee, sizeof(run_ages));
	run_chunks = state_chunks = nr_runs = 0;
	if (etmem_scan_min_age(client, getpid(), &r, 1, flags, min_age, collect_runs, NULL)) {
		fprintf(stderr, "scan: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
}

/* Pages of table @t whose state or age is not the expected one. */
static size_t runs_wrong(size_t t, int state, int age, int odd_state, int odd_age)
{
	size_t n = 0;

	for (size_t i = t * PER_TABLE; i < (t + 1) * PER_TABLE; i++) {
		bool odd = i % 2;

		n += run_states[i] != (odd ? odd_state : state) ||
		     run_ages[i] != (odd ? odd_age : age);
	}
	return n;
}

static void check_runs(void)
{
	const int A = ETMEM_PAGE_STATE_ACCESSED, I = ETMEM_PAGE_STATE_IDLE;
	const uint32_t f = ETMEM_SCAN_FLAGS_IDLE_AGES | ETMEM_SCAN_FLAGS_RUNS;
	char *p = mmap(NULL, (RUN_TABLES + 1) * TABLE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t bad, t;

	if (p == MAP_FAILED) {
		check(0, "runs: mmap");
		return;
	}
	set_param(8);
	rmem = (char *)(((uintptr_t)p + TABLE - 1) & ~(TABLE - 1));
	madvise(rmem, RUN_TABLES * TABLE, MADV_NOHUGEPAGE);
	memset(rmem, 0x3c, RUN_TABLES * TABLE);
	scan_runs(ETMEM_SCAN_FLAGS_IDLE_AGES, 0);
	scan_runs(ETMEM_SCAN_FLAGS_IDLE_AGES, 0);	/* all idle, age 1 */
	/*
	 * Tables 0-1 touched whole, 4-5 every other page: the chunk of tables
	 * 0-3 (2048 units with ages) is 2 runs, the one of 4-7 over 1000.
	 */
	for (t = 0; t < 2 * TABLE; t += 4096)
		rmem[t] = 1;
	for (t = 4 * TABLE; t < 6 * TABLE; t += 2 * 4096)
		rmem[t] = 1;
	scan_runs(f, 0);
	bad = runs_wrong(0, A, 0, A, 0) + runs_wrong(1, A, 0, A, 0) +
	      runs_wrong(2, I, 2, I, 2) + runs_wrong(3, I, 2, I, 2) +
	      runs_wrong(4, A, 0, I, 2) + runs_wrong(5, A, 0, I, 2) +
	      runs_wrong(6, I, 2, I, 2) + runs_wrong(7, I, 2, I, 2);
	check(!bad, "runs: every page's state and age exact in either form (%zu wrong)", bad);
	check(run_chunks == 1 && nr_runs == 2 && state_chunks == 1,
	      "runs: the chunk of 2 runs came as runs, the one of 1000+ as states (%u run chunks, %u runs, %u state chunks)",
	      run_chunks, nr_runs, state_chunks);
	scan_runs(f, 0);
	scan_runs(f, 0);
	bad = runs_wrong(0, I, 2, I, 2) + runs_wrong(4, I, 2, I, 4) + runs_wrong(7, I, 4, I, 4);
	check(!bad, "runs: ages go on across passes (%zu wrong)", bad);
	/* Ages 3 and 5 capped at 3: all 16 MiB idle for at least 3 scans. */
	scan_runs(f, 3);
	for (t = 0, bad = 0; t < RUN_TABLES; t++)
		bad += runs_wrong(t, I, 3, I, 3);
	check(!bad && run_chunks == 2 && nr_runs == 2 && !state_chunks,
	      "runs: min idle age 3 caps every age at 3, one run a chunk (%zu wrong, %u chunks, %u runs, %u state chunks)",
	      bad, run_chunks, nr_runs, state_chunks);
	/* Without ages: one state a run, ages unknown to the caller. */
	rmem[3 * TABLE] = 1;
	scan_runs(ETMEM_SCAN_FLAGS_RUNS, 0);
	for (t = 0, bad = 0; t < RUN_TABLES; t++)
		bad += runs_wrong(t, I, ETMEM_IDLE_AGE_UNKNOWN, I, ETMEM_IDLE_AGE_UNKNOWN);
	check(bad == 1 && run_states[3 * PER_TABLE] == A && nr_runs == 3,
	      "runs without ages: states exact, ages unknown, 3 runs (%zu pages differ, %u runs)",
	      bad, nr_runs);
	munmap(p, (RUN_TABLES + 1) * TABLE);
}

int main(void)
{
	int mapped = skips_mapped_tables(), fd;
	size_t i, t, half = PAGES / 2;
	uint64_t empty_reads;
	struct counts c;
	char *p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (etmem_client_open(&client)) {
		fprintf(stderr, "netlink: %s\n", etmem_client_errmsg(NULL));
		return 1;
	}
	set_param(8);
	p = mmap(NULL, LEN + TABLE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	mem = (char *)(((uintptr_t)p + TABLE - 1) & ~(TABLE - 1));
	madvise(mem, LEN, MADV_NOHUGEPAGE);
	memset(mem, 0x5a, LEN);

	c = scan();
	check(!wrong(0, PAGES, ETMEM_PAGE_STATE_ACCESSED) && c.read >= NR_TABLES,
	      "first scan: %d pages accessed of %lu, %" PRIu64 " tables read",
	      (int)(PAGES - wrong(0, PAGES, ETMEM_PAGE_STATE_ACCESSED)), PAGES, c.read);
	check(!wrong_age(0, PAGES, 0), "first scan: every idle age 0 (%zu not)",
	      wrong_age(0, PAGES, 0));
	c = scan();
	check(!wrong(0, PAGES, ETMEM_PAGE_STATE_IDLE),
	      "second scan: all idle (%zu pages not)", wrong(0, PAGES, ETMEM_PAGE_STATE_IDLE));
	check(!wrong_age(0, PAGES, 1), "second scan: every idle age 1, read or skipped (%zu not)",
	      wrong_age(0, PAGES, 1));
	/*
	 * A full read dates its record up to 7 passes back by the table's
	 * address (so forced re-reads spread out): of 16 consecutive tables,
	 * the 2 at index 7 mod 8 fall due on the second pass.
	 */
	if (mapped)
		check(c.skipped >= NR_TABLES - 2 && c.skipped + c.read == NR_TABLES,
		      "idle tables reported from their last read: %" PRIu64 " skipped, %" PRIu64 " read",
		      c.skipped, c.read);
	else
		check(c.read >= NR_TABLES && c.skipped == 0,
		      "before 6.12 tables with pages are read every pass: %" PRIu64 " read, %" PRIu64 " skipped",
		      c.read, c.skipped);

	/* One page touched in each of the first 8 tables: exactly those. */
	for (t = 0; t < 8; t++)
		mem[t * TABLE + 7 * 4096] = 1;
	c = scan();
	for (t = 0, i = 0; t < 8; t++)
		i += states[t * PER_TABLE + 7] == ETMEM_PAGE_STATE_ACCESSED;
	check(i == 8 && wrong(0, PAGES, ETMEM_PAGE_STATE_IDLE) == 8,
	      "a touched page per table: %zu of 8 accessed, %zu pages not idle",
	      i, wrong(0, PAGES, ETMEM_PAGE_STATE_IDLE));
	check(c.read >= 8, "the 8 touched tables were read (%" PRIu64 ")", c.read);
	for (t = 0, i = 0; t < 8; t++)
		i += ages[t * PER_TABLE + 7] == 0;
	check(i == 8 && wrong_age(0, PAGES, 2) == 8,
	      "idle ages: 0 for the 8 touched pages (%zu), 2 for the others (%zu not)",
	      i, wrong_age(0, PAGES, 2) - 8);

	/*
	 * The second half dropped without a walk through its tables (their
	 * PMD bits stay clear): the history's mmu notifier marks their
	 * records, so the very next pass reads them and finds the pages
	 * absent (on 7.x the emptied tables are freed, and read as absent
	 * anyway: check_dropped_kept_tables() keeps a page in each).
	 */
	madvise(mem + LEN / 2, LEN / 2, MADV_DONTNEED);
	set_param(3);
	c = scan();
	check(!wrong(half, PAGES, ETMEM_PAGE_STATE_ABSENT),
	      "dropped pages absent at the next pass (%zu of %zu not; %" PRIu64 " tables read, %"
	      PRIu64 " skipped)", wrong(half, PAGES, ETMEM_PAGE_STATE_ABSENT), PAGES - half,
	      c.read, c.skipped);
	check(!wrong(0, half, ETMEM_PAGE_STATE_IDLE), "the first half stays idle");
	/* One more pass: untouched pages 3, the 8 touched ones 1. */
	check(wrong_age(0, half, 3) == 8 && ages[7] == 1 && ages[PER_TABLE + 7] == 1,
	      "idle ages keep counting across passes: %zu pages not 3, touched %d and %d (want 1)",
	      wrong_age(0, half, 3) - 8, ages[7], ages[PER_TABLE + 7]);
	check(!wrong_age(half, PAGES, 0), "dropped pages: idle age 0");
	/*
	 * Read within the last pass, dated at most 2 passes back: with the
	 * bound at 8 again, the second half is not read on any kernel
	 * (skipped, or its tables are gone: 7.x frees the tables
	 * MADV_DONTNEED empties).
	 */
	set_param(8);
	c = scan_from(LEN / 2);
	check(c.read == 0 && !wrong(half, PAGES, ETMEM_PAGE_STATE_ABSENT),
	      "empty tables are not read on any kernel: %" PRIu64 " read, %" PRIu64 " skipped",
	      c.read, c.skipped);
	set_param(3);
	/*
	 * Read at most 2 passes ago and dated back at most 2: at a bound of
	 * 3, empty tables fall due after 12 passes, so none in the next 6
	 * (a table with pages would be read twice).
	 */
	for (i = 0, empty_reads = 0; i < 6; i++)
		empty_reads += scan_from(LEN / 2).read;
	check(empty_reads == 0 && !wrong(half, PAGES, ETMEM_PAGE_STATE_ABSENT),
	      "empty tables are read again only after 4 times pmd_skip_max_passes: %" PRIu64
	      " reads in 6 passes at 3", empty_reads);

	/* Faulted in by the process: the fault's retry walks the table. */
	mem[LEN / 2 + 3 * 4096] = 2;
	scan();
	check(states[half + 3] == ETMEM_PAGE_STATE_ACCESSED && wrong(half, PAGES, ETMEM_PAGE_STATE_ABSENT) == 1,
	      "a page faulted in by the process is accessed (state %d)", states[half + 3]);

	/* Faulted in by the kernel (a /proc/self/mem write): never idle. */
	fd = open("/proc/self/mem", O_RDWR);
	if (fd < 0 || pwrite(fd, "x", 1, (uintptr_t)mem + LEN / 2 + TABLE + 5 * 4096) != 1) {
		perror("/proc/self/mem");
		return 1;
	}
	close(fd);
	/* Its table was empty: read again within 4 * 3 passes. */
	for (i = 0; i < 13; i++) {
		scan();
		if (states[half + PER_TABLE + 5] != ETMEM_PAGE_STATE_ABSENT)
			break;
	}
	check(i < 13 && states[half + PER_TABLE + 5] == ETMEM_PAGE_STATE_ACCESSED,
	      "a page the kernel faulted in: absent, then accessed after %zu passes (state %d, at most 13 with pmd_skip_max_passes=3)",
	      i + 1, states[half + PER_TABLE + 5]);
	/*
	 * The other 6 empty tables of the second half (not the 2 a page was
	 * faulted into) were read last when they emptied, or dated back
	 * after: their bound is 12 passes, not 3.
	 */

	/* A request that starts inside a table reads that table. */
	c = scan_from(4096);
	check(states[1] == ETMEM_PAGE_STATE_IDLE && c.read >= 1,
	      "a partly requested table is read (%" PRIu64 " tables read)", c.read);

	check_thp_ages();
	check_shared_table();
	check_hot_sampling();
	check_runs();
	check_dropped_kept_tables(mapped);

	set_param(0);
	c = scan();
	/* The first half and the two tables a page was faulted into. */
	check(c.skipped == 0 && c.read >= NR_TABLES / 2 + 2,
	      "pmd_skip_max_passes=0: every table read (%" PRIu64 " read, %" PRIu64 " skipped)",
	      c.read, c.skipped);
	check(!wrong(0, half, ETMEM_PAGE_STATE_IDLE), "and the states are the same");
	/* Records are kept while the pre-check is off: ages go on. */
	for (i = 0, t = 0; i < half; i++)
		t += ages[i] == 0 || ages[i] == 255;
	check(t == 0, "with the pre-check off idle ages go on counting (%zu pages 0 or unknown)", t);
	set_param(8);
	return check_failures ? 1 : 0;
}
