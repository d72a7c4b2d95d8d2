// SPDX-License-Identifier: GPL-2.0
/*
 * "obj add" and "obj del": turn a configuration file into projects,
 * engines and tasks. A file is parsed and checked completely against the
 * daemon's state before anything changes, so a failing request changes
 * nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "objects.h"

static GList *projects;		/* struct project *, in order of adding */

GList *projects_all(void)
{
	return projects;
}

const char *task_type_name(enum task_type type)
{
	static const char *const names[] = {
		[TASK_TYPE_PID] = "pid",
		[TASK_TYPE_NAME] = "name",
		[TASK_TYPE_CGROUP] = "cgroup",
	};

	return type <= TASK_TYPE_CGROUP ? names[type] : "?";
}

struct project *project_find(const char *name)
{
	for (GList *l = projects; l; l = l->next) {
		struct project *proj = l->data;

		if (!strcmp(proj->params.name, name))
			return proj;
	}
	return NULL;
}

struct engine *engine_find(struct project *proj, const char *name)
{
	for (GList *l = proj->engines; l; l = l->next) {
		struct engine *eng = l->data;

		if (!strcmp(eng->name, name))
			return eng;
	}
	return NULL;
}

struct task *task_find(struct engine *eng, const char *name)
{
	for (GList *l = eng->tasks; l; l = l->next) {
		struct task *task = l->data;

		if (!strcmp(task->name, name))
			return task;
	}
	return NULL;
}

/* ---- freeing ---- */

static void task_free(struct task *task)
{
	if (task->started)
		task->engine->ops->stop_task(task);
	if (task->params)
		task->engine->ops->free_task(task);
	g_free(task);
}


static void engine_free(struct engine *eng)
{
	g_list_free_full(eng->tasks, (GDestroyNotify)task_free);
	if (eng->ops && eng->ops->free_engine)
		eng->ops->free_engine(eng);
	g_free(eng);
}

static void project_free(struct project *proj)
{
	g_list_free_full(proj->engines, (GDestroyNotify)engine_free);
	g_free(proj);
}

/* project_start() with its reply appended to reply. */
static void project_start_append(const char *name, GString *reply)
{
	GString *out = g_string_new(NULL);

	project_start(name, out);
	g_string_append(reply, out->str);
	if (out->len && out->str[out->len - 1] != '\n')
		g_string_append_c(reply, '\n');
	g_string_free(out, TRUE);
}

/* ---- reading sections ---- */

/* Both spellings the documentation uses: *_wmark and *_vmark. */
static int get_wmark(struct cfg_section *sec, const char *which,
		     unsigned long min, unsigned long max, unsigned long *out,
		     GString *err)
{
	char wkey[32], vkey[32];

	snprintf(wkey, sizeof(wkey), "swapcache_%s_wmark", which);
	snprintf(vkey, sizeof(vkey), "swapcache_%s_vmark", which);
	if (cfg_has_key(sec, wkey) && cfg_has_key(sec, vkey)) {
		cfg_error_prefix(sec, vkey, err);
		g_string_append_printf(err, "give %s or its alias %s, not both", wkey, vkey);
		return -EINVAL;
	}
	return cfg_get_uint(sec, cfg_has_key(sec, vkey) ? vkey : wkey, false,
			    min, max, out, err);
}

static int read_swapcache_wmarks(struct cfg_section *sec,
				 struct project_params *pp, GString *err)
{
	unsigned long high = 0, low = 0;
	int rh, rl;

	rh = get_wmark(sec, "high", 1, 100, &high, err);
	if (rh == -EINVAL)
		return rh;
	if (!rh && high == 1 &&
	    (cfg_has_key(sec, "swapcache_low_wmark") || cfg_has_key(sec, "swapcache_low_vmark"))) {
		/* low must be below high: with high=1 no value fits. */
		const char *lkey = cfg_has_key(sec, "swapcache_low_vmark") ?
				   "swapcache_low_vmark" : "swapcache_low_wmark";

		cfg_consume(sec, lkey);
		cfg_error_prefix(sec, lkey, err);
		g_string_append_printf(err, "%s must be below the high watermark, which is 1: no value fits (raise the high watermark to 2 or more)",
				       lkey);
		return -EINVAL;
	}
	rl = get_wmark(sec, "low", 1, rh ? 99 : high - 1, &low, err);
	if (rl == -EINVAL)
		return rl;
	if (rh != rl) {
		cfg_error_prefix(sec, NULL, err);
		g_string_append_printf(err, "swapcache_%s_wmark given without swapcache_%s_wmark (give both or neither)",
				       rh ? "low" : "high", rh ? "high" : "low");
		return -EINVAL;
	}
	pp->swapcache_high_pct = high;
	pp->swapcache_low_pct = low;
	return 0;
}

