// SPDX-License-Identifier: GPL-2.0
/*
 * scanlib_check: drives libetmemd_scan through its public header only, as
 * a third-party policy would, against two hotcold workloads:
 *
 *   scanlib_check PID_A COLD_A HOT_A PID_B COLD_B
 *
 * A: 4 KiB pages, its cold range marked swappable, its hot range read by a
 * thread that never sleeps. B: hugetlb, cold only. Ranges are START-END in
 * hex, as hotcold prints them. Prints "ok - ..." or "not ok - ..." per check
 * and exits 1 if any failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <etmem/etmemd_scan.h>

#define MIB ((uint64_t)1 << 20)

struct range {
	uint64_t start, end;
};

static int nr_failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		nr_failed++;
}

static struct range parse_range(const char *text)
{
	struct range r = { 0, 0 };

	if (sscanf(text, "%" SCNx64 "-%" SCNx64, &r.start, &r.end) != 2) {
		fprintf(stderr, "scanlib_check: '%s' is not START-END\n", text);
		exit(2);
	}
	return r;
}

static uint64_t ref_size(const struct page_refs *ref)
{
	return ref->type == PMD_TYPE ? 2 * MIB : 4096;
}

/* The mapping that holds @r, alone in a list of its own (caller frees). */
static struct vmas *only_vma(const struct vmas *all, struct range r)
{
	struct vmas *one = calloc(1, sizeof(*one));

	for (struct vma *v = all->vma_list; v; v = v->next) {
		if (v->start <= r.start && r.end <= v->end) {
			one->vma_list = malloc(sizeof(*v));
			*one->vma_list = *v;
			one->vma_list->next = NULL;
			one->vma_cnt = 1;
			break;
		}
	}
	return one;
}

static void free_one(struct vmas *one)
{
	free(one->vma_list);
	free(one);
}

/* Pages of @refs inside @r: how many, bytes covered, how many PMD. */
struct tally {
	uint64_t nr, bytes, nr_pmd, nr_count[4];
	uint64_t nr_aged, nr_age0;	/* idle age known; of those, 0 */
	int min_age;			/* smallest known idle age */
};

static struct tally tally(const struct page_refs *refs, struct range r)
{
	struct tally t = { .min_age = 255 };

	for (; refs; refs = refs->next) {
		if (refs->addr < r.start || refs->addr >= r.end)
			continue;
		t.nr++;
		t.bytes += ref_size(refs);
		t.nr_pmd += refs->type == PMD_TYPE;
		t.nr_count[refs->count < 3 ? refs->count : 3]++;
		if (refs->idle_age >= 0) {
			t.nr_aged++;
			t.nr_age0 += refs->idle_age == 0;
			t.min_age = refs->idle_age < t.min_age ? refs->idle_age : t.min_age;
		}
	}
	return t;
}

