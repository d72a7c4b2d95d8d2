// SPDX-License-Identifier: GPL-2.0
/*
 * The thirdparty engine: runs a policy from a shared library through the
 * public contract (include/etmem/etmemd_engine.h). The policy does its
 * own scanning and paging out (libetmemd_scan) on threads of its own; this
 * adapter loads it, feeds it its private keys, tells it which processes a
 * task has when the task starts, and relays private commands.
 *
 * [engine] name=thirdparty, eng_name (<= 64, what tasks name in engine=),
 * libname (absolute path <= 256), ops_name (<= 256); any other key is the
 * policy's. [task] keys besides the common ones are the policy's too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "procs.h"
#include "thirdparty_policy.h"

#define TP_PATH_MAX	256

/* Marks every key of the section as used: the policy owns the rest. */
static void consume_all(struct cfg_section *sec)
{
	gchar **keys = g_key_file_get_keys(sec->keys, cfg_group_name(sec->group),
					   NULL, NULL);

	for (gchar **k = keys; k && *k; k++)
		cfg_consume(sec, *k);
	g_strfreev(keys);
}

static int tp_parse_engine(struct cfg_section *sec, struct engine *eng, GString *err)
{
	char eng_name[CFG_NAME_SIZE], libname[TP_PATH_MAX + 1], ops_name[TP_PATH_MAX + 1];
	struct tp_engine *tpe;
	GString *why;
	int ret;

	if (cfg_get_name(sec, "eng_name", true, eng_name, err) ||
	    cfg_get_string(sec, "libname", true, TP_PATH_MAX, libname, err) ||
	    cfg_get_string(sec, "ops_name", true, TP_PATH_MAX, ops_name, err))
		return -EINVAL;
	if (engine_ops_find(eng_name)) {
		cfg_error_prefix(sec, "eng_name", err);
		g_string_append_printf(err, "eng_name '%s' is the name of a built-in engine "
				       "(choose another)", eng_name);
		return -EINVAL;
	}
	why = g_string_new(NULL);
	ret = tp_engine_load(libname, ops_name, eng_name, &tpe, why);
	if (ret) {
		cfg_error_prefix(sec, "libname", err);
	} else {
		ret = tp_engine_fill(tpe, sec->keys, why);
		if (ret) {
			tp_engine_free(tpe);
			cfg_error_prefix(sec, NULL, err);
		}
	}
	g_string_append(err, why->str);
	g_string_free(why, TRUE);
	if (ret)
		return -EINVAL;
	consume_all(sec);
	strcpy(eng->name, eng_name);
	eng->priv = tpe;
	return 0;
}

static void tp_free_engine(struct engine *eng)
{
	tp_engine_free(eng->priv);
	eng->priv = NULL;
}

static int tp_parse_task(struct cfg_section *sec, const struct project_params *proj,
			 struct task *task, GString *err)
{
	struct tp_engine *tpe = task->engine->priv;
	struct tp_task *tpt;
	GString *why = g_string_new(NULL);
	int ret;

	tp_engine_bind(tpe, proj->name, proj->loop, proj->interval_s, proj->sleep_s);
	ret = tp_task_new(tpe, task->name, task_type_name(task->type), task->value,
			  sec->keys, &tpt, why);
	if (ret) {
		cfg_error_prefix(sec, NULL, err);
		g_string_append(err, why->str);
		g_string_free(why, TRUE);
		return -EINVAL;
	}
	g_string_free(why, TRUE);
	consume_all(sec);
	task->params = tpt;
	return 0;
}

static void tp_free_task(struct task *task)
{
	tp_task_free(task->params);
	task->params = NULL;
}

/* The task's processes now: the pid, or every process of that name. */
static void find_pids(const struct task *task, GArray *pids)
{
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct proc_id));
	struct proc_stat st;

	if (task->type == TASK_TYPE_NAME) {
		procs_find_by_name(task->value, found);
		for (guint i = 0; i < found->len; i++)
			g_array_append_val(pids, g_array_index(found, struct proc_id, i).pid);
	} else if (!proc_read_stat(task->pid, &st)) {
		g_array_append_val(pids, task->pid);
	}
	g_array_free(found, TRUE);
}

static int tp_start_task(struct task *task, GString *err)
{
	const struct project_params *proj = &task->engine->project->params;
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	int ret;

	tp_engine_bind(task->engine->priv, proj->name, proj->loop, proj->interval_s,
		       proj->sleep_s);
	find_pids(task, pids);
	memset(&task->stats, 0, sizeof(task->stats));
	task->stats.nr_procs = pids->len;
	if (!pids->len)
		snprintf(task->stats.note, sizeof(task->stats.note),
			 "no process %s %s when the task started", task->type == TASK_TYPE_PID ?
			 "with pid" : "named", task->value);
	ret = tp_task_start(task->params, (pid_t *)pids->data, pids->len, err);
	g_array_free(pids, TRUE);
	if (ret)
		log_warn("engine %s: %s", task->engine->name, err->str);
	return ret;
}

static void tp_stop_task(struct task *task)
{
	tp_task_stop(task->params);
}

static const char *tp_task_state(const struct task *task)
{
	return tp_task_running(task->params) ? "running (third-party policy)" : "stopped";
}

/* A policy answers in text; with -j that text is one JSON member. */
static int tp_engine_cmd_op(struct engine *eng, struct task *task, const char *cmd,
			    bool json, GString *reply)
{
	int ret = tp_engine_cmd(eng->priv, task ? task->params : NULL, cmd, reply);
	struct etmem_out *out;
	char *text;

	if (ret || !json)
		return ret;
	out = etmem_out_new(true);
	etmem_out_str(out, "reply", NULL, reply->str);
	text = etmem_out_finish(out);
	g_string_assign(reply, text);
	g_free(text);
	return 0;
}

const struct engine_ops thirdparty_engine_ops = {
	.name = "thirdparty",
	.scan_types = SCAN_TYPES_PAGE,
	.parse_engine = tp_parse_engine,
	.parse_task = tp_parse_task,
	.free_engine = tp_free_engine,
	.start_task = tp_start_task,
	.stop_task = tp_stop_task,
	.free_task = tp_free_task,
	.task_state = tp_task_state,
	.engine_cmd = tp_engine_cmd_op,
};
