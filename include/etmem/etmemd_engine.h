/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between etmemd and a third-party memory policy.
 *
 * A policy is a shared library named by `libname` in an [engine] group
 * with name=thirdparty; `ops_name` names a global `struct engine_ops` in
 * it. etmemd checks the library before loading it: a regular file owned
 * by root with mode 0500 or 0700 (anything else is refused with a specific
 * error), and the symbol must exist with start_task and stop_task set.
 *
 * Lifetime, all calls made from etmemd's event loop thread, one at a time:
 *   obj add [engine]   dlopen, fill_eng_params (private engine keys)
 *   obj add [task]     fill_task_params (private task keys)
 *   project start      alloc_pid_params for each process of the task,
 *                      then start_task
 *   project stop       stop_task, then free_pid_params for each process
 *   obj del [task]     clear_task_params;  obj del [engine]: clear_eng_params,
 *                      then dlclose
 *   etmem engine CMD   eng_mgt_func (its output on fd reaches the client)
 *   while started      with eng->follow_pids set: every `interval`
 *                      seconds (at least 1) etmemd looks for the task's
 *                      processes again: a new one gets alloc_pid_params
 *                      and is linked into tk->pids; one that exited (or
 *                      whose pid now names another process) is unlinked,
 *                      then gets free_pid_params
 * start_task must not block: a policy that works continuously starts its
 * own thread there and joins it in stop_task. Returning a negative errno
 * from start_task fails `project start` for that task with the policy's
 * error (or the message it gave eng->host->error); etmemd keeps running.
 *
 * Threads: etmemd changes tk->pids of a running task only when the policy
 * has set eng->follow_pids, and then only while holding *tk->pids_lock; a
 * policy thread holds it while it walks the list (and not across a scan:
 * copy the pids and start times it needs). Without follow_pids (a policy
 * built for an older header walks the list without the lock) the list is
 * the one found at start until stop_task returns. The eng->host functions
 * may be called from any thread of the policy.
 *
 * Only the fields documented below are part of the contract; etmemd
 * fills them and never reads a policy's private pointers.
 */
#ifndef ETMEM_ETMEMD_ENGINE_H
#define ETMEM_ETMEMD_ENGINE_H

#include <glib.h>
#include <pthread.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct engine;
struct task;

/* One process of a task. */
struct task_pid {
	unsigned int pid;
	void *params;		/* the policy's, from alloc_pid_params */
	struct task_pid *next;
	/*
	 * Field 22 of /proc/PID/stat when etmemd found the process, in clock
	 * ticks after boot: pid and start time name one process, so a policy
	 * that reads the field again before acting can tell that the pid was
	 * reused by another process (etmemd replaces the entry then).
	 */
	unsigned long long start_time;
};

struct task {
	const char *name;	/* [task] name */
	const char *type;	/* "pid" or "name" */
	const char *value;	/* the pid, or the process name */
	struct engine *eng;	/* the engine the task runs under */
	struct task_pid *pids;	/* its processes; under *pids_lock */
	void *params;		/* the policy's, from fill_task_params */
	pthread_mutex_t *pids_lock;	/* see "Threads" above */
};

struct etmemd_host;

struct engine {
	const char *name;	/* eng_name: what tasks use in engine= */
	const char *proj_name;	/* the project the engine belongs to */
	unsigned int loop;	/* project: scans per cycle */
	unsigned int interval;	/* project: seconds between scans */
	unsigned int sleep;	/* project: seconds between cycles */
	void *params;		/* the policy's, from fill_eng_params */
	const struct etmemd_host *host;	/* etmemd's services, set before any call */
	/*
	 * Set by the policy (in fill_eng_params, or in start_task before it
	 * returns) when its threads walk tk->pids only under *tk->pids_lock:
	 * only then does etmemd keep a running task's list up to date. 0,
	 * as etmemd leaves it: the list is fixed from start to stop.
	 */
	unsigned int follow_pids;
};

/* Log levels of etmemd_host.log. */
enum etmemd_log_level {
	ETMEMD_LOG_DEBUG,
	ETMEMD_LOG_INFO,
	ETMEMD_LOG_WARN,	/* one a minute per call site (format address) and task */
	ETMEMD_LOG_ERROR,	/* not limited: for what stops the task's work */
};

