/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Projects, engines and tasks: the objects "etmem obj add" creates.
 *
 * All of them belong to the event-loop thread; workers never touch them
 * (they get self-contained jobs, see workers.h). A project holds engines,
 * an engine holds tasks. An engine's behaviour sits behind a
 * struct engine_ops (engine.h); its per-task runtime state hangs off
 * task->priv.
 */
#ifndef ETMEMD_OBJECTS_H
#define ETMEMD_OBJECTS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "procs.h"

struct engine_ops;

/*
 * [project] scan_type: how the project's engine learns which memory is
 * cold. UNSET behaves as PAGE (the page-table scan of the etmem modules).
 * Engines say which types they work with (engine_ops.scan_types).
 */
enum scan_type {
	SCAN_TYPE_UNSET,
	SCAN_TYPE_PAGE,		/* slide, cslide, third-party */
	SCAN_TYPE_REGION,	/* damon: the kernel's DAMON regions */
	SCAN_TYPE_PSI,		/* psi: cgroup memory pressure */
	SCAN_TYPE_AUTO,		/* slide: PAGE with the modules, else REGION */
	__SCAN_TYPE_CNT
};

const char *scan_type_name(enum scan_type type);

/* DAMON monitoring attributes of a scan_type=region project. */
struct damon_attrs {
	unsigned long sample_us, aggr_us, update_us;
	unsigned long min_nr_regions, max_nr_regions;
};

struct project_params {
	char name[CFG_NAME_SIZE];
	enum scan_type scan_type;
	struct damon_attrs damon;	/* scan_type=region, and auto on DAMON */
	unsigned int loop;		/* scans per cycle */
	unsigned int interval_s;	/* between scans; region, psi: between checks */
	unsigned int sleep_s;		/* between cycles */
	/*
	 * The longest the sleep stretches to, doubling after each quiet cycle
	 * (one that changed nothing and failed nowhere, docs/daemon.md);
	 * sleep_s: never stretched.
	 */
	unsigned int sleep_max_s;
	int sysmem_threshold;		/* percent, -1 when unset */
	unsigned int swapcache_low_pct;	/* 0 when unset (then high too) */
	unsigned int swapcache_high_pct;
	bool kernel_swap_off;		/* kernel_swap=off: switch it off while started */
	bool autostart;			/* start as soon as added */
};

struct project {
	struct project_params params;
	GList *engines;			/* struct engine * */
	bool started;
	/*
	 * scan_type=auto: the scan project start chose (PAGE or REGION),
	 * UNSET while stopped; scan_reason says why, or why start failed.
	 */
	enum scan_type scan_chosen;
	char scan_reason[512];
	unsigned int next_task_number;
	char swapcache_note[384];	/* what the kernel said, for show */
	char kswap_note[256];		/* why the kernel swap switch failed, if it did */
	char swapcache_reclaim_note[400];	/* what the last reclaim round did */
};

struct engine {
	char name[CFG_NAME_SIZE];	/* slide, cslide or a third-party eng_name */
	const struct engine_ops *ops;
	struct project *project;
	GList *tasks;			/* struct task * */
	void *priv;
};

enum task_type {
	TASK_TYPE_PID,
	TASK_TYPE_NAME,
	TASK_TYPE_CGROUP,	/* psi: cgroups by cg_dir, no process */
};

/*
 * Why memory chosen for a page-out stayed in RAM. The first six are the
 * kernel's verdict before the page-out; the last three are found after it
 * (see report.h).
 */
enum task_kept {
	TASK_KEPT_YOUNG,	/* accessed again since the scan */
	TASK_KEPT_LOCKED,	/* mlock()ed */
	TASK_KEPT_SHARED,	/* mapped by other processes too */
	TASK_KEPT_HUGETLB,
	TASK_KEPT_UNMARKED,	/* swap_flag=yes and not marked swappable */
	TASK_KEPT_UNEVICTABLE,
	TASK_KEPT_NO_SWAP,	/* anonymous, and no swap configured */
	TASK_KEPT_SWAP_FULL,	/* anonymous, and no free swap slot */
	TASK_KEPT_REFUSED,	/* reclaim kept it (dirty, pinned, raced, ...) */
	__TASK_KEPT_CNT
};

