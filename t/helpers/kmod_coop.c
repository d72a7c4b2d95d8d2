// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_coop HOT_MIB COLD_MIB PERIOD_MS: a workload for checking that
 * etmem's scans leave the kernel's own reclaim its access history.
 *
 * Fills COLD_MIB that it never touches again and HOT_MIB that it reads
 * and writes a byte of every PERIOD_MS, prints "ready", then "begin N"
 * before and "pass N" after each pass over the hot set (N from 1), and
 * goes on until killed: a test can act between two passes and tell
 * whether what it did ended before the next pass began. PERIOD_MS 0:
 * each pass after the first waits for a line on stdin (ends at EOF), so
 * that the test, not a clock, says when the next pass runs. Its major
 * faults (/proc/PID/stat) after reclaim tell whether reclaim took hot
 * pages: with a scan clearing accessed bits in between touches, only the
 * folio's young flag still says "recently used".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t hot = (argc > 1 ? strtoul(argv[1], NULL, 10) : 128) << 20;
	size_t cold = (argc > 2 ? strtoul(argv[2], NULL, 10) : 768) << 20;
	long period_ms = argc > 3 ? atol(argv[3]) : 2000;
	struct timespec ts = { period_ms / 1000, (period_ms % 1000) * 1000000L };
	char *h, *c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	c = mmap(NULL, cold, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	h = mmap(NULL, hot, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED || h == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(c, cold, MADV_NOHUGEPAGE);
	madvise(h, hot, MADV_NOHUGEPAGE);
	memset(c, 1, cold);
	memset(h, 2, hot);
	printf("ready\n");
	for (unsigned long pass = 1;; pass++) {
		printf("begin %lu\n", pass);
		for (size_t i = 0; i < hot; i += 4096)
			h[i]++;
		printf("pass %lu\n", pass);
		if (period_ms > 0) {
			nanosleep(&ts, NULL);
		} else {
			char line[16];

			if (!fgets(line, sizeof(line), stdin))
				return 0;
		}
	}
}