static const char *const scan_type_names[] = {
	[SCAN_TYPE_UNSET] = "page",	/* what a file without the key gets */
	[SCAN_TYPE_PAGE] = "page",
	[SCAN_TYPE_REGION] = "region",
	[SCAN_TYPE_PSI] = "psi",
	[SCAN_TYPE_AUTO] = "auto",
};

_Static_assert(G_N_ELEMENTS(scan_type_names) == __SCAN_TYPE_CNT, "one name per scan type");

const char *scan_type_name(enum scan_type type)
{
	return type < __SCAN_TYPE_CNT ? scan_type_names[type] : "?";
}

/*
 * Keys that belong to another scan_type: refused naming the scan_types
 * they need rather than as unknown keys. scan_type=auto reads both the
 * page and the region keys, except the swapcache watermarks (which need
 * the etmem modules; read_auto_keys() refuses them with its reason).
 */
static const struct {
	const char *key;
	enum scan_type type;
	bool auto_too;		/* scan_type=auto takes it too */
} scan_type_keys[] = {
	{ "loop", SCAN_TYPE_PAGE, true },
	{ "sleep", SCAN_TYPE_PAGE, true },
	{ "sleep_max", SCAN_TYPE_PAGE, true },
	{ "sysmem_threshold", SCAN_TYPE_PAGE, true },
	{ "swapcache_high_wmark", SCAN_TYPE_PAGE, false },
	{ "swapcache_low_wmark", SCAN_TYPE_PAGE, false },
	{ "swapcache_high_vmark", SCAN_TYPE_PAGE, false },
	{ "swapcache_low_vmark", SCAN_TYPE_PAGE, false },
	{ "kernel_swap", SCAN_TYPE_PAGE, true },
	{ "sample_interval", SCAN_TYPE_REGION, true },
	{ "aggr_interval", SCAN_TYPE_REGION, true },
	{ "update_interval", SCAN_TYPE_REGION, true },
	{ "min_nr_regions", SCAN_TYPE_REGION, true },
	{ "max_nr_regions", SCAN_TYPE_REGION, true },
};

static int check_scan_type_keys(struct cfg_section *sec, enum scan_type type, GString *err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(scan_type_keys); i++) {
		const char *key = scan_type_keys[i].key;

		if (!cfg_has_key(sec, key) || cfg_is_consumed(sec, key))
			continue;
		cfg_error_prefix(sec, key, err);
		g_string_append_printf(err, "key '%s' belongs to scan_type=%s%s (this project has scan_type=%s)",
				       key, scan_type_names[scan_type_keys[i].type],
				       scan_type_keys[i].auto_too ? " or auto" : "",
				       scan_type_names[type]);
		return -EINVAL;
	}
	return cfg_check_consumed(sec, err);
}

/* kernel_swap=on leaves the switch alone; off switches it off while started. */
static const char *const kernel_swap_choices[] = { "on", "off", NULL };

/* loop, interval, sleep, the memory thresholds and kernel_swap of scan_type=page. */
static int read_page_keys(struct cfg_section *sec, struct project_params *pp, GString *err)
{
	unsigned int kswap = 0;
	unsigned long loop, interval, sleep_s, sleep_max, sysmem = 0;
	int ret;

	if (cfg_get_uint(sec, "loop", true, 1, 120, &loop, err) ||
	    cfg_get_uint(sec, "interval", true, 1, 1200, &interval, err) ||
	    cfg_get_uint(sec, "sleep", true, 1, 1200, &sleep_s, err))
		return -EINVAL;
	sleep_max = sleep_s;
	if (cfg_get_uint(sec, "sleep_max", false, sleep_s, 1200, &sleep_max, err) == -EINVAL)
		return -EINVAL;
	ret = cfg_get_uint(sec, "sysmem_threshold", false, 0, 100, &sysmem, err);
	if (ret == -EINVAL)
		return ret;
	if (!ret)
		pp->sysmem_threshold = sysmem;
	if (read_swapcache_wmarks(sec, pp, err))
		return -EINVAL;
	ret = cfg_get_choice(sec, "kernel_swap", false, kernel_swap_choices, &kswap, err);
	if (ret == -EINVAL)
		return ret;
	pp->kernel_swap_off = !ret && kswap == 1;
	pp->loop = loop;
	pp->interval_s = interval;
	pp->sleep_s = sleep_s;
	pp->sleep_max_s = sleep_max;
	return 0;
}

#define USEC_MAX	60000000UL	/* one minute */

