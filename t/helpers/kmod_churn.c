// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_churn: a target whose page tables change shape all the time, for
 * racing etmem's scan and swap check against PMD changes.
 *
 *   kmod_churn MIB SECONDS
 *
 * Maps MIB MiB (2 MiB aligned, THP allowed) and, for SECONDS, loops over
 * its 2 MiB blocks: MADV_COLLAPSE (a huge PMD replaces a PTE table),
 * MADV_DONTNEED (the PMD goes), then touches a few pages again (a PTE
 * table comes back). Prints "ready ADDR LEN" once mapped and "collapsed N
 * of M" at the end (N > 0 shows the races were really exercised).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define HPAGE (2UL << 20)

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 10) : 64) << 20;
	time_t stop = time(NULL) + (argc > 2 ? atoi(argv[2]) : 60);
	unsigned long collapsed = 0, tries = 0;
	char *raw, *p;
	size_t off;

	setvbuf(stdout, NULL, _IOLBF, 0);
	raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	madvise(p, len, MADV_HUGEPAGE);
	memset(p, 1, len);
	printf("ready 0x%lx %zu\n", (unsigned long)p, len);
	while (time(NULL) < stop) {
		for (off = 0; off < len; off += HPAGE) {
			char *b = p + off;
			size_t i;

			/* Back to 4 KiB pages: a PTE table under the PMD. */
			madvise(b, HPAGE, MADV_DONTNEED);
			for (i = 0; i < HPAGE; i += 4096 * 7)
				b[i] = 2;
			tries++;
			if (madvise(b, HPAGE, MADV_COLLAPSE) == 0)
				collapsed++;
			b[0] = 3;
		}
	}
	printf("collapsed %lu of %lu\n", collapsed, tries);
	return 0;
}
