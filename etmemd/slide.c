// SPDX-License-Identifier: GPL-2.0
/*
 * The slide engine: each cycle, scan the task's processes `loop` times
 * `interval` seconds apart, page out the pages accessed in fewer than T
 * scans, then sleep `sleep` seconds.
 *
 * Each started task has one struct slide_run, driven by slide_step(): the
 * only place where its state changes. Scans and page-outs are jobs on the
 * run's worker pool (max_threads threads); their results come back to the
 * loop thread. Stopping detaches the run from its task: jobs in flight
 * finish (a page-out is never cut short; a scan is abandoned) and the run
 * frees itself when the last one is done.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/pidfd.h>

#include "engine.h"
#include "etmem_genl.h"
#include "log.h"
#include "loop.h"
#include "pagecount.h"
#include "procs.h"
#include "workers.h"

#define SWAP_RANGES_PER_CALL	1024	/* UIO_MAXIOV for process_madvise */

struct slide_params {
	unsigned int threshold;		/* T */
	unsigned int max_threads;
	uint64_t swap_threshold_bytes;	/* 0: no threshold */
	bool swap_flag;
};

enum slide_state {
	SLIDE_FINDING,		/* transient: looking for processes */
	SLIDE_WAITING,		/* no process to work on; retry after sleep */
	SLIDE_SCANNING,		/* scan jobs in flight */
	SLIDE_PAUSED,		/* between two scans of a cycle */
	SLIDE_SWAPPING,		/* page-out jobs in flight */
	SLIDE_SLEEPING,		/* between cycles */
	SLIDE_STOPPING,		/* detached from its task, jobs draining */
	__SLIDE_STATE_CNT
};

static const char *const slide_state_names[] = {
	[SLIDE_FINDING] = "finding processes",
	[SLIDE_WAITING] = "waiting for processes",
	[SLIDE_SCANNING] = "scanning",
	[SLIDE_PAUSED] = "between scans",
	[SLIDE_SWAPPING] = "paging out",
	[SLIDE_SLEEPING] = "sleeping",
	[SLIDE_STOPPING] = "stopping",
};

_Static_assert(G_N_ELEMENTS(slide_state_names) == __SLIDE_STATE_CNT,
	       "one name per slide state");

enum slide_event {
	SLIDE_EV_START,
	SLIDE_EV_TIMER,
	SLIDE_EV_JOBS_DONE,	/* the last job of a phase came back */
	SLIDE_EV_STOP,
};

/* One process of the current cycle. */
struct slide_proc {
	struct proc_id id;
	struct page_counts *counts;	/* owned by the job in flight, if any */
	GArray *cold;			/* struct etmem_range, after the last scan */
	uint64_t nr_pages;
	uint64_t nr_cold;
	bool gone;
};

struct slide_run {
	struct task *task;		/* NULL once detached */
	char name[2 * CFG_NAME_MAX + 8];	/* "project/task", for logs */
	struct slide_params params;	/* snapshots, taken at start */
	struct project_params proj;
	enum task_type type;
	char value[CFG_COMM_MAX + 1];
	struct proc_id pinned;		/* type=pid: the process first seen */
	bool pinned_valid;

	enum slide_state state;
	struct loop_timer *timer;
	struct worker_pool *pool;
	GPtrArray *procs;		/* struct slide_proc *, this cycle */
	unsigned int pass;		/* 1..loop */
	unsigned int pending;		/* jobs of the current phase in flight */
	atomic_bool cancel;		/* read by scan jobs */
	bool noted;			/* a note was set during this cycle */
	struct etmem_swap_result swapped;	/* this cycle */
};

struct slide_job {
	struct worker_job base;
	struct slide_run *run;
	struct slide_proc *proc;
	unsigned int pass;		/* scan pass, 0 for a page-out */
	bool last_pass;
	int status;
	char errmsg[160];
	struct etmem_swap_result result;
};

static void slide_step(struct slide_run *run, enum slide_event ev);

/* ---- configuration ---- */

static int slide_parse_task(struct cfg_section *sec, const struct project_params *proj,
			    struct task *task, GString *err)
{
	struct slide_params *sp = g_new0(struct slide_params, 1);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long t, threads = 1;
	int ret;

