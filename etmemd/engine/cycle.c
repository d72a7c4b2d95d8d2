// SPDX-License-Identifier: GPL-2.0
/* The scan cycle shared by the slide and cslide engines; see cycle.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cycle.h"
#include "etmem_out.h"
#include "log.h"
#include "loop.h"

static const char *const cycle_state_names[] = {
	[CYCLE_FINDING] = "finding processes",
	[CYCLE_WAITING] = "waiting for processes",
	[CYCLE_SCANNING] = "scanning",
	[CYCLE_PAUSED] = "between scans",
	[CYCLE_ACTING] = NULL,	/* the engine's acting_name */
	[CYCLE_SLEEPING] = "sleeping",
	[CYCLE_STOPPING] = "stopping",
};

_Static_assert(G_N_ELEMENTS(cycle_state_names) == __CYCLE_STATE_CNT,
	       "one name per cycle state");

enum cycle_event {
	CYCLE_EV_START,
	CYCLE_EV_TIMER,
	CYCLE_EV_JOBS_DONE,	/* the last job of a phase came back */
	CYCLE_EV_STOP,
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t cycle_elapsed_ms(const struct cycle *cycle)
{
	return now_ms() - cycle->started_ms;
}

static const char *state_name(const struct cycle *cycle, enum cycle_state state)
{
	return state == CYCLE_ACTING ? cycle->acting_name : cycle_state_names[state];
}

const char *cycle_state_name(const struct cycle *cycle)
{
	return state_name(cycle, cycle->state);
}

void cycle_show_sleep(const struct cycle *cycle, struct etmem_out *out)
{
	if (!etmem_out_is_json(out) && cycle->cur_sleep_s == cycle->sleep_s)
		return;
	etmem_out_uint(out, "sleep_now_s", " | sleep stretched to %" PRIu64 " s",
		       cycle->cur_sleep_s);
	etmem_out_uint(out, "quiet_cycles", " after %" PRIu64 " quiet cycles", cycle->nr_quiet);
	if (!etmem_out_is_json(out))
		etmem_out_text(out, " (sleep=%u sleep_max=%u)", cycle->sleep_s,
			       cycle->sleep_max_s);
}

/* The sleep after a cycle: doubled after a quiet one, up to sleep_max_s. */
static void next_sleep(struct cycle *cycle, bool quiet)
{
	if (!quiet) {
		cycle->nr_quiet = 0;
		cycle->cur_sleep_s = cycle->sleep_s;
		return;
	}
	cycle->nr_quiet++;
	cycle->cur_sleep_s = MIN(cycle->cur_sleep_s * 2, cycle->sleep_max_s);
}

static void set_state(struct cycle *cycle, enum cycle_state next)
{
	if (next != cycle->state)
		log_debug("%s: %s -> %s", cycle->name, state_name(cycle, cycle->state),
			  state_name(cycle, next));
	cycle->state = next;
	if (next == CYCLE_WAITING) {
		/* No process: a streak of quiet cycles is over. */
		next_sleep(cycle, false);
		loop_timer_arm(cycle->timer, cycle->sleep_s * 1000);
	} else if (next == CYCLE_SLEEPING) {
		next_sleep(cycle, cycle->quiet);
		loop_timer_arm(cycle->timer, cycle->cur_sleep_s * 1000);
	} else if (next == CYCLE_PAUSED) {
		loop_timer_arm(cycle->timer, cycle->interval_s * 1000);
	}
}

/* The whole state machine: every transition of a cycle happens here. */
static void cycle_step(struct cycle *cycle, enum cycle_event ev)
{
	enum cycle_state next = cycle->state;

	if (ev == CYCLE_EV_STOP) {
		loop_timer_cancel(cycle->timer);
		atomic_store(&cycle->cancel, true);
		set_state(cycle, CYCLE_STOPPING);
		if (!cycle->pending)
			cycle->ops->free(cycle);
		return;
	}
	switch (cycle->state) {
	case CYCLE_FINDING:	/* CYCLE_EV_START */
	case CYCLE_WAITING:	/* CYCLE_EV_TIMER */
	case CYCLE_SLEEPING:
		set_state(cycle, CYCLE_FINDING);
		cycle->pass = 1;
		cycle->nr_passes = 0;
		cycle->quiet = false;
		cycle->started_ms = now_ms();
		next = cycle->ops->begin(cycle);
		break;
	case CYCLE_SCANNING:	/* CYCLE_EV_JOBS_DONE */
		if (cycle->pass < cycle->loop &&
		    !(cycle->ops->decided && cycle->ops->decided(cycle))) {
			next = CYCLE_PAUSED;
			break;
		}
		if (cycle->pass < cycle->loop)
			log_debug("%s: decided after %u of %u scans", cycle->name, cycle->pass,
				  cycle->loop);
		cycle->nr_passes = cycle->pass;
		next = cycle->ops->act(cycle);
		if (next == CYCLE_SLEEPING)
			cycle->ops->end(cycle);
		break;
	case CYCLE_PAUSED:	/* CYCLE_EV_TIMER */
		cycle->pass++;
		cycle->ops->next_pass(cycle);
		/* Every process gone: the cycle is dropped, not counted. */
		next = cycle->pending ? CYCLE_SCANNING : CYCLE_SLEEPING;
		break;
	case CYCLE_ACTING:	/* CYCLE_EV_JOBS_DONE */
		cycle->ops->end(cycle);
		next = CYCLE_SLEEPING;
		break;
	case CYCLE_STOPPING:	/* CYCLE_EV_JOBS_DONE */
		if (!cycle->pending)
			cycle->ops->free(cycle);
		return;
	default:
		break;
	}
	set_state(cycle, next);
}

static void timer_fired(void *arg)
{
	cycle_step(arg, CYCLE_EV_TIMER);
}

int cycle_init(struct cycle *cycle, const struct cycle_ops *ops, const char *name,
	       const char *acting_name, const struct project_params *proj,
	       unsigned int nr_threads, const char *kind, GString *err)
{
	char *pool_name = g_strdup_printf("%s %s", kind, name);

	cycle->ops = ops;
	cycle->name = name;
	cycle->acting_name = acting_name;
	cycle->loop = proj->loop;
	cycle->interval_s = proj->interval_s;
	cycle->sleep_s = proj->sleep_s;
	cycle->sleep_max_s = MAX(proj->sleep_max_s, proj->sleep_s);
	cycle->cur_sleep_s = proj->sleep_s;
	cycle->state = CYCLE_FINDING;
	cycle->timer = loop_timer_new(timer_fired, cycle);
	cycle->pool = worker_pool_new(nr_threads, pool_name);
	g_free(pool_name);
	if (!cycle->timer || !cycle->pool) {
		g_string_append_printf(err, "cannot create the timer or worker threads: %s",
				       strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

void cycle_destroy(struct cycle *cycle)
{
	loop_timer_free(cycle->timer);
	worker_pool_release(cycle->pool);
	cycle->timer = NULL;
	cycle->pool = NULL;
}

void cycle_start(struct cycle *cycle)
{
	cycle_step(cycle, CYCLE_EV_START);
}

void cycle_stop(struct cycle *cycle)
{
	cycle_step(cycle, CYCLE_EV_STOP);
}

void cycle_submit(struct cycle *cycle, struct worker_job *job)
{
	cycle->pending++;
	worker_pool_submit(cycle->pool, job);
}

void cycle_job_done(struct cycle *cycle)
{
	if (--cycle->pending == 0)
		cycle_step(cycle, CYCLE_EV_JOBS_DONE);
}
