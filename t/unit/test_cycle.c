// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the scan cycle shared by the slide and cslide engines
 * (etmemd/engine/cycle.c): every transition, with the event loop's timers and
 * the worker pools stubbed at the link seam.
 */
// wrap: loop_timer_new loop_timer_arm loop_timer_cancel loop_timer_free worker_pool_new worker_pool_submit worker_pool_release
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cycle.h"
#include "loop.h"

/* ---- stubs: one timer, one pool ---- */

/* What --wrap links in place of the real loop and worker functions. */
struct loop_timer *__wrap_loop_timer_new(loop_timer_cb cb, void *arg);
int __wrap_loop_timer_arm(struct loop_timer *t, unsigned int delay_ms);
void __wrap_loop_timer_cancel(struct loop_timer *t);
void __wrap_loop_timer_free(struct loop_timer *t);
struct worker_pool *__wrap_worker_pool_new(unsigned int nr_threads, const char *name);
void __wrap_worker_pool_submit(struct worker_pool *pool, struct worker_job *job);
void __wrap_worker_pool_release(struct worker_pool *pool);

static struct {
	loop_timer_cb cb;
	void *arg;
	int armed_ms;		/* -1: not armed */
	int nr_cancel;
} timer;

static int fake_timer, fake_pool;
static unsigned int nr_submitted;

struct loop_timer *__wrap_loop_timer_new(loop_timer_cb cb, void *arg)
{
	timer.cb = cb;
	timer.arg = arg;
	timer.armed_ms = -1;
	return (struct loop_timer *)&fake_timer;
}

int __wrap_loop_timer_arm(struct loop_timer *t, unsigned int delay_ms)
{
	(void)t;
	timer.armed_ms = (int)delay_ms;
	return 0;
}

void __wrap_loop_timer_cancel(struct loop_timer *t)
{
	(void)t;
	timer.armed_ms = -1;
	timer.nr_cancel++;
}

void __wrap_loop_timer_free(struct loop_timer *t)
{
	(void)t;
}

struct worker_pool *__wrap_worker_pool_new(unsigned int nr_threads, const char *name)
{
	(void)nr_threads;
	(void)name;
	return (struct worker_pool *)&fake_pool;
}

void __wrap_worker_pool_submit(struct worker_pool *pool, struct worker_job *job)
{
	(void)pool;
	(void)job;
	nr_submitted++;
}

void __wrap_worker_pool_release(struct worker_pool *pool)
{
	(void)pool;
}

/* ---- an engine that records what the cycle asks of it ---- */

static struct {
	unsigned int begin, next_pass, act, end, free;
	unsigned int last_pass;
	unsigned int jobs_per_call;		/* what begin/next_pass/act submit */
	enum cycle_state begin_returns;		/* when it submits nothing */
	bool quiet;				/* act calls the cycle quiet */
	unsigned int decided_from;		/* decided() true from this pass; 0 never */
	unsigned int decided_calls;
} eng;

static struct worker_job dummy_job;

static void submit_jobs(struct cycle *cycle)
{
	for (unsigned int i = 0; i < eng.jobs_per_call; i++)
		cycle_submit(cycle, &dummy_job);
}

static enum cycle_state fake_begin(struct cycle *cycle)
{
	eng.begin++;
	eng.last_pass = cycle->pass;
	submit_jobs(cycle);
	return eng.jobs_per_call ? CYCLE_SCANNING : eng.begin_returns;
}

static void fake_next_pass(struct cycle *cycle)
{
	eng.next_pass++;
	eng.last_pass = cycle->pass;
	submit_jobs(cycle);
}

static enum cycle_state fake_act(struct cycle *cycle)
{
	eng.act++;
	submit_jobs(cycle);
	cycle->quiet = eng.quiet;
	return eng.jobs_per_call ? CYCLE_ACTING : CYCLE_SLEEPING;
}

static void fake_end(struct cycle *cycle)
{
	(void)cycle;
	eng.end++;
}

static void fake_free(struct cycle *cycle)
{
	(void)cycle;
	eng.free++;
}

static bool fake_decided(struct cycle *cycle)
{
	eng.decided_calls++;
	return eng.decided_from && cycle->pass >= eng.decided_from;
}

static const struct cycle_ops fake_ops = {
	.begin = fake_begin,
	.next_pass = fake_next_pass,
	.decided = fake_decided,
	.act = fake_act,
	.end = fake_end,
	.free = fake_free,
};

static struct cycle cycle;

static int setup(void **state)
{
	struct project_params proj = { .loop = 2, .interval_s = 3, .sleep_s = 5 };
	GString *err = g_string_new(NULL);

	(void)state;
	memset(&timer, 0, sizeof(timer));
	memset(&eng, 0, sizeof(eng));
	memset(&cycle, 0, sizeof(cycle));
	nr_submitted = 0;
	eng.jobs_per_call = 2;
	assert_int_equal(cycle_init(&cycle, &fake_ops, "p/t", "paging out", &proj, 1,
				    "test", err), 0);
	g_string_free(err, TRUE);
	return 0;
}

