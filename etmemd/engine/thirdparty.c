// SPDX-License-Identifier: GPL-2.0
/*
 * The thirdparty engine: runs a policy from a shared library through the
 * public contract (include/etmem/etmemd_engine.h). The policy does its
 * own scanning and paging out (libetmemd_scan) on threads of its own; this
 * adapter loads it, feeds it its private keys, keeps the list of a task's
 * processes up to date (every `interval` seconds while it runs), applies
 * what the policy reports through eng->host (notes, failures, cycles) to
 * the task's figures, and relays private commands.
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
#include "loop.h"
#include "procs.h"
#include "report.h"
#include "thirdparty_policy.h"

#define TP_PATH_MAX	256

/* A started task's runtime state (task->priv). */
struct tp_run {
	struct task *task;
	struct loop_timer *timer;	/* looks for the task's processes again */
	struct pinned_proc pin;		/* type=pid: the process first seen */
};

/* Started tasks by tp_task_id(): policy events find their task here. */
static GHashTable *running_tasks;

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

	if (proj->sleep_max_s != proj->sleep_s) {
		cfg_error_prefix(sec, NULL, err);
		g_string_append_printf(err, "project %s has sleep_max=%u, which slide and cslide apply; a third-party engine's library runs its own cycle (remove sleep_max or use slide/cslide)",
				       proj->name, proj->sleep_max_s);
		return -EINVAL;
	}
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
	if (running_tasks && task->params)
		g_hash_table_remove(running_tasks, tp_task_id_ptr(task->params));
	tp_task_free(task->params);
	task->params = NULL;
}

/*
 * The task's processes now: every process of that name (and children), or
 * the pid while it still names the process first seen under it (@pin: a
 * process that takes the pid later is never adopted).
 */
static void find_procs(const struct task *task, struct pinned_proc *pin, GArray *procs)
{
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct proc_id));
	struct tp_proc p;

	if (task->type == TASK_TYPE_NAME)
		procs_find_by_name(task->value, found);
	else
		pinned_proc_find(pin, task->pid, found);
	for (guint i = 0; i < found->len; i++) {
		p.pid = g_array_index(found, struct proc_id, i).pid;
		p.start_time = g_array_index(found, struct proc_id, i).start_time;
		g_array_append_val(procs, p);
	}
	g_array_free(found, TRUE);
}

static struct log_ctx task_log_ctx(const struct task *task)
{
	struct log_ctx ctx = {
		.project = task->engine->project->params.name,
		.engine = task->engine->name,
		.task = task->name,
	};

	return ctx;
}

static void no_process_note(struct task *task, const char *when)
{
	snprintf(task->stats.note, sizeof(task->stats.note), "no process %s %s %s",
		 task->type == TASK_TYPE_PID ? "with pid" : "named", task->value, when);
}

/* Every interval: the policy's list follows the processes that come and go. */
static void tp_refresh(void *arg)
{
	struct tp_run *run = arg;
	struct task *task = run->task;
	struct log_ctx ctx = task_log_ctx(task);
	GArray *procs = g_array_new(FALSE, FALSE, sizeof(struct tp_proc));
	GString *err = g_string_new(NULL);
	unsigned int before = task->stats.nr_procs;
	size_t n;

	find_procs(task, &run->pin, procs);
	n = tp_task_update_pids(task->params, (struct tp_proc *)procs->data, procs->len, err);
	if (err->len)
		log_warn_limited("alloc_pid_params", &ctx, "%s", err->str);
	task->stats.nr_procs = (unsigned int)n;
	if (n != before)
		log_ctx_msg(LOG_LEVEL_INFO, &ctx, "%s/%s: %zu process(es) now (were %u)",
			    task->engine->project->params.name, task->name, n, before);
	if (!n && before)
		no_process_note(task, "any more");
	else if (n && !before && !strncmp(task->stats.note, "no process ", 11))
		task->stats.note[0] = '\0';
	g_string_free(err, TRUE);
	g_array_free(procs, TRUE);
	loop_timer_arm(run->timer, MAX(task->engine->project->params.interval_s, 1u) * 1000);
}

/* What the policy reported through eng->host, on the loop thread. */
static void tp_event(const struct tp_event *ev)
{
	struct task *task = running_tasks ?
		g_hash_table_lookup(running_tasks, &ev->task_id) : NULL;
	struct task_counts cycle = { 0 };
	struct log_ctx ctx;

	if (!task)
		return;		/* the task was deleted meanwhile */
	ctx = task_log_ctx(task);
	switch (ev->kind) {
	case TP_EVENT_NOTE:
		snprintf(task->stats.note, sizeof(task->stats.note), "%s", ev->text);
		break;
	case TP_EVENT_FAIL:
		task_fail(task, &ctx, ev->text);
		break;
	case TP_EVENT_CYCLE:
		cycle.pages_scanned = ev->pages_scanned;
		cycle.pages_cold = ev->pages_cold;
		cycle.bytes_paged_out = ev->bytes_paged_out;
		ctx.cycle = task->stats.nr_cycles + 1;
		task_cycle_end(task, &ctx, &cycle, ev->duration_ms, false);
		break;
	}
}

static int tp_start_task(struct task *task, GString *err)
{
	const struct project_params *proj = &task->engine->project->params;
	GArray *procs = g_array_new(FALSE, FALSE, sizeof(struct tp_proc));
	struct tp_run *run;
	int ret;

	tp_engine_bind(task->engine->priv, proj->name, proj->loop, proj->interval_s,
		       proj->sleep_s);
	if (!running_tasks) {
		running_tasks = g_hash_table_new(g_int64_hash, g_int64_equal);
		tp_set_event_handler(tp_event);
	}
	run = g_new0(struct tp_run, 1);
	run->task = task;
	find_procs(task, &run->pin, procs);
	task_report_reset(task);
	task->stats.nr_procs = procs->len;
	if (!procs->len)
		no_process_note(task, "when the task started");
	/*
	 * A new id for each run: what the last run reported and the loop has
	 * not applied yet is dropped rather than counted in this run's figures.
	 * Before start_task: what the policy reports from there on lands.
	 */
	g_hash_table_remove(running_tasks, tp_task_id_ptr(task->params));
	tp_task_new_id(task->params);
	g_hash_table_insert(running_tasks, (gpointer)tp_task_id_ptr(task->params), task);
	ret = tp_task_start(task->params, (struct tp_proc *)procs->data, procs->len, err);
	g_array_free(procs, TRUE);
	if (ret) {
		g_hash_table_remove(running_tasks, tp_task_id_ptr(task->params));
		g_free(run);
		log_warn("engine %s: %s", task->engine->name, err->str);
		return ret;
	}
	/* A policy that walks the list without its lock keeps it fixed. */
	if (tp_task_follows_pids(task->params)) {
		run->timer = loop_timer_new(tp_refresh, run);
		if (run->timer)
			loop_timer_arm(run->timer, MAX(proj->interval_s, 1u) * 1000);
		else
			log_warn("engine %s: task %s: no timer (%s): its processes are "
				 "the ones found at start", task->engine->name, task->name,
				 strerror(errno));
	}
	task->priv = run;
	return 0;
}

static void tp_stop_task(struct task *task)
{
	struct tp_run *run = task->priv;

	if (run) {
		/* NULL: the list does not follow, or no timer could be made */
		loop_timer_free(run->timer);
		g_free(run);
		task->priv = NULL;
	}
	/* Events the policy posted until it stopped still reach the figures. */
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
