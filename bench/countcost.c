// SPDX-License-Identifier: GPL-2.0
/*
 * countcost: what slide's user-space bookkeeping (etmemd/engine/pagecount.c)
 * costs per cycle when the scan replies come page by page (2 bits and an
 * age byte a page) against run-length replies (ETMEM_SCAN_FLAGS_RUNS), on
 * the same synthetic replies, side by side in one process.
 *
 *   countcost [-r REPS] LAYOUT
 * LAYOUT: steady (448 MiB swapped out, 64 MiB hot: slide's steady state in
 * the costs benchmark), interleaved (512 MiB idle, one hot page in every
 * 64: 64 runs a chunk, still shorter than states) or alternating (every
 * other page hot: runs do not pay, the module sends states, and both
 * forms must cost the same).
 * A cycle is slide's with loop=2 and idle ages: two passes into a
 * page_counts, then the pages present and the cold ranges at T=1 and
 * idle age 2. Each form
 * keeps one page_counts across its cycles, as slide keeps one per
 * process (the buffers of a cycle are reused by the next). Prints per
 * repetition, in alternating order after an untimed round of each:
 *   countcost layout=L rep=R form=states|runs units=N chunks_as_runs=C ms=M
 * No kernel involved: the replies are built here as the module builds
 * them (runs where they are shorter than states and ages).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pagecount.h"

#define BASE		0x7f0000000000ull
#define UNITS_PER_CHUNK	2048	/* a chunk with ages, as the module sends */

struct reply {
	struct etmem_chunk *chunks;
	size_t nr;
	unsigned int as_runs;
};

static uint8_t state_of(const char *layout, uint64_t i)
{
	if (!strcmp(layout, "steady"))	/* 448 MiB absent, then 64 MiB hot */
		return i < 448 * 256 ? ETMEM_PAGE_STATE_ABSENT : ETMEM_PAGE_STATE_ACCESSED;
	if (!strcmp(layout, "alternating"))
		return i % 2 ? ETMEM_PAGE_STATE_IDLE : ETMEM_PAGE_STATE_ACCESSED;
	return i % 64 ? ETMEM_PAGE_STATE_IDLE : ETMEM_PAGE_STATE_ACCESSED;
}

/* One pass's reply for 512 MiB of 4 KiB pages, in either form. */
static void build(struct reply *r, const char *layout, int runs, uint8_t idle_age)
{
	const uint64_t units = 512 * 256;

	r->nr = units / UNITS_PER_CHUNK;
	r->chunks = calloc(r->nr, sizeof(*r->chunks));
	r->as_runs = 0;
	for (size_t c = 0; c < r->nr; c++) {
		struct etmem_chunk *ch = &r->chunks[c];
		uint8_t *states = calloc(UNITS_PER_CHUNK / 4, 1);
		uint8_t *ages = calloc(UNITS_PER_CHUNK, 1);
		struct etmem_scan_run *rs = calloc(UNITS_PER_CHUNK, sizeof(*rs));
		uint32_t n = 0;

		for (uint32_t i = 0; i < UNITS_PER_CHUNK; i++) {
			uint8_t st = state_of(layout, c * UNITS_PER_CHUNK + i);
			uint8_t age = st == ETMEM_PAGE_STATE_IDLE ? idle_age : 0;

			states[i / 4] |= st << (2 * (i % 4));
			ages[i] = age;
			if (n && rs[n - 1].state == st && rs[n - 1].idle_age == age)
				rs[n - 1].nr_units++;
			else
				rs[n++] = (struct etmem_scan_run){ 1, st, age };
		}
		ch->addr = BASE + c * UNITS_PER_CHUNK * 4096ull;
		ch->page_shift = 12;
		ch->nr_pages = UNITS_PER_CHUNK;
		/* The module's rule: runs only where shorter than states and ages. */
		if (runs && n * sizeof(*rs) < UNITS_PER_CHUNK / 4 + UNITS_PER_CHUNK) {
			ch->runs = rs;
			ch->nr_runs = n;
			ch->run_ages = 1;
			free(states);
			free(ages);
			r->as_runs++;
		} else {
			ch->states = states;
			ch->idle_ages = ages;
			free(rs);
		}
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One slide cycle on @pass1 and @pass2 into @pc; CPU ms. */
static double cycle(struct page_counts *pc, const struct reply *pass1, const struct reply *pass2)
{
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	double t0 = now_ms(), t1;

	page_counts_begin_pass(pc, 1);
	for (size_t c = 0; c < pass1->nr; c++)
		page_counts_add_chunk(&pass1->chunks[c], pc);
	page_counts_begin_pass(pc, 2);
	for (size_t c = 0; c < pass2->nr; c++)
		page_counts_add_chunk(&pass2->chunks[c], pc);
	page_counts_nr_pages(pc);
	page_counts_cold_ranges(pc, 1, 2, ranges);
	t1 = now_ms();
	g_array_free(ranges, TRUE);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	struct reply states1, states2, runs1, runs2;
	struct page_counts *pc_states = page_counts_new(), *pc_runs = page_counts_new();
	int reps = 10, opt;
	const char *layout;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r')
			return 2;
		reps = atoi(optarg);
	}
	if (optind >= argc || reps < 1 ||
	    (strcmp(argv[optind], "steady") && strcmp(argv[optind], "interleaved") &&
	     strcmp(argv[optind], "alternating"))) {
		fprintf(stderr, "usage: countcost [-r REPS] steady|interleaved|alternating\n");
		return 2;
	}
	layout = argv[optind];
	build(&states1, layout, 0, 5);
	build(&states2, layout, 0, 6);
	build(&runs1, layout, 1, 5);
	build(&runs2, layout, 1, 6);
	cycle(pc_states, &states1, &states2);	/* untimed: warm caches and the allocator */
	cycle(pc_runs, &runs1, &runs2);
	for (int rep = 1; rep <= reps; rep++) {
		for (int k = 0; k < 2; k++) {
			int runs = (rep + k) % 2;
			double ms = runs ? cycle(pc_runs, &runs1, &runs2) :
					   cycle(pc_states, &states1, &states2);

			printf("countcost layout=%s rep=%d form=%s units=%u chunks_as_runs=%u ms=%.3f\n",
			       layout, rep, runs ? "runs" : "states", 512 * 256,
			       runs ? runs1.as_runs : 0, ms);
		}
	}
	page_counts_free(pc_states);
	page_counts_free(pc_runs);
	return 0;
}
