// SPDX-License-Identifier: GPL-2.0
/* Unit tests of per-page access counting (etmemd/engine/pagecount.c). */
// wrap: etmem_scan_min_age proc_alive
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "budget.h"
#include "pagecount.h"
#include "procs.h"

#define A ETMEM_PAGE_STATE_ACCESSED
#define I ETMEM_PAGE_STATE_IDLE
#define X ETMEM_PAGE_STATE_ABSENT
#define R ETMEM_PAGE_STATE_RECENT	/* a hot table left unread (SAMPLE_HOT) */
#define BASE 0x10000000ull

/* Feeds one chunk of 4 KiB pages with the given states. */
static void feed(struct page_counts *pc, uint64_t addr, const int *states, uint32_t nr)
{
	uint8_t packed[16] = { 0 };
	struct etmem_chunk chunk = { .addr = addr, .page_shift = 12, .nr_pages = nr,
				     .states = packed };

	for (uint32_t i = 0; i < nr; i++)
		packed[i / 4] |= states[i] << (2 * (i % 4));
	assert_int_equal(page_counts_add_chunk(&chunk, pc), 0);
}

struct cold_case {
	const char *what;
	int pass1[8], pass2[8];
	unsigned int threshold;
	uint64_t nr_cold;
	size_t nr_ranges;
	uint64_t first_start, first_end;	/* page indexes */
};

static const struct cold_case cases[] = {
	{ "idle twice is cold at T=1", { I, I, I, I, I, I, I, I }, { I, I, I, I, I, I, I, I },
	  1, 8, 1, 0, 8 },
	{ "accessed once is hot at T=1", { A, I, I, I, I, I, I, A }, { I, I, I, I, I, I, I, I },
	  1, 6, 1, 1, 7 },
	{ "accessed once is cold at T=2", { A, A, I, I, I, I, I, I }, { I, A, I, I, I, I, I, I },
	  2, 7, 2, 0, 1 },
	{ "T=0: nothing is cold", { I, I, I, I, I, I, I, I }, { I, I, I, I, I, I, I, I },
	  0, 0, 0, 0, 0 },
	{ "absent in any pass is never cold", { X, I, I, I, I, I, I, I }, { I, X, I, A, I, I, I, I },
	  1, 5, 2, 2, 3 },
	/* RECENT counts as accessed, in the first pass and in later ones. */
	{ "recent in pass 2 is hot at T=1", { I, I, I, I, I, I, I, I }, { R, R, I, I, I, I, I, I },
	  1, 6, 1, 2, 8 },
	{ "recent in pass 1 is hot at T=1", { R, I, I, I, I, I, I, R }, { I, I, I, I, I, I, I, I },
	  1, 6, 1, 1, 7 },
	{ "recent once and accessed once is hot at T=2", { R, A, I, I, I, I, I, I },
	  { A, R, I, I, I, I, I, I }, 2, 6, 1, 2, 8 },
	/* A first-pass chunk all absent is stored without counts. */
	{ "a chunk absent in pass 1 stays never cold", { X, X, X, X, I, I, I, I },
	  { I, A, I, I, I, I, I, I }, 1, 4, 1, 4, 8 },
	{ "both chunks absent in pass 1: nothing", { X, X, X, X, X, X, X, X },
	  { I, I, I, I, I, I, I, I }, 1, 0, 0, 0, 0 },
};

/*
 * One cycle of @tc on @pc: a page_counts kept across cycles (as slide
 * keeps one per process, reusing the last cycle's buffers) must count as
 * a new one does.
 */
static void run_cold_case(struct page_counts *pc, const struct cold_case *tc, const char *how)
{
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	uint64_t cold;

	page_counts_begin_pass(pc, 1);
	/* Two chunks per pass, as the kernel may split them. */
	feed(pc, BASE, tc->pass1, 4);
	feed(pc, BASE + 4 * 4096, tc->pass1 + 4, 4);
	page_counts_begin_pass(pc, 2);
	feed(pc, BASE, tc->pass2, 8);
	cold = page_counts_cold_ranges(pc, tc->threshold, 0, ranges);
	if (cold != tc->nr_cold || ranges->len != tc->nr_ranges)
		fail_msg("%s (%s): %llu cold in %u ranges", tc->what, how,
			 (unsigned long long)cold, ranges->len);
	if (tc->nr_ranges) {
		struct etmem_range *r = &g_array_index(ranges, struct etmem_range, 0);

		assert_int_equal(r->start, BASE + tc->first_start * 4096);
		assert_int_equal(r->end, BASE + tc->first_end * 4096);
	}
	g_array_free(ranges, TRUE);
}

