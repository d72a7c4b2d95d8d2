// SPDX-License-Identifier: GPL-2.0
/*
 * The damon engine: the kernel's own access monitor (DAMON) and its
 * operation schemes (DAMOS), driven through DAMON's sysfs interface,
 * /sys/kernel/mm/damon/admin. It needs no etmem module.
 *
 * [project] scan_type=region carries DAMON's monitoring attributes,
 * [engine] name=damon the access pattern and action of one scheme, and
 * each [task] the processes (type=pid or name, children included) that
 * become the targets of a kdamond of its own.
 *
 * kdamonds: writing nr_kdamonds recreates every kdamond directory and is
 * refused while any kdamond runs, so etmemd only ever owns the whole set:
 * it refuses to start while kdamonds exist that it did not create, adds
 * one by stopping its own, growing the set and restarting them, reuses
 * the slots of stopped tasks, and writes nr_kdamonds=0 when its last task
 * stops (project stop, obj del, SIGTERM).
 *
 * Each task checks its processes every `interval` seconds: new ones are
 * committed to the running kdamond as targets, and the scheme's
 * statistics are refreshed for project show on a worker thread (the
 * kernel answers that request only at the kdamond's next aggregation).
 * Where a kdamond has refresh_ms (7.2, not 6.12) the kernel refreshes
 * them itself and etmemd only reads the files.
 *
 * In-kernel DAMON modules start their kdamond "exclusive": while one
 * runs, DAMON refuses every other kdamond (EBUSY). DAMON_STAT, enabled by
 * default in Debian's newer kernels, only publishes statistics: etmemd
 * pauses it while it owns kdamonds and enables it again when its last one
 * goes. DAMON_RECLAIM and DAMON_LRU_SORT act on memory: etmemd refuses to
 * start beside them, naming them, and leaves them alone.
 *
 * DAMON's sysfs files answer EBUSY while another request holds its lock
 * (in 7.2, unlike 6.12, a request holds it until the kdamond answers): reads
 * and writes retry for up to a second before they fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "etmem_out.h"
#include "etmem_proto.h"
#include "damon.h"
#include "engine.h"
#include "log.h"
#include "loop.h"
#include "procs.h"
#include "workers.h"

#define DAMON_ADMIN	"/sys/kernel/mm/damon/admin"
#define DAMON_KDAMONDS	DAMON_ADMIN "/kdamonds"
#define SYSFS_BUSY_RETRY_MS	1000

/* In-kernel DAMON users whose kdamond excludes all others. */
static const struct {
	const char *module;	/* /sys/module/NAME/parameters/enabled */
	const char *name;
	bool pausable;		/* only statistics: etmemd may pause it */
} exclusive_users[] = {
	{ "damon_stat", "DAMON_STAT", true },
	{ "damon_reclaim", "DAMON_RECLAIM", false },
	{ "damon_lru_sort", "DAMON_LRU_SORT", false },
};

/* etmemd wrote enabled=N to DAMON_STAT and owes it a Y. */
static bool stat_paused;

/*
 * While DAMON_STAT is paused this file holds the pausing etmemd's pid, so
 * that an etmemd starting after one that died (kill -9, a crash) gives the
 * kernel its statistics back (damon_stat_recover()).
 */
#define DAMON_STAT_MODULE	"/sys/module/damon_stat/parameters/enabled"
#define DAMON_STAT_PAUSED	ETMEM_RUN_DIR "/.damon-stat.paused"

static void stat_marker_write(void)
{
	int fd = open(DAMON_STAT_PAUSED, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      0600);

	if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0)
		log_warn("cannot record the DAMON_STAT pause in %s (%s): if this etmemd dies, write Y to %s by hand",
			 DAMON_STAT_PAUSED, strerror(errno), DAMON_STAT_MODULE);
	if (fd >= 0)
		close(fd);
}


/* DAMOS actions the configuration may name (sysfs spelling). */
static const char *const damon_actions[] = {
	"pageout", "cold", "lru_prio", "lru_deprio", "willneed", "hugepage",
	"nohugepage", "stat", NULL
};

/* A started task's state; every change goes through set_state(). */
enum damon_state {
	DAMON_WAITING,		/* no process: no kdamond running */
	DAMON_MONITORING,	/* the kdamond runs on the task's processes */
	DAMON_FAILED,		/* processes, but the kdamond did not start */
	__DAMON_STATE_CNT
};

static const char *const damon_state_names[] = {
	[DAMON_WAITING] = "waiting",
	[DAMON_MONITORING] = "monitoring",
	[DAMON_FAILED] = "failed",
};

_Static_assert(G_N_ELEMENTS(damon_state_names) == __DAMON_STATE_CNT, "one name per state");

static const char *const wmark_metrics[] = {
	[DAMON_WMARK_NONE] = "none",
	[DAMON_WMARK_FREE_MEM_RATE] = "free_mem_rate",
};

/* The DAMOS statistics of a scheme. */
struct damos_stats {
	uint64_t nr_tried, sz_tried, nr_applied, sz_applied, qt_exceeds;
};

