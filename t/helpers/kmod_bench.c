// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_bench MIB REPS: time one etmem scan of MIB of 4 KiB pages against
 * one read of /proc/self/pagemap for the same range, REPS times each,
 * interleaved (scan with the PMD accessed-bit pre-check, scan without it
 * of a twin mapping in the same state, pagemap, then the next
 * repetition), in these states:
 *  - "idle": resident, nothing touched between rounds (the steady state of
 *    a periodic scanner over cold memory);
 *  - "accessed": every page written before each timed call, so the scan
 *    clears every accessed bit and flushes TLBs;
 *  - "absent": the pages dropped (MADV_DONTNEED; swapped-out memory looks
 *    the same to a scan), their page tables kept where the kernel keeps
 *    them;
 *  - "accessed-sampled": as "accessed", scanned with hot sampling
 *    (ETMEM_SCAN_FLAGS_SAMPLE_HOT, the module's default
 *    hot_skip_max_passes=1: a table all accessed in 4 reads is read every
 *    other pass), what slide asks for. The passes alternate between
 *    reading and skipping, so this state reports means over all passes,
 *    not medians, and the spread is that of pairs of consecutive passes.
 * In each of the first three states the PAGEMAP_SCAN ioctl of
 * /proc/self/pagemap (6.7 on) also walks the range for its present pages,
 * a reference row: it reads no accessed bit and clears nothing, but
 * returns ranges, not a word a page.
 * Prints per state the medians, their ratios (scan / pagemap, and scan
 * with / without the pre-check), each repetition's own ratios as the
 * spread, and the PTE tables read and skipped per scan with the pre-check
 * (ETMEM_CMD_STATUS).
 * The pre-check is switched with etmem_scan's pmd_skip_max_passes
 * parameter (needs root); it is left at its default, 8.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fs.h>

#include "etmem_genl.h"