static void test_cold(void **state)
{
	struct page_counts *kept = page_counts_new();

	/* Twice over, so that the kept one reuses buffers of every layout. */
	for (int round = 0; round < 2; round++) {
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			struct page_counts *pc = page_counts_new();

			run_cold_case(pc, &cases[c], "new");
			page_counts_free(pc);
			run_cold_case(kept, &cases[c], "kept");
		}
	}
	page_counts_free(kept);
}

static GArray *range_set(const uint64_t *bounds, size_t n)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));

	for (size_t i = 0; i + 1 < n; i += 2) {
		struct etmem_range r = { bounds[i], bounds[i + 1] };

		g_array_append_val(a, r);
	}
	return a;
}

static void assert_ranges(const GArray *a, const uint64_t *bounds, size_t n, const char *what)
{
	if (a->len != n / 2)
		fail_msg("%s: %u ranges, want %zu", what, a->len, n / 2);
	for (size_t i = 0; i < n / 2; i++) {
		const struct etmem_range *r = &g_array_index(a, struct etmem_range, i);

		if (r->start != bounds[2 * i] || r->end != bounds[2 * i + 1])
			fail_msg("%s: range %zu is %llu..%llu, want %llu..%llu", what, i,
				 (unsigned long long)r->start, (unsigned long long)r->end,
				 (unsigned long long)bounds[2 * i],
				 (unsigned long long)bounds[2 * i + 1]);
	}
}

/* The range sets of slide's hold-back. */
static void test_range_sets(void **state)
{
	static const uint64_t from[] = { 0, 10, 20, 30, 40, 50, 60, 70 };
	/* Cuts: inside one, across two, covering one whole, none of the last. */
	static const uint64_t minus[] = { 2, 4, 8, 22, 40, 50, 55, 58 };
	static const uint64_t left[] = { 0, 2, 4, 8, 22, 30, 60, 70 };
	static const uint64_t add[] = { 2, 4, 8, 22, 35, 38, 55, 60, 80, 90 };
	static const uint64_t merged[] = { 0, 30, 35, 38, 55, 70, 80, 90 };
	GArray *a = range_set(from, 8), *m = range_set(minus, 8), *b, *none = range_set(NULL, 0);

	(void)state;
	assert_int_equal(ranges_subtract(a, m), 2 + 2 + 2 + 10);
	assert_ranges(a, left, 8, "subtract");
	assert_int_equal(ranges_subtract(a, none), 0);
	assert_ranges(a, left, 8, "subtract nothing");
	b = range_set(add, 10);
	ranges_merge(a, b);
	assert_ranges(a, merged, 8, "merge");
	/* What was added back comes off again, exactly. */
	assert_int_equal(ranges_subtract(a, b), 2 + 14 + 3 + 5 + 10);
	assert_ranges(a, left, 8, "subtract what was merged");
	ranges_merge(none, b);
	assert_ranges(none, add, 10, "merge into nothing");
	assert_int_equal(ranges_subtract(none, none), 2 + 14 + 3 + 5 + 10);
	assert_int_equal(none->len, 0);
	g_array_free(a, TRUE);
	g_array_free(m, TRUE);
	g_array_free(b, TRUE);
	g_array_free(none, TRUE);
}

static void test_new_pages_ignored(void **state)
{
	static const int idle[4] = { I, I, I, I };
	struct page_counts *pc = page_counts_new();
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));

	page_counts_begin_pass(pc, 1);
	feed(pc, BASE, idle, 4);
	page_counts_begin_pass(pc, 2);
	feed(pc, BASE - 8 * 4096, idle, 4);	/* mapped after pass 1 */
	feed(pc, BASE, idle, 4);
	assert_int_equal(page_counts_nr_pages(pc), 4);
	assert_int_equal(page_counts_cold_ranges(pc, 1, 0, ranges), 4);
	g_array_free(ranges, TRUE);
	page_counts_free(pc);
}

/* Feeds one chunk of 4 KiB pages with states and kernel idle ages. */
static void feed_aged(struct page_counts *pc, const int *states, const uint8_t *ages,
		      uint32_t nr)
{
	uint8_t packed[16] = { 0 };
	struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12, .nr_pages = nr,
				     .states = packed, .idle_ages = ages };

	for (uint32_t i = 0; i < nr; i++)
		packed[i / 4] |= states[i] << (2 * (i % 4));
	assert_int_equal(page_counts_add_chunk(&chunk, pc), 0);
}