/* Figures of one cycle, or summed since the task started. */
struct task_counts {
	uint64_t pages_scanned;
	uint64_t pages_cold;
	/*
	 * Of pages_cold, those not asked to go this cycle: the kernel refused
	 * them at an earlier page-out for a lasting reason (slide's hold-back).
	 */
	uint64_t pages_cold_held;
	uint64_t bytes_paged_out;	/* no longer resident after the page-out */
	/*
	 * Chosen for a page-out and no longer in RAM when it came (the
	 * kernel's reclaim took them, or the process unmapped them, between
	 * the scan and the page-out): neither paged out by the task nor kept.
	 */
	uint64_t bytes_gone;
	uint64_t bytes_kept[__TASK_KEPT_CNT];
};

#define TASK_DURATIONS	64	/* cycle durations kept for the median */

/* What "project show" prints for every task, kept by the engine. */
struct task_stats {
	unsigned int nr_procs;		/* processes found in the last cycle */
	uint64_t nr_cycles;
	uint64_t pages_scanned;		/* last cycle, distinct pages */
	uint64_t pages_cold;		/* last cycle */
	uint64_t bytes_paged_out;	/* total since start */
	uint64_t bytes_paged_out_last;	/* last cycle */
	time_t last_cycle_end;		/* 0: no cycle finished yet */
	char note[256];			/* why nothing happens, if so */
	/* Outcomes and history (report.h). */
	struct task_counts last, total;	/* kept bytes by reason */
	bool failing;			/* the last scan or page-out failed */
	char error[256];		/* its error, while failing */
	uint64_t nr_errors;		/* failed scans and page-outs since start */
	uint32_t duration_ms[TASK_DURATIONS];	/* ring of the last cycles */
	uint64_t duration_ms_max;
};

struct task {
	char name[CFG_NAME_SIZE];
	unsigned int number;		/* per project, in order of adding */
	enum task_type type;
	char value[CFG_COMM_MAX + 1];	/* process name, or the pid as text */
	pid_t pid;			/* type=pid */
	struct pinned_proc pinned;	/* type=pid, cslide: reset at task start */
	struct engine *engine;
	bool started;
	struct task_stats stats;
	void *params;			/* engine-private configuration */
	void *priv;			/* engine-private runtime state */
};

const char *task_type_name(enum task_type type);

/* The registry, owned by the loop thread. */
struct project *project_find(const char *name);
struct engine *engine_find(struct project *proj, const char *name);
struct task *task_find(struct engine *eng, const char *name);
GList *projects_all(void);

/* Request handlers (control.c dispatches to them). */
int objects_add(const char *path, const char *text, size_t len, GString *reply);
int objects_del(const char *path, const char *text, size_t len, GString *reply);

/*
 * For the configuration directory (confdir.c) and "etmem obj check".
 * objects_check: parse and check FILE against the current state without
 * changing anything. objects_remove: delete what of FILE still exists
 * (no error for what is gone). objects_replace: swap the objects of
 * OLD for those of NEW; when NEW fails, OLD's objects come back and the
 * projects that ran run again.
 */
int objects_check(const char *path, const char *text, size_t len, GString *reply);
int objects_remove(const char *path, const char *text, size_t len, GString *reply);
int objects_replace(const char *path, const char *old_text, size_t old_len,
		    const char *new_text, size_t new_len, GString *reply);
int project_start(const char *name, GString *reply);
int project_stop(const char *name, GString *reply);
int project_show(const char *name, bool json, GString *reply);
int engine_command(const char *proj, const char *eng, const char *task,
		   const char *cmd, bool json, GString *reply);

/* Shared by objects.c and project.c. */
int task_start(struct task *task, GString *failures);
void project_swapcache_off(struct project *proj);
/* At start: turn on a kernel swap switch an earlier etmemd left off. */
void project_kswap_recover(void);

/* Shutdown: stop every project; work in flight drains in the workers. */
void objects_stop_all(void);
void objects_free_all(void);

#endif /* ETMEMD_OBJECTS_H */
