// SPDX-License-Identifier: GPL-2.0
/*
 * "project show": text for people, JSON (-j) for programs, from the same
 * calls (etmem_out.h). Besides the last cycle's figures, each task shows
 * its history since it started: sums, errors, cycle durations.
 */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <string.h>

#include "engine.h"
#include "etmem_kswap.h"
#include "etmem_out.h"
#include "objects.h"
#include "report.h"

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

/* The kept reasons as one JSON object, or "1.0 MiB no_swap, ..." in text. */
static void show_kept(struct etmem_out *out, const char *key, const char *label,
		      const struct task_counts *c)
{
	bool any = false;

	/* Without a label the figures are for JSON only (the totals). */
	etmem_out_open_object(out, key);
	for (int i = 0; i < __TASK_KEPT_CNT; i++) {
		if (!label) {
			etmem_out_size(out, task_kept_name(i), NULL, c->bytes_kept[i]);
			continue;
		}
		if (!etmem_out_is_json(out) && !c->bytes_kept[i])
			continue;
		etmem_out_text(out, "%s", any ? ", " : label);
		etmem_out_size(out, task_kept_name(i), "%s ", c->bytes_kept[i]);
		etmem_out_text(out, "%s", task_kept_name(i));
		any = true;
	}
	etmem_out_close_object(out);
	if (any)
		etmem_out_text(out, "\n");
}

static void show_counts(struct etmem_out *out, const struct task_counts *c)
{
	etmem_out_uint(out, "pages_scanned", NULL, c->pages_scanned);
	etmem_out_uint(out, "pages_cold", NULL, c->pages_cold);
	etmem_out_uint(out, "pages_cold_held", NULL, c->pages_cold_held);
	etmem_out_size(out, "bytes_paged_out", NULL, c->bytes_paged_out);
	etmem_out_size(out, "bytes_gone", NULL, c->bytes_gone);
	show_kept(out, "bytes_kept", NULL, c);
}

static void show_task(struct etmem_out *out, const struct task *task)
{
	const struct task_stats *st = &task->stats;
	char when[32];

	time_text(st->last_cycle_end, when, sizeof(when));
	etmem_out_open_object(out, NULL);
	etmem_out_uint(out, "number", "  %-6" PRIu64, task->number);
	etmem_out_str(out, "type", " %-5s", task_type_name(task->type));
	etmem_out_str(out, "value", " %-15s", task->value);
	etmem_out_str(out, "name", " %-20s", task->name);
	etmem_out_str(out, "engine", " %-10s", task->engine->name);
	etmem_out_bool(out, "started", " %-7s", task->started);
	etmem_out_uint(out, "processes", " %-6" PRIu64, st->nr_procs);
	etmem_out_uint(out, "pages_scanned", " %-10" PRIu64, st->pages_scanned);
	etmem_out_uint(out, "pages_cold", " %-10" PRIu64, st->pages_cold);
	etmem_out_size(out, "bytes_paged_out", " %-12s", st->bytes_paged_out);
	etmem_out_str(out, "last_cycle", " %s\n", when);
	etmem_out_str(out, "state", "         state: %s", task_state_text(task));
	etmem_out_uint(out, "cycles", ", cycles: %" PRIu64, st->nr_cycles);
	etmem_out_size(out, "bytes_paged_out_last_cycle", ", paged out last cycle: %s",
		       st->bytes_paged_out_last);
	if (st->last.bytes_gone || etmem_out_is_json(out))
		etmem_out_size(out, "bytes_gone_last_cycle", ", already gone from RAM: %s",
			       st->last.bytes_gone);
	if (st->last.pages_cold_held || etmem_out_is_json(out))
		etmem_out_uint(out, "pages_cold_held_last_cycle",
			       ", cold pages held back: %" PRIu64, st->last.pages_cold_held);
	etmem_out_text(out, "\n");
	if (st->failing || etmem_out_is_json(out))
		etmem_out_str(out, "error", "         error: %s\n", st->failing ? st->error : "");
	show_kept(out, "bytes_kept_last_cycle", "         kept in RAM last cycle: ", &st->last);
	etmem_out_open_object(out, "total");
	show_counts(out, &st->total);
	etmem_out_close_object(out);
	etmem_out_uint(out, "errors", NULL, st->nr_errors);
	etmem_out_uint(out, "cycle_ms_median", NULL, task_duration_median(st));
	etmem_out_uint(out, "cycle_ms_max", NULL, st->duration_ms_max);
	if (task->engine->ops->show_task) {
		etmem_out_text(out, "         ");
		task->engine->ops->show_task(task, out);
		etmem_out_text(out, "\n");
	}
	if (*st->note || etmem_out_is_json(out))
		etmem_out_str(out, "note", "         note: %s\n", st->note);
	etmem_out_close_object(out);
}