	if (cores < 1)
		cores = 1;
	if (cfg_get_uint(sec, "T", true, 0, proj->loop * 3UL, &t, err))
		goto free_params;
	ret = cfg_get_uint(sec, "max_threads", false, 1, 2 * cores + 1, &threads, err);
	if (ret == -EINVAL)
		goto free_params;
	if (cfg_get_size(sec, "swap_threshold", false, &sp->swap_threshold_bytes, err) == -EINVAL ||
	    cfg_get_bool(sec, "swap_flag", false, &sp->swap_flag, err) == -EINVAL)
		goto free_params;
	sp->threshold = t;
	sp->max_threads = threads;
	task->params = sp;
	return 0;

free_params:
	g_free(sp);
	return -EINVAL;
}

static void slide_free_task(struct task *task)
{
	g_free(task->params);
	task->params = NULL;
}

/* ---- jobs (run on workers) ---- */

static void scan_job_run(struct worker_job *base, struct etmem_client *client, int client_err)
{
	struct slide_job *job = (struct slide_job *)base;
	struct slide_proc *proc = job->proc;
	uint32_t flags = job->run->params.swap_flag ? ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY : 0;

	job->status = page_counts_scan_pass(proc->counts, client, client_err,
					    atomic_load(&job->run->cancel), &proc->id, flags,
					    job->pass, job->errmsg, sizeof(job->errmsg));
	if (job->status)
		return;
	if (!job->last_pass)
		return;
	/* Cold ranges are computed here, off the loop thread. */
	proc->nr_pages = page_counts_nr_pages(proc->counts);
	g_array_set_size(proc->cold, 0);
	proc->nr_cold = page_counts_cold_ranges(proc->counts, job->run->params.threshold,
						proc->cold);
}

static void swap_job_run(struct worker_job *base, struct etmem_client *client, int client_err)
{
	struct slide_job *job = (struct slide_job *)base;
	struct slide_proc *proc = job->proc;
	uint32_t flags = job->run->params.swap_flag ? ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY : 0;
	const struct etmem_range *ranges = (const struct etmem_range *)proc->cold->data;
	int pidfd;

	if (!client) {
		job->status = client_err;
		snprintf(job->errmsg, sizeof(job->errmsg),
			 "cannot open the etmem netlink family; is etmem_scan loaded?");
		return;
	}
	/*
	 * The pid must still be the process we scanned. Checked after the
	 * pidfd is open, so the page-out reaches that process or none, even
	 * if the pid is given to another process meanwhile.
	 */
	pidfd = pidfd_open(proc->id.pid, 0);
	if (pidfd < 0 || !proc_alive(&proc->id)) {
		if (pidfd >= 0)
			close(pidfd);
		job->status = -ESRCH;
		return;
	}
	for (guint done = 0; done < proc->cold->len; done += SWAP_RANGES_PER_CALL) {
		struct etmem_swap_result r = { 0 };
		size_t n = MIN(proc->cold->len - done, SWAP_RANGES_PER_CALL);
		int ret = etmem_swap_out_pidfd(client, pidfd, proc->id.pid,
					       ranges + done, n, flags, &r);

		if (ret) {
			job->status = ret;
			snprintf(job->errmsg, sizeof(job->errmsg), "%s", etmem_client_errmsg(client));
			break;
		}
		job->result.nr_eligible += r.nr_eligible;
		job->result.nr_young += r.nr_young;
		job->result.nr_unmarked += r.nr_unmarked;
		job->result.nr_absent += r.nr_absent;
		job->result.bytes_advised += r.bytes_advised;
	}
	close(pidfd);
}

/* ---- runs (loop thread) ---- */

static void slide_proc_free(gpointer data)
{
	struct slide_proc *proc = data;

	page_counts_free(proc->counts);
	g_array_free(proc->cold, TRUE);
	g_free(proc);
}

