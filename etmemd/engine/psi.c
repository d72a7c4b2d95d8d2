// SPDX-License-Identifier: GPL-2.0
/*
 * The psi engine: proactive reclaim of cgroups, steered by their memory
 * pressure (PSI). It needs no etmem module, only cgroup v2.
 *
 * [project] scan_type=psi, interval (seconds between steps); [engine]
 * name=psi; each [task] names cgroups with cg_dir (a glob, relative to the
 * cgroup v2 mount or absolute under it), the target pressure and the
 * size below which a cgroup is never reclaimed.
 *
 * Every interval, for each cgroup the glob matches now (cgroups appearing
 * and disappearing are followed): pressure is the share of the last
 * interval in which some task of the cgroup stalled on memory (the growth
 * of "some total" in memory.pressure). Under the target, write a step to
 * memory.reclaim (never below limit_min_bytes) and double the step; at or
 * above it, reclaim nothing and halve the step.
 *
 * A step is written in chunks of PSI_CHUNK, memory.current read again
 * after each, and the step ends at limit_min_bytes: older kernels hand a
 * whole memory.reclaim request to one reclaim pass, which can take far more
 * than asked (on Debian's 6.1 a cgroup 27 MiB above limit_min_bytes fell
 * to 36 MiB below it), while a small request stays close to its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etmem_out.h"
#include "budget.h"
#include "procs.h"
#include "engine.h"
#include "log.h"
#include "loop.h"

#define PSI_CG_DIR_MAX		1024
#define PSI_STEP_MIN		(1ull << 20)	/* bytes */
#define PSI_STEP_MAX		(1ull << 30)
#define PSI_CHUNK		(2ull << 20)	/* bytes per memory.reclaim write */

struct psi_params {
	char cg_dir[PSI_CG_DIR_MAX + 1];
	double pressure;		/* target, a fraction of time */
	uint64_t limit_min_bytes;
};

/* One cgroup the glob matched. */
struct psi_cgroup {
	char *path;			/* absolute */
	bool seen;			/* matched in this round */
	bool primed;			/* stall_us and when are valid */
	uint64_t stall_us;		/* memory.pressure "some total" */
	struct timespec when;
	uint64_t usage;			/* memory.current */
	double pressure;		/* of the last interval, -1: unknown */
	uint64_t step;
	uint64_t reclaimed;		/* sum of usage drops after memory.reclaim */
	char note[160];
};

struct psi_run {
	struct task *task;
	char name[2 * CFG_NAME_SIZE + 1];
	struct psi_params params;
	unsigned int interval_s;
	char root[PATH_MAX];		/* the cgroup v2 mount */
	GPtrArray *cgroups;		/* struct psi_cgroup * */
	uint64_t reclaimed_gone;	/* by cgroups no longer matched */
	struct loop_timer *timer;
};

/* ---- configuration ---- */

static int psi_parse_task(struct cfg_section *sec, const struct project_params *proj,
			  struct task *task, GString *err)
{
	struct psi_params *pp = g_new0(struct psi_params, 1);
	char text[64], *end;

	if (cfg_get_string(sec, "cg_dir", true, PSI_CG_DIR_MAX, pp->cg_dir, err))
		goto bad;
	if (strstr(pp->cg_dir, "..")) {
		cfg_error_prefix(sec, "cg_dir", err);
		g_string_append_printf(err, "cg_dir='%s' must not contain '..' (a glob of cgroups under the cgroup v2 mount)",
				       pp->cg_dir);
		goto bad;
	}
	if (cfg_get_string(sec, "pressure", true, sizeof(text) - 1, text, err))
		goto bad;
	pp->pressure = strtod(text, &end);
	if (!(text[0] >= '0' && text[0] <= '9') || *end || !(pp->pressure > 0 && pp->pressure <= 1)) {
		cfg_error_prefix(sec, "pressure", err);
		g_string_append_printf(err, "pressure='%s' is not a fraction in (0, 1] (the share of time stalled on memory, e.g. 0.1)",
				       text);
		goto bad;
	}
	if (cfg_get_size(sec, "limit_min_bytes", true, &pp->limit_min_bytes, err))
		goto bad;
	task->params = pp;
	return 0;

bad:
	g_free(pp);
	return -EINVAL;
}