/*
 * With a minimum idle age, a page idle in every pass of the cycle is cold
 * only if the kernel's age of the latest pass reaches it; without an age
 * (THP, hugetlb) the count decides alone; min_age 0 ignores ages.
 */
static void test_min_idle_age(void **state)
{
	static const int idle[6] = { I, I, I, I, I, I };
	static const int last[6] = { I, I, I, I, A, I };
	static const uint8_t ages1[6] = { 5, 6, 9, 1, 9, ETMEM_IDLE_AGE_UNKNOWN };
	static const uint8_t ages2[6] = { 6, 7, 10, 2, 0, ETMEM_IDLE_AGE_UNKNOWN };
	struct page_counts *pc = page_counts_new();
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	struct etmem_range *r;

	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, ages1, 6);
	page_counts_begin_pass(pc, 2);
	feed_aged(pc, last, ages2, 6);
	/* T=1: page 4 was accessed; min age 7: pages 1, 2 and 5 (no age). */
	assert_int_equal(page_counts_cold_ranges(pc, 1, 7, ranges), 3);
	assert_int_equal(ranges->len, 2);
	r = &g_array_index(ranges, struct etmem_range, 0);
	assert_int_equal(r->start, BASE + 1 * 4096);
	assert_int_equal(r->end, BASE + 3 * 4096);
	r = &g_array_index(ranges, struct etmem_range, 1);
	assert_int_equal(r->start, BASE + 5 * 4096);
	g_array_set_size(ranges, 0);
	assert_int_equal(page_counts_cold_ranges(pc, 1, 0, ranges), 5);
	g_array_free(ranges, TRUE);
	page_counts_free(pc);
}

/*
 * Budget mode: the kernel's age decides where there is one; where there
 * is none, our own count of passes idle in a row, kept across cycles and
 * reset by an access, and dropped for pages that now have a kernel age.
 */
static void test_aged_ranges(void **state)
{
	static const int idle[4] = { I, I, I, I };
	static const int hit3[4] = { I, I, I, A };
	static const uint8_t u = ETMEM_IDLE_AGE_UNKNOWN;
	static const uint8_t ages[4] = { 3, 9, u, u };
	static const uint8_t aged_all[4] = { 3, 9, 4, u };
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	GHashTable *own = NULL;
	struct page_counts *pc;
	uint64_t band = 0;

	/* Cycle 1, 2 passes: pages 2 and 3 have no kernel age: own age 2. */
	pc = page_counts_new();
	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, ages, 4);
	page_counts_begin_pass(pc, 2);
	feed_aged(pc, idle, ages, 4);
	assert_int_equal(page_counts_aged_ranges(pc, 3, 0, BUDGET_PROBE_ALL, &own, ranges, &band), 2);	/* pages 0, 1 */
	assert_int_equal(g_hash_table_size(own), 2);
	page_counts_free(pc);
	/* Cycle 2: page 3 accessed in pass 2 (own age 0); page 2 reaches 4. */
	pc = page_counts_new();
	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, ages, 4);
	page_counts_begin_pass(pc, 2);
	feed_aged(pc, hit3, ages, 4);
	g_array_set_size(ranges, 0);
	assert_int_equal(page_counts_aged_ranges(pc, 4, 0, BUDGET_PROBE_ALL, &own, ranges, &band), 2);	/* pages 1, 2 */
	assert_int_equal(ranges->len, 1);
	assert_int_equal(g_array_index(ranges, struct etmem_range, 0).start, BASE + 4096);
	assert_int_equal(g_array_index(ranges, struct etmem_range, 0).end, BASE + 3 * 4096);
	page_counts_free(pc);
	/* Cycle 3: page 2 has a kernel age (4) now; its own entry goes. */
	pc = page_counts_new();
	page_counts_begin_pass(pc, 1);
	feed_aged(pc, idle, aged_all, 4);
	g_array_set_size(ranges, 0);
	assert_int_equal(page_counts_aged_ranges(pc, 4, 0, BUDGET_PROBE_ALL, &own, ranges, &band), 2);	/* pages 1, 2 */
	assert_int_equal(g_hash_table_size(own), 1);
	page_counts_free(pc);
	g_hash_table_destroy(own);
	assert_int_equal(band, 0);	/* no probe */
	g_array_free(ranges, TRUE);
}

/*
 * A module older than run-length replies and hot sampling: its policy
 * refuses the flags (and the age cap) that it does not know.
 */
static uint32_t flags_seen[8];
static unsigned int min_age_seen[8];
static unsigned int nr_scans;
static uint32_t module_knows = ~0u;	/* scan flags the fake module accepts */