struct damon_run {
	struct task *task;
	char name[2 * CFG_NAME_SIZE + 1];	/* "project/task" for logs */
	struct damon_scheme scheme;
	struct damon_attrs attrs;
	unsigned int interval_s;
	uint64_t min_rss_bytes;			/* smaller processes are left out */
	enum task_type type;
	char value[CFG_COMM_MAX + 1];
	struct pinned_proc pinned;
	int slot;				/* kdamond index, -1: none */
	bool on;				/* the kdamond runs */
	bool kernel_refresh;			/* the kernel refreshes the statistics (refresh_ms) */
	GArray *targets;			/* struct proc_id, committed */
	struct damos_stats base;		/* of earlier kdamond runs */
	struct damos_stats last;		/* of the current kdamond run */
	struct loop_timer *timer;
	enum damon_state state;
	unsigned int gen;			/* bumped when the kdamond stops or starts */
	bool stats_pending;			/* a statistics job is in flight */
	bool detached;				/* stopped; the job in flight frees it */
	char last_err[256];		/* of the last failed start */
};

/* kdamond slots etmemd created: index -> run, NULL when free. */
static GPtrArray *slots;

/*
 * Refreshing DAMOS statistics (update_schemes_stats) waits until the
 * kdamond's next aggregation boundary, up to aggr_interval: done on a
 * worker so the event loop never waits for it.
 */
static struct worker_pool *stats_pool;

struct stats_job {
	struct worker_job base;
	struct damon_run *run;
	int slot;
	bool request;
	unsigned int gen;
	struct damos_stats st;
	int ret;
};

/* ---- sysfs ---- */

static void busy_wait(unsigned int *waited_ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	*waited_ms += 5;
}

static int sysfs_write_once(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(value))
		ret = -EIO;
	close(fd);
	return ret;
}

/* EBUSY from DAMON's lock is retried; an EBUSY that lasts is returned. */
static int sysfs_write(const char *path, const char *value)
{
	unsigned int waited = 0;
	int ret;

	while ((ret = sysfs_write_once(path, value)) == -EBUSY && waited < SYSFS_BUSY_RETRY_MS)
		busy_wait(&waited);
	return ret;
}

static int sysfs_read_once(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	g_strchomp(buf);
	return 0;
}

static int sysfs_read(const char *path, char *buf, size_t size)
{
	unsigned int waited = 0;
	int ret;

	while ((ret = sysfs_read_once(path, buf, size)) == -EBUSY && waited < SYSFS_BUSY_RETRY_MS)
		busy_wait(&waited);
	return ret;
}

/* Writes VALUE to kdamonds/SLOT/REL; on failure says what in err. */
static int kd_write(int slot, const char *rel, GString *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int kd_write(int slot, const char *rel, GString *err, const char *fmt, ...)
{
	char path[256], value[64];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), DAMON_KDAMONDS "/%d/%s", slot, rel);
	ret = sysfs_write(path, value);
	if (ret && err)
		g_string_append_printf(err, "writing '%s' to %s failed: %s", value, path,
				       strerror(-ret));
	return ret;
}

static int nr_kdamonds_read(unsigned long *nr)
{
	char buf[32];
	int ret = sysfs_read(DAMON_KDAMONDS "/nr_kdamonds", buf, sizeof(buf));

	if (!ret)
		*nr = strtoul(buf, NULL, 10);
	return ret;
}

/*
 * Held by the statistics worker while it uses a kdamond's files, and by
 * the loop thread while it writes nr_kdamonds. Without it, 6.12 can
 * deadlock (seen in CI twice: etmemd in D state in kernfs_drain for good).
 * A request written to kdamonds/N/state keeps that file in use while it
 * polls for DAMON's sysfs lock; once the kdamond stopped, it clears the
 * request, drops the lock, and takes it again with a blocking
 * mutex_lock() to return. A nr_kdamonds write that gets the lock in that
 * gap finds no request pending and no kdamond running, and removes the
 * directories: it waits for the state file to be released while holding
 * the lock the request waits for. The gap is a few instructions, so the
 * hang is rare and cannot be made to happen on demand. The loop thread
 * waits here at most as long as one request, and only after it turned
 * every kdamond off, which ends a pending request within DAMON's 100 ms
 * poll.
 */
static pthread_mutex_t kdamonds_files_lock = PTHREAD_MUTEX_INITIALIZER;

static int nr_kdamonds_write(unsigned int nr, GString *err)
{
	char value[16];
	int ret;

	snprintf(value, sizeof(value), "%u", nr);
	pthread_mutex_lock(&kdamonds_files_lock);
	ret = sysfs_write(DAMON_KDAMONDS "/nr_kdamonds", value);
	pthread_mutex_unlock(&kdamonds_files_lock);
	if (ret && err)
		g_string_append_printf(err, "writing %u to " DAMON_KDAMONDS "/nr_kdamonds failed: %s",
				       nr, strerror(-ret));
	return ret;
}

/* ---- configuration ---- */

