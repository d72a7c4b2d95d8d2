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
 * start_task must not block: a policy that works continuously starts its
 * own thread there and joins it in stop_task. Returning a negative errno
 * from start_task fails `project start` for that task with the policy's
 * error; etmemd keeps running.
 *
 * Only the fields documented below are part of the contract; etmemd
 * fills them and never reads a policy's private pointers.
 */
#ifndef ETMEM_ETMEMD_ENGINE_H
#define ETMEM_ETMEMD_ENGINE_H

#include <glib.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct engine;
struct task;

/* One process of a task, found when the project starts. */
struct task_pid {
	unsigned int pid;
	void *params;		/* the policy's, from alloc_pid_params */
	struct task_pid *next;
};

struct task {
	const char *name;	/* [task] name */
	const char *type;	/* "pid" or "name" */
	const char *value;	/* the pid, or the process name */
	struct engine *eng;	/* the engine the task runs under */
	struct task_pid *pids;	/* its processes (and their children) */
	void *params;		/* the policy's, from fill_task_params */
};

struct engine {
	const char *name;	/* eng_name: what tasks use in engine= */
	const char *proj_name;	/* the project the engine belongs to */
	unsigned int loop;	/* project: scans per cycle */
	unsigned int interval;	/* project: seconds between scans */
	unsigned int sleep;	/* project: seconds between cycles */
	void *params;		/* the policy's, from fill_eng_params */
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
	 * call: copy what you keep.
	 */
	int (*fill_eng_params)(GKeyFile *config, struct engine *eng);
	/* optional: release what fill_eng_params allocated */
	void (*clear_eng_params)(struct engine *eng);
	/*
	 * optional: read the task's private keys. @config holds one group,
	 * named "task", with every key of the file's [task] section, the
	 * standard ones included (project, engine, name, type, value). A
	 * negative errno refuses the file: etmemd reports "engine ENG refused
	 * the parameters of task NAME: " and the errno's text, so name the
	 * key in etmemd's log if more is needed.
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