int __wrap_etmem_scan_min_age(struct etmem_client *client, pid_t pid,
			      const struct etmem_range *ranges, size_t nr_ranges,
			      uint32_t scan_flags, unsigned int min_idle_age,
			      etmem_scan_cb cb, void *arg);
int __wrap_etmem_scan_min_age(struct etmem_client *client, pid_t pid,
			      const struct etmem_range *ranges, size_t nr_ranges,
			      uint32_t scan_flags, unsigned int min_idle_age,
			      etmem_scan_cb cb, void *arg)
{
	static const uint8_t idle[1] = { 0x55 };
	struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12, .nr_pages = 4,
				     .states = idle };

	(void)client, (void)pid, (void)ranges, (void)nr_ranges;
	if (nr_scans < 8) {
		flags_seen[nr_scans] = scan_flags;
		min_age_seen[nr_scans] = min_idle_age;
	}
	nr_scans++;
	if ((scan_flags & ~module_knows) ||
	    (min_idle_age && !(module_knows & ETMEM_SCAN_FLAGS_RUNS)))
		return -EINVAL;
	return cb(&chunk, arg);
}

bool __wrap_proc_alive(const struct proc_id *id);
bool __wrap_proc_alive(const struct proc_id *id)
{
	(void)id;
	return true;
}

/*
 * slide asks for run-length replies with an age cap, and hot sampling; a
 * module that knows neither refuses the newest first: the pass is asked
 * again without it, then without the next, and every later pass goes
 * without both at once.
 */
static void test_old_module(void **state)
{
	struct page_counts *pc = page_counts_new();
	struct proc_id id = { .pid = 1 };
	char err[128] = "";
	uint32_t f = ETMEM_SCAN_FLAGS_SAMPLE_HOT | ETMEM_SCAN_FLAGS_IDLE_AGES |
		     ETMEM_SCAN_FLAGS_RUNS;

	page_counts_forget_refusals();
	module_knows = ETMEM_SCAN_FLAGS_IDLE_AGES;
	nr_scans = 0;
	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id, -1,
					       f, 3, 1, err, sizeof(err)), 0);
	assert_int_equal(nr_scans, 3);
	assert_int_equal(flags_seen[0], f);
	assert_int_equal(min_age_seen[0], 3);
	assert_int_equal(flags_seen[1], f & ~ETMEM_SCAN_FLAGS_RUNS);
	assert_int_equal(min_age_seen[1], 0);
	assert_int_equal(flags_seen[2], ETMEM_SCAN_FLAGS_IDLE_AGES);
	assert_int_equal(page_counts_nr_pages(pc), 4);	/* one chunk, not three */
	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id, -1,
					       f, 3, 2, err, sizeof(err)), 0);
	assert_int_equal(nr_scans, 4);
	assert_int_equal(flags_seen[3], ETMEM_SCAN_FLAGS_IDLE_AGES);
	assert_int_equal(min_age_seen[3], 0);
	page_counts_free(pc);
	module_knows = ~0u;
}

/*
 * The module of the release before: hot sampling but no runs. Only runs
 * and the cap are dropped, hot sampling stays; and a cap asked without
 * runs is dropped too, not hot sampling.
 */
static void test_module_without_runs(void **state)
{
	struct page_counts *pc = page_counts_new();
	struct proc_id id = { .pid = 1 };
	char err[128] = "";
	uint32_t f = ETMEM_SCAN_FLAGS_SAMPLE_HOT | ETMEM_SCAN_FLAGS_IDLE_AGES;

	page_counts_forget_refusals();
	module_knows = f;
	nr_scans = 0;
	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id, -1,
					       f | ETMEM_SCAN_FLAGS_RUNS, 3, 1, err, sizeof(err)), 0);
	assert_int_equal(nr_scans, 2);
	assert_int_equal(flags_seen[1], f);
	assert_int_equal(min_age_seen[1], 0);
	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id, -1,
					       f | ETMEM_SCAN_FLAGS_RUNS, 3, 2, err, sizeof(err)), 0);
	assert_int_equal(nr_scans, 3);
	assert_int_equal(flags_seen[2], f);

	page_counts_forget_refusals();
	nr_scans = 0;
	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id, -1,
					       f, 3, 1, err, sizeof(err)), 0);
	assert_int_equal(nr_scans, 2);
	assert_int_equal(flags_seen[1], f);	/* hot sampling kept */
	assert_int_equal(min_age_seen[1], 0);
	page_counts_free(pc);
	module_knows = ~0u;
	page_counts_forget_refusals();
}