static void psi_free_task(struct task *task)
{
	g_free(task->params);
	task->params = NULL;
}

/* ---- cgroup files ---- */

static int read_text(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *out)
{
	char buf[64];
	int ret = read_text(dir, file, buf, sizeof(buf));

	if (!ret)
		*out = strtoull(buf, NULL, 10);
	return ret;
}

/* "some avg10=.. avg60=.. avg300=.. total=N" */
static int read_stall(const char *dir, uint64_t *total_us)
{
	char buf[256];
	int ret = read_text(dir, "memory.pressure", buf, sizeof(buf));

	return ret ? ret : budget_psi_some_total(buf, total_us);
}

/* The reclaim itself: -EAGAIN when the kernel got less than asked. */
static int write_reclaim(const char *dir, uint64_t bytes)
{
	char path[PATH_MAX], value[32];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/memory.reclaim", dir);
	snprintf(value, sizeof(value), "%" PRIu64, bytes);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The cgroup v2 mount point, or why there is none. */
static int find_cgroup2(char *root, size_t size, GString *err)
{
	bool v1 = false;
	int ret = cgroup2_mount(root, size, &v1);

	if (ret == -ENOENT)
		g_string_append_printf(err, "no cgroup v2 hierarchy is mounted%s; the psi engine works with cgroup v2 only (memory.pressure, memory.reclaim)",
				       v1 ? " (the memory controller is on a cgroup v1 hierarchy)" : "");
	else if (ret)
		g_string_append_printf(err, "cannot read /proc/self/mountinfo: %s", strerror(-ret));
	else if (v1) {
		/*
		 * A controller lives on one hierarchy only: with memory on v1
		 * (a hybrid setup), no cgroup under the v2 mount has
		 * memory.current or memory.reclaim, and nothing could be done.
		 */
		g_string_append_printf(err, "the memory controller is on a cgroup v1 hierarchy, so no cgroup under the cgroup v2 mount %s has memory.current or memory.reclaim; the psi engine needs the memory controller on cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1, or cgroup_no_v1=memory)",
				       root);
		ret = -EOPNOTSUPP;
	}
	return ret;
}

/* ---- the loop ---- */

static void cgroup_free(gpointer data)
{
	struct psi_cgroup *cg = data;

	g_free(cg->path);
	g_free(cg);
}

static struct psi_cgroup *cgroup_get(struct psi_run *run, const char *path)
{
	struct psi_cgroup *cg;

	for (guint i = 0; i < run->cgroups->len; i++) {
		cg = run->cgroups->pdata[i];
		if (!strcmp(cg->path, path))
			return cg;
	}
	cg = g_new0(struct psi_cgroup, 1);
	cg->path = g_strdup(path);
	cg->step = 4 * PSI_STEP_MIN;
	cg->pressure = -1;
	g_ptr_array_add(run->cgroups, cg);
	log_info("%s: cgroup %s matched", run->name, path);
	return cg;
}

static double elapsed_s(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* One feedback step of one cgroup. */
static void cgroup_step(struct psi_run *run, struct psi_cgroup *cg)
{
	const struct psi_params *pp = &run->params;
	struct timespec now;
	uint64_t stall, after = 0, ask, left, chunk, cur;
	int ret;

	cg->note[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &now);
	ret = read_stall(cg->path, &stall);
	if (!ret)
		ret = read_u64(cg->path, "memory.current", &cg->usage);
	if (ret) {
		snprintf(cg->note, sizeof(cg->note), "cannot read memory.pressure or memory.current: %s%s",
			 strerror(-ret), ret == -ENOENT ? " (is the memory controller enabled for it?)" :
			 ret == -EOPNOTSUPP ? " (PSI is disabled: psi=1 on the kernel command line)" : "");
		cg->primed = false;
		return;
	}
	if (!cg->primed) {
		cg->primed = true;
		cg->stall_us = stall;
		cg->when = now;
		return;
	}
	cg->pressure = (stall - cg->stall_us) / 1e6 / MAX(elapsed_s(&cg->when, &now), 1e-3);
	cg->stall_us = stall;
	cg->when = now;
	if (cg->pressure >= pp->pressure) {
		cg->step = MAX(cg->step / 2, PSI_STEP_MIN);
		snprintf(cg->note, sizeof(cg->note), "pressure %.4f is not below the target %.4f: no reclaim",
			 cg->pressure, pp->pressure);
		return;
	}
	if (cg->usage <= pp->limit_min_bytes) {
		snprintf(cg->note, sizeof(cg->note), "usage is at limit_min_bytes %" PRIu64 ": no reclaim",
			 pp->limit_min_bytes);
		return;
	}
	ask = MIN(cg->step, cg->usage - pp->limit_min_bytes);
	left = ask;
	after = cg->usage;
	do {
		chunk = MIN(left, PSI_CHUNK);
		ret = write_reclaim(cg->path, chunk);
		if (ret && ret != -EAGAIN)
			break;
		left -= chunk;
		if (!read_u64(cg->path, "memory.current", &cur))
			after = cur;
		/* Never past limit_min_bytes, whatever the kernel took. */
		left = after > pp->limit_min_bytes ? MIN(left, after - pp->limit_min_bytes) : 0;
	} while (!ret && left);
	if (ret && ret != -EAGAIN) {
		snprintf(cg->note, sizeof(cg->note), "memory.reclaim refused %" PRIu64 " bytes: %s",
			 chunk, strerror(-ret));
		if (after < cg->usage)
			cg->reclaimed += cg->usage - after;
		cg->usage = after;
		return;
	}
	if (after < cg->usage)
		cg->reclaimed += cg->usage - after;
	if (ret == -EAGAIN)
		snprintf(cg->note, sizeof(cg->note), "the kernel reclaimed less than the step asked (%" PRIu64 " bytes)",
			 ask);
	else
		cg->step = MIN(cg->step * 2, PSI_STEP_MAX);
	log_debug("%s: %s: pressure %.4f, usage %" PRIu64 " -> %" PRIu64 ", asked %" PRIu64,
		  run->name, cg->path, cg->pressure, cg->usage, after, ask);
	cg->usage = after;
}

static void psi_round(void *arg)
{
	struct psi_run *run = arg;
	struct task_stats *st = &run->task->stats;
	char pattern[PATH_MAX + PSI_CG_DIR_MAX + 2];
	glob_t g = { 0 };
	uint64_t before = st->bytes_paged_out, reclaimed = run->reclaimed_gone;

	if (run->params.cg_dir[0] == '/')
		snprintf(pattern, sizeof(pattern), "%s", run->params.cg_dir);
	else
		snprintf(pattern, sizeof(pattern), "%s/%s", run->root, run->params.cg_dir);
	for (guint i = 0; i < run->cgroups->len; i++)
		((struct psi_cgroup *)run->cgroups->pdata[i])->seen = false;
	if (!glob(pattern, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g)) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct psi_cgroup *cg = cgroup_get(run, g.gl_pathv[i]);

			cg->seen = true;
			cgroup_step(run, cg);
		}
	}
	globfree(&g);
	/* Cgroups gone: their figures go with them, the task's total stays. */
	for (guint i = run->cgroups->len; i-- > 0;) {
		struct psi_cgroup *cg = run->cgroups->pdata[i];

		if (cg->seen)
			continue;
		log_info("%s: cgroup %s is gone", run->name, cg->path);
		run->reclaimed_gone += cg->reclaimed;
		reclaimed += cg->reclaimed;
		g_ptr_array_remove_index(run->cgroups, i);
	}
	for (guint i = 0; i < run->cgroups->len; i++)
		reclaimed += ((struct psi_cgroup *)run->cgroups->pdata[i])->reclaimed;
	st->bytes_paged_out = reclaimed;
	st->bytes_paged_out_last = reclaimed - before;
	st->nr_procs = 0;
	st->nr_cycles++;
	st->last_cycle_end = time(NULL);
	if (!run->cgroups->len)
		snprintf(st->note, sizeof(st->note), "no cgroup matches %.200s", pattern);
	else
		st->note[0] = '\0';
	loop_timer_arm(run->timer, run->interval_s * 1000);
}