static void run_note(struct slide_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void run_note(struct slide_run *run, const char *fmt, ...)
{
	va_list ap;

	if (!run->task)
		return;
	run->noted = true;
	va_start(ap, fmt);
	vsnprintf(run->task->stats.note, sizeof(run->task->stats.note), fmt, ap);
	va_end(ap);
}

static void run_free(struct slide_run *run)
{
	loop_timer_free(run->timer);
	worker_pool_release(run->pool);
	g_ptr_array_free(run->procs, TRUE);
	g_free(run);
}

static void job_done(struct worker_job *base)
{
	struct slide_job *job = (struct slide_job *)base;
	struct slide_run *run = job->run;

	if (job->status == -ESRCH) {
		job->proc->gone = true;
	} else if (job->status) {
		log_warn("%s: %s of pid %d failed: %s%s%s", run->name,
			 job->pass ? "scan" : "page-out", job->proc->id.pid,
			 strerror(-job->status), *job->errmsg ? ": " : "", job->errmsg);
		run_note(run, "%s of pid %d failed: %s%s%s", job->pass ? "scan" : "page-out",
			 job->proc->id.pid, strerror(-job->status),
			 *job->errmsg ? ": " : "", job->errmsg);
		job->proc->gone = true;
	}
	if (!job->pass) {
		run->swapped.nr_eligible += job->result.nr_eligible;
		run->swapped.nr_young += job->result.nr_young;
		run->swapped.nr_unmarked += job->result.nr_unmarked;
		run->swapped.bytes_advised += job->result.bytes_advised;
	}
	g_free(job);
	if (--run->pending == 0)
		slide_step(run, SLIDE_EV_JOBS_DONE);
}

static void submit(struct slide_run *run, struct slide_proc *proc, unsigned int pass)
{
	struct slide_job *job = g_new0(struct slide_job, 1);

	job->base.run = pass ? scan_job_run : swap_job_run;
	job->base.done = job_done;
	job->run = run;
	job->proc = proc;
	job->pass = pass;
	job->last_pass = pass == run->proj.loop;
	run->pending++;
	worker_pool_submit(run->pool, &job->base);
}

static void add_proc(struct slide_run *run, const struct proc_id *id)
{
	struct slide_proc *proc;

	if (run->params.swap_threshold_bytes &&
	    proc_rss_bytes(id->pid) < run->params.swap_threshold_bytes)
		return;
	proc = g_new0(struct slide_proc, 1);
	proc->id = *id;
	proc->counts = page_counts_new();
	proc->cold = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	g_ptr_array_add(run->procs, proc);
}

static void end_cycle(struct slide_run *run);

/* Fills run->procs; returns how many processes exist (threshold or not). */
static unsigned int find_procs(struct slide_run *run)
{
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct proc_id));
	struct proc_stat st;
	unsigned int nr_found;

	g_ptr_array_set_size(run->procs, 0);
	if (run->type == TASK_TYPE_NAME) {
		procs_find_by_name(run->value, found);
	} else if (!run->pinned_valid) {
		/* type=pid follows the process first seen under that pid. */
		if (!proc_read_stat(atoi(run->value), &st)) {
			run->pinned.pid = atoi(run->value);
			run->pinned.start_time = st.start_time;
			run->pinned_valid = true;
			g_array_append_val(found, run->pinned);
		}
	} else if (proc_alive(&run->pinned)) {
		g_array_append_val(found, run->pinned);
	}
	for (guint i = 0; i < found->len; i++)
		add_proc(run, &g_array_index(found, struct proc_id, i));
	nr_found = found->len;
	g_array_free(found, TRUE);
	return nr_found;
}

static void note_no_procs(struct slide_run *run, unsigned int nr_found)
{
	if (nr_found)
		run_note(run, "%u process(es) below swap_threshold %" PRIu64 " bytes resident: left alone",
			 nr_found, run->params.swap_threshold_bytes);
	else if (run->type == TASK_TYPE_NAME)
		run_note(run, "waiting for a process named '%s'", run->value);
	else if (run->pinned_valid)
		run_note(run, "process %s exited (or its pid was reused); waiting", run->value);
	else
		run_note(run, "waiting for process %s to exist", run->value);
}

/* Starts a cycle; returns the state to go to. */
static enum slide_state begin_cycle(struct slide_run *run)
{
	unsigned int nr_found;

