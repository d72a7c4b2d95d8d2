// SPDX-License-Identifier: GPL-2.0
/* "project show -j" as Prometheus metrics; see etmem_metrics.h. */
#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "etmem_metrics.h"

enum metric_src {
	SRC_TASK,		/* a member of the task */
	SRC_TOTAL,		/* a member of the task's "total" */
	SRC_KEPT,		/* every member of total.bytes_kept, label reason */
	SRC_FAILING,		/* 1 when the task's state is "failing" */
	SRC_MS,			/* a member in ms, exported in seconds */
	SRC_BUDGET,		/* a member of "budget"; budget mode only */
	SRC_BUDGET_US,		/* a member of "budget" in us, exported in seconds */
	SRC_BUDGET_OVER,	/* 1 when budget.verdict is "over"; budget mode only */
};

struct metric {
	const char *name, *type, *help;
	enum metric_src src;
	const char *member;
};

static const struct metric task_metrics[] = {
	{ "etmem_task_processes", "gauge", "Processes the task found in its last cycle.",
	  SRC_TASK, "processes" },
	{ "etmem_task_failing", "gauge",
	  "1 while the task's last scan or page-out failed (see project show for the error).",
	  SRC_FAILING, NULL },
	{ "etmem_task_cycles_total", "counter", "Cycles finished since the task started.",
	  SRC_TASK, "cycles" },
	{ "etmem_task_errors_total", "counter",
	  "Failed scans and page-outs since the task started.", SRC_TASK, "errors" },
	{ "etmem_task_scanned_pages_total", "counter",
	  "Pages scanned, summed over the cycles since the task started.",
	  SRC_TOTAL, "pages_scanned" },
	{ "etmem_task_cold_pages_total", "counter",
	  "Pages found cold, summed over the cycles since the task started.",
	  SRC_TOTAL, "pages_cold" },
	{ "etmem_task_cold_held_pages_total", "counter",
	  "Cold pages not asked to go because the kernel refused them at an earlier page-out for a lasting reason (shared, locked, hugetlb, unmarked), summed over the cycles since the task started.",
	  SRC_TOTAL, "pages_cold_held" },
	{ "etmem_task_paged_out_bytes_total", "counter",
	  "Bytes no longer resident after the task's page-outs since it started.",
	  SRC_TOTAL, "bytes_paged_out" },
	{ "etmem_task_gone_bytes_total", "counter",
	  "Bytes chosen for a page-out that were no longer in RAM when it came (taken by the kernel's reclaim or unmapped after the scan), since the task started.",
	  SRC_TOTAL, "bytes_gone" },
	{ "etmem_task_kept_bytes_total", "counter",
	  "Bytes chosen for a page-out that stayed in RAM, by reason, since the task started.",
	  SRC_KEPT, NULL },
	{ "etmem_task_cycle_duration_median_seconds", "gauge",
	  "Median duration of the task's last 64 cycles.", SRC_MS, "cycle_ms_median" },
	{ "etmem_task_cycle_duration_max_seconds", "gauge",
	  "Longest cycle of the task since it started.", SRC_MS, "cycle_ms_max" },
	{ "etmem_task_budget_idle_age_scans", "gauge",
	  "Budget mode: pages idle in at least this many consecutive scans are paged out.",
	  SRC_BUDGET, "idle_age" },
	{ "etmem_task_budget_probe_share_ratio", "gauge",
	  "Budget mode: share of the pages of the band being probed (idle at least idle_age scans, fewer than probe_from) paged out each cycle; 1 when no probe runs.",
	  SRC_BUDGET, "probe_share" },
	{ "etmem_task_budget_try_after_cycles", "gauge",
	  "Budget mode: cycles settled within the budget (half of it to all, with the headroom left under it) after which a step down is tried; doubles each time a step taken within the budget is undone (8 at first, at most 1024; 8 again when all the task's processes are replaced or swap is turned on).",
	  SRC_BUDGET, "try_after_cycles" },
	{ "etmem_task_budget_cost_noise_ratio", "gauge",
	  "Budget mode: the cost's cycle-to-cycle standard deviation, as a share of the budget, pooled over the settings so far (kept when the processes are replaced or swap is turned on); 0 before any was measured.",
	  SRC_BUDGET, "cost_noise" },
	{ "etmem_task_budget_headroom_ratio", "gauge",
	  "Budget mode: share of the budget the mean cost must leave under it for a step down to be tried or taken within the budget (0.05, or 1.65 cost noises where more, at most 0.25).",
	  SRC_BUDGET, "headroom" },
	{ "etmem_task_budget_judging", "gauge",
	  "Budget mode: 1 while a step taken within the budget waits for its judgement (it may still be undone).",
	  SRC_BUDGET, "judging" },
	{ "etmem_task_budget_stall_ratio", "gauge",
	  "Budget mode: share of time some task of the processes' cgroup stalled on memory (PSI some) in the last cycle; absent when that cycle measured nothing.",
	  SRC_BUDGET_US, "stall_us_per_s" },
	{ "etmem_task_budget_stall_limit_ratio", "gauge",
	  "Budget mode: the stall allowed (stall_budget_us), as a share of time; 0 for none.",
	  SRC_BUDGET_US, "stall_budget_us" },
	{ "etmem_task_budget_major_faults_per_second", "gauge",
	  "Budget mode: major faults per second of the task's processes in the last cycle; absent when that cycle measured nothing.",
	  SRC_BUDGET, "majflt_per_s" },
	{ "etmem_task_budget_major_faults_limit_per_second", "gauge",
	  "Budget mode: the major faults allowed per second (majflt_budget); 0 for none.",
	  SRC_BUDGET, "majflt_budget" },
	{ "etmem_task_budget_over", "gauge",
	  "Budget mode: 1 when the last cycle's cost was over the budget.",
	  SRC_BUDGET_OVER, NULL },
};