/* The age cap goes only with idle ages: without them it is left out. */
static void test_min_age_needs_ages(void **state)
{
	struct page_counts *pc = page_counts_new();
	struct proc_id id = { .pid = 1 };
	char err[128] = "";

	page_counts_forget_refusals();
	nr_scans = 0;
	assert_int_equal(page_counts_scan_pass(pc, (struct etmem_client *)1, 0, false, &id, -1,
					       0, 5, 1, err, sizeof(err)), 0);
	assert_int_equal(min_age_seen[0], 0);
	page_counts_free(pc);
}

/* ---- run-length chunks ---- */

#define NR_UNITS 700
static uint8_t u_states[NR_UNITS], u_ages[NR_UNITS];
static uint8_t u_packed[NR_UNITS / 4 + 1];
static struct etmem_scan_run u_runs[NR_UNITS];

/* Random units in few long runs or many short ones, as a scan may give. */
static void random_units(unsigned int seed, unsigned int mean_run, bool ages)
{
	unsigned int i = 0;

	srand(seed);
	memset(u_packed, 0, sizeof(u_packed));
	while (i < NR_UNITS) {
		unsigned int len = 1 + rand() % (2 * mean_run);
		uint8_t st = rand() % 4, age = ages ? (st == I ? rand() % 6 : 0) : 0;

		if (ages && st == I && rand() % 7 == 0)
			age = ETMEM_IDLE_AGE_UNKNOWN;
		for (; len && i < NR_UNITS; len--, i++) {
			u_states[i] = st;
			u_ages[i] = ages ? age : ETMEM_IDLE_AGE_UNKNOWN;
			u_packed[i / 4] |= st << (2 * (i % 4));
		}
	}
}

/* Units [first, first + nr) as the kernel's run form (ages 0 without ages). */
static uint32_t units_as_runs(uint32_t first, uint32_t nr, bool ages)
{
	uint32_t n = 0, end = first + nr;

	for (uint32_t i = first; i < end; n++) {
		uint32_t j = i + 1;

		while (j < end && u_states[j] == u_states[i] && u_ages[j] == u_ages[i])
			j++;
		u_runs[n] = (struct etmem_scan_run){ .nr_units = j - i, .state = u_states[i],
						     .idle_age = ages ? u_ages[i] : 0 };
		i = j;
	}
	return n;
}

/*
 * etmem_chunk_next_run() gives back every unit, in order, from either
 * form, and its runs are maximal: no two neighbours share state and age.
 */
static void test_chunk_runs(void **state)
{
	for (unsigned int seed = 1; seed <= 60; seed++) {
		bool ages = seed % 2;
		uint32_t nr = NR_UNITS - seed % 5;	/* not always whole bytes */

		random_units(seed, seed % 3 ? 9 : 1, ages);
		for (int form = 0; form < 2; form++) {
			struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12, .nr_pages = nr };
			struct etmem_chunk_cursor cur = { 0 };
			struct etmem_unit_run run, prev = { 0 };
			uint32_t next = 0;

			if (form) {
				chunk.nr_runs = units_as_runs(0, nr, ages);
				chunk.runs = u_runs;
				chunk.run_ages = ages;
			} else {
				chunk.states = u_packed;
				chunk.idle_ages = ages ? u_ages : NULL;
			}
			while (etmem_chunk_next_run(&chunk, &cur, &run)) {
				assert_int_equal(run.first, next);
				assert_true(run.nr_units >= 1);
				if (next)
					assert_false(run.state == prev.state &&
						     run.idle_age == prev.idle_age);
				for (uint32_t i = run.first; i < run.first + run.nr_units; i++) {
					assert_int_equal(run.state, u_states[i]);
					assert_int_equal(run.idle_age, ages ? u_ages[i] :
							 ETMEM_IDLE_AGE_UNKNOWN);
				}
				next = run.first + run.nr_units;
				prev = run;
			}
			assert_int_equal(next, nr);
		}
	}
}

/*
 * page_counts reads both forms the same: three passes, each chunk sent
 * as runs or as states at random, give the cold ranges, page counts and
 * ages of the all-states feed.
 */
struct seen_page { uint64_t addr; unsigned int count; int age; };

static void collect_pages(uint64_t addr, unsigned int shift, unsigned int count, int age,
			  void *arg)
{
	GArray *a = arg;
	struct seen_page p = { addr, count, age };

	(void)shift;
	g_array_append_val(a, p);
}

