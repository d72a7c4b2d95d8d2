// SPDX-License-Identifier: GPL-2.0
/*
 * scancost: how long a full accessed-bit scan of some processes takes
 * through the etmem family, in wall time and in CPU time of the scanning
 * thread (the kernel's walk runs in that thread, so it is included).
 *
 *   scancost [-r REPS] PID...
 * prints per repetition:
 *   scancost rep=R pids=N pages=P resident_mib=M wall_ms=W cpu_ms=C
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etmem_genl.h"

static int count_pages(const struct etmem_chunk *chunk, void *arg)
{
	uint64_t *bytes = arg;
	uint32_t i;

	for (i = 0; i < chunk->nr_pages; i++)
		if (etmem_chunk_state(chunk, i) != ETMEM_PAGE_STATE_ABSENT)
			*bytes += 1ull << chunk->page_shift;
	return 0;
}

static double ms_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct etmem_client *client;
	unsigned int reps = 3, rep;
	int c, i, err;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r') {
			fprintf(stderr, "usage: scancost [-r REPS] PID...\n");
			return 2;
		}
		reps = strtoul(optarg, NULL, 0);
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: scancost [-r REPS] PID...\n");
		return 2;
	}
	err = etmem_client_open(&client);
	if (err) {
		fprintf(stderr, "scancost: %s\n", strerror(-err));
		return 1;
	}
	for (rep = 0; rep < reps; rep++) {
		double wall = ms_of(CLOCK_MONOTONIC), cpu = ms_of(CLOCK_THREAD_CPUTIME_ID);
		uint64_t bytes = 0;

		for (i = optind; i < argc; i++) {
			err = etmem_scan(client, atoi(argv[i]), NULL, 0, 0,
					 count_pages, &bytes);
			if (err) {
				fprintf(stderr, "scancost: pid %s: %s %s\n", argv[i],
					strerror(-err), etmem_client_errmsg(client));
				return 1;
			}
		}
		printf("scancost rep=%u pids=%d pages=%" PRIu64 " resident_mib=%.1f "
		       "wall_ms=%.2f cpu_ms=%.2f\n", rep, argc - optind, bytes / 4096,
		       bytes / 1048576.0, ms_of(CLOCK_MONOTONIC) - wall,
		       ms_of(CLOCK_THREAD_CPUTIME_ID) - cpu);
	}
	etmem_client_close(client);
	return 0;
}
