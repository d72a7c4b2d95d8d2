// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_memload: a process with a known amount of anonymous memory.
 *
 *   kmod_memload hold MIB        fill MIB of memory, print "ready", pause
 *   kmod_memload swapcache MIB   fill, page it out (MADV_PAGEOUT), read it
 *                                back into the swapcache (MADV_WILLNEED)
 *                                without mapping it, print "ready", pause
 *   kmod_memload mapped-swapcache MIB
 *                                fill, page it out, read it ahead into the
 *                                swapcache and fault every page in by
 *                                reading (the pages are mapped and stay in
 *                                the swapcache), print
 *                                "ready", pause
 *
 * Ends on SIGTERM. The swapcache modes need swap; mapped-swapcache needs
 * a swap device without SWP_SYNCHRONOUS_IO (a disk, not zram).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t len;
	char *p;

	if (argc != 3 || (strcmp(argv[1], "hold") && strcmp(argv[1], "swapcache") &&
			  strcmp(argv[1], "mapped-swapcache"))) {
		fprintf(stderr, "usage: kmod_memload hold|swapcache|mapped-swapcache MIB\n");
		return 2;
	}
	len = strtoul(argv[2], NULL, 10) << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 0x3c, len);
	if (!strcmp(argv[1], "swapcache") &&
	    (madvise(p, len, MADV_PAGEOUT) || madvise(p, len, MADV_WILLNEED))) {
		perror("madvise");
		return 1;
	}
	if (!strcmp(argv[1], "mapped-swapcache")) {
		volatile char *v = p;
		unsigned long sum = 0;

		/*
		 * Read back through the swapcache: read ahead first
		 * (MADV_WILLNEED puts the pages in the swapcache), then fault
		 * them in by reading: they stay in the swapcache, mapped.
		 * Only on a swap device without SWP_SYNCHRONOUS_IO: on zram
		 * a fault skips the swapcache, and kernels after 6.12 free
		 * the swapcache of a page faulted in from such a device even
		 * when read-ahead put it there.
		 */
		if (madvise(p, len, MADV_PAGEOUT) || madvise(p, len, MADV_WILLNEED)) {
			perror("madvise");
			return 1;
		}
		for (size_t i = 0; i < len; i += 4096)
			sum += v[i];
		if (sum != (len / 4096) * 0x3c) {
			fprintf(stderr, "data changed across swap\n");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}