static void test_runs_same_counts(void **state)
{
	for (unsigned int seed = 1; seed <= 30; seed++) {
		struct page_counts *pc[2] = { page_counts_new(), page_counts_new() };
		GArray *ranges[2], *pages[2];
		uint64_t cold[2], aged[2], band[2] = { 0, 0 };
		GHashTable *own[2] = { NULL, NULL };

		for (unsigned int pass = 1; pass <= 3; pass++) {
			bool ages = seed % 3 != 0;

			random_units(seed * 10 + pass, seed % 2 ? 12 : 2, ages);
			for (int v = 0; v < 2; v++) {
				page_counts_begin_pass(pc[v], pass);
				/* Two chunks, the second one 3 pages further (a hole). */
				for (int half = 0; half < 2; half++) {
					uint32_t first = half ? 350 : 0, nr = 350;
					struct etmem_chunk chunk = {
						.addr = BASE + (first + 3u * half) * 4096ull,
						.page_shift = 12, .nr_pages = nr };

					if (v && (seed + pass + half) % 2) {
						chunk.nr_runs = units_as_runs(first, nr, ages);
						chunk.runs = u_runs;
						chunk.run_ages = ages;
					} else {
						static uint8_t p2[NR_UNITS / 4 + 1];

						memset(p2, 0, sizeof(p2));
						for (uint32_t i = 0; i < nr; i++)
							p2[i / 4] |= u_states[first + i] << (2 * (i % 4));
						chunk.states = p2;
						chunk.idle_ages = ages ? u_ages + first : NULL;
					}
					assert_int_equal(page_counts_add_chunk(&chunk, pc[v]), 0);
				}
			}
		}
		for (int v = 0; v < 2; v++) {
			ranges[v] = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
			pages[v] = g_array_new(FALSE, FALSE, sizeof(struct seen_page));
			cold[v] = page_counts_cold_ranges(pc[v], 1 + seed % 2, seed % 4, ranges[v]);
			aged[v] = page_counts_aged_ranges(pc[v], 2, seed % 2 ? 5 : 0, 125 * (1 + seed % 4),
							  &own[v], ranges[v], &band[v]);
			page_counts_foreach(pc[v], collect_pages, pages[v]);
		}
		assert_int_equal(cold[0], cold[1]);
		assert_int_equal(aged[0], aged[1]);
		assert_int_equal(band[0], band[1]);
		assert_int_equal(page_counts_nr_pages(pc[0]), page_counts_nr_pages(pc[1]));
		assert_int_equal(ranges[0]->len, ranges[1]->len);
		assert_memory_equal(ranges[0]->data, ranges[1]->data,
				    ranges[0]->len * sizeof(struct etmem_range));
		assert_int_equal(pages[0]->len, pages[1]->len);
		for (guint i = 0; i < pages[0]->len; i++) {
			struct seen_page *a = &g_array_index(pages[0], struct seen_page, i);
			struct seen_page *b = &g_array_index(pages[1], struct seen_page, i);

			assert_int_equal(a->addr, b->addr);
			assert_int_equal(a->count, b->count);
			assert_int_equal(a->age, b->age);
		}
		for (int v = 0; v < 2; v++) {
			g_array_free(ranges[v], TRUE);
			g_array_free(pages[v], TRUE);
			if (own[v])
				g_hash_table_destroy(own[v]);
			page_counts_free(pc[v]);
		}
	}
}

/*
 * Counts, cold ranges and the pages present against a page-by-page model,
 * with long absent runs at every alignment: the loops skip absent pages
 * eight at a time.
 */
static void count_page(const struct etmem_range *r, unsigned int len, uint64_t addr,
		       uint64_t *nr_seen)
{
	for (unsigned int k = 0; k < len; k++)
		if (addr >= r[k].start && addr < r[k].end)
			(*nr_seen)++;
}

static void collect_addr(uint64_t addr, unsigned int page_shift, unsigned int count, int age,
			 void *arg)
{
	g_array_append_val((GArray *)arg, addr);
}

/*
 * Budget mode's probe against a page-by-page model: a page idle at least
 * min_age goes out when it is idle probe_from or more, or when
 * budget_probe_pick() picks it; ages made up at random, some unknown (our
 * own age: 1 after one idle pass).
 */