void damon_scheme_init(struct damon_scheme *ds)
{
	memset(ds, 0, sizeof(*ds));
	ds->max_size = UINT64_MAX;
	ds->max_acc = UINT32_MAX;
	ds->max_age = UINT32_MAX;
	ds->quota_reset_ms = 1000;
	ds->wmark_metric = DAMON_WMARK_NONE;
}

int damon_action_index(const char *action)
{
	for (int i = 0; damon_actions[i]; i++)
		if (!strcmp(damon_actions[i], action))
			return i;
	return -1;
}

/*
 * slide pages out what was accessed in fewer than T of `loop` scans taken
 * `interval` seconds apart. DAMON counts, per region, the samples of an
 * aggregation interval that saw an access (nr_accesses, out of
 * aggr/sample) and the aggregations the region kept that count (age). The
 * scheme: age of at least the aggregations in loop * interval seconds, and
 * at most (T-1)/loop of the samples accessed (T=1: none, the common case);
 * T=0, where nothing is cold, only monitors (action stat).
 * sysmem_threshold becomes a watermark on DAMON's free_mem_rate (MemFree,
 * not MemAvailable): the scheme acts while free memory is below it.
 */
void damon_scheme_from_slide(const struct project_params *pp, unsigned int threshold,
			     struct damon_scheme *ds)
{
	const struct damon_attrs *a = &pp->damon;
	unsigned long samples = a->aggr_us / a->sample_us;
	uint64_t window_us = (uint64_t)pp->loop * pp->interval_s * 1000000;

	damon_scheme_init(ds);
	ds->action = damon_action_index(threshold ? "pageout" : "stat");
	ds->max_acc = threshold ? (threshold - 1) * samples / pp->loop : 0;
	ds->min_age = MAX(1, (window_us + a->aggr_us - 1) / a->aggr_us);
	if (pp->sysmem_threshold >= 0) {
		ds->wmark_metric = DAMON_WMARK_FREE_MEM_RATE;
		ds->wmark_high = ds->wmark_mid = pp->sysmem_threshold * 10UL;
		ds->wmark_low = 0;
		ds->wmark_interval_us = pp->interval_s * 1000000UL;
	}
}

bool damon_sysfs_present(void)
{
	return !access(DAMON_ADMIN, F_OK);
}

static int damon_parse_engine(struct cfg_section *sec, struct engine *eng, GString *err)
{
	struct damon_scheme *ds = g_new0(struct damon_scheme, 1);

	damon_scheme_init(ds);
	if (cfg_get_size(sec, "min_size", false, &ds->min_size, err) == -EINVAL ||
	    cfg_get_size(sec, "max_size", false, &ds->max_size, err) == -EINVAL)
		goto bad;
	if (ds->max_size < ds->min_size) {
		cfg_error_prefix(sec, "max_size", err);
		g_string_append_printf(err, "max_size=%" PRIu64 " is below min_size=%" PRIu64,
				       ds->max_size, ds->min_size);
		goto bad;
	}
	if (cfg_get_uint(sec, "min_acc", false, 0, UINT32_MAX, &ds->min_acc, err) == -EINVAL ||
	    cfg_get_uint(sec, "max_acc", false, ds->min_acc, UINT32_MAX, &ds->max_acc,
			 err) == -EINVAL ||
	    cfg_get_uint(sec, "min_age", false, 0, UINT32_MAX, &ds->min_age, err) == -EINVAL ||
	    cfg_get_uint(sec, "max_age", false, ds->min_age, UINT32_MAX, &ds->max_age,
			 err) == -EINVAL ||
	    cfg_get_choice(sec, "action", true, damon_actions, &ds->action, err) ||
	    cfg_get_uint(sec, "quota_ms", false, 0, 3600000, &ds->quota_ms, err) == -EINVAL ||
	    cfg_get_size(sec, "quota_bytes", false, &ds->quota_bytes, err) == -EINVAL ||
	    cfg_get_uint(sec, "quota_reset_ms", false, 1, 3600000, &ds->quota_reset_ms,
			 err) == -EINVAL)
		goto bad;
	eng->priv = ds;
	return 0;

bad:
	g_free(ds);
	return -EINVAL;
}

static void damon_free_engine(struct engine *eng)
{
	g_free(eng->priv);
	eng->priv = NULL;
}

static int damon_parse_task(struct cfg_section *sec, const struct project_params *proj,
			    struct task *task, GString *err)
{
	/* No keys of its own: the scheme is the engine's. */
	task->params = g_new0(char, 1);
	return 0;
}

static void damon_free_task(struct task *task)
{
	g_free(task->params);
	task->params = NULL;
}

/* ---- a kdamond's configuration ---- */

static int write_targets(struct damon_run *run, GString *err)
{
	char rel[96];
	int ret;

	ret = kd_write(run->slot, "contexts/0/targets/nr_targets", err, "%u", run->targets->len);
	for (guint i = 0; !ret && i < run->targets->len; i++) {
		snprintf(rel, sizeof(rel), "contexts/0/targets/%u/pid_target", i);
		ret = kd_write(run->slot, rel, err, "%d",
			       g_array_index(run->targets, struct proc_id, i).pid);
	}
	return ret;
}