/* DAMON's monitoring attributes, microseconds; all optional. */
static int read_region_keys(struct cfg_section *sec, struct project_params *pp, GString *err)
{
	struct damon_attrs *da = &pp->damon;

	/* DAMON's own defaults. */
	da->sample_us = 5000;
	da->aggr_us = 100000;
	da->update_us = 1000000;
	da->min_nr_regions = 10;
	da->max_nr_regions = 1000;
	if (cfg_get_uint(sec, "sample_interval", false, 1, USEC_MAX, &da->sample_us, err) == -EINVAL ||
	    cfg_get_uint(sec, "aggr_interval", false, da->sample_us, USEC_MAX, &da->aggr_us,
			 err) == -EINVAL ||
	    cfg_get_uint(sec, "update_interval", false, 1, USEC_MAX, &da->update_us, err) == -EINVAL ||
	    cfg_get_uint(sec, "min_nr_regions", false, 3, 1000000, &da->min_nr_regions,
			 err) == -EINVAL ||
	    cfg_get_uint(sec, "max_nr_regions", false, da->min_nr_regions, 1000000,
			 &da->max_nr_regions, err) == -EINVAL)
		return -EINVAL;
	return 0;
}

/* Keys that need the etmem modules, which scan_type=auto may run without. */
static const char *const auto_refused_keys[] = {
	"swapcache_high_wmark", "swapcache_low_wmark",
	"swapcache_high_vmark", "swapcache_low_vmark",
};

/*
 * scan_type=auto: the page keys (the page-table scan may run) and DAMON's
 * attributes with their defaults (it may monitor instead); the slide
 * engine turns loop, interval and its T into a DAMOS access pattern.
 */
static int read_auto_keys(struct cfg_section *sec, struct project_params *pp, GString *err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(auto_refused_keys); i++) {
		if (!cfg_has_key(sec, auto_refused_keys[i]))
			continue;
		cfg_error_prefix(sec, auto_refused_keys[i], err);
		g_string_append_printf(err, "key '%s' needs the etmem modules' swapcache reclaim, and scan_type=auto "
				       "runs the damon engine where they are not loaded (use scan_type=page to keep it)",
				       auto_refused_keys[i]);
		return -EINVAL;
	}
	return read_page_keys(sec, pp, err) || read_region_keys(sec, pp, err) ? -EINVAL : 0;
}

static int read_project(struct cfg_section *sec, struct project **out, GString *err)
{
	/* In the order of enum scan_type from SCAN_TYPE_PAGE. */
	static const char *const choices[] = { "page", "region", "psi", "auto", NULL };
	struct project *proj = g_new0(struct project, 1);
	struct project_params *pp = &proj->params;
	unsigned long interval = 1;
	unsigned int type;
	int ret;

	pp->sysmem_threshold = -1;
	if (cfg_get_name(sec, "name", true, pp->name, err) ||
	    cfg_get_bool(sec, "autostart", false, &pp->autostart, err) == -EINVAL)
		goto free_project;
	ret = cfg_get_choice(sec, "scan_type", false, choices, &type, err);
	if (ret == -EINVAL)
		goto free_project;
	pp->scan_type = ret ? SCAN_TYPE_UNSET : SCAN_TYPE_PAGE + type;
	if (pp->scan_type == SCAN_TYPE_UNSET || pp->scan_type == SCAN_TYPE_PAGE) {
		ret = read_page_keys(sec, pp, err);
	} else if (pp->scan_type == SCAN_TYPE_AUTO) {
		ret = read_auto_keys(sec, pp, err);
	} else {
		/* region and psi: interval is the time between checks. */
		ret = pp->scan_type == SCAN_TYPE_REGION ? read_region_keys(sec, pp, err) : 0;
		if (!ret && cfg_get_uint(sec, "interval", false, 1, 1200, &interval, err) == -EINVAL)
			ret = -EINVAL;
		pp->interval_s = interval;
		pp->loop = pp->sleep_s = pp->sleep_max_s = 1;
	}
	if (ret || check_scan_type_keys(sec, pp->scan_type, err))
		goto free_project;
	proj->next_task_number = 1;
	*out = proj;
	return 0;

free_project:
	g_free(proj);
	return -EINVAL;
}

static int read_engine(struct cfg_section *sec, char *project,
		       struct engine **out, GString *err)
{
	struct engine *eng = g_new0(struct engine, 1);
	unsigned int idx;

