// SPDX-License-Identifier: GPL-2.0
/*
 * pageoutcost: the CPU that paging memory out costs through etmem (the
 * kernel's check of every page, ETMEM_CMD_SWAP, then
 * process_madvise(MADV_PAGEOUT) of the approved ranges: what slide does)
 * against process_madvise(MADV_PAGEOUT) of the same range alone.
 *
 *   pageoutcost [-r REPS] MIB
 *
 * A child maps MIB of 4 KiB anonymous pages and fills them with a
 * pattern. Each repetition, for each method in turn (their order
 * alternating between repetitions): the child reads every page back in
 * and checks it, the parent scans it once (the accessed bits cleared, as
 * slide's scan leaves them; not timed: that is the monitoring cost, which
 * MADV_PAGEOUT alone does not have), then times the page-out in its own
 * thread's CPU time (process_madvise() reclaims in the caller's context)
 * and counts the MiB that left the child's resident set (mincore() in the
 * child). etmem's timed part is all of etmem_swap_out_pidfd(): the
 * kernel's check of every page, the page-out, and its count of what
 * really went (a read of /proc/PID/pagemap over the approved ranges).
 * One untimed round of each method comes first, so that every timed
 * round pages out memory that was swapped out and read back in before.
 * Needs root, etmem_scan and etmem_swap loaded, and swap.
 *
 * Prints per repetition and method:
 *   pageoutcost rep=R method=etmem|madvise mib_out=M cpu_ms=C ms_per_mib=X
 * and at the end "pageoutcost verify ok" once the child found every page
 * intact after the last page-out, or "pageoutcost verify FAILED".
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "etmem_genl.h"

#define PAGE	4096UL

static double thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static uint8_t pattern(size_t page)
{
	return (uint8_t)(page * 2654435761u >> 24) | 1;
}

/*
 * The child: fill, report the address, then for each command byte: 't'
 * reads every page back and checks it, answering 'k' or 'x' (a page
 * lost); 'r' answers how many of its pages are resident (mincore()).
 */
static void child(size_t len, int cmd, int ans)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t addr = (uintptr_t)p;
	char c;

	if (p == MAP_FAILED)
		_exit(1);
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < len / PAGE; i++)
		memset(p + i * PAGE, pattern(i), PAGE);
	if (write(ans, &addr, sizeof(addr)) != sizeof(addr))
		_exit(1);
	while (read(cmd, &c, 1) == 1) {
		char ok = 'k';

		if (c == 'r') {
			unsigned char *vec = malloc(len / PAGE);
			long n = 0;

			if (!vec || mincore(p, len, vec))
				n = -1;
			for (size_t i = 0; n >= 0 && i < len / PAGE; i++)
				n += vec[i] & 1;
			free(vec);
			if (write(ans, &n, sizeof(n)) != sizeof(n))
				_exit(1);
			continue;
		}

		for (size_t i = 0; i < len / PAGE; i++)
			if (p[i * PAGE] != pattern(i) || p[i * PAGE + PAGE - 1] != pattern(i))
				ok = 'x';
		if (write(ans, &ok, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static int cmd_fd = -1, ans_fd = -1;

/* The child's resident pages, -1 on failure. */
static long resident_pages(void)
{
	long n = -1;

	if (write(cmd_fd, "r", 1) != 1 || read(ans_fd, &n, sizeof(n)) != sizeof(n))
		return -1;
	return n;
}

static int noop_chunk(const struct etmem_chunk *chunk, void *arg)
{
	(void)chunk;
	(void)arg;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int reps = 5, rep, m;
	int cmd[2], ans[2], c, pidfd, failed = 0;
	struct etmem_client *client;
	struct etmem_range range;
	uintptr_t addr;
	size_t len;
	pid_t pid;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r') {
			fprintf(stderr, "usage: pageoutcost [-r REPS] MIB\n");
			return 2;
		}
		reps = strtoul(optarg, NULL, 0);
	}
	if (optind != argc - 1 || !reps || !(len = strtoul(argv[optind], NULL, 0) << 20)) {
		fprintf(stderr, "usage: pageoutcost [-r REPS] MIB\n");
		return 2;
	}
	if (pipe(cmd) || pipe(ans))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		close(cmd[1]);
		close(ans[0]);
		child(len, cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);
	if (read(ans[0], &addr, sizeof(addr)) != sizeof(addr)) {
		fprintf(stderr, "pageoutcost: the child did not start\n");
		return 1;
	}
	range.start = addr;
	range.end = addr + len;
	cmd_fd = cmd[1];
	ans_fd = ans[0];
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 || etmem_client_open(&client)) {
		fprintf(stderr, "pageoutcost: %s\n", pidfd < 0 ? strerror(errno) :
			etmem_client_errmsg(NULL));
		kill(pid, SIGKILL);
		return 1;
	}
	/* Round 0 is the untimed warm-up of both methods. */
	for (rep = 0; rep <= reps && !failed; rep++) {
		for (m = 0; m < 2 && !failed; m++) {
			/* etmem first in odd repetitions, madvise first in even ones. */
			int etmem = (m + rep) % 2 == 1;
			struct iovec iov = { (void *)addr, len };
			long before, after, out;
			double t0, cpu;
			char ok;
			int err = 0;

			if (write(cmd[1], "t", 1) != 1 || read(ans[0], &ok, 1) != 1 || ok != 'k') {
				fprintf(stderr, "pageoutcost: child check failed\n");
				failed = 1;
				break;
			}
			if (etmem_scan(client, pid, &range, 1, 0, noop_chunk, NULL)) {
				fprintf(stderr, "pageoutcost: scan: %s\n", etmem_client_errmsg(client));
				failed = 1;
				break;
			}
			before = resident_pages();
			t0 = thread_cpu_ms();
			if (etmem)
				err = etmem_swap_out_pidfd(client, pidfd, pid, &range, 1, 0, NULL);
			else if (syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_PAGEOUT, 0) < 0)
				err = -errno;
			cpu = thread_cpu_ms() - t0;
			after = resident_pages();
			if (err) {
				fprintf(stderr, "pageoutcost: %s: %s %s\n", etmem ? "etmem" : "madvise",
					strerror(-err), etmem ? etmem_client_errmsg(client) : "");
				failed = 1;
				break;
			}
			if (before < 0 || after < 0) {
				fprintf(stderr, "pageoutcost: mincore in the child failed\n");
				failed = 1;
				break;
			}
			if (!rep)
				continue;	/* the warm-up */
			out = before > after ? before - after : 0;
			printf("pageoutcost rep=%u method=%s mib_out=%.1f cpu_ms=%.2f ms_per_mib=%.3f\n",
			       rep - 1, etmem ? "etmem" : "madvise",
			       out * PAGE / 1048576.0, cpu,
			       out ? cpu / (out * PAGE / 1048576.0) : 0.0);
			fflush(stdout);
		}
	}
	if (!failed) {
		char ok;

		failed = write(cmd[1], "t", 1) != 1 || read(ans[0], &ok, 1) != 1 || ok != 'k';
	}
	printf("pageoutcost verify %s\n", failed ? "FAILED" : "ok");
	close(cmd[1]);
	waitpid(pid, NULL, 0);
	etmem_client_close(client);
	return failed;
}