static int write_config(struct damon_run *run, GString *err)
{
	const struct damon_attrs *a = &run->attrs;
	const struct damon_scheme *s = &run->scheme;
	const char *mon = "contexts/0/monitoring_attrs";
	const char *sch = "contexts/0/schemes/0";
	char rel[128];
	int ret;

#define W(fmt_rel, arg_rel, ...) \
	(snprintf(rel, sizeof(rel), fmt_rel, arg_rel), kd_write(run->slot, rel, err, __VA_ARGS__))
	ret = kd_write(run->slot, "contexts/nr_contexts", err, "1");
	ret = ret ?: kd_write(run->slot, "contexts/0/operations", err, "vaddr");
	ret = ret ?: W("%s/intervals/sample_us", mon, "%lu", a->sample_us);
	ret = ret ?: W("%s/intervals/aggr_us", mon, "%lu", a->aggr_us);
	ret = ret ?: W("%s/intervals/update_us", mon, "%lu", a->update_us);
	ret = ret ?: W("%s/nr_regions/min", mon, "%lu", a->min_nr_regions);
	ret = ret ?: W("%s/nr_regions/max", mon, "%lu", a->max_nr_regions);
	ret = ret ?: write_targets(run, err);
	ret = ret ?: kd_write(run->slot, "contexts/0/schemes/nr_schemes", err, "1");
	if (ret)
		return ret;
	ret = W("%s/action", sch, "%s", damon_actions[s->action]);
	if (ret) {
		g_string_append_printf(err, " (the running kernel's DAMON does not offer action '%s')",
				       damon_actions[s->action]);
		return ret;
	}
	ret = ret ?: W("%s/access_pattern/sz/min", sch, "%" PRIu64, s->min_size);
	ret = ret ?: W("%s/access_pattern/sz/max", sch, "%" PRIu64, s->max_size);
	ret = ret ?: W("%s/access_pattern/nr_accesses/min", sch, "%lu", s->min_acc);
	ret = ret ?: W("%s/access_pattern/nr_accesses/max", sch, "%lu", s->max_acc);
	ret = ret ?: W("%s/access_pattern/age/min", sch, "%lu", s->min_age);
	ret = ret ?: W("%s/access_pattern/age/max", sch, "%lu", s->max_age);
	ret = ret ?: W("%s/quotas/ms", sch, "%lu", s->quota_ms);
	ret = ret ?: W("%s/quotas/bytes", sch, "%" PRIu64, s->quota_bytes);
	ret = ret ?: W("%s/quotas/reset_interval_ms", sch, "%lu", s->quota_reset_ms);
	ret = ret ?: W("%s/watermarks/metric", sch, "%s", wmark_metrics[s->wmark_metric]);
	if (s->wmark_metric != DAMON_WMARK_NONE) {
		ret = ret ?: W("%s/watermarks/interval_us", sch, "%lu", s->wmark_interval_us);
		ret = ret ?: W("%s/watermarks/high", sch, "%lu", s->wmark_high);
		ret = ret ?: W("%s/watermarks/mid", sch, "%lu", s->wmark_mid);
		ret = ret ?: W("%s/watermarks/low", sch, "%lu", s->wmark_low);
	}
#undef W
	if (ret)
		return ret;
	/* Statistics refreshed by the kdamond itself, at etmemd's pace. */
	snprintf(rel, sizeof(rel), DAMON_KDAMONDS "/%d/refresh_ms", run->slot);
	run->kernel_refresh = !access(rel, F_OK) &&
		!kd_write(run->slot, "refresh_ms", NULL, "%u", run->interval_s * 1000);
	return 0;
}

/*
 * Reads the scheme's statistics of the kdamond SLOT into st; with request,
 * asks the kdamond for fresh figures first (waits for its next answer).
 */
static int read_stats_slot(int slot, bool request, struct damos_stats *st)
{
	static const char *const names[] = {
		"nr_tried", "sz_tried", "nr_applied", "sz_applied", "qt_exceeds"
	};
	uint64_t *out[] = {
		&st->nr_tried, &st->sz_tried, &st->nr_applied, &st->sz_applied, &st->qt_exceeds
	};
	char path[256], buf[32];
	int ret = request ? kd_write(slot, "state", NULL, "update_schemes_stats") : 0;

	if (ret)
		return ret;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		snprintf(path, sizeof(path), DAMON_KDAMONDS "/%d/contexts/0/schemes/0/stats/%s",
			 slot, names[i]);
		ret = sysfs_read(path, buf, sizeof(buf));
		if (ret)
			return ret;
		*out[i] = strtoull(buf, NULL, 10);
	}
	return 0;
}

static void read_stats(struct damon_run *run)
{
	struct damos_stats st;

	if (!read_stats_slot(run->slot, true, &st))
		run->last = st;
}