	if (cfg_get_name(sec, "project", true, project, err) ||
	    cfg_get_choice(sec, "name", true, engine_names, &idx, err))
		goto free_engine;
	strcpy(eng->name, engine_names[idx]);
	/* Every name of engine_names has its ops (engine.c checks that). */
	eng->ops = engine_ops_find(eng->name);
	if (eng->ops->parse_engine && eng->ops->parse_engine(sec, eng, err))
		goto free_engine;
	if (cfg_check_consumed(sec, err))
		goto free_engine;
	*out = eng;
	return 0;

free_engine:
	if (eng->ops && eng->ops->free_engine)
		eng->ops->free_engine(eng);
	g_free(eng);
	return -EINVAL;
}

/*
 * The keys every task has; the engine reads the rest later. type and value
 * are checked once the engine is known (a psi task has neither).
 */
static int read_task_common(struct cfg_section *sec, char *project, char *engine,
			    struct task *task, GString *err)
{
	static const char *const types[] = { "pid", "name", NULL };
	unsigned int type;
	char value[256];
	char *end;
	long pid;
	int ret;

	if (cfg_get_name(sec, "project", true, project, err) ||
	    cfg_get_name(sec, "engine", true, engine, err) ||
	    cfg_get_name(sec, "name", true, task->name, err))
		return -EINVAL;
	task->type = TASK_TYPE_CGROUP;
	if (!cfg_has_key(sec, "type") && !cfg_has_key(sec, "value"))
		return 0;
	if (cfg_get_choice(sec, "type", true, types, &type, err))
		return -EINVAL;
	ret = cfg_get_string(sec, "value", true, sizeof(value) - 1, value, err);
	if (ret)
		return -EINVAL;
	task->type = type;
	if (type == TASK_TYPE_PID) {
		pid = strtol(value, &end, 10);
		if (value[0] < '1' || value[0] > '9' || *end || pid > 4194304) {
			cfg_error_prefix(sec, "value", err);
			g_string_append_printf(err, "value='%s' is not a pid (type=pid wants an integer in 1..4194304)",
					       value);
			return -EINVAL;
		}
		task->pid = pid;
	} else if (!cfg_valid_comm(value)) {
		cfg_error_prefix(sec, "value", err);
		g_string_append_printf(err, "value='%s' is not a process name (1 to %d characters of A-Z a-z 0-9 . / %% - _)",
				       value, CFG_COMM_MAX);
		return -EINVAL;
	}
	strcpy(task->value, value);
	return 0;
}

/* type and value against the engine: processes, or cgroups (psi). */
static int check_task_kind(struct cfg_section *sec, struct task *task,
			   const struct engine_ops *ops, GString *err)
{
	if (ops->cgroup_tasks && task->type != TASK_TYPE_CGROUP) {
		cfg_error_prefix(sec, "type", err);
		g_string_append_printf(err, "keys 'type' and 'value' do not apply to engine %s (its tasks name cgroups with cg_dir)",
				       ops->name);
		return -EINVAL;
	}
	if (!ops->cgroup_tasks && task->type == TASK_TYPE_CGROUP) {
		cfg_error_prefix(sec, NULL, err);
		g_string_append(err, "missing required key 'type'");
		return -EINVAL;
	}
	return 0;
}

/* ---- one file's objects, checked before anything changes ---- */

struct pending_project {
	struct project *proj;
	struct cfg_section *sec;
};

struct pending_engine {
	struct engine *eng;
	char project[CFG_NAME_SIZE];
	struct cfg_section *sec;
};

struct pending_task {
	struct task *task;
	char project[CFG_NAME_SIZE];
	char engine[CFG_NAME_SIZE];
	struct cfg_section *sec;
};

struct pending {
	GPtrArray *projects;	/* struct pending_project * */
	GPtrArray *engines;	/* struct pending_engine * */
	GPtrArray *tasks;	/* struct pending_task * */
	/*
	 * While a file's new version is checked before its old one is
	 * deleted: the old version, whose objects the checks treat as gone.
	 */
	struct pending *replacing;
};

static void pending_init(struct pending *p)
{
	p->projects = g_ptr_array_new_with_free_func(g_free);
	p->engines = g_ptr_array_new_with_free_func(g_free);
	p->tasks = g_ptr_array_new_with_free_func(g_free);
	p->replacing = NULL;
}

/* Frees the objects too unless they were applied (moved into the registry). */
static void pending_free(struct pending *p, bool free_objects)
{
	if (free_objects) {
		for (guint i = 0; i < p->tasks->len; i++) {
			struct pending_task *pt = p->tasks->pdata[i];

			if (pt->task->params)
				pt->task->engine->ops->free_task(pt->task);
			g_free(pt->task);
		}
		for (guint i = 0; i < p->engines->len; i++)
			engine_free(((struct pending_engine *)p->engines->pdata[i])->eng);
		for (guint i = 0; i < p->projects->len; i++)
			project_free(((struct pending_project *)p->projects->pdata[i])->proj);
	}
	g_ptr_array_free(p->projects, TRUE);
	g_ptr_array_free(p->engines, TRUE);
	g_ptr_array_free(p->tasks, TRUE);
}