static void test_aged_probe_model(void **state)
{
	for (unsigned int seed = 1; seed <= 30; seed++) {
		struct page_counts *pc = page_counts_new();
		GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
		GArray *pages = g_array_new(FALSE, FALSE, sizeof(struct seen_page));
		GHashTable *own = NULL;
		struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12, .nr_pages = NR_UNITS };
		unsigned int min_age = 1 + seed % 2, probe_from = seed % 3 ? min_age + 2 : 0;
		unsigned int share = 125 * (seed % 9);
		uint64_t nr, want = 0, band = 0, want_band = 0;

		random_units(seed, 20, true);
		chunk.states = u_packed;
		chunk.idle_ages = u_ages;
		page_counts_begin_pass(pc, 1);
		assert_int_equal(page_counts_add_chunk(&chunk, pc), 0);
		nr = page_counts_aged_ranges(pc, min_age, probe_from, share, &own, ranges, &band);
		page_counts_foreach(pc, collect_pages, pages);
		for (guint i = 0; i < pages->len; i++) {
			struct seen_page *p = &g_array_index(pages, struct seen_page, i);
			unsigned int age = p->age >= 0 ? (unsigned int)p->age : !p->count;
			bool out = age >= min_age &&
				   (age >= probe_from || budget_probe_pick(p->addr, share));
			uint64_t seen = 0;

			count_page((struct etmem_range *)ranges->data, ranges->len, p->addr, &seen);
			assert_int_equal(seen, out);
			want += out;
			want_band += out && age < probe_from;
		}
		assert_int_equal(nr, want);
		assert_int_equal(band, want_band);
		g_array_free(ranges, TRUE);
		g_array_free(pages, TRUE);
		if (own)
			g_hash_table_destroy(own);
		page_counts_free(pc);
	}
}

static void test_absent_skip_model(void **state)
{
	for (unsigned int seed = 1; seed <= 40; seed++) {
		struct page_counts *pc = page_counts_new();
		GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
		GArray *present = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		uint8_t count[NR_UNITS] = { 0 };
		bool absent[NR_UNITS] = { false };
		/* 0, 1, 2, 3 and one above what a count can reach (T <= 3 * loop). */
		unsigned int threshold = seed % 5 == 4 ? 200 : seed % 5;
		uint64_t want_cold = 0, want_present = 0;

		for (unsigned int pass = 1; pass <= 2; pass++) {
			struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12,
						     .nr_pages = NR_UNITS, .states = u_packed };

			random_units(seed * 7 + pass, 3 + seed % 29, false);
			for (unsigned int i = 0; i < NR_UNITS; i++) {
				absent[i] |= u_states[i] == X;
				count[i] += u_states[i] == A || u_states[i] == R;
			}
			page_counts_begin_pass(pc, pass);
			assert_int_equal(page_counts_add_chunk(&chunk, pc), 0);
		}
		for (unsigned int i = 0; i < NR_UNITS; i++) {
			want_present += !absent[i];
			want_cold += !absent[i] && count[i] < threshold;
		}
		assert_int_equal(page_counts_nr_pages(pc), want_present);
		assert_int_equal(page_counts_cold_ranges(pc, threshold, 0, ranges), want_cold);
		page_counts_foreach(pc, collect_addr, present);
		assert_int_equal(present->len, want_present);
		for (unsigned int i = 0, seen = 0; i < NR_UNITS; i++) {
			uint64_t addr = BASE + i * 4096ull, in_ranges = 0;

			count_page((struct etmem_range *)ranges->data, ranges->len, addr, &in_ranges);
			assert_int_equal(in_ranges, !absent[i] && count[i] < threshold);
			if (!absent[i])
				assert_int_equal(g_array_index(present, uint64_t, seen++), addr);
		}
		g_array_free(present, TRUE);
		g_array_free(ranges, TRUE);
		page_counts_free(pc);
	}
}

/*
 * What lets slide end a cycle early (slide.c, judge_so_far()): counts
 * only grow and absence sticks, so the pages cold after pass 1 (those
 * that could still be cold) contain the pages cold after pass 2, for
 * every threshold: a pass skipped when the first holds nothing could
 * page out nothing.
 */
static void test_cold_only_shrinks(void **state)
{
	for (unsigned int seed = 1; seed <= 40; seed++) {
		struct page_counts *pc = page_counts_new();
		GArray *early = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
		GArray *final = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
		unsigned int threshold = seed % 5 == 4 ? 200 : seed % 5;
		uint64_t nr_early = 0, nr_final;

		for (unsigned int pass = 1; pass <= 2; pass++) {
			struct etmem_chunk chunk = { .addr = BASE, .page_shift = 12,
						     .nr_pages = NR_UNITS, .states = u_packed };

			random_units(seed * 13 + pass, 2 + seed % 31, false);
			page_counts_begin_pass(pc, pass);
			assert_int_equal(page_counts_add_chunk(&chunk, pc), 0);
			if (pass == 1)
				nr_early = page_counts_cold_ranges(pc, threshold, 0, early);
		}
		nr_final = page_counts_cold_ranges(pc, threshold, 0, final);
		assert_true(nr_final <= nr_early);
		/* final minus early is empty: nothing cold now that could not be. */
		assert_int_equal(ranges_subtract(final, early), nr_final << 12);
		assert_int_equal(final->len, 0);
		g_array_free(early, TRUE);
		g_array_free(final, TRUE);
		page_counts_free(pc);
	}
}