static void stats_fold(struct damon_run *run)
{
	run->base.nr_tried += run->last.nr_tried;
	run->base.sz_tried += run->last.sz_tried;
	run->base.nr_applied += run->last.nr_applied;
	run->base.sz_applied += run->last.sz_applied;
	run->base.qt_exceeds += run->last.qt_exceeds;
	memset(&run->last, 0, sizeof(run->last));
}

/* 1: the kdamond SLOT runs, 0: it does not, -errno: cannot tell. */
static int kdamond_state(int slot)
{
	char path[128], buf[16];
	int ret;

	snprintf(path, sizeof(path), DAMON_KDAMONDS "/%d/state", slot);
	ret = sysfs_read(path, buf, sizeof(buf));
	return ret ?: !strcmp(buf, "on");
}

static void kdamond_off(struct damon_run *run)
{
	int ret;

	if (!run->on)
		return;
	read_stats(run);
	stats_fold(run);
	if (kdamond_state(run->slot) != 0) {
		ret = kd_write(run->slot, "state", NULL, "off");
		if (ret && kdamond_state(run->slot) != 0)
			log_warn("%s: kdamond %d may still run: writing 'off' failed: %s", run->name,
				 run->slot, strerror(-ret));
	}
	run->on = false;
	run->gen++;
}

/* Names in err the exclusive in-kernel DAMON users that run now. */
static bool exclusive_running(GString *err)
{
	char path[128], buf[8];
	bool any = false;

	for (size_t i = 0; i < G_N_ELEMENTS(exclusive_users); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/enabled",
			 exclusive_users[i].module);
		if (sysfs_read(path, buf, sizeof(buf)) || buf[0] != 'Y')
			continue;
		g_string_append_printf(err, "%s%s runs (%s is Y)", any ? "; " : "",
				       exclusive_users[i].name, path);
		any = true;
	}
	return any;
}

static int kdamond_on(struct damon_run *run, GString *err)
{
	int ret = write_config(run, err);

	if (!ret) {
		ret = kd_write(run->slot, "state", err, "on");
		if (ret == -EBUSY) {
			g_string_append(err, " (DAMON runs no kdamond beside an exclusive one: ");
			if (!exclusive_running(err))
				g_string_append(err, "no in-kernel DAMON module is enabled, so another DAMON user holds it");
			g_string_append(err, ")");
		}
	}
	if (!ret)
		run->on = true;
	run->gen++;
	return ret;
}

/*
 * Before etmemd's kdamonds run: refuses beside DAMON_RECLAIM or
 * DAMON_LRU_SORT, pauses DAMON_STAT. 0 or -errno with the reason in err.
 */
static int exclusive_users_yield(GString *err)
{
	char path[128], buf[8];
	int ret;

	for (size_t i = 0; i < G_N_ELEMENTS(exclusive_users); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/enabled",
			 exclusive_users[i].module);
		if (sysfs_read(path, buf, sizeof(buf)) || buf[0] != 'Y')
			continue;
		if (!exclusive_users[i].pausable) {
			g_string_append_printf(err, "%s runs (%s is Y) and DAMON runs no other kdamond beside it; "
					       "etmemd leaves it alone: write N there to use the damon engine",
					       exclusive_users[i].name, path);
			return -EBUSY;
		}
		ret = sysfs_write(path, "N");
		if (ret) {
			g_string_append_printf(err, "%s runs and DAMON runs no other kdamond beside it; "
					       "pausing it (writing N to %s) failed: %s",
					       exclusive_users[i].name, path, strerror(-ret));
			return ret;
		}
		stat_paused = true;
		stat_marker_write();
		log_warn("%s paused (N written to %s): DAMON runs no other kdamond beside it; "
			 "etmemd writes Y there when its last kdamond stops", exclusive_users[i].name, path);
	}
	return 0;
}

/* When etmemd's last kdamond is gone: DAMON_STAT runs again. */
static void exclusive_users_resume(void)
{
	const char *path = DAMON_STAT_MODULE;
	int ret;

	if (!stat_paused)
		return;
	stat_paused = false;
	ret = sysfs_write(path, "Y");
	if (!ret)
		unlink(DAMON_STAT_PAUSED);
	if (ret)
		log_warn("DAMON_STAT not resumed: writing Y to %s failed: %s", path, strerror(-ret));
	else
		log_info("DAMON_STAT resumed (Y written to %s)", path);
}

void damon_stat_recover(void)
{
	char buf[32] = "";
	int fd, pid, ret;

	fd = open(DAMON_STAT_PAUSED, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	ret = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	pid = ret > 0 ? atoi(buf) : 0;
	if (pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno != ESRCH))
		return;	/* its etmemd still runs and will resume it */
	ret = sysfs_write(DAMON_STAT_MODULE, "Y");
	if (ret && ret != -ENOENT) {
		log_warn("DAMON_STAT was left paused by an earlier etmemd (pid %d) that did not exit cleanly; writing Y to %s failed: %s",
			 pid, DAMON_STAT_MODULE, strerror(-ret));
		return;
	}
	unlink(DAMON_STAT_PAUSED);
	if (!ret)
		log_warn("DAMON_STAT was left paused by an earlier etmemd (pid %d) that did not exit cleanly: resumed (Y written to %s)",
			 pid, DAMON_STAT_MODULE);
}