static int read_section(struct cfg_section *sec, struct pending *p, GString *err)
{
	struct pending_project *pp;
	struct pending_engine *pe;
	struct pending_task *pt;

	switch (sec->group) {
	case CFG_GROUP_PROJECT:
		pp = g_new0(struct pending_project, 1);
		pp->sec = sec;
		if (read_project(sec, &pp->proj, err)) {
			g_free(pp);
			return -EINVAL;
		}
		g_ptr_array_add(p->projects, pp);
		return 0;
	case CFG_GROUP_ENGINE:
		pe = g_new0(struct pending_engine, 1);
		pe->sec = sec;
		if (read_engine(sec, pe->project, &pe->eng, err)) {
			g_free(pe);
			return -EINVAL;
		}
		g_ptr_array_add(p->engines, pe);
		return 0;
	default:
		pt = g_new0(struct pending_task, 1);
		pt->sec = sec;
		pt->task = g_new0(struct task, 1);
		if (read_task_common(sec, pt->project, pt->engine, pt->task, err)) {
			g_free(pt->task);
			g_free(pt);
			return -EINVAL;
		}
		g_ptr_array_add(p->tasks, pt);
		return 0;
	}
}

static struct pending_project *pending_project_find(struct pending *p, const char *name)
{
	for (guint i = 0; i < p->projects->len; i++) {
		struct pending_project *pp = p->projects->pdata[i];

		if (!strcmp(pp->proj->params.name, name))
			return pp;
	}
	return NULL;
}

static struct pending_engine *pending_engine_find(struct pending *p, const char *project,
						  const char *name)
{
	for (guint i = 0; i < p->engines->len; i++) {
		struct pending_engine *pe = p->engines->pdata[i];

		if (!strcmp(pe->project, project) && !strcmp(pe->eng->name, name))
			return pe;
	}
	return NULL;
}

static unsigned int key_line(struct cfg_section *sec, const char *key)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(sec->key_lines, key));
}

/*
 * Would deleting the old version being replaced (p->replacing) remove
 * this project, engine (@engine not NULL) or task (@task not NULL)? A
 * project goes with everything in it, an engine with its tasks.
 */
static bool goes_with_old(struct pending *p, const char *project, const char *engine,
			  const char *task)
{
	struct pending *old = p->replacing;

	if (!old)
		return false;
	if (pending_project_find(old, project))
		return true;
	if (!engine)
		return false;
	if (pending_engine_find(old, project, engine))
		return true;
	if (!task)
		return false;
	for (guint i = 0; i < old->tasks->len; i++) {
		struct pending_task *pt = old->tasks->pdata[i];

		if (!strcmp(pt->project, project) && !strcmp(pt->engine, engine) &&
		    !strcmp(pt->task->name, task))
			return true;
	}
	return false;
}

/* The daemon's objects as the checks see them (see goes_with_old()). */
static struct project *live_project(struct pending *p, const char *name)
{
	return goes_with_old(p, name, NULL, NULL) ? NULL : project_find(name);
}

static struct engine *live_engine(struct pending *p, struct project *proj, const char *project,
				  const char *name)
{
	return goes_with_old(p, project, name, NULL) ? NULL : engine_find(proj, name);
}

static struct task *live_task(struct pending *p, struct engine *eng, const char *project,
			      const char *engine, const char *name)
{
	return goes_with_old(p, project, engine, name) ? NULL : task_find(eng, name);
}

/* Projects for add: new, and not twice in the file. */
static int check_new_projects(struct pending *p, GString *err)
{
	for (guint i = 0; i < p->projects->len; i++) {
		struct pending_project *pp = p->projects->pdata[i];
		const char *name = pp->proj->params.name;
		struct pending_project *first = pending_project_find(p, name);

		if (first != pp) {
			cfg_error_prefix(pp->sec, "name", err);
			g_string_append_printf(err, "project '%s' is defined twice in this file (first on line %u)",
					       name, key_line(first->sec, "name"));
			return -EEXIST;
		}
		if (live_project(p, name)) {
			cfg_error_prefix(pp->sec, "name", err);
			g_string_append_printf(err, "project '%s' already exists", name);
			return -EEXIST;
		}
	}
	return 0;
}

