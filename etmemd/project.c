// SPDX-License-Identifier: GPL-2.0
/*
 * Running objects: project start and stop, the kernel's swapcache
 * watermarks of a started project, engine private commands, shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "damon.h"
#include "engine.h"
#include "etmem_genl.h"
#include "etmem_kswap.h"
#include "kernel.h"
#include "log.h"
#include "objects.h"
#include "swapcache.h"

/* Returns 0, or the engine's error with its reason appended to failures. */
int task_start(struct task *task, GString *failures)
{
	GString *why = g_string_new(NULL);
	int ret = task->engine->ops->start_task(task, why);

	if (ret) {
		log_err("task %s of project %s did not start: %s", task->name,
			task->engine->project->params.name, why->str);
		snprintf(task->stats.note, sizeof(task->stats.note),
			 "start failed: %s", why->str);
		if (failures)
			g_string_append_printf(failures, "task %s did not start: %s\n",
					       task->name, why->str);
		/* Shown as failing (and in the metrics) while its project runs. */
		task->stats.failing = true;
		snprintf(task->stats.error, sizeof(task->stats.error), "start failed: %s",
			 why->str);
	} else {
		task->started = true;
		/* A failure of an earlier run, or of an earlier start, is not this run's. */
		task->stats.failing = false;
		task->stats.error[0] = '\0';
	}
	g_string_free(why, TRUE);
	return ret;
}

/*
 * Set the project's swapcache watermarks and reclaim for them. One
 * project owns the watermarks (the kernel keeps one pair): a second one
 * that asks for them gets an error, not a silent override.
 */
static int project_swapcache_on(struct project *proj, GString *failures)
{
	const struct project_params *pp = &proj->params;
	struct project *owner = swapcache_owner();
	char err[sizeof(proj->swapcache_note)];
	int ret;

	proj->swapcache_reclaim_note[0] = '\0';
	if (!pp->swapcache_high_pct)
		return 0;
	if (owner && owner != proj) {
		snprintf(proj->swapcache_note, sizeof(proj->swapcache_note),
			 "not set: the swapcache watermarks belong to project %s",
			 owner->params.name);
		g_string_append_printf(failures, "  swapcache: %s\n", proj->swapcache_note);
		log_warn("project %s: swapcache watermarks %s", pp->name, proj->swapcache_note);
		return -EBUSY;
	}
	/* The listener first: reclaim is declared on only once somebody does it. */
	ret = swapcache_reclaim_start(proj, err, sizeof(err));
	if (!ret) {
		ret = kernel_swapcache_set(pp->swapcache_low_pct, pp->swapcache_high_pct,
					   true, proj->swapcache_note,
					   sizeof(proj->swapcache_note));
		if (ret) {
			snprintf(err, sizeof(err), "%s", proj->swapcache_note);
			swapcache_reclaim_stop(proj);
		}
	}
	if (ret) {
		snprintf(proj->swapcache_reclaim_note, sizeof(proj->swapcache_reclaim_note),
			 "failing: %s", err);
		g_string_append_printf(failures, "  swapcache: %s\n", err);
		log_warn("project %s: swapcache watermarks: %s", pp->name, err);
	}
	return ret;
}

void project_swapcache_off(struct project *proj)
{
	const struct project_params *pp = &proj->params;

	if (!pp->swapcache_high_pct || swapcache_owner() != proj)
		return;
	swapcache_reclaim_stop(proj);
	kernel_swapcache_set(pp->swapcache_low_pct, pp->swapcache_high_pct,
			     false, proj->swapcache_note, sizeof(proj->swapcache_note));
}

/*
 * kernel_swap=off: the switch goes off when the first such project starts
 * and back on when the last one stops (or etmemd exits), unless somebody
 * else (etmem kswap off) switched it off: then it is theirs to switch on.
 */
static bool kswap_wanted_by_others(const struct project *self)
{
	for (GList *l = projects_all(); l; l = l->next) {
		const struct project *p = l->data;

		if (p != self && p->started && p->params.kernel_swap_off)
			return true;
	}
	return false;
}