/* ---- slots ---- */

static void what_works_here(GString *err)
{
	g_string_append(err, "; engines that work without it: slide, cslide and thirdparty (scan_type=page, with the etmem modules");
	if (access("/sys/module/etmem_scan", F_OK))
		g_string_append(err, ", and etmem_scan is not loaded now");
	g_string_append(err, ")");
}

/* Finds or makes a kdamond for run; 0 or -errno with the reason in err. */
static int slot_get(struct damon_run *run, GString *err)
{
	unsigned long nr;
	int ret;

	if (access(DAMON_ADMIN, F_OK)) {
		g_string_append(err, "the running kernel has no DAMON sysfs interface ("
				DAMON_ADMIN " is missing; it needs CONFIG_DAMON_SYSFS and CONFIG_DAMON_VADDR)");
		what_works_here(err);
		return -EOPNOTSUPP;
	}
	if (!slots)
		slots = g_ptr_array_new();
	for (guint i = 0; i < slots->len; i++) {
		if (!slots->pdata[i]) {
			ret = exclusive_users_yield(err);
			if (ret)
				return ret;
			slots->pdata[i] = run;
			run->slot = i;
			return 0;
		}
	}
	ret = nr_kdamonds_read(&nr);
	if (ret) {
		g_string_append_printf(err, "cannot read " DAMON_KDAMONDS "/nr_kdamonds: %s",
				       strerror(-ret));
		return ret;
	}
	if (nr != slots->len) {
		g_string_append_printf(err, "DAMON already has %lu kdamond(s) that etmemd did not create "
				       "(etmemd created %u); adding one would reset them, so etmemd leaves DAMON alone",
				       nr, slots->len);
		return -EBUSY;
	}
	ret = exclusive_users_yield(err);
	if (ret) {
		if (!slots->len)
			exclusive_users_resume();
		return ret;
	}
	/* Growing the set recreates every kdamond: stop ours, grow, restart. */
	for (guint i = 0; i < slots->len; i++)
		kdamond_off(slots->pdata[i]);
	ret = nr_kdamonds_write(slots->len + 1, err);
	if (!ret) {
		g_ptr_array_add(slots, run);
		run->slot = slots->len - 1;
	} else if (!slots->len) {
		exclusive_users_resume();
	}
	for (guint i = 0; i + (ret ? 0 : 1) < slots->len; i++) {
		struct damon_run *other = slots->pdata[i];
		GString *why = g_string_new(NULL);

		if (other->targets->len && kdamond_on(other, why))
			log_warn("%s: kdamond %d did not restart: %s", other->name, other->slot,
				 why->str);
		g_string_free(why, TRUE);
	}
	return ret;
}

static void slot_put(struct damon_run *run)
{
	if (run->slot < 0)
		return;
	kdamond_off(run);
	slots->pdata[run->slot] = NULL;
	run->slot = -1;
	for (guint i = 0; i < slots->len; i++)
		if (slots->pdata[i])
			return;
	/* The last of etmemd's kdamonds: remove them all. */
	nr_kdamonds_write(0, NULL);
	g_ptr_array_set_size(slots, 0);
	exclusive_users_resume();
	if (stats_pool) {
		worker_pool_release(stats_pool);
		stats_pool = NULL;
	}
}

/* ---- the per-task check ---- */

static bool same_targets(GArray *a, GArray *b)
{
	if (a->len != b->len)
		return false;
	for (guint i = 0; i < a->len; i++) {
		const struct proc_id *x = &g_array_index(a, struct proc_id, i);
		const struct proc_id *y = &g_array_index(b, struct proc_id, i);

		if (x->pid != y->pid || x->start_time != y->start_time)
			return false;
	}
	return true;
}

static void run_note(struct damon_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void run_note(struct damon_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->task->stats.note, sizeof(run->task->stats.note), fmt, ap);
	va_end(ap);
}

static void set_state(struct damon_run *run, enum damon_state state)
{
	if (run->state == state)
		return;
	log_debug("%s: %s -> %s", run->name, damon_state_names[run->state],
		  damon_state_names[state]);
	run->state = state;
}

static void publish(struct damon_run *run)
{
	struct task_stats *st = &run->task->stats;

	st->nr_procs = run->targets->len;
	st->nr_cycles++;
	st->last_cycle_end = time(NULL);
	/*
	 * bytes_paged_out stays 0: DAMOS reports the size of the regions it
	 * applied the action to (a region counts again each time), not the
	 * pages the kernel reclaimed. show prints sz_applied under its name.
	 */
}

static void run_free(struct damon_run *run);

static void stats_job_run(struct worker_job *base, struct etmem_client *client, int client_err)
{
	struct stats_job *job = (struct stats_job *)base;

	pthread_mutex_lock(&kdamonds_files_lock);
	job->ret = read_stats_slot(job->slot, job->request, &job->st);
	pthread_mutex_unlock(&kdamonds_files_lock);
}