/* A label value: backslash, double quote and newline escaped. */
static void label(GString *out, const char *name, const char *value, bool first)
{
	g_string_append_printf(out, "%s%s=\"", first ? "" : ",", name);
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			g_string_append_c(out, '\\');
		if (*value == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *value);
	}
	g_string_append_c(out, '"');
}

static const char *str_member(JsonObject *obj, const char *name)
{
	JsonNode *node = json_object_get_member(obj, name);

	return node && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_string(node) ?: "" : "";
}

static gint64 int_member(JsonObject *obj, const char *name)
{
	JsonNode *node = obj ? json_object_get_member(obj, name) : NULL;

	return node && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_int(node) : 0;
}

static bool double_member(JsonObject *obj, const char *name, double *out)
{
	JsonNode *node = obj ? json_object_get_member(obj, name) : NULL;

	if (!node || !JSON_NODE_HOLDS_VALUE(node))
		return false;
	switch (json_node_get_value_type(node)) {
	case G_TYPE_DOUBLE:
		*out = json_node_get_double(node);
		break;
	case G_TYPE_BOOLEAN:
		*out = json_node_get_boolean(node);
		break;
	default:
		*out = (double)json_node_get_int(node);
	}
	return true;
}

static void task_labels(GString *out, JsonObject *proj, JsonObject *task)
{
	g_string_append_c(out, '{');
	label(out, "project", str_member(proj, "name"), true);
	label(out, "engine", str_member(task, "engine"), false);
	label(out, "task", str_member(task, "name"), false);
}

static void task_samples(GString *out, const struct metric *m, JsonObject *proj,
			 JsonObject *task)
{
	JsonObject *total = json_object_get_object_member(task, "total");
	JsonObject *budget = json_object_has_member(task, "budget") ?
			     json_object_get_object_member(task, "budget") : NULL;
	JsonObject *kept;
	GList *reasons;
	double v;

	switch (m->src) {
	case SRC_BUDGET:
	case SRC_BUDGET_US:
		/* Only tasks in budget mode, once their controller runs. */
		if (!double_member(budget, m->member, &v))
			return;
		g_string_append(out, m->name);
		task_labels(out, proj, task);
		g_string_append_printf(out, "} %.6g\n", m->src == SRC_BUDGET_US ? v / 1e6 : v);
		return;
	case SRC_BUDGET_OVER:
		if (!budget || !json_object_has_member(budget, "verdict"))
			return;
		g_string_append(out, m->name);
		task_labels(out, proj, task);
		g_string_append_printf(out, "} %d\n", !g_strcmp0(str_member(budget, "verdict"), "over"));
		return;
	case SRC_KEPT:
		kept = total ? json_object_get_object_member(total, "bytes_kept") : NULL;
		reasons = kept ? json_object_get_members(kept) : NULL;
		for (GList *r = reasons; r; r = r->next) {
			g_string_append(out, m->name);
			task_labels(out, proj, task);
			label(out, "reason", r->data, false);
			g_string_append_printf(out, "} %" G_GINT64_FORMAT "\n",
					       int_member(kept, r->data));
		}
		g_list_free(reasons);
		return;
	default:
		break;
	}
	g_string_append(out, m->name);
	task_labels(out, proj, task);
	g_string_append(out, "} ");
	if (m->src == SRC_TASK)
		g_string_append_printf(out, "%" G_GINT64_FORMAT "\n", int_member(task, m->member));
	else if (m->src == SRC_TOTAL)
		g_string_append_printf(out, "%" G_GINT64_FORMAT "\n", int_member(total, m->member));
	else if (m->src == SRC_FAILING)
		g_string_append_printf(out, "%d\n", !g_strcmp0(str_member(task, "state"), "failing"));
	else
		g_string_append_printf(out, "%.3f\n", int_member(task, m->member) / 1000.0);
}

char *etmem_metrics_from_show_json(const char *json, GError **error)
{
	JsonParser *parser = json_parser_new();
	GString *out = g_string_new(NULL);
	JsonArray *projects;
	JsonNode *root;

	if (!json_parser_load_from_data(parser, json, -1, error))
		goto fail;
	root = json_parser_get_root(parser);
	if (!JSON_NODE_HOLDS_OBJECT(root) ||
	    !json_object_has_member(json_node_get_object(root), "projects")) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "not the JSON of project show: no \"projects\"");
		goto fail;
	}
	projects = json_object_get_array_member(json_node_get_object(root), "projects");
	g_string_append(out, "# HELP etmem_project_started 1 while the project is started.\n"
			"# TYPE etmem_project_started gauge\n");
	for (guint p = 0; p < json_array_get_length(projects); p++) {
		JsonObject *proj = json_array_get_object_element(projects, p);

		g_string_append(out, "etmem_project_started{");
		label(out, "project", str_member(proj, "name"), true);
		g_string_append_printf(out, "} %d\n",
				       json_object_get_boolean_member(proj, "started"));
	}
	for (gsize i = 0; i < G_N_ELEMENTS(task_metrics); i++) {
		const struct metric *m = &task_metrics[i];

		g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
				       m->name, m->type);
		for (guint p = 0; p < json_array_get_length(projects); p++) {
			JsonObject *proj = json_array_get_object_element(projects, p);
			JsonArray *tasks = json_object_get_array_member(proj, "tasks");

			for (guint t = 0; tasks && t < json_array_get_length(tasks); t++)
				task_samples(out, m, proj, json_array_get_object_element(tasks, t));
		}
	}
	g_object_unref(parser);
	return g_string_free(out, FALSE);
fail:
	g_object_unref(parser);
	g_string_free(out, TRUE);
	return NULL;
}
