// SPDX-License-Identifier: GPL-2.0
/* "project show": text for people, JSON (-j) for programs. */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <string.h>

#include "etmem_kswap.h"
#include "engine.h"
#include "etmem_text.h"
#include "objects.h"

/* Always valid UTF-8: what is not printable UTF-8 arrives as \xHH text. */
static void json_string(GString *out, const char *raw)
{
	char *safe = etmem_escape(raw);

	g_string_append_c(out, '"');
	for (const char *s = safe; *s; s++) {
		if (*s == '"' || *s == '\\')
			g_string_append_printf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			g_string_append_printf(out, "\\u%04x", *s);
		else
			g_string_append_c(out, *s);
	}
	g_string_append_c(out, '"');
	g_free(safe);
}

static void time_text(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!t) {
		snprintf(buf, size, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void show_task_json(const struct task *task, GString *out)
{
	const struct task_stats *st = &task->stats;
	char when[32];

	time_text(st->last_cycle_end, when, sizeof(when));
	g_string_append_printf(out, "{\"number\":%u,\"type\":\"%s\",\"value\":", task->number,
			       task_type_name(task->type));
	json_string(out, task->value);
	g_string_append(out, ",\"name\":");
	json_string(out, task->name);
	g_string_append(out, ",\"engine\":");
	json_string(out, task->engine->name);
	g_string_append_printf(out, ",\"started\":%s,\"state\":\"%s\",\"processes\":%u,"
			       "\"cycles\":%" PRIu64 ",\"pages_scanned\":%" PRIu64
			       ",\"pages_cold\":%" PRIu64 ",\"bytes_paged_out\":%" PRIu64
			       ",\"bytes_paged_out_last_cycle\":%" PRIu64 ",\"last_cycle\":\"%s\",\"note\":",
			       task->started ? "true" : "false",
			       task->engine->ops->task_state(task), st->nr_procs, st->nr_cycles,
			       st->pages_scanned, st->pages_cold, st->bytes_paged_out,
			       st->bytes_paged_out_last, when);
	json_string(out, st->note);
	if (task->engine->ops->show_task)
		task->engine->ops->show_task(task, true, out);
	g_string_append(out, "}");
}

/* The kernel swap switch as it is now (one switch for the whole system). */
static void show_kswap_json(GString *out)
{
	struct etmem_kswap_state st;
	char err[256];

	if (etmem_kswap_get(&st, err, sizeof(err))) {
		g_string_append(out, ",\"kernel_swap_state\":{\"error\":");
		json_string(out, err);
		g_string_append(out, "}");
		return;
	}
	g_string_append_printf(out, ",\"kernel_swap_state\":{\"off\":%s,\"owner\":\"%s\","
			       "\"swappiness\":%d,\"saved_swappiness\":%d,\"mglru\":%s}",
			       st.off ? "true" : "false",
			       st.owner == ETMEM_KSWAP_OWNER_DAEMON ? "etmemd" :
			       st.owner == ETMEM_KSWAP_OWNER_CLI ? "etmem" : "none",
			       st.swappiness, st.saved, st.mglru ? "true" : "false");
}

static void show_kswap_text(const struct project *proj, GString *out)
{
	struct etmem_kswap_state st;
	char err[256];

	if (!proj->params.kernel_swap_off)
		return;
	if (*proj->kswap_note) {
		g_string_append_printf(out, "  kernel swap: could not be switched off: %s\n",
				       proj->kswap_note);
		return;
	}
	if (etmem_kswap_get(&st, err, sizeof(err))) {
		g_string_append_printf(out, "  kernel swap: %s\n", err);
		return;
	}
	if (!st.off) {
		g_string_append_printf(out, "  kernel swap: on (kernel_swap=off applies while started)\n");
		return;
	}
	g_string_append_printf(out, "  kernel swap: %s, vm.swappiness %d (%d restored when on)%s\n",
			       etmem_kswap_owner_name(st.owner), st.swappiness, st.saved,
			       st.mglru ? "; MGLRU: the kernel never reclaims anonymous memory now" : "");
}

static void show_project_json(const struct project *proj, GString *out)
{
	const struct project_params *pp = &proj->params;
	bool first = true;

	g_string_append(out, "{\"name\":");
	json_string(out, pp->name);
	g_string_append_printf(out, ",\"started\":%s,\"loop\":%u,\"interval\":%u,\"sleep\":%u,"
			       "\"sysmem_threshold\":%d,\"swapcache_low_wmark\":%u,"
			       "\"swapcache_high_wmark\":%u,\"swapcache\":",
			       proj->started ? "true" : "false", pp->loop, pp->interval_s,
			       pp->sleep_s, pp->sysmem_threshold, pp->swapcache_low_pct,
			       pp->swapcache_high_pct);
	json_string(out, proj->swapcache_note);
	g_string_append_printf(out, ",\"scan_type\":\"%s\"", scan_type_name(pp->scan_type));
	if (pp->scan_type == SCAN_TYPE_REGION)
		g_string_append_printf(out, ",\"sample_interval\":%lu,\"aggr_interval\":%lu,"
				       "\"update_interval\":%lu,\"min_nr_regions\":%lu,"
				       "\"max_nr_regions\":%lu", pp->damon.sample_us, pp->damon.aggr_us,
				       pp->damon.update_us, pp->damon.min_nr_regions,
				       pp->damon.max_nr_regions);
	g_string_append(out, ",\"swapcache_reclaim\":");
	json_string(out, proj->swapcache_reclaim_note);
	g_string_append_printf(out, ",\"kernel_swap\":\"%s\"",
			       pp->kernel_swap_off ? "off" : "on");
	show_kswap_json(out);
	g_string_append(out, ",\"engines\":[");
	for (GList *e = proj->engines; e; e = e->next) {
		g_string_append(out, e == proj->engines ? "" : ",");
		json_string(out, ((struct engine *)e->data)->name);
	}
	g_string_append(out, "],\"tasks\":[");
	for (GList *e = proj->engines; e; e = e->next) {
		for (GList *t = ((struct engine *)e->data)->tasks; t; t = t->next) {
			g_string_append(out, first ? "" : ",");
			show_task_json(t->data, out);
			first = false;
		}
	}
	g_string_append(out, "]}");
}

static void show_task_text(const struct task *task, GString *out)
{
	const struct task_stats *st = &task->stats;
	char when[32];

	time_text(st->last_cycle_end, when, sizeof(when));
	g_string_append_printf(out, "  %-6u %-5s %-15s %-20s %-10s %-7s %-6u %-10" PRIu64
			       " %-10" PRIu64 " %-12" PRIu64 " %s\n",
			       task->number, task_type_name(task->type), task->value, task->name,
			       task->engine->name, task->started ? "yes" : "no", st->nr_procs,
			       st->pages_scanned, st->pages_cold, st->bytes_paged_out, when);
	g_string_append_printf(out, "         state: %s, cycles: %" PRIu64 ", paged out last cycle: %"
			       PRIu64 " bytes\n", task->engine->ops->task_state(task),
			       st->nr_cycles, st->bytes_paged_out_last);
	if (task->engine->ops->show_task) {
		g_string_append(out, "         ");
		task->engine->ops->show_task(task, false, out);
		g_string_append_c(out, '\n');
	}
	if (*st->note)
		g_string_append_printf(out, "         note: %s\n", st->note);
}

static void show_project_text(const struct project *proj, GString *out)
{
	const struct project_params *pp = &proj->params;

	g_string_append_printf(out, "project %s: %s, scan_type=%s", pp->name,
			       proj->started ? "started" : "stopped", scan_type_name(pp->scan_type));
	if (pp->scan_type == SCAN_TYPE_REGION)
		g_string_append_printf(out, " sample_interval=%lu aggr_interval=%lu update_interval=%lu"
				       " nr_regions=%lu..%lu interval=%u", pp->damon.sample_us,
				       pp->damon.aggr_us, pp->damon.update_us,
				       pp->damon.min_nr_regions, pp->damon.max_nr_regions,
				       pp->interval_s);
	else if (pp->scan_type == SCAN_TYPE_PSI)
		g_string_append_printf(out, " interval=%u", pp->interval_s);
	else
		g_string_append_printf(out, " loop=%u interval=%u sleep=%u", pp->loop,
				       pp->interval_s, pp->sleep_s);
	if (pp->sysmem_threshold >= 0)
		g_string_append_printf(out, " sysmem_threshold=%d", pp->sysmem_threshold);
	if (pp->swapcache_high_pct)
		g_string_append_printf(out, " swapcache_wmark=%u..%u", pp->swapcache_low_pct,
				       pp->swapcache_high_pct);
	if (pp->kernel_swap_off)
		g_string_append(out, " kernel_swap=off");
	g_string_append_c(out, '\n');
	if (*proj->swapcache_note)
		g_string_append_printf(out, "  swapcache: %s\n", proj->swapcache_note);
	if (*proj->swapcache_reclaim_note)
		g_string_append_printf(out, "  swapcache reclaim: %s\n",
				       proj->swapcache_reclaim_note);
	show_kswap_text(proj, out);
	g_string_append_printf(out, "  %-6s %-5s %-15s %-20s %-10s %-7s %-6s %-10s %-10s %-12s %s\n",
			       "number", "type", "value", "name", "engine", "started", "procs",
			       "scanned", "cold", "paged_out_B", "last_cycle");
	for (GList *e = proj->engines; e; e = e->next)
		for (GList *t = ((struct engine *)e->data)->tasks; t; t = t->next)
			show_task_text(t->data, out);
}

int project_show(const char *name, bool json, GString *reply)
{
	GList *list = projects_all(), *one = NULL;
	struct project *proj;

	if (name && *name) {
		proj = project_find(name);
		if (!proj) {
			g_string_printf(reply, "project '%s' does not exist", name);
			return -ENOENT;
		}
		one = g_list_append(NULL, proj);
		list = one;
	}
	if (json)
		g_string_append(reply, "{\"projects\":[");
	for (GList *l = list; l; l = l->next) {
		if (json) {
			g_string_append(reply, l == list ? "" : ",");
			show_project_json(l->data, reply);
		} else {
			show_project_text(l->data, reply);
		}
	}
	if (json)
		g_string_append(reply, "]}\n");
	else if (!list)
		g_string_append(reply, "no projects\n");
	g_list_free(one);
	return 0;
}