static void stats_job_done(struct worker_job *base)
{
	struct stats_job *job = (struct stats_job *)base;
	struct damon_run *run = job->run;

	run->stats_pending = false;
	if (run->detached)
		run_free(run);
	else if (!job->ret && job->gen == run->gen && run->on)
		run->last = job->st;
	g_free(job);
}

static void stats_refresh(struct damon_run *run)
{
	struct stats_job *job;

	if (run->stats_pending)
		return;
	if (!stats_pool)
		stats_pool = worker_pool_new(1, "damon statistics");
	if (!stats_pool)
		return;		/* logged; show keeps the last figures */
	job = g_new0(struct stats_job, 1);
	job->base.run = stats_job_run;
	job->base.done = stats_job_done;
	job->run = run;
	job->slot = run->slot;
	job->request = !run->kernel_refresh;
	job->gen = run->gen;
	run->stats_pending = true;
	worker_pool_submit(stats_pool, &job->base);
}

/* Drops from found the processes below min_rss_bytes; returns how many. */
static unsigned int drop_small(const struct damon_run *run, GArray *found)
{
	unsigned int nr = 0;

	if (!run->min_rss_bytes)
		return 0;
	for (guint i = found->len; i-- > 0;) {
		if (proc_rss_bytes(g_array_index(found, struct proc_id, i).pid) >= run->min_rss_bytes)
			continue;
		g_array_remove_index(found, i);
		nr++;
	}
	return nr;
}

static void check(void *arg)
{
	struct damon_run *run = arg;
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct proc_id));
	GString *err = g_string_new(NULL);
	bool was_on = run->on, changed;
	unsigned int nr_small;
	int ret;

	if (run->type == TASK_TYPE_NAME)
		procs_find_by_name(run->value, found);
	else
		pinned_proc_find(&run->pinned, atoi(run->value), found);
	nr_small = drop_small(run, found);

	/* DAMON stops a kdamond whose targets have all exited (busy: next time). */
	if (run->on && kdamond_state(run->slot) == 0) {
		stats_fold(run);
		run->on = false;
	}
	changed = !same_targets(found, run->targets);
	if (changed && run->on && found->len && run->stats_pending) {
		/* The kernel takes one request per kdamond at a time: commit next time. */
		log_debug("%s: targets changed; committed after the statistics", run->name);
	} else if (changed || (!run->on && found->len)) {
		g_array_set_size(run->targets, 0);
		g_array_append_vals(run->targets, found->data, found->len);
		if (!found->len) {
			kdamond_off(run);
		} else if (run->on) {
			/* Online update of the targets. */
			ret = write_targets(run, err);
			if (!ret)
				ret = kd_write(run->slot, "state", err, "commit");
			if (ret == -EBUSY) {
				/* Another request in the kernel: retried next time. */
				g_array_set_size(run->targets, 0);
			} else if (ret) {
				log_warn("%s: targets not updated: %s", run->name, err->str);
				run_note(run, "targets not updated: %s", err->str);
				kdamond_off(run);
			}
		} else if (kdamond_on(run, err)) {
			/* Retried every interval: logged once per reason. */
			if (strcmp(run->last_err, err->str))
				log_warn("%s: kdamond %d did not start: %s", run->name, run->slot,
					 err->str);
			snprintf(run->last_err, sizeof(run->last_err), "%s", err->str);
			run_note(run, "kdamond %d did not start: %s", run->slot, err->str);
		}
		if (run->on || was_on)
			log_info("%s: kdamond %d %s, %u target process(es)", run->name, run->slot,
				 run->on ? "monitors" : "stopped", run->targets->len);
	}
	if (run->on)
		stats_refresh(run);
	if (run->on) {
		run->last_err[0] = '\0';
		set_state(run, DAMON_MONITORING);
		run->task->stats.note[0] = '\0';
	} else if (found->len) {
		set_state(run, DAMON_FAILED);	/* the note says why */
	} else {
		set_state(run, DAMON_WAITING);
		if (run->type == TASK_TYPE_NAME)
			run_note(run, "waiting for a process named '%s'", run->value);
		else if (run->pinned.valid)
			run_note(run, "process %s exited (or its pid was reused); waiting", run->value);
		else
			run_note(run, "waiting for process %s to exist", run->value);
	}
	if (nr_small && (run->on || !found->len))
		run_note(run, "%u process(es) below swap_threshold %" PRIu64 " bytes resident: left alone",
			 nr_small, run->min_rss_bytes);
	publish(run);
	g_string_free(err, TRUE);
	g_array_free(found, TRUE);
	loop_timer_arm(run->timer, run->interval_s * 1000);
}

/* ---- engine operations ---- */

static void run_free(struct damon_run *run)
{
	if (run->timer)
		loop_timer_free(run->timer);
	g_array_free(run->targets, TRUE);
	g_free(run);
}