static int check_new_engines(struct pending *p, GString *err)
{
	for (guint i = 0; i < p->engines->len; i++) {
		struct pending_engine *pe = p->engines->pdata[i];
		struct pending_project *pp = pending_project_find(p, pe->project);
		struct project *proj = pp ? pp->proj : live_project(p, pe->project);

		if (!proj) {
			cfg_error_prefix(pe->sec, "project", err);
			g_string_append_printf(err, "project '%s' does not exist (add its [project] first)",
					       pe->project);
			return -ENOENT;
		}
		if (pending_engine_find(p, pe->project, pe->eng->name) != pe ||
		    live_engine(p, proj, pe->project, pe->eng->name)) {
			cfg_error_prefix(pe->sec, "name", err);
			g_string_append_printf(err, "engine '%s' already exists in project '%s'",
					       pe->eng->name, pe->project);
			return -EEXIST;
		}
		if (!(pe->eng->ops->scan_types & (1u << proj->params.scan_type))) {
			cfg_error_prefix(pe->sec, "name", err);
			g_string_append_printf(err, "engine '%s' does not work with scan_type=%s of project '%s' (",
					       pe->eng->ops->name, scan_type_name(proj->params.scan_type),
					       pe->project);
			engine_scan_types_text(pe->eng->ops, err);
			g_string_append(err, ")");
			return -EINVAL;
		}
		pe->eng->project = proj;
	}
	return 0;
}

static bool pending_task_dup(struct pending *p, struct pending_task *pt)
{
	for (guint i = 0; i < p->tasks->len; i++) {
		struct pending_task *other = p->tasks->pdata[i];

		if (other == pt)
			return false;
		if (!strcmp(other->project, pt->project) &&
		    !strcmp(other->engine, pt->engine) &&
		    !strcmp(other->task->name, pt->task->name))
			return true;
	}
	return false;
}

/* Finds the task's engine (in the file or the daemon) and lets it parse. */
static int check_new_tasks(struct pending *p, GString *err)
{
	for (guint i = 0; i < p->tasks->len; i++) {
		struct pending_task *pt = p->tasks->pdata[i];
		struct pending_project *pp = pending_project_find(p, pt->project);
		struct project *proj = pp ? pp->proj : live_project(p, pt->project);
		struct pending_engine *pe;
		struct engine *eng;

		if (!proj) {
			cfg_error_prefix(pt->sec, "project", err);
			g_string_append_printf(err, "project '%s' does not exist (add its [project] first)",
					       pt->project);
			return -ENOENT;
		}
		pe = pending_engine_find(p, pt->project, pt->engine);
		eng = pe ? pe->eng : (pp ? NULL : live_engine(p, proj, pt->project, pt->engine));
		if (!eng) {
			cfg_error_prefix(pt->sec, "engine", err);
			g_string_append_printf(err, "engine '%s' does not exist in project '%s' (add its [engine] first)",
					       pt->engine, pt->project);
			return -ENOENT;
		}
		if (pending_task_dup(p, pt) ||
		    live_task(p, eng, pt->project, pt->engine, pt->task->name)) {
			cfg_error_prefix(pt->sec, "name", err);
			g_string_append_printf(err, "task '%s' already exists in engine '%s' of project '%s'",
					       pt->task->name, pt->engine, pt->project);
			return -EEXIST;
		}
		pt->task->engine = eng;
		if (check_task_kind(pt->sec, pt->task, eng->ops, err) ||
		    eng->ops->parse_task(pt->sec, &proj->params, pt->task, err) ||
		    cfg_check_consumed(pt->sec, err))
			return -EINVAL;
	}
	return 0;
}

static int read_file(const char *path, const char *text, size_t len,
		     struct cfg_file **file, struct pending *p, GString *err)
{
	int ret = cfg_file_parse(path, text, len, file, err);

	if (ret)
		return ret;
	pending_init(p);
	for (guint i = 0; i < (*file)->sections->len && !ret; i++)
		ret = read_section((*file)->sections->pdata[i], p, err);
	return ret;
}

static void apply_add(struct pending *p, GString *reply)
{
	for (guint i = 0; i < p->projects->len; i++) {
		struct project *proj = ((struct pending_project *)p->projects->pdata[i])->proj;

		projects = g_list_append(projects, proj);
		g_string_append_printf(reply, "added project %s\n", proj->params.name);
	}
	for (guint i = 0; i < p->engines->len; i++) {
		struct engine *eng = ((struct pending_engine *)p->engines->pdata[i])->eng;

		eng->project->engines = g_list_append(eng->project->engines, eng);
		g_string_append_printf(reply, "added engine %s to project %s\n",
				       eng->name, eng->project->params.name);
	}
	for (guint i = 0; i < p->tasks->len; i++) {
		struct task *task = ((struct pending_task *)p->tasks->pdata[i])->task;
		struct project *proj = task->engine->project;

		task->number = proj->next_task_number++;
		task->engine->tasks = g_list_append(task->engine->tasks, task);
		g_string_append_printf(reply, "added task %s to engine %s of project %s\n",
				       task->name, task->engine->name, proj->params.name);
		/* A task added to a running project runs at once. */
		if (proj->started)
			task_start(task, reply);
	}
	/* autostart=yes: the project starts once its engines and tasks are in. */
	for (guint i = 0; i < p->projects->len; i++) {
		struct project *proj = ((struct pending_project *)p->projects->pdata[i])->proj;

		if (proj->params.autostart && !proj->started)
			project_start_append(proj->params.name, reply);
	}
}

