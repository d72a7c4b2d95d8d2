/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The damon engine's runs, for the engines that monitor through DAMON on
 * their own settings: slide in a scan_type=auto project without the etmem
 * modules (slide.c) runs its tasks here with a scheme made from its keys.
 * All functions run on the event-loop thread.
 */
#ifndef ETMEMD_DAMON_H
#define ETMEMD_DAMON_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "etmem_out.h"
#include "objects.h"

/* DAMOS watermark metrics (sysfs spelling in damon.c). */
enum damon_wmark_metric {
	DAMON_WMARK_NONE,		/* the scheme is always active */
	DAMON_WMARK_FREE_MEM_RATE,	/* free memory, per mille of RAM */
};

/* One DAMOS scheme: [engine] name=damon, or what slide's keys make. */
struct damon_scheme {
	uint64_t min_size, max_size;		/* bytes */
	unsigned long min_acc, max_acc;		/* accesses per aggregation */
	unsigned long min_age, max_age;		/* aggregation intervals */
	unsigned int action;			/* index in damon_actions */
	unsigned long quota_ms;			/* 0: no time quota */
	uint64_t quota_bytes;			/* 0: no size quota */
	unsigned long quota_reset_ms;
	/* Active while the metric is below wmark_high (per mille). */
	enum damon_wmark_metric wmark_metric;
	unsigned long wmark_high, wmark_mid, wmark_low;
	unsigned long wmark_interval_us;
};

/* A scheme that matches every region; the caller sets the action. */
void damon_scheme_init(struct damon_scheme *ds);

/* The index of ACTION in the configuration's actions; -1 if unknown. */
int damon_action_index(const char *action);

/*
 * The scheme that stands for slide's cold criterion (T of loop scans
 * interval seconds apart) and pp's sysmem_threshold, on pp->damon's
 * intervals: scan_type=auto without the etmem modules.
 */
void damon_scheme_from_slide(const struct project_params *pp, unsigned int threshold,
			     struct damon_scheme *ds);

/* Whether the running kernel has DAMON's sysfs interface. */
bool damon_sysfs_present(void);

/*
 * Start TASK's kdamond on its processes (task->type, task->value) with
 * ATTRS and SCHEME (copied); processes with less than MIN_RSS_BYTES
 * resident are left out (0: none). 0 or -errno with the reason in err.
 * task->priv holds the run until damon_task_stop().
 */
int damon_task_start(struct task *task, const struct damon_attrs *attrs,
		     const struct damon_scheme *scheme, uint64_t min_rss_bytes,
		     GString *err);
void damon_task_stop(struct task *task);
/* For show, of a task started by damon_task_start(). */
const char *damon_task_state(const struct task *task);
void damon_task_show(const struct task *task, struct etmem_out *out);

#endif /* ETMEMD_DAMON_H */