	/* The last cycle's note stays visible until this one ends. */
	run->noted = false;
	nr_found = find_procs(run);

	if (run->task)
		run->task->stats.nr_procs = run->procs->len;
	if (!run->procs->len) {
		note_no_procs(run, nr_found);
		if (!nr_found)
			return SLIDE_WAITING;
		/* All below swap_threshold: a cycle that decided to do nothing. */
		memset(&run->swapped, 0, sizeof(run->swapped));
		if (run->task)
			run->task->stats.pages_scanned = run->task->stats.pages_cold = 0;
		end_cycle(run);
		return SLIDE_SLEEPING;
	}
	memset(&run->swapped, 0, sizeof(run->swapped));
	run->pass = 1;
	for (guint i = 0; i < run->procs->len; i++)
		submit(run, run->procs->pdata[i], run->pass);
	return SLIDE_SCANNING;
}

/* After the last scan: page out, unless memory is plentiful. */
static enum slide_state begin_swap(struct slide_run *run)
{
	uint64_t scanned = 0, cold = 0;
	int avail;

	for (guint i = 0; i < run->procs->len; i++) {
		struct slide_proc *proc = run->procs->pdata[i];

		if (proc->gone)
			continue;
		scanned += proc->nr_pages;
		cold += proc->nr_cold;
	}
	if (run->task) {
		run->task->stats.pages_scanned = scanned;
		run->task->stats.pages_cold = cold;
	}
	avail = meminfo_available_pct();
	if (run->proj.sysmem_threshold >= 0 && avail >= run->proj.sysmem_threshold) {
		run_note(run, "MemAvailable is %d%% of RAM, not below sysmem_threshold %d%%: nothing paged out",
			 avail, run->proj.sysmem_threshold);
		return SLIDE_SLEEPING;
	}
	for (guint i = 0; i < run->procs->len; i++) {
		struct slide_proc *proc = run->procs->pdata[i];

		if (!proc->gone && proc->cold->len)
			submit(run, proc, 0);
	}
	return run->pending ? SLIDE_SWAPPING : SLIDE_SLEEPING;
}

static void end_cycle(struct slide_run *run)
{
	struct task_stats *stats;

	if (!run->task)
		return;
	stats = &run->task->stats;
	if (!run->noted)
		stats->note[0] = '\0';
	stats->nr_cycles++;
	stats->bytes_paged_out_last = run->swapped.bytes_advised;
	stats->bytes_paged_out += run->swapped.bytes_advised;
	stats->last_cycle_end = time(NULL);
	log_debug("%s: cycle %" PRIu64 ": %u procs, %" PRIu64 " pages, %" PRIu64
		  " cold, %" PRIu64 " bytes paged out (%" PRIu64 " approved, %" PRIu64
		  " young, %" PRIu64 " unmarked)", run->name, stats->nr_cycles,
		  stats->nr_procs, stats->pages_scanned, stats->pages_cold,
		  run->swapped.bytes_advised, run->swapped.nr_eligible,
		  run->swapped.nr_young, run->swapped.nr_unmarked);
}

static void timer_fired(void *arg)
{
	slide_step(arg, SLIDE_EV_TIMER);
}

static void set_state(struct slide_run *run, enum slide_state next)
{
	if (next != run->state)
		log_debug("%s: %s -> %s", run->name, slide_state_names[run->state],
			  slide_state_names[next]);
	run->state = next;
	if (next == SLIDE_WAITING || next == SLIDE_SLEEPING)
		loop_timer_arm(run->timer, run->proj.sleep_s * 1000);
	else if (next == SLIDE_PAUSED)
		loop_timer_arm(run->timer, run->proj.interval_s * 1000);
}

