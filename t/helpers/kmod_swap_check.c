// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_swap_check: swap requests of etmem_swap.ko on this very process.
 *
 *   kmod_swap_check          the checks below (root, swap on, hugetlb pages)
 *   kmod_swap_check marker   mark 1 MiB of own memory with a swap flag,
 *                            print "marked ADDR-END", then wait to be killed
 *
 * Regions: cold anonymous pages, a part of them touched after the scan
 * (young), mlocked pages, pages shared with a forked child, THP and
 * hugetlb. One scan clears the accessed bits, the young part is touched,
 * then one swap request covers everything. Checked: each refusal counter,
 * VmSwap growing by >= 95% of the approved pages, all data checksums, and
 * SWAPFLAG_ONLY swapping only marked pages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "etmem_genl.h"
#include "check.h"

#define MB (1UL << 20)
#define PAGES(bytes) ((bytes) >> 12)

struct region {
	const char *name;
	char *p;
	size_t len;
};

enum { COLD, LOCKED, SHARED, THP, HUGE, MARKED, FRAG, NR_REGIONS };
static struct region reg[NR_REGIONS] = {
	[COLD]   = { "cold", NULL, 64 * MB },
	[LOCKED] = { "locked", NULL, 4 * MB },
	[SHARED] = { "shared", NULL, 8 * MB },
	[THP]    = { "thp", NULL, 8 * MB },
	[HUGE]   = { "hugetlb", NULL, 4 * MB },
	[MARKED] = { "marked", NULL, 8 * MB },
	[FRAG]   = { "fragmented", NULL, 16 * MB },
};
#define YOUNG_LEN (4 * MB)	/* the start of COLD, touched after the scan */

static struct etmem_client *client;

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
	return a;
}

/* Every 8 bytes hold a value derived from their address: self-checking. */
static void fill(struct region *r)
{
	uint64_t *w = (uint64_t *)r->p;
	size_t i;

	for (i = 0; i < r->len / 8; i++)
		w[i] = ((uintptr_t)&w[i] * 0x9e3779b97f4a7c15ULL) ^ 0x5a5a;
}

static size_t count_bad(const struct region *r)
{
	const uint64_t *w = (const uint64_t *)r->p;
	size_t i, bad = 0;

	for (i = 0; i < r->len / 8; i++)
		bad += w[i] != (((uintptr_t)&w[i] * 0x9e3779b97f4a7c15ULL) ^ 0x5a5a);
	return bad;
}

static long vmswap_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int ignore_chunk(const struct etmem_chunk *chunk, void *arg)
{
	return 0;
}

/* Only SHARED exists when the child is forked: it alone is shared. */
static pid_t setup_shared(void)
{
	pid_t child;

	reg[SHARED].p = map_aligned(reg[SHARED].len, MADV_NOHUGEPAGE);
	if (!reg[SHARED].p)
		return -1;
	fill(&reg[SHARED]);
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	return child;
}