/* The kernel swap switch as it is now (one switch for the whole system). */
static void show_kswap(struct etmem_out *out, const struct project *proj)
{
	bool json = etmem_out_is_json(out);
	struct etmem_kswap_state st;
	char err[256];

	etmem_out_str(out, "kernel_swap", NULL, proj->params.kernel_swap_off ? "off" : "on");
	if (!json && !proj->params.kernel_swap_off)
		return;
	if (!json && *proj->kswap_note) {
		etmem_out_text(out, "  kernel swap: could not be switched off: %s\n",
			       proj->kswap_note);
		return;
	}
	etmem_out_open_object(out, "kernel_swap_state");
	if (etmem_kswap_get(&st, err, sizeof(err))) {
		etmem_out_str(out, "error", "  kernel swap: %s\n", err);
		etmem_out_close_object(out);
		return;
	}
	etmem_out_bool(out, "off", NULL, st.off);
	etmem_out_str(out, "owner", NULL, st.owner == ETMEM_KSWAP_OWNER_DAEMON ? "etmemd" :
		      st.owner == ETMEM_KSWAP_OWNER_CLI ? "etmem" : "none");
	etmem_out_int(out, "swappiness", NULL, st.swappiness);
	etmem_out_int(out, "saved_swappiness", NULL, st.saved);
	etmem_out_bool(out, "mglru", NULL, st.mglru);
	etmem_out_close_object(out);
	if (json)
		return;
	if (!st.off)
		etmem_out_text(out, "  kernel swap: on (kernel_swap=off applies while started)\n");
	else
		etmem_out_text(out, "  kernel swap: %s, vm.swappiness %d (%d restored when on)%s\n",
			       etmem_kswap_owner_name(st.owner), st.swappiness, st.saved,
			       st.mglru ? "; MGLRU: the kernel never reclaims anonymous memory now" : "");
}

/* DAMON's monitoring attributes of a region or auto project. */
static void show_damon_attrs(struct etmem_out *out, const struct damon_attrs *da)
{
	etmem_out_uint(out, "sample_interval", " sample_interval=%" PRIu64, da->sample_us);
	etmem_out_uint(out, "aggr_interval", " aggr_interval=%" PRIu64, da->aggr_us);
	etmem_out_uint(out, "update_interval", " update_interval=%" PRIu64, da->update_us);
	etmem_out_uint(out, "min_nr_regions", " nr_regions=%" PRIu64, da->min_nr_regions);
	etmem_out_uint(out, "max_nr_regions", "..%" PRIu64, da->max_nr_regions);
}

/* scan_type=auto: which scan project start chose, and why. */
static void show_scan_choice(struct etmem_out *out, const struct project *proj)
{
	const char *scan = proj->scan_chosen == SCAN_TYPE_PAGE ? "page" :
			   proj->scan_chosen == SCAN_TYPE_REGION ? "damon" : "";

	if (proj->started) {
		etmem_out_str(out, "scan", "  scan: %s", scan);
		etmem_out_str(out, "scan_reason", " (%s)", proj->scan_reason);
		if (proj->scan_chosen == SCAN_TYPE_REGION)
			etmem_out_text(out, "; sleep%s and max_threads do not apply",
				       proj->params.sleep_max_s != proj->params.sleep_s ?
				       ", sleep_max" : "");
		etmem_out_text(out, "\n");
	} else if (*proj->scan_reason) {
		etmem_out_str(out, "scan", "  scan: none", scan);
		etmem_out_str(out, "scan_reason", " (start failed: %s)\n", proj->scan_reason);
	} else {
		etmem_out_str(out, "scan", "  scan: chosen at project start\n", scan);
		etmem_out_str(out, "scan_reason", NULL, "");
	}
}