/* ---- engine operations ---- */

static void run_free(struct psi_run *run)
{
	if (run->timer)
		loop_timer_free(run->timer);
	g_ptr_array_free(run->cgroups, TRUE);
	g_free(run);
}

static int psi_start_task(struct task *task, GString *err)
{
	struct psi_run *run = g_new0(struct psi_run, 1);
	const struct project_params *pp = &task->engine->project->params;
	size_t len;

	run->task = task;
	snprintf(run->name, sizeof(run->name), "%s/%s", pp->name, task->name);
	run->params = *(struct psi_params *)task->params;
	run->interval_s = pp->interval_s;
	run->cgroups = g_ptr_array_new_with_free_func(cgroup_free);
	if (find_cgroup2(run->root, sizeof(run->root), err)) {
		run_free(run);
		return -EOPNOTSUPP;
	}
	len = strlen(run->root);
	if (run->params.cg_dir[0] == '/' &&
	    (strncmp(run->params.cg_dir, run->root, len) || run->params.cg_dir[len] != '/')) {
		g_string_append_printf(err, "cg_dir '%s' is not under the cgroup v2 mount %s (cgroup v1 hierarchies are not supported)",
				       run->params.cg_dir, run->root);
		run_free(run);
		return -EINVAL;
	}
	run->timer = loop_timer_new(psi_round, run);
	if (!run->timer) {
		g_string_append(err, "cannot create a timer");
		run_free(run);
		return -ENOMEM;
	}
	memset(&task->stats, 0, sizeof(task->stats));
	task->priv = run;
	psi_round(run);
	return 0;
}

