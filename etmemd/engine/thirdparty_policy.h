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

struct tp_engine;
struct tp_task;

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

/* alloc_pid_params for each of @pids, then start_task. */
int tp_task_start(struct tp_task *tk, const pid_t *pids, size_t nr_pids,
		  GString *err);
/* stop_task, then free_pid_params for each process. */
void tp_task_stop(struct tp_task *tk);
bool tp_task_running(const struct tp_task *tk);

/* eng_mgt_func; what the policy writes is appended to @reply. */
int tp_engine_cmd(struct tp_engine *eng, struct tp_task *tk, const char *cmd,
		  GString *reply);

#endif /* ETMEMD_THIRDPARTY_POLICY_H */