static void show_project(struct etmem_out *out, const struct project *proj)
{
	const struct project_params *pp = &proj->params;
	bool json = etmem_out_is_json(out);

	etmem_out_open_object(out, NULL);
	etmem_out_str(out, "name", "project %s:", pp->name);
	etmem_out_str(out, "state", " %s,", proj->started ? "started" : "stopped");
	etmem_out_bool(out, "started", NULL, proj->started);
	etmem_out_str(out, "scan_type", " scan_type=%s", scan_type_name(pp->scan_type));
	if (pp->scan_type == SCAN_TYPE_REGION) {
		show_damon_attrs(out, &pp->damon);
		etmem_out_uint(out, "interval", " interval=%" PRIu64, pp->interval_s);
	} else if (pp->scan_type == SCAN_TYPE_PSI) {
		etmem_out_uint(out, "interval", " interval=%" PRIu64, pp->interval_s);
	} else {
		etmem_out_uint(out, "loop", " loop=%" PRIu64, pp->loop);
		etmem_out_uint(out, "interval", " interval=%" PRIu64, pp->interval_s);
		etmem_out_uint(out, "sleep", " sleep=%" PRIu64, pp->sleep_s);
		if (pp->sleep_max_s != pp->sleep_s || json)
			etmem_out_uint(out, "sleep_max", " sleep_max=%" PRIu64, pp->sleep_max_s);
		if (pp->scan_type == SCAN_TYPE_AUTO)
			show_damon_attrs(out, &pp->damon);
	}
	if (pp->sysmem_threshold >= 0 || json)
		etmem_out_int(out, "sysmem_threshold", " sysmem_threshold=%" PRId64,
			      pp->sysmem_threshold);
	if (json) {
		etmem_out_uint(out, "swapcache_low_wmark", NULL, pp->swapcache_low_pct);
		etmem_out_uint(out, "swapcache_high_wmark", NULL, pp->swapcache_high_pct);
	} else if (pp->swapcache_high_pct) {
		etmem_out_text(out, " swapcache_wmark=%u..%u", pp->swapcache_low_pct,
			       pp->swapcache_high_pct);
	}
	if (pp->kernel_swap_off)
		etmem_out_text(out, " kernel_swap=off");
	etmem_out_text(out, "\n");
	if (pp->scan_type == SCAN_TYPE_AUTO)
		show_scan_choice(out, proj);
	if (*proj->swapcache_note || json)
		etmem_out_str(out, "swapcache", "  swapcache: %s\n", proj->swapcache_note);
	if (*proj->swapcache_reclaim_note || json)
		etmem_out_str(out, "swapcache_reclaim", "  swapcache reclaim: %s\n",
			      proj->swapcache_reclaim_note);
	show_kswap(out, proj);
	etmem_out_open_array(out, "engines");
	for (GList *e = proj->engines; e; e = e->next)
		etmem_out_str(out, NULL, NULL, ((struct engine *)e->data)->name);
	etmem_out_close_array(out);
	etmem_out_text(out, "  %-6s %-5s %-15s %-20s %-10s %-7s %-6s %-10s %-10s %-12s %s\n",
		       "number", "type", "value", "name", "engine", "started", "procs",
		       "scanned", "cold", "paged_out", "last_cycle");
	etmem_out_open_array(out, "tasks");
	for (GList *e = proj->engines; e; e = e->next)
		for (GList *t = ((struct engine *)e->data)->tasks; t; t = t->next)
			show_task(out, t->data);
	etmem_out_close_array(out);
	etmem_out_close_object(out);
}

int project_show(const char *name, bool json, GString *reply)
{
	GList *list = projects_all(), *one = NULL;
	struct etmem_out *out;
	struct project *proj;
	char *text;

	if (name && *name) {
		proj = project_find(name);
		if (!proj) {
			g_string_printf(reply, "project '%s' does not exist", name);
			return -ENOENT;
		}
		one = g_list_append(NULL, proj);
		list = one;
	}
	out = etmem_out_new(json);
	etmem_out_open_array(out, "projects");
	for (GList *l = list; l; l = l->next)
		show_project(out, l->data);
	etmem_out_close_array(out);
	if (!list)
		etmem_out_text(out, "no projects\n");
	text = etmem_out_finish(out);
	g_string_append(reply, text);
	g_free(text);
	g_list_free(one);
	return 0;
}
