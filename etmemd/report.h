/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What engines report about their tasks: the figures of each cycle and
 * their sums since the task started, failures, notes, one log line per
 * cycle. Engines call these on the loop thread; show.c prints the result.
 *
 * Priority: a failure (task_fail) makes the task show "failing" with the
 * error until a cycle ends without one, whatever notes say meanwhile.
 */
#ifndef ETMEMD_REPORT_H
#define ETMEMD_REPORT_H

#include "etmem_genl.h"
#include "log.h"
#include "objects.h"

/* Name of a reason in show and logs ("accessed_again", "no_swap", ...). */
const char *task_kept_name(enum task_kept kept);

/* Adds the figures of @c to @sum. */
void task_counts_add(struct task_counts *sum, const struct task_counts *c);

/* The task starts: every figure and the history back to zero. */
void task_report_reset(struct task *task);

/* A scan or page-out failed: "failing" with @error until a good cycle. */
void task_fail(struct task *task, const struct log_ctx *ctx, const char *error);

/*
 * A cycle ended; @cycle holds its figures. Adds them to the history, logs
 * the cycle's info line, and clears a failure unless @had_errors.
 */
void task_cycle_end(struct task *task, const struct log_ctx *ctx,
		    const struct task_counts *cycle, uint64_t duration_ms, bool had_errors);

/* Median duration of the last TASK_DURATIONS cycles, in ms (0: none). */
uint64_t task_duration_median(const struct task_stats *st);

/*
 * A page-out's result as task counts: bytes no longer resident, bytes
 * already gone when it came (the kernel's nr_absent), and what stayed by
 * reason. Anonymous pages that stayed are put down to no swap
 * (@swap_total 0), a full swap (less than 1/16 free) or reclaim otherwise;
 * read the swap state right after the page-out.
 */
void task_counts_add_swap(struct task_counts *counts, const struct etmem_swap_result *r,
			  uint64_t swap_total, uint64_t swap_free);

/* The "state" of show: "failing" outranks the engine's state. */
const char *task_state_text(const struct task *task);

#endif /* ETMEMD_REPORT_H */