static void project_kswap_off(struct project *proj)
{
	proj->kswap_note[0] = '\0';
	if (!proj->params.kernel_swap_off)
		return;
	if (etmem_kswap_set(false, ETMEM_KSWAP_OWNER_DAEMON, proj->kswap_note,
			    sizeof(proj->kswap_note)))
		log_warn("project %s: kernel swap switch not turned off: %s",
			 proj->params.name, proj->kswap_note);
	else
		log_info("project %s: kernel swap switched off (vm.swappiness 0)",
			 proj->params.name);
}

static void project_kswap_on(struct project *proj)
{
	char err[256];
	int restored;

	if (!proj->params.kernel_swap_off || kswap_wanted_by_others(proj))
		return;
	if (etmem_kswap_set_if_owner(true, ETMEM_KSWAP_OWNER_DAEMON, &restored, err,
				     sizeof(err)))
		log_warn("project %s: kernel swap switch not turned back on: %s",
			 proj->params.name, err);
	else if (restored >= 0)
		log_info("project %s: kernel swap switched back on (vm.swappiness %d)",
			 proj->params.name, restored);
}

/**
 * project_kswap_recover() - undo a switch left off by an etmemd that died
 *
 * At start no project runs, so a switch that an earlier etmemd turned off
 * (owner "daemon" in the state file) has nobody to turn it on again.
 */
void project_kswap_recover(void)
{
	char err[256];
	int restored;

	if (etmem_kswap_set_if_owner(true, ETMEM_KSWAP_OWNER_DAEMON, &restored, err,
				     sizeof(err)))
		log_warn("kernel swap switch left off by an earlier etmemd: %s", err);
	else if (restored >= 0)
		log_warn("kernel swap switch was left off by an earlier etmemd that did not exit cleanly: vm.swappiness restored to %d",
			 restored);
}

/*
 * Why the page-table scan cannot run here, into why; false when it can:
 * the etmem family exists and etmem_swap attached its commands (slide
 * pages out through them).
 */
static bool page_scan_missing(GString *why)
{
	struct etmem_client *client;
	struct etmem_status st;
	int ret = etmem_client_open(&client);

	if (ret) {
		g_string_append_printf(why, "etmem modules not loaded: %s", etmem_client_errmsg(NULL));
		return true;
	}
	ret = etmem_status(client, &st);
	if (ret)
		g_string_append_printf(why, "etmem modules not usable: their status request failed: %s",
				       strerror(-ret));
	else if (!st.swap_loaded)
		g_string_append(why, "etmem modules not usable: etmem_scan is loaded, etmem_swap is not (slide pages out through it)");
	etmem_client_close(client);
	return ret || !st.swap_loaded;
}

/*
 * scan_type=auto: the page-table scan when the etmem modules are there,
 * else DAMON's monitoring, else an error naming both. Decided at each
 * start; proj->scan_reason says why for show.
 */
static int project_scan_choose(struct project *proj, GString *reply)
{
	GString *why = g_string_new(NULL);
	int ret = 0;

	proj->scan_chosen = SCAN_TYPE_UNSET;
	if (!page_scan_missing(why)) {
		proj->scan_chosen = SCAN_TYPE_PAGE;
		g_string_assign(why, "etmem modules loaded");
	} else if (damon_sysfs_present()) {
		proj->scan_chosen = SCAN_TYPE_REGION;
		g_string_append(why, "; DAMON's sysfs interface is there");
	} else {
		g_string_append(why, "; and the kernel has no DAMON sysfs interface "
				"(/sys/kernel/mm/damon/admin is missing; it needs CONFIG_DAMON_SYSFS and CONFIG_DAMON_VADDR)");
		g_string_printf(reply, "project %s not started: scan_type=auto needs the etmem modules or DAMON, "
				"and neither is here: %s", proj->params.name, why->str);
		ret = -EOPNOTSUPP;
	}
	snprintf(proj->scan_reason, sizeof(proj->scan_reason), "%s", why->str);
	log_info("project %s: scan_type=auto: %s (%s)", proj->params.name,
		 proj->scan_chosen == SCAN_TYPE_PAGE ? "page-table scan" :
		 proj->scan_chosen == SCAN_TYPE_REGION ? "damon" : "no scan", why->str);
	g_string_free(why, TRUE);
	return ret;
}

