// SPDX-License-Identifier: GPL-2.0
/*
 * hotcold: a workload with a known hot set and cold set, for tests and
 * benchmarks of cold-memory reclaim.
 *
 *   hotcold --cold-mib C --hot-mib H [--seconds S] [--interval-ms MS]
 *           [--hugetlb] [--node N] [--children K] [--swapflag cold|hot|all]
 *           [--hot-stride N] [--warm-mib W --warm-every-ms MS]
 *           [--move-mib M [--move-every-ms MS]] [--thp] [--share-cold]
 *           [--zero-mib Z] [--hot-pause-ms MS]
 *
 * Cold memory is written once; hot memory is read by a thread that never
 * sleeps. Every page holds data derived from its index, and a checksum of
 * each page is kept, so that at the end (SIGTERM, SIGINT or --seconds)
 * every page is read back and compared: "verify ok" or "verify FAILED".
 * Every interval it prints one status line:
 *   status t_ms=.. cold_resident=.. hot_resident=.. hot_passes=.. majflt=..
 * (resident counts in pages, from mincore()). On start it prints
 *   ready pid=P cold=START-END hot=START-END page=BYTES
 * With --swapflag it marks that part swappable through the etmem family
 * (etmem_madvise_swapflag) before printing ready.
 * With --thp every region is 2 MiB aligned and asks for transparent huge
 * pages (MADV_HUGEPAGE; 4 KiB pages otherwise), a THP-backed heap.
 * With --hot-stride N the hot thread also reads every N-th page of the cold
 * set, which leaves the cold set in many small pieces (as in a real heap).
 * With --warm-mib W the main thread also reads a third set of W MiB (2 MiB
 * aligned, so that it lies in whole page tables) once
 * every --warm-every-ms (default 4000): memory used now and then, which a
 * reclaimer that only looks at the last few seconds calls cold; the ready
 * line then names it (warm=START-END) and status lines add
 * warm_resident=.. warm_pages=.. warm_reads=...
 * With --move-mib M the hot set moves: the hot region is M MiB (M >= H)
 * and the hot thread reads a window of H MiB of it, which the main thread
 * moves forward by 1 MiB every --move-every-ms (default 1000), wrapping
 * around at the end: a page is hot for H moves, then cold for M - H moves,
 * then hot again, so reclaimers see pages cool down and heat up again
 * (a page taken while cold faults back in when the window returns). The
 * whole region is checksummed and verified like the fixed hot set;
 * hot_resident and hot_pages count the whole region, and each status line
 * is followed by "move t_ms=.. move_pos_mib=.." (where the window starts).
 * SIGUSR1 grows the working set: from then on the main thread reads the
 * whole cold set every --interval-ms too (status lines add cold_reads=..).
 * With --share-cold the cold set is a shared mapping that a second
 * process (forked after it is written, killed when hotcold exits) maps
 * too (it reads every page, since fork() does not copy a shared mapping's
 * page tables): its pages are mapped by two processes, which move_pages() without
 * MPOL_MF_MOVE_ALL and MADV_PAGEOUT leave alone; the ready line adds
 * sharer=PID.
 * With --zero-mib Z it also maps Z MiB (4 KiB pages) that it only reads,
 * once, before ready: every page maps the zero page, no memory of its own.
 * At the end they must still read as zeroes (counted in the verify).
 * With --hot-pause-ms MS the hot thread sleeps MS between its passes
 * instead of never sleeping: the hot set is still read many times between
 * two scans a second apart, and a test that runs many workloads on the
 * guest's two vCPUs leaves CPU to the daemon and its own checks.
 * With --children K it forks K copies (each with its own memory) that
 * print their own lines prefixed "child".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etmem_genl.h"

struct region {
	unsigned char *mem;
	size_t bytes;
	size_t nr_pages;
	uint32_t *sums;
};

static struct {
	size_t cold_mib, hot_mib, warm_mib, move_mib;
	unsigned int seconds, interval_ms, children, hot_stride, warm_every_ms, move_every_ms;
	unsigned int hot_pause_ms;
	bool hugetlb, thp, share_cold;
	size_t zero_mib;
	int node;
	const char *swapflag;
	size_t page;
} opt = { .interval_ms = 1000, .node = -1, .page = 4096, .warm_every_ms = 4000,
	.move_every_ms = 1000 };

static volatile sig_atomic_t stop_requested, grow_requested;
static atomic_bool hot_stop;
static atomic_uint_fast64_t hot_passes;
/* Byte offset in the hot region where the hot window starts (--move-mib). */
static atomic_size_t hot_window_start;
static struct region cold, hot, warm;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static void on_grow(int sig)
{
	grow_requested = 1;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Page contents derived from (salt, index): cheap to make, easy to check. */
static void fill_page(unsigned char *page, size_t bytes, uint64_t salt, size_t index)
{
	uint64_t x = salt * 0x9e3779b97f4a7c15ull + index + 1, *words = (uint64_t *)page;
	size_t i;

	for (i = 0; i < bytes / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		words[i] = x;
	}
}

static int region_map(struct region *r, size_t mib, uint64_t salt)
{
	int flags = (r == &cold && opt.share_cold ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
	size_t i;

	r->bytes = mib << 20;
	r->nr_pages = r->bytes / opt.page;
	if (!r->bytes)
		return 0;
	if (opt.hugetlb)
		flags |= MAP_HUGETLB;
	if ((r == &warm || opt.thp) && !opt.hugetlb) {
		/*
		 * 2 MiB aligned, in whole page tables: the kernel keeps idle
		 * ages only for tables a scan reads whole, and a table the
		 * VMA's edge cuts would leave some warm pages without one.
		 */
		unsigned char *p = mmap(NULL, r->bytes + (2 << 20), PROT_READ | PROT_WRITE,
					flags, -1, 0);

		if (p == MAP_FAILED) {
			perror("hotcold: mmap");
			return -1;
		}
		r->mem = (unsigned char *)(((uintptr_t)p + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
		if (r->mem > p)
			munmap(p, r->mem - p);
		munmap(r->mem + r->bytes, p + r->bytes + (2 << 20) - (r->mem + r->bytes));
	} else {
		r->mem = mmap(NULL, r->bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
	}
	if (r->mem == MAP_FAILED) {
		perror("hotcold: mmap");
		return -1;
	}
	/* 4 KiB pages unless hugetlb or --thp: reclaim works page by page. */
	if (!opt.hugetlb)
		madvise(r->mem, r->bytes, opt.thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (opt.node >= 0) {
		unsigned long mask = 1ul << opt.node;

		if (mbind(r->mem, r->bytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0)) {
			perror("hotcold: mbind");
			return -1;
		}
	}
	r->sums = calloc(r->nr_pages, sizeof(*r->sums));
	if (!r->sums)
		return -1;
	for (i = 0; i < r->nr_pages; i++) {
		fill_page(r->mem + i * opt.page, opt.page, salt, i);
		r->sums[i] = fnv1a(r->mem + i * opt.page, opt.page);
	}
	/* Placement is set: let etmem move the pages anywhere afterwards. */
	if (opt.node >= 0)
		mbind(r->mem, r->bytes, MPOL_DEFAULT, NULL, 0, 0);
	return 0;
}

static size_t region_verify(const struct region *r)
{
	size_t i, bad = 0;

	for (i = 0; i < r->nr_pages; i++)
		bad += fnv1a(r->mem + i * opt.page, opt.page) != r->sums[i];
	return bad;
}

static size_t region_resident(const struct region *r)
{
	size_t pages = r->bytes / 4096, i, n = 0;
	unsigned char *vec;

	if (!r->bytes)
		return 0;
	vec = malloc(pages);
	if (!vec || mincore(r->mem, r->bytes, vec)) {
		free(vec);
		return 0;
	}
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n * 4096 / opt.page;
}

static void *hot_loop(void *arg)
{
	size_t window = opt.move_mib ? opt.hot_mib << 20 : hot.bytes, i, at;
	volatile uint64_t sink = 0;

	while (!atomic_load_explicit(&hot_stop, memory_order_relaxed)) {
		at = atomic_load_explicit(&hot_window_start, memory_order_relaxed);
		for (i = 0; i < window; i += 4096) {
			sink += hot.mem[at];
			at += 4096;
			if (at >= hot.bytes)
				at = 0;
		}
		for (i = 0; opt.hot_stride && i < cold.bytes; i += 4096 * opt.hot_stride)
			sink += cold.mem[i];
		atomic_fetch_add(&hot_passes, 1);
		if (opt.hot_pause_ms)
			usleep(opt.hot_pause_ms * 1000);
	}
	(void)sink;
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mark_swapflag(void)
{
	bool all = strcmp(opt.swapflag, "all") == 0;

	if ((all || strcmp(opt.swapflag, "cold") == 0) && cold.bytes &&
	    etmem_madvise_swapflag(cold.mem, cold.bytes, true))
		return -1;
	if ((all || strcmp(opt.swapflag, "hot") == 0) && hot.bytes &&
	    etmem_madvise_swapflag(hot.mem, hot.bytes, true))
		return -1;
	return 0;
}

/* --zero-mib: read once, never written (the zero page in every entry). */
static volatile char *zero_mem;

static int zero_map(void)
{
	void *p = mmap(NULL, opt.zero_mib << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;
	char sum = 0;

	if (p == MAP_FAILED)
		return -1;
	madvise(p, opt.zero_mib << 20, MADV_NOHUGEPAGE);
	zero_mem = p;
	for (i = 0; i < opt.zero_mib << 20; i += 4096)
		sum |= zero_mem[i];
	return sum ? -1 : 0;
}

/* Pages of the --zero-mib set that no longer read as zeroes. */
static size_t zero_verify(void)
{
	size_t bad = 0, i, j;

	for (i = 0; zero_mem && i < opt.zero_mib << 20; i += 4096)
		for (j = 0; j < 4096; j++)
			if (zero_mem[i + j]) {
				bad++;
				break;
			}
	return bad;
}

static int run(const char *who)
{
	struct rusage ru;
	pthread_t thread;
	uint64_t start, next, next_warm, next_move, warm_reads = 0, cold_reads = 0;
	volatile uint64_t sink = 0;
	char warm_text[128] = "", sharer_text[32] = "";
	pid_t sharer = 0;
	size_t bad, i;

	if (region_map(&cold, opt.cold_mib, 1) ||
	    region_map(&hot, opt.move_mib ? opt.move_mib : opt.hot_mib, 2) ||
	    region_map(&warm, opt.warm_mib, 3))
		return 2;
	if (opt.zero_mib && zero_map()) {
		perror("hotcold: --zero-mib");
		return 2;
	}
	if (opt.share_cold) {
		pid_t parent = getpid();
		int ready[2];
		char c = 0;

		/* Only the cold set is shared: not the private copy-on-write rest. */
		if ((hot.bytes && madvise(hot.mem, hot.bytes, MADV_DONTFORK)) ||
		    (warm.bytes && madvise(warm.mem, warm.bytes, MADV_DONTFORK)) ||
		    (zero_mem && madvise((void *)zero_mem, opt.zero_mib << 20, MADV_DONTFORK)) ||
		    pipe(ready))
			return 2;
		sharer = fork();
		if (sharer < 0)
			return 2;
		if (!sharer) {
			/* Holds the cold set's mapping until hotcold exits. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			/*
			 * fork() does not copy the page tables of a shared
			 * mapping: read every page so that both map it.
			 */
			for (i = 0; i < cold.bytes; i += 4096)
				sink += cold.mem[i];
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		close(ready[1]);
		/* "ready" only once both map the cold set. */
		if (read(ready[0], &c, 1) != 1)
			return 2;
		close(ready[0]);
		snprintf(sharer_text, sizeof(sharer_text), " sharer=%d", (int)sharer);
	}
	if (opt.swapflag && mark_swapflag()) {
		perror("hotcold: etmem_madvise_swapflag");
		return 2;
	}
	if ((hot.bytes || opt.hot_stride) && pthread_create(&thread, NULL, hot_loop, NULL))
		return 2;
	if (warm.bytes)
		snprintf(warm_text, sizeof(warm_text), " warm=%#lx-%#lx", (unsigned long)warm.mem,
			 (unsigned long)warm.mem + warm.bytes);
	printf("%sready pid=%d cold=%#lx-%#lx hot=%#lx-%#lx page=%zu%s%s\n", who,
	       getpid(), (unsigned long)cold.mem, (unsigned long)cold.mem + cold.bytes,
	       (unsigned long)hot.mem, (unsigned long)hot.mem + hot.bytes, opt.page, warm_text,
	       sharer_text);
	start = now_ms();
	next = start + opt.interval_ms;
	next_warm = start + opt.warm_every_ms;
	next_move = start + opt.move_every_ms;
	while (!stop_requested &&
	       (!opt.seconds || now_ms() - start < opt.seconds * 1000ull)) {
		usleep(20000);
		if (opt.move_mib && now_ms() >= next_move) {
			atomic_store(&hot_window_start,
				     (atomic_load(&hot_window_start) + (1 << 20)) % hot.bytes);
			next_move += opt.move_every_ms;
		}
		if (warm.bytes && now_ms() >= next_warm) {
			for (i = 0; i < warm.bytes; i += 4096)
				sink += warm.mem[i];
			warm_reads++;
			next_warm = now_ms() + opt.warm_every_ms;
		}
		if (now_ms() < next)
			continue;
		next += opt.interval_ms;
		if (grow_requested) {
			for (i = 0; i < cold.bytes; i += 4096)
				sink += cold.mem[i];
			cold_reads++;
		}
		getrusage(RUSAGE_SELF, &ru);
		printf("%sstatus t_ms=%" PRIu64 " cold_resident=%zu cold_pages=%zu "
		       "hot_resident=%zu hot_pages=%zu hot_passes=%" PRIu64 " majflt=%ld cold_reads=%" PRIu64 "\n",
		       who, now_ms() - start, region_resident(&cold), cold.nr_pages,
		       region_resident(&hot), hot.nr_pages,
		       (uint64_t)atomic_load(&hot_passes), ru.ru_majflt, cold_reads);
		if (opt.move_mib)
			printf("%smove t_ms=%" PRIu64 " move_pos_mib=%zu\n", who, now_ms() - start,
			       atomic_load(&hot_window_start) >> 20);
		if (warm.bytes)
			printf("%swarm t_ms=%" PRIu64 " warm_resident=%zu warm_pages=%zu warm_reads=%" PRIu64
			       "\n", who, now_ms() - start, region_resident(&warm), warm.nr_pages,
			       warm_reads);
	}
	(void)sink;
	atomic_store(&hot_stop, true);
	if (hot.bytes || opt.hot_stride)
		pthread_join(thread, NULL);
	if (sharer > 0) {
		kill(sharer, SIGKILL);
		waitpid(sharer, NULL, 0);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%sfinal cold_resident=%zu hot_resident=%zu hot_passes=%" PRIu64
	       " majflt=%ld\n", who, region_resident(&cold), region_resident(&hot),
	       (uint64_t)atomic_load(&hot_passes), ru.ru_majflt);
	bad = region_verify(&cold) + region_verify(&hot) + region_verify(&warm) + zero_verify();
	if (bad) {
		printf("%sverify FAILED: %zu of %zu pages changed\n", who, bad,
		       cold.nr_pages + hot.nr_pages + warm.nr_pages + (opt.zero_mib << 8));
		return 1;
	}
	printf("%sverify ok %zu pages\n", who,
	       cold.nr_pages + hot.nr_pages + warm.nr_pages + (opt.zero_mib << 8));
	return 0;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: hotcold --cold-mib C --hot-mib H [--seconds S] "
		"[--interval-ms MS] [--hugetlb] [--node N] [--children K] "
		"[--swapflag cold|hot|all] [--hot-stride N] [--warm-mib W] [--warm-every-ms MS] "
		"[--move-mib M] [--move-every-ms MS] [--thp] [--share-cold] [--zero-mib Z] "
		"[--hot-pause-ms MS]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cold-mib", required_argument, NULL, 'c' },
		{ "hot-mib", required_argument, NULL, 'H' },
		{ "seconds", required_argument, NULL, 's' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "hugetlb", no_argument, NULL, 'g' },
		{ "thp", no_argument, NULL, 'T' },
		{ "node", required_argument, NULL, 'n' },
		{ "children", required_argument, NULL, 'k' },
		{ "swapflag", required_argument, NULL, 'f' },
		{ "hot-stride", required_argument, NULL, 't' },
		{ "warm-mib", required_argument, NULL, 'w' },
		{ "warm-every-ms", required_argument, NULL, 'W' },
		{ "move-mib", required_argument, NULL, 'm' },
		{ "move-every-ms", required_argument, NULL, 'M' },
		{ "share-cold", no_argument, NULL, 'S' },
		{ "zero-mib", required_argument, NULL, 'z' },
		{ "hot-pause-ms", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction sa = { .sa_handler = on_signal };
	pid_t *children;
	unsigned int i;
	int c, status, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt.cold_mib = strtoul(optarg, NULL, 0); break;
		case 'H': opt.hot_mib = strtoul(optarg, NULL, 0); break;
		case 's': opt.seconds = strtoul(optarg, NULL, 0); break;
		case 'i': opt.interval_ms = strtoul(optarg, NULL, 0); break;
		case 'g': opt.hugetlb = true; opt.page = 2 << 20; break;
		case 'T': opt.thp = true; break;
		case 'n': opt.node = atoi(optarg); break;
		case 'k': opt.children = strtoul(optarg, NULL, 0); break;
		case 'f': opt.swapflag = optarg; break;
		case 't': opt.hot_stride = strtoul(optarg, NULL, 0); break;
		case 'w': opt.warm_mib = strtoul(optarg, NULL, 0); break;
		case 'W': opt.warm_every_ms = strtoul(optarg, NULL, 0); break;
		case 'm': opt.move_mib = strtoul(optarg, NULL, 0); break;
		case 'M': opt.move_every_ms = strtoul(optarg, NULL, 0); break;
		case 'S': opt.share_cold = true; break;
		case 'z': opt.zero_mib = strtoul(optarg, NULL, 0); break;
		case 'p': opt.hot_pause_ms = strtoul(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opt.swapflag && strcmp(opt.swapflag, "cold") &&
	    strcmp(opt.swapflag, "hot") && strcmp(opt.swapflag, "all")) {
		usage(stderr);
		return 2;
	}
	if (opt.move_mib && (opt.move_mib < opt.hot_mib || !opt.hot_mib || opt.hugetlb ||
			     !opt.move_every_ms)) {
		fprintf(stderr, "hotcold: --move-mib needs --hot-mib H with 0 < H <= M, "
			"4 KiB pages and --move-every-ms > 0\n");
		return 2;
	}
	if (opt.interval_ms == 0)
		opt.interval_ms = 1000;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_grow;
	sigaction(SIGUSR1, &sa, NULL);
	children = calloc(opt.children ? opt.children : 1, sizeof(*children));
	if (!children)
		return 2;
	for (i = 0; i < opt.children; i++) {
		children[i] = fork();
		if (children[i] < 0)
			return 2;
		if (children[i] == 0)
			return run("child ");
	}
	rc = run("");
	/* Pass the stop on, then fail if any child's data changed. */
	for (i = 0; i < opt.children; i++)
		kill(children[i], SIGTERM);
	free(children);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = rc ? rc : 1;
	return rc;
}