static void psi_stop_task(struct task *task)
{
	struct psi_run *run = task->priv;

	if (!run)
		return;
	loop_timer_cancel(run->timer);
	task->priv = NULL;
	run_free(run);
}

static const char *psi_task_state(const struct task *task)
{
	const struct psi_run *run = task->priv;

	if (!run)
		return "stopped";
	return run->cgroups->len ? "reclaiming" : "waiting";
}

static void psi_show_task(const struct task *task, struct etmem_out *out)
{
	const struct psi_params *pp = task->params;
	const struct psi_run *run = task->priv;
	guint n = run ? run->cgroups->len : 0;

	etmem_out_str(out, "cg_dir", "cg_dir=%s", pp->cg_dir);
	etmem_out_double(out, "pressure", " pressure=%.4f", pp->pressure);
	etmem_out_uint(out, "limit_min_bytes", " limit_min_bytes=%" PRIu64, pp->limit_min_bytes);
	etmem_out_uint(out, "bytes_reclaimed", " reclaimed=%" PRIu64 " bytes",
		       task->stats.bytes_paged_out);
	etmem_out_open_array(out, "cgroups");
	for (guint i = 0; i < n; i++) {
		const struct psi_cgroup *cg = run->cgroups->pdata[i];

		etmem_out_open_object(out, NULL);
		etmem_out_str(out, "path", "\n         cgroup %s:", cg->path);
		etmem_out_uint(out, "usage", " usage %" PRIu64 " bytes", cg->usage);
		etmem_out_double(out, "pressure", ", pressure %.4f", cg->pressure);
		etmem_out_uint(out, "step", ", step %" PRIu64 " bytes", cg->step);
		etmem_out_uint(out, "reclaimed", ", reclaimed %" PRIu64 " bytes", cg->reclaimed);
		if (*cg->note || etmem_out_is_json(out))
			etmem_out_str(out, "note", "; %s", cg->note);
		etmem_out_close_object(out);
	}
	etmem_out_close_array(out);
}

static int psi_engine_cmd(struct engine *eng, struct task *task, const char *cmd,
			  bool json, GString *reply)
{
	g_string_printf(reply, "engine psi has no private command '%s'", cmd);
	return -EOPNOTSUPP;
}

const struct engine_ops psi_engine_ops = {
	.name = "psi",
	.scan_types = 1u << SCAN_TYPE_PSI,
	.cgroup_tasks = true,
	.parse_task = psi_parse_task,
	.start_task = psi_start_task,
	.stop_task = psi_stop_task,
	.free_task = psi_free_task,
	.task_state = psi_task_state,
	.show_task = psi_show_task,
	.engine_cmd = psi_engine_cmd,
};