/* The figures of one finished cycle of a task, for etmemd_host.cycle_done. */
struct etmemd_cycle {
	uint64_t pages_scanned;		/* distinct pages looked at */
	uint64_t pages_cold;		/* of those, found cold */
	/*
	 * Bytes that are no longer resident after the page-out: measured
	 * (the process's VmSwap growth, residency of the ranges afterwards),
	 * never what was handed to reclaim (etmemd_swap_out's return).
	 */
	uint64_t bytes_paged_out;
	uint64_t duration_ms;		/* the cycle's wall-clock time */
};

/*
 * What etmemd offers a policy (eng->host). Every function may be called
 * from any thread; the ones that change what `etmem project show` prints
 * take effect once etmemd's loop thread is free (normally at once), in
 * the order they were called.
 */
struct etmemd_host {
	/* Writes to etmemd's log with the project, engine and task (may be NULL). */
	void (*log)(struct engine *eng, struct task *tk, enum etmemd_log_level level,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
	/* The task's note in show ("" or NULL clears it): why nothing happens. */
	void (*set_note)(struct task *tk, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/*
	 * A scan or page-out of the task failed: show says "failing" with this
	 * error (it outranks the note) until the next cycle_done, and the
	 * task's error count grows.
	 */
	void (*fail)(struct task *tk, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/* A cycle finished: show's figures, the totals and one log line. */
	void (*cycle_done)(struct task *tk, const struct etmemd_cycle *cycle);
	/*
	 * The message for the error that the running callback is about to
	 * return (fill_eng_params, fill_task_params, alloc_pid_params,
	 * start_task): etmemd shows it instead of the errno's text. Name the
	 * key and what is allowed, e.g. "idle_scans=9: allowed 1..loop (3)".
	 * @tk is NULL for the callbacks that have no task (fill_eng_params,
	 * alloc_pid_params).
	 */
	void (*error)(struct engine *eng, struct task *tk, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
};

/*
 * Members marked optional may be NULL. Every int-returning member returns
 * 0 or a negative errno.
 */
struct engine_ops {
	/*
	 * optional: read the engine's private keys. @config holds one group,
	 * named "engine", with every key of the file's [engine] section as
	 * written, the standard ones included (name, project, eng_name,
	 * libname, ops_name); etmemd has checked those. It is freed after the
	 * call: copy what you keep. On a bad key, give eng->host->error a
	 * message naming it.
	 */
	int (*fill_eng_params)(GKeyFile *config, struct engine *eng);
	/* optional: release what fill_eng_params allocated */
	void (*clear_eng_params)(struct engine *eng);
	/*
	 * optional: read the task's private keys. @config holds one group,
	 * named "task", with every key of the file's [task] section, the
	 * standard ones included (project, engine, name, type, value). A
	 * negative errno refuses the file: etmemd reports "engine ENG refused
	 * the parameters of task NAME: " and the message given to
	 * eng->host->error (the errno's text without one).
	 */
	int (*fill_task_params)(GKeyFile *config, struct task *tk);
	/* optional: release what fill_task_params allocated */
	void (*clear_task_params)(struct task *tk);
	/* mandatory: start working on @tk (must not block) */
	int (*start_task)(struct engine *eng, struct task *tk);
	/* mandatory: stop working on @tk; returns once it has stopped */
	void (*stop_task)(struct engine *eng, struct task *tk);
	/* optional: per-process private data, stored in (*tk_pid)->params */
	int (*alloc_pid_params)(struct engine *eng, struct task_pid **tk_pid);
	/* optional */
	void (*free_pid_params)(struct engine *eng, struct task_pid **tk_pid);
	/*
	 * optional: a private command from `etmem engine CMD`; @tk is NULL
	 * when no -t was given. What the policy writes to @fd is sent to the
	 * client as it is: every byte value is allowed (the control protocol
	 * frames replies by length, so 0xff and 0xfe are not reserved).
	 */
	int (*eng_mgt_func)(struct engine *eng, struct task *tk, char *cmd, int fd);
};

#ifdef __cplusplus
}
#endif

#endif /* ETMEM_ETMEMD_ENGINE_H */
