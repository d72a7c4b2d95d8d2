/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine operations table: what an engine (slide today; cslide and
 * third-party policies later) implements so the daemon can configure,
 * run, stop and show its tasks.
 *
 * All callbacks run on the event-loop thread. An engine drives each task
 * as an explicit state machine on loop timers and hands heavy work
 * (scanning, swapping, migrating) to a worker pool (workers.h).
 */
#ifndef ETMEMD_ENGINE_H
#define ETMEMD_ENGINE_H

#include <glib.h>
#include <stdbool.h>

#include "config.h"
#include "etmem_out.h"
#include "objects.h"

struct engine_ops {
	const char *name;
	/* The [project] scan_type values it works with: 1u << enum scan_type. */
	unsigned int scan_types;
	/* Tasks name cgroups (cg_dir), not processes (type, value). */
	bool cgroup_tasks;

	/*
	 * Configuration. parse_* consume the engine's own keys of the
	 * section (unknown keys are refused afterwards unless the engine
	 * consumed them, which is how a third-party engine accepts private
	 * keys) and return 0 or -EINVAL with a message in err. They must not
	 * touch daemon state: the whole file is validated before anything
	 * is applied. proj is the project the task will belong to.
	 * parse_engine may set eng->name (a third-party eng_name).
	 */
	int (*parse_engine)(struct cfg_section *sec, struct engine *eng, GString *err);
	int (*parse_task)(struct cfg_section *sec, const struct project_params *proj,
			  struct task *task, GString *err);
	void (*free_engine)(struct engine *eng);	/* optional */

	/*
	 * Running. start_task arms the task's state machine. stop_task
	 * detaches it: nothing new starts, work already handed to workers
	 * finishes in the background (a page-out is never cut in half) and
	 * frees itself without touching the task again. free_task releases
	 * task->params (the task is stopped by then).
	 */
	int (*start_task)(struct task *task, GString *err);
	void (*stop_task)(struct task *task);
	void (*free_task)(struct task *task);
	const char *(*task_state)(const struct task *task);	/* for show */
	/* Engine-specific fields for show (optional), on one text line. */
	void (*show_task)(const struct task *task, struct etmem_out *out);

	/* "etmem engine CMD": task may be NULL; 0 or -errno with a reason. */
	int (*engine_cmd)(struct engine *eng, struct task *task, const char *cmd,
			  bool json, GString *reply);
};

/* The engine names a configuration may use, NULL-terminated. */
extern const char *const engine_names[];

/* "engine E needs scan_type=X[ or Y]", for messages. */
void engine_scan_types_text(const struct engine_ops *ops, GString *out);

/* NULL when name is known but has no implementation in this build. */
const struct engine_ops *engine_ops_find(const char *name);

extern const struct engine_ops slide_engine_ops;
extern const struct engine_ops cslide_engine_ops;
extern const struct engine_ops thirdparty_engine_ops;
extern const struct engine_ops damon_engine_ops;

/**
 * damon_stat_recover() - resume DAMON_STAT left paused by a dead etmemd
 *
 * Called once at start: if the pause record names an etmemd that no
 * longer runs, writes Y to DAMON_STAT's enabled parameter and removes the
 * record. Failures are logged; nothing is returned.
 */
void damon_stat_recover(void);
extern const struct engine_ops psi_engine_ops;

#define SCAN_TYPES_PAGE	((1u << SCAN_TYPE_UNSET) | (1u << SCAN_TYPE_PAGE))

#endif /* ETMEMD_ENGINE_H */