int objects_add(const char *path, const char *text, size_t len, GString *reply)
{
	struct cfg_file *file = NULL;
	struct pending p;
	GString *err = g_string_new(NULL);
	int ret;

	ret = read_file(path, text, len, &file, &p, err);
	if (!ret)
		ret = check_new_projects(&p, err);
	if (!ret)
		ret = check_new_engines(&p, err);
	if (!ret)
		ret = check_new_tasks(&p, err);
	if (ret) {
		g_string_assign(reply, err->str);
	} else {
		apply_add(&p, reply);
		log_info("obj add %s: %u projects, %u engines, %u tasks", path,
			 p.projects->len, p.engines->len, p.tasks->len);
	}
	if (file)
		pending_free(&p, ret != 0);
	cfg_file_free(file);
	g_string_free(err, TRUE);
	return ret;
}

/* ---- obj del ---- */

static int check_existing(struct pending *p, GString *err)
{
	for (guint i = 0; i < p->tasks->len; i++) {
		struct pending_task *pt = p->tasks->pdata[i];
		struct project *proj = project_find(pt->project);
		struct engine *eng = proj ? engine_find(proj, pt->engine) : NULL;

		if (!eng || !task_find(eng, pt->task->name)) {
			cfg_error_prefix(pt->sec, "name", err);
			g_string_append_printf(err, "task '%s' does not exist in engine '%s' of project '%s'",
					       pt->task->name, pt->engine, pt->project);
			return -ENOENT;
		}
	}
	for (guint i = 0; i < p->engines->len; i++) {
		struct pending_engine *pe = p->engines->pdata[i];
		struct project *proj = project_find(pe->project);

		if (!proj || !engine_find(proj, pe->eng->name)) {
			cfg_error_prefix(pe->sec, "name", err);
			g_string_append_printf(err, "engine '%s' does not exist in project '%s'",
					       pe->eng->name, pe->project);
			return -ENOENT;
		}
	}
	for (guint i = 0; i < p->projects->len; i++) {
		struct pending_project *pp = p->projects->pdata[i];

		if (!project_find(pp->proj->params.name)) {
			cfg_error_prefix(pp->sec, "name", err);
			g_string_append_printf(err, "project '%s' does not exist",
					       pp->proj->params.name);
			return -ENOENT;
		}
	}
	return 0;
}

/* Tasks, then engines, then projects; a running object is stopped first. */
static void apply_del(struct pending *p, GString *reply)
{
	for (guint i = p->tasks->len; i-- > 0;) {
		struct pending_task *pt = p->tasks->pdata[i];
		struct engine *eng = engine_find(project_find(pt->project), pt->engine);
		struct task *task = eng ? task_find(eng, pt->task->name) : NULL;

		if (!task)	/* named twice in the file */
			continue;
		eng->tasks = g_list_remove(eng->tasks, task);
		task_free(task);
		g_string_append_printf(reply, "deleted task %s\n", pt->task->name);
	}
	for (guint i = p->engines->len; i-- > 0;) {
		struct pending_engine *pe = p->engines->pdata[i];
		struct project *proj = project_find(pe->project);
		struct engine *eng = proj ? engine_find(proj, pe->eng->name) : NULL;

		if (!eng)
			continue;
		proj->engines = g_list_remove(proj->engines, eng);
		engine_free(eng);
		g_string_append_printf(reply, "deleted engine %s\n", pe->eng->name);
	}
	for (guint i = p->projects->len; i-- > 0;) {
		struct project *proj = project_find(
			((struct pending_project *)p->projects->pdata[i])->proj->params.name);

		if (!proj)
			continue;
		if (proj->started)
			project_swapcache_off(proj);
		projects = g_list_remove(projects, proj);
		g_string_append_printf(reply, "deleted project %s\n", proj->params.name);
		project_free(proj);
	}
}