/* The whole state machine: every transition of a run happens here. */
static void slide_step(struct slide_run *run, enum slide_event ev)
{
	enum slide_state next = run->state;

	if (ev == SLIDE_EV_STOP) {
		loop_timer_cancel(run->timer);
		atomic_store(&run->cancel, true);
		run->task = NULL;
		set_state(run, SLIDE_STOPPING);
		if (!run->pending)
			run_free(run);
		return;
	}
	switch (run->state) {
	case SLIDE_FINDING:	/* SLIDE_EV_START */
	case SLIDE_WAITING:	/* SLIDE_EV_TIMER */
	case SLIDE_SLEEPING:
		set_state(run, SLIDE_FINDING);
		next = begin_cycle(run);
		break;
	case SLIDE_SCANNING:	/* SLIDE_EV_JOBS_DONE */
		if (run->pass < run->proj.loop) {
			next = SLIDE_PAUSED;
			break;
		}
		next = begin_swap(run);
		if (next == SLIDE_SLEEPING)
			end_cycle(run);
		break;
	case SLIDE_PAUSED:	/* SLIDE_EV_TIMER */
		run->pass++;
		for (guint i = 0; i < run->procs->len; i++) {
			struct slide_proc *proc = run->procs->pdata[i];

			if (!proc->gone)
				submit(run, proc, run->pass);
		}
		next = run->pending ? SLIDE_SCANNING : SLIDE_SLEEPING;
		break;
	case SLIDE_SWAPPING:	/* SLIDE_EV_JOBS_DONE */
		end_cycle(run);
		next = SLIDE_SLEEPING;
		break;
	case SLIDE_STOPPING:	/* SLIDE_EV_JOBS_DONE */
		if (!run->pending)
			run_free(run);
		return;
	default:
		break;
	}
	set_state(run, next);
}

/* ---- engine operations ---- */

static int slide_start_task(struct task *task, GString *err)
{
	struct slide_run *run = g_new0(struct slide_run, 1);
	char pool_name[sizeof(run->name) + 16];

	run->task = task;
	snprintf(run->name, sizeof(run->name), "%s/%s",
		 task->engine->project->params.name, task->name);
	run->params = *(struct slide_params *)task->params;
	run->proj = task->engine->project->params;
	run->type = task->type;
	strcpy(run->value, task->value);
	run->procs = g_ptr_array_new_with_free_func(slide_proc_free);
	run->timer = loop_timer_new(timer_fired, run);
	snprintf(pool_name, sizeof(pool_name), "slide %s", run->name);
	run->pool = worker_pool_new(run->params.max_threads, pool_name);
	if (!run->timer || !run->pool) {
		g_string_append_printf(err, "cannot create the timer or worker threads: %s",
				       strerror(errno));
		run_free(run);
		return -ENOMEM;
	}
	memset(&task->stats, 0, sizeof(task->stats));
	task->priv = run;
	run->state = SLIDE_FINDING;
	slide_step(run, SLIDE_EV_START);
	return 0;
}

static void slide_stop_task(struct task *task)
{
	struct slide_run *run = task->priv;

	task->priv = NULL;
	if (run)
		slide_step(run, SLIDE_EV_STOP);
}

static const char *slide_task_state(const struct task *task)
{
	const struct slide_run *run = task->priv;

	return run ? slide_state_names[run->state] : "stopped";
}

static void slide_show_task(const struct task *task, bool json, GString *out)
{
	const struct slide_params *sp = task->params;

	if (json)
		g_string_append_printf(out, ",\"T\":%u,\"max_threads\":%u,\"swap_threshold\":%" PRIu64
				       ",\"swap_flag\":%s", sp->threshold, sp->max_threads,
				       sp->swap_threshold_bytes, sp->swap_flag ? "true" : "false");
	else
		g_string_append_printf(out, "T=%u max_threads=%u swap_threshold=%" PRIu64 " swap_flag=%s",
				       sp->threshold, sp->max_threads, sp->swap_threshold_bytes,
				       sp->swap_flag ? "yes" : "no");
}

static int slide_engine_cmd(struct engine *eng, struct task *task, const char *cmd,
			    GString *reply)
{
	g_string_printf(reply, "engine slide has no private command '%s' (private commands belong to cslide and third-party engines)",
			cmd);
	return -EOPNOTSUPP;
}

const struct engine_ops slide_engine_ops = {
	.name = "slide",
	.parse_task = slide_parse_task,
	.start_task = slide_start_task,
	.stop_task = slide_stop_task,
	.free_task = slide_free_task,
	.task_state = slide_task_state,
	.show_task = slide_show_task,
	.engine_cmd = slide_engine_cmd,
};