static void fire_timer(void)
{
	assert_true(timer.armed_ms >= 0);
	timer.armed_ms = -1;
	timer.cb(timer.arg);
}

static void jobs_done(unsigned int n)
{
	while (n--)
		cycle_job_done(&cycle);
}

/* begin, pause, second pass, act, end, sleep, begin again. */
static void test_full_cycle(void **state)
{
	(void)state;
	cycle_start(&cycle);
	assert_int_equal(eng.begin, 1);
	assert_int_equal(eng.last_pass, 1);
	assert_string_equal(cycle_state_name(&cycle), "scanning");
	assert_int_equal(timer.armed_ms, -1);

	jobs_done(1);
	assert_string_equal(cycle_state_name(&cycle), "scanning");	/* one still out */
	jobs_done(1);
	assert_string_equal(cycle_state_name(&cycle), "between scans");
	assert_int_equal(timer.armed_ms, 3000);			/* interval */

	fire_timer();
	assert_int_equal(eng.next_pass, 1);
	assert_int_equal(eng.last_pass, 2);
	assert_string_equal(cycle_state_name(&cycle), "scanning");

	jobs_done(2);							/* pass == loop */
	assert_int_equal(eng.act, 1);
	assert_string_equal(cycle_state_name(&cycle), "paging out");
	assert_int_equal(eng.end, 0);

	jobs_done(2);
	assert_int_equal(eng.end, 1);
	assert_string_equal(cycle_state_name(&cycle), "sleeping");
	assert_int_equal(timer.armed_ms, 5000);			/* sleep */

	fire_timer();
	assert_int_equal(eng.begin, 2);
	assert_int_equal(eng.last_pass, 1);				/* passes restart */
	assert_int_equal(nr_submitted, 8);	/* 2 scans x 2 passes, 2 page-outs, 2 scans */
	assert_int_equal(eng.free, 0);
}

/* No process: wait `sleep`, look again; no cycle ends. */
static void test_waiting(void **state)
{
	(void)state;
	eng.jobs_per_call = 0;
	eng.begin_returns = CYCLE_WAITING;
	cycle_start(&cycle);
	assert_string_equal(cycle_state_name(&cycle), "waiting for processes");
	assert_int_equal(timer.armed_ms, 5000);
	fire_timer();
	assert_int_equal(eng.begin, 2);
	assert_int_equal(eng.end, 0);
}

/* Nothing to act on: the cycle ends at once and sleeps. */
static void test_nothing_to_act_on(void **state)
{
	(void)state;
	cycle_start(&cycle);
	jobs_done(2);
	fire_timer();
	eng.jobs_per_call = 0;		/* act finds nothing to page out */
	jobs_done(2);
	assert_int_equal(eng.act, 1);
	assert_int_equal(eng.end, 1);
	assert_string_equal(cycle_state_name(&cycle), "sleeping");
	assert_int_equal(timer.armed_ms, 5000);
}

/*
 * sleep_max: each quiet cycle doubles the sleep up to sleep_max (show says
 * so); a cycle that acts puts it back to sleep, and so does a dropped one.
 */
static void test_sleep_stretches(void **state)
{
	static const int want[] = { 10000, 20000, 30000, 30000 };

	(void)state;
	cycle.sleep_max_s = 30;
	eng.quiet = true;
	cycle_start(&cycle);
	for (unsigned int i = 0; i < G_N_ELEMENTS(want); i++) {
		jobs_done(2);
		fire_timer();
		eng.jobs_per_call = 0;		/* nothing to page out */
		jobs_done(2);
		assert_int_equal(timer.armed_ms, want[i]);
		assert_int_equal(cycle.cur_sleep_s, want[i] / 1000);
		assert_int_equal(cycle.nr_quiet, i + 1);
		assert_string_equal(cycle_state_name(&cycle), "sleeping");
		eng.jobs_per_call = 2;
		fire_timer();
	}
	/* A cycle that pages out: back to sleep. */
	eng.quiet = false;
	jobs_done(2);
	fire_timer();
	jobs_done(2);
	jobs_done(2);
	assert_int_equal(timer.armed_ms, 5000);
	assert_string_equal(cycle_state_name(&cycle), "sleeping");
	/* Quiet again, then every process gone mid-cycle: back to sleep too. */
	eng.quiet = true;
	fire_timer();
	jobs_done(2);
	fire_timer();
	eng.jobs_per_call = 0;
	jobs_done(2);
	assert_int_equal(timer.armed_ms, 10000);
	eng.jobs_per_call = 2;
	fire_timer();
	jobs_done(2);
	eng.jobs_per_call = 0;
	fire_timer();
	assert_int_equal(eng.end, 6);
	assert_int_equal(timer.armed_ms, 5000);
	/* Quiet, then no process at all: the streak is over. */
	eng.jobs_per_call = 2;
	fire_timer();
	jobs_done(2);
	fire_timer();
	eng.jobs_per_call = 0;
	jobs_done(2);
	assert_int_equal(timer.armed_ms, 10000);
	eng.begin_returns = CYCLE_WAITING;
	fire_timer();
	assert_string_equal(cycle_state_name(&cycle), "waiting for processes");
	assert_int_equal(timer.armed_ms, 5000);
	assert_int_equal(cycle.nr_quiet, 0);
	assert_int_equal(cycle.cur_sleep_s, 5);
}

