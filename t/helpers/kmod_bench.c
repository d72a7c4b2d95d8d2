// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_bench MIB REPS: time one etmem scan of MIB of resident 4 KiB pages
 * against one read of /proc/self/pagemap for the same range, REPS times
 * each, interleaved, in two states: "idle" (nothing touched between
 * rounds, the steady state of a periodic scanner) and "accessed" (every
 * page written between rounds, so the scan clears every accessed bit and
 * flushes TLBs). Prints the medians and their ratios (scan / pagemap).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "etmem_genl.h"

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

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 10) : 256) << 20;
	int reps = argc > 2 ? atoi(argv[2]) : 9, state, i;
	size_t npages = len >> 12;
	struct etmem_client *client;
	struct etmem_range range;
	double *t_scan = calloc(reps, sizeof(double));
	double *t_map = calloc(reps, sizeof(double));
	uint64_t *pm = malloc(npages * 8);
	char *p;
	int fd;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || !pm || etmem_client_open(&client)) {
		fprintf(stderr, "kmod_bench: setup failed: %s\n", etmem_client_errmsg(NULL));
		return 1;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 1, len);
	fd = open("/proc/self/pagemap", O_RDONLY);
	range.start = (uintptr_t)p;
	range.end = range.start + len;
	for (state = 0; state < 2; state++) {
		struct etmem_status st0, st1;

		if (etmem_status(client, &st0)) {
			fprintf(stderr, "status failed: %s\n", etmem_client_errmsg(client));
			return 1;
		}
		for (i = 0; i < reps; i++) {
			uint64_t pages = 0;
			double t0;

			if (state)
				memset(p, i, len);
			t0 = now_ms();
			if (etmem_scan(client, getpid(), &range, 1, 0, count_chunk, &pages) ||
			    pages != npages) {
				fprintf(stderr, "scan failed: %s (%lu pages)\n",
					etmem_client_errmsg(client), (unsigned long)pages);
				return 1;
			}
			t_scan[i] = now_ms() - t0;
			if (state)
				memset(p, i, len);
			t0 = now_ms();
			if (pread(fd, pm, npages * 8, (range.start >> 12) * 8) != (ssize_t)(npages * 8)) {
				perror("pagemap");
				return 1;
			}
			t_map[i] = now_ms() - t0;
		}
		/*
		 * Each run's own ratio (before median() sorts the times): their
		 * spread is the noise of the machine.
		 */
		double lo = t_scan[0] / t_map[0], hi = lo, s, m;

		for (i = 1; i < reps; i++) {
			double r = t_scan[i] / t_map[i];

			lo = r < lo ? r : lo;
			hi = r > hi ? r : hi;
		}
		s = median(t_scan, reps);
		m = median(t_map, reps);
		if (etmem_status(client, &st1)) {
			fprintf(stderr, "status failed: %s\n", etmem_client_errmsg(client));
			return 1;
		}
		printf("%s: %zu MiB, %d reps: scan %.2f ms, pagemap %.2f ms, ratio %.2f (runs %.2f..%.2f), "
		       "TLB flush rounds %.1f per GiB scanned\n",
		       state ? "accessed" : "idle", len >> 20, reps, s, m, s / m, lo, hi,
		       (double)(st1.tlb_flush_rounds - st0.tlb_flush_rounds) * 1024 /
		       ((double)reps * (len >> 20)));
	}
	etmem_client_close(client);
	return 0;
}