static int setup(void)
{
	int i;

	reg[COLD].p = map_aligned(reg[COLD].len, MADV_NOHUGEPAGE);
	reg[LOCKED].p = map_aligned(reg[LOCKED].len, MADV_NOHUGEPAGE);
	reg[THP].p = map_aligned(reg[THP].len, MADV_HUGEPAGE);
	reg[MARKED].p = map_aligned(reg[MARKED].len, MADV_NOHUGEPAGE);
	reg[FRAG].p = map_aligned(reg[FRAG].len, MADV_NOHUGEPAGE);
	reg[HUGE].p = mmap(NULL, reg[HUGE].len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (reg[HUGE].p == MAP_FAILED)
		reg[HUGE].p = NULL;
	for (i = 0; i < NR_REGIONS; i++) {
		if (!reg[i].p)
			return -1;
		if (i != SHARED)
			fill(&reg[i]);
	}
	return mlock(reg[LOCKED].p, reg[LOCKED].len);
}

static size_t sorted_ranges(struct etmem_range *out, const int *which, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		out[i].start = (uintptr_t)reg[which[i]].p;
		out[i].end = out[i].start + reg[which[i]].len;
		for (j = i; j > 0 && out[j - 1].start > out[j].start; j--) {
			struct etmem_range t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	}
	return n;
}

static void test_swap(void)
{
	static const int which[] = { COLD, LOCKED, SHARED, THP, HUGE };
	struct etmem_range ranges[5];
	struct etmem_swap_result r;
	size_t n = sorted_ranges(ranges, which, 5), i, bad = 0;
	uint64_t want_eligible = PAGES(reg[COLD].len - YOUNG_LEN) + PAGES(reg[THP].len);
	long before, after, grown_pages;
	int ret;

	ret = etmem_scan(client, getpid(), ranges, n, 0, ignore_chunk, NULL);
	check(ret == 0, "scan clears the accessed bits (%d %s)", ret,
	      etmem_client_errmsg(client));
	for (i = 0; i < YOUNG_LEN; i += 4096)
		(void)*(volatile char *)(reg[COLD].p + i);
	before = vmswap_kb();
	ret = etmem_swap_out(client, getpid(), ranges, n, 0, &r);
	after = vmswap_kb();
	printf("# eligible %" PRIu64 " young %" PRIu64 " locked %" PRIu64 " shared %" PRIu64
	       " hugetlb %" PRIu64 " absent %" PRIu64 " unevictable %" PRIu64
	       " advised %" PRIu64 " VmSwap %ld -> %ld kB\n",
	       r.nr_eligible, r.nr_young, r.nr_locked, r.nr_shared, r.nr_hugetlb,
	       r.nr_absent, r.nr_unevictable, r.bytes_advised, before, after);
	check(ret == 0, "swap request (%d %s)", ret, etmem_client_errmsg(client));
	check(r.nr_eligible == want_eligible, "eligible: the cold pages and THP (%" PRIu64
	      " of %" PRIu64 ")", r.nr_eligible, want_eligible);
	check(r.nr_young == PAGES(YOUNG_LEN), "young: pages touched after the scan (%" PRIu64 ")",
	      r.nr_young);
	check(r.nr_locked == PAGES(reg[LOCKED].len), "locked: mlocked pages (%" PRIu64 ")",
	      r.nr_locked);
	check(r.nr_shared == PAGES(reg[SHARED].len), "shared: pages shared with a child (%" PRIu64 ")",
	      r.nr_shared);
	check(r.nr_hugetlb == PAGES(reg[HUGE].len), "hugetlb: counted, not swapped (%" PRIu64 ")",
	      r.nr_hugetlb);
	check(r.bytes_advised == r.nr_eligible * 4096, "process_madvise took all approved bytes");
	grown_pages = (after - before) / 4;
	check(grown_pages * 100 >= (long)want_eligible * 95,
	      "VmSwap grew by %ld pages, >= 95%% of %" PRIu64, grown_pages, want_eligible);
	for (i = 0; i < NR_REGIONS; i++)
		bad += count_bad(&reg[i]);
	check(bad == 0, "all data checksums verify after swap-in (%zu bad words)", bad);
}

static void test_swapflag_only(void)
{
	struct etmem_range range = { (uintptr_t)reg[MARKED].p,
				     (uintptr_t)reg[MARKED].p + reg[MARKED].len };
	struct etmem_swap_result r;
	long before, after;
	int ret;

	ret = etmem_madvise_swapflag(reg[MARKED].p, reg[MARKED].len / 2, true);
	check(ret == 0, "mark the first half of a region");
	etmem_scan(client, getpid(), &range, 1, 0, ignore_chunk, NULL);
	before = vmswap_kb();
	ret = etmem_swap_out(client, getpid(), &range, 1, ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY, &r);
	after = vmswap_kb();
	check(ret == 0 && r.nr_eligible == PAGES(reg[MARKED].len / 2) &&
	      r.nr_unmarked == PAGES(reg[MARKED].len / 2),
	      "SWAPFLAG_ONLY: marked half approved, unmarked half counted (%" PRIu64 "/%" PRIu64 ")",
	      r.nr_eligible, r.nr_unmarked);
	check((after - before) / 4 * 100 >= (long)PAGES(reg[MARKED].len / 2) * 95,
	      "VmSwap grew by the marked half (%ld kB)", after - before);
	check(count_bad(&reg[MARKED]) == 0, "marked region checksums verify");
}

/*
 * Every other page touched after the scan: 2048 separate approved ranges,
 * more than one reply holds, so the library resumes where the kernel
 * stopped.
 */
static void test_many_ranges(void)
{
	struct etmem_range range = { (uintptr_t)reg[FRAG].p,
				     (uintptr_t)reg[FRAG].p + reg[FRAG].len };
	uint64_t half = PAGES(reg[FRAG].len) / 2;
	struct etmem_swap_result r;
	long before, after;
	size_t i;
	int ret;

	etmem_scan(client, getpid(), &range, 1, 0, ignore_chunk, NULL);
	for (i = 0; i < reg[FRAG].len; i += 2 * 4096)
		(void)*(volatile char *)(reg[FRAG].p + i);
	before = vmswap_kb();
	ret = etmem_swap_out(client, getpid(), &range, 1, 0, &r);
	after = vmswap_kb();
	check(ret == 0 && r.nr_eligible == half && r.nr_young == half,
	      "2048 separate cold pages over several replies: %" PRIu64 " approved, %"
	      PRIu64 " young", r.nr_eligible, r.nr_young);
	check((after - before) / 4 * 100 >= (long)half * 95,
	      "VmSwap grew by the cold half (%ld kB)", after - before);
	check(count_bad(&reg[FRAG]) == 0, "fragmented region checksums verify");
}

static int marker(void)
{
	char *p = map_aligned(MB, MADV_NOHUGEPAGE);

	memset(p, 1, MB);
	if (etmem_madvise_swapflag(p, MB, true)) {
		printf("error: %s\n", strerror(errno));
		return 1;
	}
	printf("marked %#lx-%#lx\n", (unsigned long)(uintptr_t)p,
	       (unsigned long)(uintptr_t)p + MB);
	fflush(stdout);
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "marker"))
		return marker();
	child = setup_shared();
	if (child < 0 || setup()) {
		printf("not ok - setting up the regions (hugetlb, mlock): %s\n", strerror(errno));
		return 1;
	}
	if (etmem_client_open(&client)) {
		printf("not ok - etmem_client_open: %s\n", etmem_client_errmsg(NULL));
		return 1;
	}
	test_swap();
	test_swapflag_only();
	test_many_ranges();
	kill(child, SIGKILL);
	etmem_client_close(client);
	printf("%s\n", check_failures ? "FAILED" : "PASSED");
	return check_failures ? 1 : 0;
}