/*
 * A run of a later pass across a hole of the first pass's layout (pages
 * mapped since): the pages after the hole get the run too. And a page
 * size that changed the other way (a THP split): its unit is never cold.
 */
static void test_run_across_hole(void **state)
{
	uint8_t idle1[1] = { 0x55 };
	struct etmem_scan_run acc12 = { .nr_units = 12, .state = A };
	struct etmem_chunk a = { .addr = BASE, .page_shift = 12, .nr_pages = 4, .states = idle1 };
	struct etmem_chunk b = { .addr = BASE + 8 * 4096, .page_shift = 12, .nr_pages = 4,
				 .states = idle1 };
	struct etmem_chunk all = { .addr = BASE, .page_shift = 12, .nr_pages = 12,
				   .runs = &acc12, .nr_runs = 1 };
	struct etmem_scan_run idle_huge = { .nr_units = 1, .state = I };
	struct etmem_scan_run idle512 = { .nr_units = 512, .state = I };
	struct etmem_chunk huge = { .addr = BASE + 2 * 1024 * 1024, .page_shift = 21,
				    .nr_pages = 1, .runs = &idle_huge, .nr_runs = 1 };
	struct etmem_chunk split = { .addr = BASE + 2 * 1024 * 1024, .page_shift = 12,
				     .nr_pages = 512, .runs = &idle512, .nr_runs = 1 };
	struct page_counts *pc = page_counts_new();
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));

	page_counts_begin_pass(pc, 1);
	assert_int_equal(page_counts_add_chunk(&a, pc), 0);
	assert_int_equal(page_counts_add_chunk(&b, pc), 0);
	assert_int_equal(page_counts_add_chunk(&huge, pc), 0);
	page_counts_begin_pass(pc, 2);
	assert_int_equal(page_counts_add_chunk(&all, pc), 0);
	assert_int_equal(page_counts_add_chunk(&split, pc), 0);
	/* Accessed in pass 2 on both sides of the hole; the split THP absent. */
	assert_int_equal(page_counts_cold_ranges(pc, 1, 0, ranges), 0);
	assert_int_equal(page_counts_nr_pages(pc), 8);
	g_array_free(ranges, TRUE);
	page_counts_free(pc);
}

/*
 * A page size that changed since the first pass (a THP formed or split):
 * every page it covers is never cold, not only the first.
 */
static void test_page_size_changed(void **state)
{
	uint8_t idle512[128];
	struct etmem_scan_run huge_idle = { .nr_units = 1, .state = I };
	struct etmem_chunk small = { .addr = BASE, .page_shift = 12, .nr_pages = 512,
				     .states = idle512 };
	struct etmem_chunk huge = { .addr = BASE, .page_shift = 21, .nr_pages = 1,
				    .runs = &huge_idle, .nr_runs = 1 };
	struct page_counts *pc = page_counts_new();
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));

	memset(idle512, 0x55, sizeof(idle512));
	page_counts_begin_pass(pc, 1);
	assert_int_equal(page_counts_add_chunk(&small, pc), 0);
	page_counts_begin_pass(pc, 2);
	assert_int_equal(page_counts_add_chunk(&huge, pc), 0);
	assert_int_equal(page_counts_cold_ranges(pc, 1, 0, ranges), 0);
	assert_int_equal(page_counts_nr_pages(pc), 0);
	g_array_free(ranges, TRUE);
	page_counts_free(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cold),
		cmocka_unit_test(test_range_sets),
		cmocka_unit_test(test_new_pages_ignored),
		cmocka_unit_test(test_min_idle_age),
		cmocka_unit_test(test_aged_ranges),
		cmocka_unit_test(test_old_module),
		cmocka_unit_test(test_module_without_runs),
		cmocka_unit_test(test_min_age_needs_ages),
		cmocka_unit_test(test_run_across_hole),
		cmocka_unit_test(test_chunk_runs),
		cmocka_unit_test(test_runs_same_counts),
		cmocka_unit_test(test_page_size_changed),
		cmocka_unit_test(test_absent_skip_model),
		cmocka_unit_test(test_cold_only_shrinks),
		cmocka_unit_test(test_aged_probe_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
