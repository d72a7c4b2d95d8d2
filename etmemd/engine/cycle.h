/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cycle that the scanning engines (slide, cslide) share: find the
 * processes, scan them `loop` times `interval` seconds apart, act on what
 * the scans found (page out, migrate), sleep `sleep` seconds, again.
 *
 * struct cycle is the state machine; cycle_step() is the only place
 * where its state changes. An engine embeds it in its own run, fills the
 * hooks of struct cycle_ops with what differs, and submits its jobs with
 * cycle_submit(); each job's done() ends with cycle_job_done(). Stopping
 * (cycle_stop) abandons scans, lets jobs in flight finish, and calls the
 * engine's free hook once the last one is back.
 */
#ifndef ETMEMD_CYCLE_H
#define ETMEMD_CYCLE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "objects.h"
#include "workers.h"

enum cycle_state {
	CYCLE_FINDING,		/* transient: looking for processes */
	CYCLE_WAITING,		/* no process to work on; retry after sleep */
	CYCLE_SCANNING,		/* scan jobs in flight */
	CYCLE_PAUSED,		/* between two scans of a cycle */
	CYCLE_ACTING,		/* the engine's action jobs in flight */
	CYCLE_SLEEPING,		/* between cycles */
	CYCLE_STOPPING,		/* detached, jobs draining */
	__CYCLE_STATE_CNT
};

struct cycle;

struct cycle_ops {
	/*
	 * Finds the processes of a new cycle and submits scan pass 1.
	 * Returns CYCLE_SCANNING, CYCLE_WAITING when there is no process,
	 * or CYCLE_SLEEPING for a cycle with nothing to do that the hook
	 * has already ended.
	 */
	enum cycle_state (*begin)(struct cycle *cycle);
	/* Submits scan pass cycle->pass for the processes still there. */
	void (*next_pass)(struct cycle *cycle);
	/*
	 * Optional, after each pass but the last: true when the passes made
	 * so far already decide what act() will do, whatever the others
	 * would find. The cycle then acts at once and skips the rest (no
	 * interval, no scan). NULL: every cycle makes all `loop` passes.
	 */
	bool (*decided)(struct cycle *cycle);
	/*
	 * After the last pass: submits the jobs that act on the scans and
	 * returns CYCLE_ACTING, or CYCLE_SLEEPING when there is nothing to
	 * do (the cycle then ends at once).
	 */
	enum cycle_state (*act)(struct cycle *cycle);
	/* The cycle is over: figures for show. */
	void (*end)(struct cycle *cycle);
	/* Stopped and no job in flight: free the engine's run. */
	void (*free)(struct cycle *cycle);
};

struct cycle {
	const struct cycle_ops *ops;
	const char *name;		/* "project/task" or similar, for logs */
	const char *acting_name;	/* CYCLE_ACTING in show: "paging out" */
	unsigned int loop, interval_s, sleep_s;	/* the project's, at start */
	unsigned int sleep_max_s;		/* the project's sleep_max */
	/*
	 * Set by the engine before its cycle ends when the cycle changed
	 * nothing (nothing approved for page-out or moved; whatever was
	 * asked was refused for a lasting reason and is held back) and
	 * failed nowhere; cleared when a cycle begins. Each quiet cycle doubles the next sleep, up to
	 * sleep_max_s; any other cycle puts it back to sleep_s. A change is
	 * so seen at most sleep_max_s late (plus the cycle's scans).
	 */
	bool quiet;
	unsigned int nr_quiet;			/* quiet cycles in a row */
	unsigned int cur_sleep_s;		/* the sleep in force */
	enum cycle_state state;
	unsigned int pass;		/* 1..loop, the scan pass in progress */
	/* Passes this cycle made before it acted: loop, or fewer if decided. */
	unsigned int nr_passes;
	unsigned int pending;		/* jobs of the current phase in flight */
	atomic_bool cancel;		/* set on stop; scan jobs read it */
	uint64_t started_ms;		/* CLOCK_MONOTONIC when this cycle began */
	struct loop_timer *timer;
	struct worker_pool *pool;
};

/*
 * Sets @cycle up with a worker pool of @nr_threads threads called
 * "@kind @name". Returns 0, or -ENOMEM after saying why in @err; in
 * both cases cycle_destroy() undoes it.
 */
int cycle_init(struct cycle *cycle, const struct cycle_ops *ops, const char *name,
	       const char *acting_name, const struct project_params *proj,
	       unsigned int nr_threads, const char *kind, GString *err);
void cycle_destroy(struct cycle *cycle);

void cycle_start(struct cycle *cycle);
/* The engine detaches its run first; the free hook may run from here. */
void cycle_stop(struct cycle *cycle);

void cycle_submit(struct cycle *cycle, struct worker_job *job);
/* Last call of every job's done(): the cycle may move on, or be freed. */
void cycle_job_done(struct cycle *cycle);

const char *cycle_state_name(const struct cycle *cycle);

struct etmem_out;
/*
 * For an engine's show: the sleep after the last cycle, in seconds, and
 * the quiet cycles in a row that stretched it (JSON: sleep_now_s,
 * quiet_cycles, always; text: only while stretched beyond sleep).
 */
void cycle_show_sleep(const struct cycle *cycle, struct etmem_out *out);

/* Milliseconds since the current cycle began. */
uint64_t cycle_elapsed_ms(const struct cycle *cycle);

#endif /* ETMEMD_CYCLE_H */