static int project_lookup(const char *name, struct project **proj, GString *reply)
{
	if (!name || !*name) {
		g_string_assign(reply, "no project name given (-n NAME)");
		return -EINVAL;
	}
	*proj = project_find(name);
	if (!*proj) {
		g_string_printf(reply, "project '%s' does not exist", name);
		return -ENOENT;
	}
	return 0;
}

static void project_halt(struct project *proj);

int project_start(const char *name, GString *reply)
{
	GString *failures;
	struct project *proj;
	unsigned int nr_tasks = 0, nr_started = 0;
	int ret = project_lookup(name, &proj, reply);

	if (ret)
		return ret;
	if (proj->started) {
		g_string_printf(reply, "project '%s' is already started", name);
		return -EALREADY;
	}
	if (proj->params.scan_type == SCAN_TYPE_AUTO) {
		ret = project_scan_choose(proj, reply);
		if (ret) {
			log_err("%s", reply->str);
			return ret;
		}
	}
	proj->started = true;
	failures = g_string_new(NULL);
	if (project_swapcache_on(proj, failures))
		ret = -EIO;
	project_kswap_off(proj);
	for (GList *e = proj->engines; e; e = e->next) {
		for (GList *t = ((struct engine *)e->data)->tasks; t; t = t->next) {
			nr_tasks++;
			if (!task_start(t->data, failures))
				nr_started++;
			else if (!ret)
				ret = -EIO;
		}
	}
	if (nr_tasks && !nr_started) {
		/* Nothing would run: the project stays as it was, stopped. */
		project_halt(proj);
		log_err("project %s not started: none of its tasks started", name);
		g_string_printf(reply, "project %s not started: none of its tasks started:\n%s", name,
				failures->str);
	} else if (ret) {
		/* The project runs with the tasks that did start. */
		log_info("project %s started, %u of %u tasks", name, nr_started, nr_tasks);
		g_string_printf(reply, "project %s started, but:\n%s", name, failures->str);
	} else {
		log_info("project %s started", name);
		g_string_printf(reply, "project %s started\n", name);
	}
	g_string_free(failures, TRUE);
	return ret;
}

static void project_halt(struct project *proj)
{
	for (GList *e = proj->engines; e; e = e->next) {
		for (GList *t = ((struct engine *)e->data)->tasks; t; t = t->next) {
			struct task *task = t->data;

			if (task->started)
				task->engine->ops->stop_task(task);
			task->started = false;
		}
	}
	project_swapcache_off(proj);
	proj->started = false;
	/* The tasks ran on the scan chosen: it is forgotten only now. */
	proj->scan_chosen = SCAN_TYPE_UNSET;
	proj->scan_reason[0] = '\0';
	project_kswap_on(proj);
}

int project_stop(const char *name, GString *reply)
{
	struct project *proj;
	int ret = project_lookup(name, &proj, reply);

	if (ret)
		return ret;
	if (!proj->started) {
		g_string_printf(reply, "project '%s' is not started", name);
		return -EALREADY;
	}
	project_halt(proj);
	log_info("project %s stopped", name);
	g_string_printf(reply, "project %s stopped\n", name);
	return 0;
}

int engine_command(const char *proj_name, const char *eng_name,
		   const char *task_name, const char *cmd, bool json, GString *reply)
{
	struct project *proj;
	struct engine *eng;
	struct task *task = NULL;
	int ret = project_lookup(proj_name, &proj, reply);

	if (ret)
		return ret;
	eng = eng_name ? engine_find(proj, eng_name) : NULL;
	if (!eng) {
		g_string_printf(reply, "engine '%s' does not exist in project '%s'",
				eng_name ? eng_name : "", proj_name);
		return -ENOENT;
	}
	if (task_name && *task_name) {
		task = task_find(eng, task_name);
		if (!task) {
			g_string_printf(reply, "task '%s' does not exist in engine '%s' of project '%s'",
					task_name, eng_name, proj_name);
			return -ENOENT;
		}
	}
	if (!eng->ops->engine_cmd) {
		g_string_printf(reply, "engine %s has no private command '%s'",
				eng->name, cmd);
		return -EOPNOTSUPP;
	}
	return eng->ops->engine_cmd(eng, task, cmd, json, reply);
}

void objects_stop_all(void)
{
	for (GList *l = projects_all(); l; l = l->next)
		if (((struct project *)l->data)->started)
			project_halt(l->data);
}