int objects_del(const char *path, const char *text, size_t len, GString *reply)
{
	struct cfg_file *file = NULL;
	struct pending p;
	GString *err = g_string_new(NULL);
	int ret;

	ret = read_file(path, text, len, &file, &p, err);
	if (!ret)
		ret = check_existing(&p, err);
	if (ret) {
		g_string_assign(reply, err->str);
	} else {
		apply_del(&p, reply);
		log_info("obj del %s: %u projects, %u engines, %u tasks", path,
			 p.projects->len, p.engines->len, p.tasks->len);
	}
	if (file)
		pending_free(&p, true);
	cfg_file_free(file);
	g_string_free(err, TRUE);
	return ret;
}

/* ---- obj check, and the configuration directory ---- */

static int check_add(struct pending *p, GString *err)
{
	int ret = check_new_projects(p, err);

	if (!ret)
		ret = check_new_engines(p, err);
	if (!ret)
		ret = check_new_tasks(p, err);
	return ret;
}

int objects_check(const char *path, const char *text, size_t len, GString *reply)
{
	struct cfg_file *file = NULL;
	struct pending p;
	GString *err = g_string_new(NULL);
	int ret;

	ret = read_file(path, text, len, &file, &p, err);
	if (!ret)
		ret = check_add(&p, err);
	if (ret)
		g_string_assign(reply, err->str);
	else
		g_string_printf(reply, "%s: ok (%u projects, %u engines, %u tasks)\n", path,
				p.projects->len, p.engines->len, p.tasks->len);
	if (file)
		pending_free(&p, true);
	cfg_file_free(file);
	g_string_free(err, TRUE);
	return ret;
}

int objects_remove(const char *path, const char *text, size_t len, GString *reply)
{
	struct cfg_file *file = NULL;
	struct pending p;
	GString *err = g_string_new(NULL);
	int ret;

	ret = read_file(path, text, len, &file, &p, err);
	if (ret)
		g_string_assign(reply, err->str);
	else
		apply_del(&p, reply);
	if (file)
		pending_free(&p, true);
	cfg_file_free(file);
	g_string_free(err, TRUE);
	return ret;
}

int objects_replace(const char *path, const char *old_text, size_t old_len,
		    const char *new_text, size_t new_len, GString *reply)
{
	struct cfg_file *old_file = NULL, *new_file = NULL, *dry_file = NULL;
	struct pending po, pn, pd;
	GPtrArray *was_started = g_ptr_array_new_with_free_func(g_free);
	GString *err = g_string_new(NULL);
	bool old_applied = false;
	int ret;

	/* A file that does not even parse leaves everything as it is. */
	ret = read_file(path, new_text, new_len, &new_file, &pn, err);
	if (ret)
		goto out;
	ret = read_file(path, old_text, old_len, &old_file, &po, err);
	if (ret)
		goto out;
	/*
	 * Check the new version first as if the old one were gone (a copy
	 * of it, freed after): one that would be refused leaves the old
	 * version running untouched, not deleted and restarted.
	 */
	ret = read_file(path, new_text, new_len, &dry_file, &pd, err);
	if (!ret) {
		pd.replacing = &po;
		ret = check_add(&pd, err);
	}
	if (dry_file)
		pending_free(&pd, true);
	cfg_file_free(dry_file);
	if (ret)
		goto out;
	for (guint i = 0; i < po.projects->len; i++) {
		struct pending_project *pp = po.projects->pdata[i];
		struct project *proj = project_find(pp->proj->params.name);

		if (proj && proj->started)
			g_ptr_array_add(was_started, g_strdup(proj->params.name));
	}
	apply_del(&po, reply);
	ret = check_add(&pn, err);
	if (!ret) {
		apply_add(&pn, reply);
		goto out;
	}
	/* Put the old version back, running as it was. */
	pending_free(&po, true);
	cfg_file_free(old_file);
	old_file = NULL;
	if (read_file(path, old_text, old_len, &old_file, &po, reply) || check_add(&po, reply)) {
		log_err("%s: the previous version cannot be restored: %s", path, reply->str);
		goto out;
	}
	apply_add(&po, reply);
	old_applied = true;
	for (guint i = 0; i < was_started->len; i++) {
		struct project *proj = project_find(was_started->pdata[i]);

		if (proj && !proj->started)
			project_start_append(proj->params.name, reply);
	}
out:
	if (ret)
		g_string_assign(reply, err->str);
	if (new_file)
		pending_free(&pn, ret != 0);
	if (old_file)
		pending_free(&po, !old_applied);
	cfg_file_free(new_file);
	cfg_file_free(old_file);
	g_ptr_array_free(was_started, TRUE);
	g_string_free(err, TRUE);
	return ret;
}

void objects_free_all(void)
{
	objects_stop_all();
	g_list_free_full(projects, (GDestroyNotify)project_free);
	projects = NULL;
}