static uint64_t vmswap_kb(const char *pid)
{
	char path[64], line[256];
	uint64_t kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	struct range cold_a, hot_a, cold_b;
	struct vmas *all, *anon, *ht, *one, *gone;
	struct page_refs *refs = NULL, *hpages = NULL, *folded = NULL, *marked = NULL;
	const char *pid_a, *pid_b;
	char *ht_flag[] = { "ht" };
	struct tally t, h;
	uint64_t nr_file = 0;
	long long bytes;
	int ret, err;

	if (argc != 6) {
		fprintf(stderr, "usage: scanlib_check PID_A COLD_A HOT_A PID_B COLD_B\n");
		return 2;
	}
	pid_a = argv[1];
	cold_a = parse_range(argv[2]);
	hot_a = parse_range(argv[3]);
	pid_b = argv[4];
	cold_b = parse_range(argv[5]);

	ret = etmemd_scan_init();
	check(ret == 0, "etmemd_scan_init: %d", ret);

	/* --- mappings --- */
	all = etmemd_get_vmas(pid_a, NULL, 0, false);
	anon = etmemd_get_vmas(pid_a, NULL, 0, true);
	check(all && anon, "etmemd_get_vmas of pid %s", pid_a);
	if (!all || !anon)
		return 1;
	for (struct vma *v = all->vma_list; v; v = v->next)
		nr_file += !v->anon;
	check(nr_file > 0 && anon->vma_cnt + nr_file == all->vma_cnt,
	      "anon_only leaves out exactly the %" PRIu64 " file mappings (%" PRIu64 " of %" PRIu64 ")",
	      nr_file, anon->vma_cnt, all->vma_cnt);
	for (struct vma *v = anon->vma_list; v; v = v->next)
		if (!v->anon || *v->path == '/')
			check(0, "anon_only returned %s", v->path);
	ht = etmemd_get_vmas(pid_b, ht_flag, 1, false);
	check(ht && ht->vma_cnt == 1 && ht->vma_list->start == cold_b.start &&
	      ht->vma_list->end == cold_b.end && ht->vma_list->hugetlb,
	      "vmflags {\"ht\"} selects exactly the hugetlb mapping of pid %s", pid_b);
	errno = 0;
	gone = etmemd_get_vmas("12ab", NULL, 0, false);
	err = errno;
	check(!gone && err == EINVAL, "a pid that is not a number: NULL, errno EINVAL (%d)", err);
	errno = 0;
	gone = etmemd_get_vmas("999999999", NULL, 0, false);
	err = errno;
	check(!gone && err != 0, "a pid that does not exist: NULL, errno %d (%s)", err, strerror(err));

	/* --- hugetlb pages come as 2 MiB pages --- */
	ret = ht ? etmemd_get_page_refs(ht, pid_b, &hpages, 0) : -1;
	t = tally(hpages, cold_b);
	check(ret == 0 && t.nr == (cold_b.end - cold_b.start) / (2 * MIB) && t.nr_pmd == t.nr,
	      "hugetlb mapping: %" PRIu64 " pages, all 2 MiB (%" PRIu64 ")", t.nr, t.nr_pmd);

	/*
	 * --- 4 KiB pages, and ETMEMD_SCAN_AS_HUGE ---
	 * Every 2 MiB block that lies wholly inside the mapping comes as one
	 * 2 MiB page; only the mapping's unaligned edges stay 4 KiB. (The
	 * kernel may have merged the cold and hot mappings into one.)
	 */
	one = only_vma(all, cold_a);
	ret = one->vma_cnt ? etmemd_get_page_refs(one, pid_a, &folded, ETMEMD_SCAN_AS_HUGE) : -1;
	if (ret == 0) {
		uint64_t vstart = one->vma_list->start, vend = one->vma_list->end;
		uint64_t nr_pmd = 0, nr_small = 0, nr_unfolded = 0, nr_misaligned = 0;

		for (const struct page_refs *r = folded; r; r = r->next) {
			uint64_t block = r->addr & ~(2 * MIB - 1);

			if (r->type == PMD_TYPE) {
				nr_pmd++;
				nr_misaligned += r->addr != block;
			} else {
				nr_small++;
				nr_unfolded += block >= vstart && block + 2 * MIB <= vend;
			}
		}
		check(nr_pmd >= (cold_a.end - cold_a.start) / (2 * MIB) - 1 && !nr_misaligned &&
		      !nr_unfolded,
		      "AS_HUGE: %" PRIu64 " aligned 2 MiB pages and %" PRIu64 " 4 KiB pages at the edges"
		      " of a %" PRIu64 " KiB mapping (%" PRIu64 " misaligned, %" PRIu64 " not folded)",
		      nr_pmd, nr_small, (vend - vstart) >> 10, nr_misaligned, nr_unfolded);
	} else {
		check(0, "AS_HUGE scan of the cold mapping: %d", ret);
	}
	free_one(one);

	/* Two passes over everything anonymous, with a pause between them. */
	ret = etmemd_get_page_refs(anon, pid_a, &refs, 0);
	check(ret == 0, "pass 1: %d", ret);
	sleep(1);
	ret = etmemd_get_page_refs(anon, pid_a, &refs, ETMEMD_SCAN_IGN_HOST);
	check(ret == 0, "pass 2 (IGN_HOST accepted): %d", ret);
	t = tally(refs, cold_a);
	h = tally(refs, hot_a);
	check(t.nr == (cold_a.end - cold_a.start) / 4096 && t.nr_pmd == 0,
	      "cold range: %" PRIu64 " pages of 4 KiB", t.nr);
	check(t.nr_count[2] == 0 && t.nr_count[3] == 0,
	      "cold pages were not accessed in both passes (%" PRIu64 " were)",
	      t.nr_count[2] + t.nr_count[3]);
	check(h.nr_count[2] >= h.nr * 95 / 100,
	      "hot pages accessed in both passes: %" PRIu64 " of %" PRIu64, h.nr_count[2], h.nr);
	/*
	 * Idle ages from the kernel, across calls: the cold pages were idle
	 * in this call's two passes at least (unknown only in 2 MiB tables
	 * the mapping covers partly), the hot ones were just accessed.
	 */
	check(t.nr_aged >= t.nr / 2 && t.min_age >= 2,
	      "cold pages: idle age known for %" PRIu64 " of %" PRIu64 ", smallest %d (want >= 2)",
	      t.nr_aged, t.nr, t.min_age);
	/* 2 MiB of hot pages may lie in two partly covered tables: no ages. */
	check(h.nr_age0 >= h.nr_aged * 95 / 100,
	      "hot pages: idle age 0 for %" PRIu64 " of %" PRIu64 " with a known age",
	      h.nr_age0, h.nr_aged);
	for (const struct page_refs *r = refs; r && r->next; r = r->next)
		if (r->next->addr <= r->addr) {
			check(0, "page_refs out of address order at %#" PRIx64, r->addr);
			break;
		}

	/* --- ETMEMD_SCAN_SWAPFLAG: only what the process marked --- */
	ret = etmemd_get_page_refs(anon, pid_a, &marked, ETMEMD_SCAN_SWAPFLAG);
	t = tally(marked, cold_a);
	h = tally(marked, hot_a);
	check(ret == 0 && t.nr == (cold_a.end - cold_a.start) / 4096 && h.nr == 0,
	      "SWAPFLAG scan: the marked cold range (%" PRIu64 " pages), none of the hot (%" PRIu64 ")",
	      t.nr, h.nr);

	/* --- page out the cold pages; the hot ones are kept --- */
	bytes = etmemd_swap_out(pid_a, refs, 2, ETMEMD_SCAN_SWAPFLAG);
	check(bytes >= (long long)((cold_a.end - cold_a.start) * 9 / 10),
	      "etmemd_swap_out(threshold 2, SWAPFLAG): %lld bytes handed to reclaim", bytes);
	check(vmswap_kb(pid_a) * 1024 >= (cold_a.end - cold_a.start) * 9 / 10 &&
	      vmswap_kb(pid_a) * 1024 <= cold_a.end - cold_a.start + 256 * 1024,
	      "VmSwap of pid %s is the cold range: %" PRIu64 " kB", pid_a, vmswap_kb(pid_a));
	check(etmemd_swap_out("999999999", refs, 2, 0) < 0,
	      "etmemd_swap_out of a pid that does not exist fails");

	etmemd_free_page_refs(refs);
	etmemd_free_page_refs(hpages);
	etmemd_free_page_refs(folded);
	etmemd_free_page_refs(marked);
	etmemd_free_vmas(all);
	etmemd_free_vmas(anon);
	etmemd_free_vmas(ht);
	etmemd_scan_exit();
	return nr_failed ? 1 : 0;
}
