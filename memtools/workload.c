// SPDX-License-Identifier: GPL-2.0
/*
 * mt-workload: a process with known memory for the memtools tests.
 *   mt-workload ANON_MIB FILE_PATH FILE_MIB SHMEM_MIB
 * touches ANON_MIB of private anonymous memory, maps and reads FILE_MIB
 * of FILE_PATH, touches SHMEM_MIB of a shared memfd mapping, prints
 * "ready" and waits until killed. On SIGUSR1 it touches ANON_MIB more;
 * on SIGUSR2 it pages its first anonymous region out (MADV_PAGEOUT).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t grow, page_out;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		grow = 1;
	else
		page_out = 1;
}

static void *touch_anon(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mt-workload: mmap anon");
		exit(1);
	}
	memset(p, 0x5a, bytes);
	return p;
}

int main(int argc, char **argv)
{
	size_t mib = 1 << 20, anon, file, shmem, i;
	volatile char sum = 0;
	char *p, *first = NULL;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: mt-workload ANON_MIB FILE_PATH FILE_MIB SHMEM_MIB\n");
		return 2;
	}
	anon = strtoul(argv[1], NULL, 10) * mib;
	file = strtoul(argv[3], NULL, 10) * mib;
	shmem = strtoul(argv[4], NULL, 10) * mib;
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	if (anon)
		first = touch_anon(anon);
	if (file) {
		fd = open(argv[2], O_RDONLY);
		p = fd < 0 ? MAP_FAILED : mmap(NULL, file, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror("mt-workload: map file");
			return 1;
		}
		for (i = 0; i < file; i += 4096)
			sum += p[i];
	}
	if (shmem) {
		fd = memfd_create("mt-workload", 0);
		if (fd < 0 || ftruncate(fd, shmem)) {
			perror("mt-workload: memfd");
			return 1;
		}
		p = mmap(NULL, shmem, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror("mt-workload: map memfd");
			return 1;
		}
		memset(p, 0x33, shmem);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pause();
		if (grow) {
			grow = 0;
			touch_anon(anon ? anon : mib);
			printf("grown\n");
			fflush(stdout);
		}
		if (page_out && first) {
			page_out = 0;
			if (madvise(first, anon, MADV_PAGEOUT))
				perror("mt-workload: MADV_PAGEOUT");
			printf("paged\n");
			fflush(stdout);
		}
	}
}