/* The PAGEMAP_SCAN ioctl (Linux 6.7), for older headers. */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_PRESENT	(1 << 3)
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#endif

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int count_chunk(const struct etmem_chunk *chunk, void *arg)
{
	*(uint64_t *)arg += chunk->nr_pages;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define PARAM "/sys/module/etmem_scan/parameters/pmd_skip_max_passes"

static struct etmem_client *client;
/*
 * @range is scanned with the pre-check, @twin (a second mapping in the
 * same state) without it: a scan without the pre-check reads every table
 * and so refreshes its record, which would hide the pre-check's forced
 * re-reads (1 table in pmd_skip_max_passes per pass) from the scans of a
 * range both kinds of scan shared.
 */
static struct etmem_range range, twin;
static size_t len, npages;
static uint64_t *pm;
static char *p;
static int fd;

static void set_precheck(int on)
{
	FILE *f = fopen(PARAM, "w");

	if (!f || fprintf(f, "%d\n", on ? 8 : 0) < 0 || fclose(f)) {
		perror(PARAM);
		exit(1);
	}
}

static void status(struct etmem_status *st)
{
	if (etmem_status(client, st)) {
		fprintf(stderr, "status failed: %s\n", etmem_client_errmsg(client));
		exit(1);
	}
}

/* One timed scan; @want pages must come back resident (-1: any). */
static double timed_scan_range(const struct etmem_range *r, long want, uint32_t flags)
{
	uint64_t pages = 0;
	double t0 = now_ms();

	if (etmem_scan(client, getpid(), r, 1, flags, count_chunk, &pages) ||
	    (want >= 0 && pages != (uint64_t)want)) {
		fprintf(stderr, "scan failed: %s (%lu pages)\n",
			etmem_client_errmsg(client), (unsigned long)pages);
		exit(1);
	}
	return now_ms() - t0;
}

static double timed_scan_flags(long want, uint32_t flags)
{
	return timed_scan_range(&range, want, flags);
}

static double timed_scan(long want)
{
	return timed_scan_flags(want, 0);
}

/* A scan of the twin (see above), without the pre-check. */
static double timed_scan_twin(long want)
{
	return timed_scan_range(&twin, want, 0);
}

static double timed_pagemap(void)
{
	double t0 = now_ms();

	if (pread(fd, pm, npages * 8, (range.start >> 12) * 8) != (ssize_t)(npages * 8)) {
		perror("pagemap");
		exit(1);
	}
	return now_ms() - t0;
}

/*
 * One walk of the range with PAGEMAP_SCAN for its present pages; -1 when
 * the kernel has no such ioctl.
 */
static double timed_pagemap_scan(void)
{
	static struct page_region regions[512];
	struct pm_scan_arg arg = {
		.size = sizeof(arg), .start = range.start, .end = range.end,
		.vec = (uintptr_t)regions, .vec_len = 512,
		.category_mask = PAGE_IS_PRESENT, .return_mask = PAGE_IS_PRESENT,
	};
	double t0 = now_ms();

	while (arg.start < arg.end) {
		if (ioctl(fd, PAGEMAP_SCAN, &arg) < 0)
			return -1;
		arg.start = arg.walk_end;
	}
	return now_ms() - t0;
}

static void minmax(double r, double *lo, double *hi, int first)
{
	if (first || r < *lo)
		*lo = r;
	if (first || r > *hi)
		*hi = r;
}

enum { IDLE, ACCESSED, ABSENT };

static void measure(int state, int reps)
{
	static const char *const names[] = { "idle", "accessed", "absent" };
	double *on = calloc(reps, sizeof(double)), *off = calloc(reps, sizeof(double));
	double *map = calloc(reps, sizeof(double)), *ps = calloc(reps, sizeof(double));
	double lo = 0, hi = 0, lo_off = 0, hi_off = 0, lo_oo = 0, hi_oo = 0, lo_ps = 0, hi_ps = 0;
	int have_ps = 1;
	struct etmem_status st0, st1;
	long want = state == IDLE ? (long)npages : -1;
	int i;

	uint64_t on_read = 0, on_skipped = 0;

	/* Two scans of each first: the accessed bits cleared, the records made. */
	set_precheck(1);
	for (i = 0; i < 2; i++) {
		timed_scan(-1);
		timed_scan_twin(-1);
	}
	status(&st0);
	for (i = 0; i < reps; i++) {
		struct etmem_status a, b;

		if (state == ACCESSED)
			memset(p, i, len);
		set_precheck(1);
		status(&a);
		on[i] = timed_scan(want);
		status(&b);
		on_read += b.scan_tables_read - a.scan_tables_read;
		on_skipped += b.scan_tables_skipped - a.scan_tables_skipped;
		if (state == ACCESSED)
			memset(p + len + (2 << 20), i, len);
		set_precheck(0);
		off[i] = timed_scan_twin(want);
		if (state == ACCESSED)
			memset(p, i, len);
		map[i] = timed_pagemap();
		if (have_ps)
			ps[i] = timed_pagemap_scan();
		have_ps = have_ps && ps[i] > 0;
		if (have_ps)
			minmax(on[i] / ps[i], &lo_ps, &hi_ps, !i);
		minmax(on[i] / map[i], &lo, &hi, !i);
		minmax(off[i] / map[i], &lo_off, &hi_off, !i);
		minmax(on[i] / off[i], &lo_oo, &hi_oo, !i);
	}
	status(&st1);
	set_precheck(1);
	{
		double s = median(on, reps), so = median(off, reps), m = median(map, reps);

		printf("%s: %zu MiB, %d reps: scan %.2f ms, pagemap %.2f ms, ratio %.2f (runs %.2f..%.2f); "
		       "without pre-check scan %.2f ms, ratio %.2f (runs %.2f..%.2f); "
		       "with/without %.2f (runs %.2f..%.2f); per scan %.1f tables read, %.1f skipped, "
		       "TLB flush rounds %.1f per GiB scanned",
		       names[state], len >> 20, reps, s, m, s / m, lo, hi, so, so / m, lo_off, hi_off,
		       s / so, lo_oo, hi_oo,
		       (double)on_read / reps, (double)on_skipped / reps,
		       (double)(st1.tlb_flush_rounds - st0.tlb_flush_rounds) * 1024 /
		       (2.0 * reps * (len >> 20)));
		if (have_ps) {
			double q = median(ps, reps);

			printf("; PAGEMAP_SCAN %.2f ms, scan / it %.2f (runs %.2f..%.2f)\n",
			       q, s / q, lo_ps, hi_ps);
		} else {
			printf("; PAGEMAP_SCAN unavailable\n");
		}
	}
	free(ps);
	free(on);
	free(off);
	free(map);
}

/*
 * "accessed-sampled" (see the top): every page written before each call,
 * scans with ETMEM_SCAN_FLAGS_SAMPLE_HOT after 4 that make the tables
 * hot; ratio of the means, spread over pairs of consecutive passes.
 */
static void measure_sampled(int reps)
{
	double *scan = calloc(reps, sizeof(double)), *map = calloc(reps, sizeof(double));
	double sum_scan = 0, sum_map = 0, lo = 0, hi = 0;
	struct etmem_status st0, st1;
	int i;

	set_precheck(1);
	for (i = 0; i < 4; i++) {
		memset(p, i, len);
		timed_scan_flags(-1, ETMEM_SCAN_FLAGS_SAMPLE_HOT);
	}
	status(&st0);
	for (i = 0; i < reps; i++) {
		memset(p, i, len);
		scan[i] = timed_scan_flags(-1, ETMEM_SCAN_FLAGS_SAMPLE_HOT);
		memset(p, i, len);
		map[i] = timed_pagemap();
		sum_scan += scan[i];
		sum_map += map[i];
		if (i % 2)
			minmax((scan[i - 1] + scan[i]) / (map[i - 1] + map[i]), &lo, &hi, i == 1);
	}
	status(&st1);
	printf("accessed-sampled: %zu MiB, %d reps: scan %.2f ms, pagemap %.2f ms, ratio %.2f "
	       "(runs %.2f..%.2f); means over all passes; per scan %.1f tables read, "
	       "%.1f left unread as hot\n",
	       len >> 20, reps, sum_scan / reps, sum_map / reps, sum_scan / sum_map, lo, hi,
	       (double)(st1.scan_tables_read - st0.scan_tables_read) / reps,
	       (double)(st1.scan_tables_hot_skipped - st0.scan_tables_hot_skipped) / reps);
	free(scan);
	free(map);
}

int main(int argc, char **argv)
{
	int reps = argc > 2 ? atoi(argv[2]) : 11;

	len = (argc > 1 ? strtoul(argv[1], NULL, 10) : 256) << 20;
	npages = len >> 12;
	pm = malloc(npages * 8);
	/*
	 * 2 MiB aligned, so that every table is requested whole: the range,
	 * a 2 MiB gap, the twin.
	 */
	p = mmap(NULL, 2 * len + (4 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED || !pm || etmem_client_open(&client)) {
		fprintf(stderr, "kmod_bench: setup failed: %s\n", etmem_client_errmsg(NULL));
		return 1;
	}
	p = (char *)(((uintptr_t)p + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
	madvise(p, 2 * len + (2 << 20), MADV_NOHUGEPAGE);
	memset(p, 1, len);
	memset(p + len + (2 << 20), 1, len);
	fd = open("/proc/self/pagemap", O_RDONLY);
	range.start = (uintptr_t)p;
	range.end = range.start + len;
	twin.start = range.end + (2 << 20);
	twin.end = twin.start + len;
	measure(IDLE, reps);
	measure(ACCESSED, reps);
	/* Whole pairs of passes (a skip and a read): an odd count would bias the mean. */
	measure_sampled(reps < 2 ? 2 : reps + reps % 2);
	madvise(p, 2 * len + (2 << 20), MADV_DONTNEED);
	measure(ABSENT, reps);
	etmem_client_close(client);
	return 0;
}