int damon_task_start(struct task *task, const struct damon_attrs *attrs,
		     const struct damon_scheme *scheme, uint64_t min_rss_bytes, GString *err)
{
	struct damon_run *run = g_new0(struct damon_run, 1);
	const struct project_params *pp = &task->engine->project->params;
	int ret;

	run->task = task;
	snprintf(run->name, sizeof(run->name), "%s/%s", pp->name, task->name);
	run->scheme = *scheme;
	run->attrs = *attrs;
	run->interval_s = pp->interval_s;
	run->min_rss_bytes = min_rss_bytes;
	run->type = task->type;
	strcpy(run->value, task->value);
	run->slot = -1;
	run->targets = g_array_new(FALSE, FALSE, sizeof(struct proc_id));
	run->state = DAMON_WAITING;
	ret = slot_get(run, err);
	if (ret) {
		run_free(run);
		return ret;
	}
	run->timer = loop_timer_new(check, run);
	if (!run->timer) {
		g_string_append(err, "cannot create a timer");
		slot_put(run);
		run_free(run);
		return -ENOMEM;
	}
	memset(&task->stats, 0, sizeof(task->stats));
	task->priv = run;
	check(run);
	return 0;
}

static int damon_start_task(struct task *task, GString *err)
{
	return damon_task_start(task, &task->engine->project->params.damon,
				task->engine->priv, 0, err);
}

void damon_task_stop(struct task *task)
{
	struct damon_run *run = task->priv;

	if (!run)
		return;
	loop_timer_cancel(run->timer);
	slot_put(run);
	log_info("%s: stopped", run->name);
	task->priv = NULL;
	run->task = NULL;
	if (run->stats_pending)
		run->detached = true;	/* the statistics job frees it */
	else
		run_free(run);
}

const char *damon_task_state(const struct task *task)
{
	const struct damon_run *run = task->priv;

	return run ? damon_state_names[run->state] : "stopped";
}

void damon_task_show(const struct task *task, struct etmem_out *out)
{
	const struct damon_run *run = task->priv;
	const struct damon_scheme *s = run ? &run->scheme : task->engine->priv;
	struct damos_stats st = { 0 };
	int slot = run ? run->slot : -1;

	if (run) {
		st = run->base;
		st.nr_tried += run->last.nr_tried;
		st.sz_tried += run->last.sz_tried;
		st.nr_applied += run->last.nr_applied;
		st.sz_applied += run->last.sz_applied;
		st.qt_exceeds += run->last.qt_exceeds;
	}
	etmem_out_int(out, "kdamond", "kdamond=%" PRId64, slot);
	etmem_out_str(out, "action", " action=%s", damon_actions[s->action]);
	etmem_out_uint(out, "quota_ms", " quota: %" PRIu64 " ms", s->quota_ms);
	etmem_out_uint(out, "quota_bytes", ", %" PRIu64 " bytes", s->quota_bytes);
	etmem_out_uint(out, "quota_reset_ms", " per %" PRIu64 " ms", s->quota_reset_ms);
	etmem_out_uint(out, "nr_tried", "; DAMOS tried %" PRIu64 " regions", st.nr_tried);
	etmem_out_uint(out, "sz_tried", " (%" PRIu64 " bytes)", st.sz_tried);
	etmem_out_uint(out, "nr_applied", ", applied %" PRIu64, st.nr_applied);
	etmem_out_uint(out, "sz_applied", " (%" PRIu64 " bytes)", st.sz_applied);
	etmem_out_uint(out, "qt_exceeds", ", quota exceeded %" PRIu64 " times", st.qt_exceeds);
	etmem_out_text(out, "\n         ");
	etmem_out_uint(out, "min_acc", "pattern: nr_accesses %" PRIu64, s->min_acc);
	etmem_out_uint(out, "max_acc", "..%" PRIu64, s->max_acc);
	etmem_out_uint(out, "min_age", ", age %" PRIu64, s->min_age);
	etmem_out_uint(out, "max_age", "..%" PRIu64, s->max_age);
	etmem_out_str(out, "wmark_metric", NULL, wmark_metrics[s->wmark_metric]);
	if (s->wmark_metric != DAMON_WMARK_NONE || etmem_out_is_json(out))
		etmem_out_uint(out, "wmark_high", ", active while free memory < %" PRIu64 " per mille of RAM",
			       s->wmark_high);
}

static int damon_engine_cmd(struct engine *eng, struct task *task, const char *cmd,
			    bool json, GString *reply)
{
	g_string_printf(reply, "engine damon has no private command '%s'", cmd);
	return -EOPNOTSUPP;
}

const struct engine_ops damon_engine_ops = {
	.name = "damon",
	.scan_types = 1u << SCAN_TYPE_REGION,
	.parse_engine = damon_parse_engine,
	.parse_task = damon_parse_task,
	.free_engine = damon_free_engine,
	.start_task = damon_start_task,
	.stop_task = damon_task_stop,
	.free_task = damon_free_task,
	.task_state = damon_task_state,
	.show_task = damon_task_show,
	.engine_cmd = damon_engine_cmd,
};
