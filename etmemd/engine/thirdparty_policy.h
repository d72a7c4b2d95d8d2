/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading and calling third-party policies (include/etmem/etmemd_engine.h).
 *
 * The public contract names its structures `struct engine` and `struct
 * task`, as openEuler's does, and so does the daemon internally; this
 * module is the only one that sees the public ones, and the daemon holds
 * them through the opaque handles below.
 */
#ifndef ETMEMD_THIRDPARTY_POLICY_H
#define ETMEMD_THIRDPARTY_POLICY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

struct tp_engine;
struct tp_task;

/* A process of a task: pid and start time (field 22 of /proc/PID/stat). */
struct tp_proc {
	pid_t pid;
	uint64_t start_time;
};

/*
 * What a policy told etmemd through eng->host about one of its tasks,
 * delivered on the loop thread to the handler set with
 * tp_set_event_handler(), in the order the policy called.
 */
enum tp_event_kind {
	TP_EVENT_NOTE,		/* text: the new note ("" clears) */
	TP_EVENT_FAIL,		/* text: the error */
	TP_EVENT_CYCLE,		/* the figures below */
};

struct tp_event {
	uint64_t task_id;	/* tp_task_id() of the task */
	enum tp_event_kind kind;
	char text[256];
	uint64_t pages_scanned, pages_cold, bytes_paged_out, duration_ms;
};

/* The daemon's receiver of policy events; the event is freed after it. */
void tp_set_event_handler(void (*handler)(const struct tp_event *ev));
/* A number that names @tk for as long as the daemon runs, and its address
 * (valid until tp_task_free), for hash tables keyed by it. */
uint64_t tp_task_id(const struct tp_task *tk);
const uint64_t *tp_task_id_ptr(const struct tp_task *tk);
/* Gives @tk a new number, never used before (take it out of such tables
 * first): what the policy reported under the old one can be told apart. */
void tp_task_new_id(struct tp_task *tk);

/*
 * Check and load @libname, find the `struct engine_ops` named @ops_name,
 * and make an engine of it. Refused with a specific message in @err: not
 * an absolute path, missing file, not a regular file, not owned by root,
 * mode other than 0500/0700, dlopen failure, missing symbol, NULL
 * start_task/stop_task.
 */
int tp_engine_load(const char *libname, const char *ops_name,
		   const char *eng_name, struct tp_engine **out, GString *err);
/* The project the engine belongs to, as the policy sees it. */
void tp_engine_bind(struct tp_engine *eng, const char *proj_name,
		    unsigned int loop, unsigned int interval, unsigned int sleep);
/* Private engine keys: @group is a key file holding the [engine] group. */
int tp_engine_fill(struct tp_engine *eng, GKeyFile *group, GString *err);
/* clear_eng_params, then unload the library. */
void tp_engine_free(struct tp_engine *eng);

int tp_task_new(struct tp_engine *eng, const char *name, const char *type,
		const char *value, GKeyFile *group, struct tp_task **out,
		GString *err);
void tp_task_free(struct tp_task *tk);

/* alloc_pid_params for each of @procs, then start_task. */
int tp_task_start(struct tp_task *tk, const struct tp_proc *procs, size_t nr_procs,
		  GString *err);
/*
 * The task's processes are now @procs: new ones get alloc_pid_params and
 * are linked into the policy's list, gone ones (or a pid now with another
 * start time) are unlinked under the list's lock, then freed. Returns how
 * many processes the list holds; a failed alloc_pid_params leaves that
 * process out, with a message in @err. Does nothing (returns 0) unless
 * the task runs and tp_task_follows_pids().
 */
size_t tp_task_update_pids(struct tp_task *tk, const struct tp_proc *procs,
			   size_t nr_procs, GString *err);
/*
 * Whether the policy set eng->follow_pids: it walks the list under its
 * lock, so the list of a running task may change (tp_task_update_pids).
 */
bool tp_task_follows_pids(const struct tp_task *tk);
/* stop_task, then free_pid_params for each process. */
void tp_task_stop(struct tp_task *tk);
bool tp_task_running(const struct tp_task *tk);

/* eng_mgt_func; what the policy writes is appended to @reply. */
int tp_engine_cmd(struct tp_engine *eng, struct tp_task *tk, const char *cmd,
		  GString *reply);

#endif /* ETMEMD_THIRDPARTY_POLICY_H */