/*
 * A cycle decided after its first pass acts at once: no interval, no
 * second pass; decided() is asked between passes only, never after the
 * last; the next cycle makes its passes again.
 */
static void test_decided_early(void **state)
{
	struct project_params proj = { .loop = 3, .interval_s = 3, .sleep_s = 5 };
	GString *err = g_string_new(NULL);

	(void)state;
	cycle_destroy(&cycle);
	assert_int_equal(cycle_init(&cycle, &fake_ops, "p/t", "paging out", &proj, 1,
				    "test", err), 0);
	g_string_free(err, TRUE);

	/* Undecided: every pass, decided() asked after passes 1 and 2. */
	cycle_start(&cycle);
	jobs_done(2);
	fire_timer();
	jobs_done(2);
	fire_timer();
	assert_int_equal(eng.last_pass, 3);
	eng.jobs_per_call = 0;		/* nothing to page out */
	jobs_done(2);
	assert_int_equal(eng.decided_calls, 2);
	assert_int_equal(cycle.nr_passes, 3);
	assert_string_equal(cycle_state_name(&cycle), "sleeping");

	/* Decided after pass 2: acts without a third pass. */
	eng.jobs_per_call = 2;
	eng.decided_from = 2;
	fire_timer();
	jobs_done(2);
	assert_string_equal(cycle_state_name(&cycle), "between scans");
	fire_timer();
	jobs_done(2);
	assert_int_equal(eng.next_pass, 3);	/* 2 last cycle, 1 now */
	assert_int_equal(eng.act, 2);
	assert_int_equal(cycle.nr_passes, 2);
	assert_string_equal(cycle_state_name(&cycle), "paging out");
	jobs_done(2);
	assert_int_equal(eng.end, 2);
	assert_int_equal(timer.armed_ms, 5000);	/* the sleep, not the interval */

	/* Decided after pass 1. */
	eng.decided_from = 1;
	fire_timer();
	eng.jobs_per_call = 0;
	jobs_done(2);
	assert_int_equal(eng.next_pass, 3);
	assert_int_equal(eng.act, 3);
	assert_int_equal(cycle.nr_passes, 1);
	assert_string_equal(cycle_state_name(&cycle), "sleeping");
}

/* Every process gone between passes: the cycle is dropped, not counted. */
static void test_all_gone_between_passes(void **state)
{
	(void)state;
	cycle_start(&cycle);
	jobs_done(2);
	eng.jobs_per_call = 0;
	fire_timer();
	assert_int_equal(eng.next_pass, 1);
	assert_string_equal(cycle_state_name(&cycle), "sleeping");
	assert_int_equal(eng.act, 0);
	assert_int_equal(eng.end, 0);
	assert_int_equal(timer.armed_ms, 5000);
}

/* Stop with jobs out: scans are cancelled, the run is freed by the last job. */
static void test_stop_with_jobs_in_flight(void **state)
{
	(void)state;
	cycle_start(&cycle);
	cycle_stop(&cycle);
	assert_true(atomic_load(&cycle.cancel));
	assert_string_equal(cycle_state_name(&cycle), "stopping");
	assert_int_equal(timer.armed_ms, -1);
	assert_int_equal(timer.nr_cancel, 1);
	assert_int_equal(eng.free, 0);
	jobs_done(1);
	assert_int_equal(eng.free, 0);
	jobs_done(1);
	assert_int_equal(eng.free, 1);
	assert_int_equal(eng.act, 0);		/* nothing more happened */
	assert_int_equal(eng.end, 0);
}

/* Stop while idle: freed at once. */
static void test_stop_while_sleeping(void **state)
{
	(void)state;
	eng.jobs_per_call = 0;
	eng.begin_returns = CYCLE_WAITING;
	cycle_start(&cycle);
	cycle_stop(&cycle);
	assert_int_equal(eng.free, 1);
	assert_int_equal(timer.armed_ms, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_full_cycle, setup),
		cmocka_unit_test_setup(test_waiting, setup),
		cmocka_unit_test_setup(test_nothing_to_act_on, setup),
		cmocka_unit_test_setup(test_sleep_stretches, setup),
		cmocka_unit_test_setup(test_decided_early, setup),
		cmocka_unit_test_setup(test_all_gone_between_passes, setup),
		cmocka_unit_test_setup(test_stop_with_jobs_in_flight, setup),
		cmocka_unit_test_setup(test_stop_while_sleeping, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
