// SPDX-License-Identifier: GPL-2.0
/*
 * The slide engine: each cycle, scan the task's processes `loop` times
 * `interval` seconds apart, page out the pages accessed in fewer than T
 * scans, then sleep `sleep` seconds.
 *
 * In budget mode (stall_budget_us and/or majflt_budget instead of T) the
 * pages paged out are those the kernel has seen idle for at least an age
 * (in scans) that a controller (budget.h) sets each cycle from the cost
 * the task's processes paid since the last one.
 *
 * Each started task has one struct slide_run around the shared scan
 * cycle (cycle.h), whose acting phase is the page-out. Scans and page-outs
 * are jobs on the run's worker pool (max_threads threads); their results
 * come back to the loop thread. Stopping detaches the run from its task:
 * jobs in flight finish (a page-out is never cut short; a scan is
 * abandoned) and the run frees itself when the last one is done.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/pidfd.h>

#include "budget.h"
#include "cycle.h"
#include "damon.h"
#include "engine.h"
#include "etmem_genl.h"
#include "etmem_kvm.h"
#include "etmem_out.h"
#include "log.h"
#include "loop.h"
#include "pagecount.h"
#include "procs.h"
#include "report.h"
#include "workers.h"

#define SWAP_RANGES_PER_CALL	1024	/* UIO_MAXIOV for process_madvise */

struct slide_params {
	unsigned int threshold;		/* T; loop + 1 in budget mode */
	unsigned int max_threads;
	uint64_t swap_threshold_bytes;	/* 0: no threshold */
	bool swap_flag;
	unsigned int idle_age;		/* 0: off; else kernel idle age needed;
					 * in budget mode, the controller's floor */
	uint64_t stall_budget_us;	/* budget mode: PSI some stall, us/s */
	uint64_t majflt_budget;		/* budget mode: major faults per second */
};

static bool budget_mode(const struct slide_params *sp)
{
	return sp->stall_budget_us || sp->majflt_budget;
}

/*
 * Cycles that cold ranges the kernel refused for a lasting reason are left
 * out of page-outs (struct slide_proc's held) before they are asked again.
 */
#define SLIDE_HOLD_CYCLES	16

/* Most processes of one task that keep a pidfd for the cycle. */
#define SLIDE_PIDFDS_MAX	64

/*
 * One process of the current cycle. find_procs() carries it over to the
 * next cycle while the same process (pid and start time) is found again,
 * with its pidfd, its page counts' buffers and its own ages: in steady
 * state a cycle opens and allocates nothing for it.
 */
struct slide_proc {
	struct proc_id id;
	/*
	 * Opened when the cycle found it (proc_open_pidfd()), or -1: each
	 * pass and the page-out check the process with it instead of reading
	 * /proc/PID/stat (a third of etmemd's file opens in steady state).
	 */
	int pidfd;
	struct page_counts *counts;	/* owned by the job in flight, if any */
	GArray *cold;			/* struct etmem_range, after the last scan */
	uint64_t nr_pages;
	uint64_t nr_cold;		/* held ones included; 4 KiB units */
	/*
	 * Hold-back. Ranges (a range set, pagecount.h) that the kernel
	 * refused at a page-out job of this process in which no page was
	 * refused as accessed again, already gone or unevictable (which
	 * includes pages off the LRU lists for a moment): every refusal there
	 * had a lasting reason (mapped by another process too, in a VM_LOCKED
	 * mapping, hugetlb, not marked under swap_flag). Asking for them every
	 * cycle only repeats the refusal, and a page-out job costs a pagemap
	 * open, a request and a process_madvise() (in the costs benchmark's
	 * steady state, one a cycle for about 380 pages of shared libraries).
	 * They stay cold in pages_cold, are counted in pages_cold_held, and
	 * are asked again after SLIDE_HOLD_CYCLES cycles (ranges refused while
	 * a hold runs end with it, sooner): a page whose reason went away (the
	 * other process exited, munlock) goes out at most that many cycles
	 * late. Written by the jobs, reset by the loop thread between cycles.
	 */
	GArray *held;
	unsigned int held_cycles;	/* cycles left until held is emptied */
	uint64_t nr_held;		/* of nr_cold: held back this cycle */
	uint64_t nr_band;		/* of nr_cold: in a budget probe's band */
	/*
	 * Set by judge_so_far() after a pass but the last: no page of it
	 * could still be cold but held ones. Cleared by every such pass.
	 */
	bool settled;
	bool gone;
	/*
	 * Budget mode: our own idle ages of the pages the kernel gives none
	 * (page_counts_aged_ranges()); the job in flight owns them.
	 */
	GHashTable *own_ages;
};

struct slide_run {
	struct cycle cycle;
	struct task *task;		/* NULL once detached */
	char name[2 * CFG_NAME_SIZE + 8];	/* "project/task", for logs */
	struct slide_params params;	/* snapshots, taken at start */
	struct project_params proj;
	enum task_type type;
	char value[CFG_COMM_MAX + 1];
	struct pinned_proc pinned;	/* type=pid */
	unsigned int nr_kvm;		/* KVM guests refused this cycle */
	char kvm_why[PROCS_KVM_WHY_SIZE];	/* the first one: "PID: reason" */

	GPtrArray *procs;		/* struct slide_proc *, this cycle */
	/*
	 * pid_t of every process the task matched this cycle, those below
	 * swap_threshold too: budget mode meters them all, since a process
	 * that dropped below the threshold after a page-out is still paying
	 * for it in refaults.
	 */
	GArray *found_pids;
	bool noted;			/* a note was set during this cycle */
	bool had_errors;		/* a scan or page-out failed this cycle */
	struct task_counts counts;	/* this cycle */
	uint64_t swap_total, swap_free;	/* after the last page-out */
	struct log_ctx ctx;		/* names point to the two below */
	char proj_name[CFG_NAME_SIZE], task_name[CFG_NAME_SIZE];
	/*
	 * Budget mode. ctl.age, ctl.probe_from and ctl.probe_share change
	 * only in begin_cycle(), before the cycle's scan jobs are submitted,
	 * and the jobs read them: the cycle waits for all its jobs before the
	 * next begins; and in begin_swap() when swap was turned on during the
	 * scans, after the jobs, and that cycle then pages nothing out.
	 */
	struct budget_ctl ctl;
	struct budget_meter meter;
	bool held_back;			/* the last page-out was skipped, or a full swap kept pages */
	bool ctl_moved;			/* the controller changed the age this cycle */
	bool ctl_swapless;		/* the controller ran with no swap configured */
	/*
	 * Decide a cycle early (slide_decided()): T alone judges, not ages
	 * (no budget, no idle_age), and there is more than one pass.
	 */
	bool may_decide_early;
	unsigned int last_nr_passes;	/* scan passes of the last cycle that ended */
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
	/*
	 * Page-out: no page left RAM and every page refused is held back
	 * for a lasting reason (hold_refused()), so memory is as before. A
	 * hold that ended asks its pages again; refused again, that cycle
	 * is still quiet and does not put the sleep back to sleep.
	 */
	bool changed_nothing;
	struct task_counts counts;	/* page-out: what left RAM, what stayed */
	uint64_t swap_total, swap_free;
};

/* ---- configuration ---- */

static int slide_parse_task(struct cfg_section *sec, const struct project_params *proj,
			    struct task *task, GString *err)
{
	struct slide_params *sp = g_new0(struct slide_params, 1);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long t = 0, threads = 1, age = 0, stall = 0, flt = 0;
	bool budget;
	int ret;

	if (cores < 1)
		cores = 1;
	if (cfg_get_uint(sec, "stall_budget_us", false, 1, 1000000, &stall, err) == -EINVAL ||
	    cfg_get_uint(sec, "majflt_budget", false, 1, 10000000, &flt, err) == -EINVAL)
		goto free_params;
	budget = stall || flt;
	if (budget && cfg_has_key(sec, "T")) {
		cfg_error_prefix(sec, "T", err);
		g_string_append(err, "T and a budget (stall_budget_us, majflt_budget) exclude each other: "
				"give T for a fixed threshold, or a budget and let etmemd choose the idle age");
		goto free_params;
	}
	if (!budget && !cfg_has_key(sec, "T")) {
		cfg_error_prefix(sec, NULL, err);
		g_string_append(err, "missing required key 'T' (pages accessed in fewer than T of the loop scans are paged out), "
				"or a budget instead (stall_budget_us: memory stall in microseconds per second; "
				"majflt_budget: major faults per second)");
		goto free_params;
	}
	if (!budget && cfg_get_uint(sec, "T", true, 0, proj->loop * 3UL, &t, err))
		goto free_params;
	if (budget && proj->scan_type == SCAN_TYPE_AUTO) {
		cfg_error_prefix(sec, stall ? "stall_budget_us" : "majflt_budget", err);
		g_string_append(err, "a budget needs the etmem modules' idle ages, and scan_type=auto runs "
				"the damon engine where they are not loaded (use scan_type=page, or T)");
		goto free_params;
	}
	ret = cfg_get_uint(sec, "max_threads", false, 1, 2 * cores + 1, &threads, err);
	if (ret == -EINVAL)
		goto free_params;
	if (cfg_get_size(sec, "swap_threshold", false, &sp->swap_threshold_bytes, err) == -EINVAL ||
	    cfg_get_bool(sec, "swap_flag", false, &sp->swap_flag, err) == -EINVAL)
		goto free_params;
	/*
	 * In budget mode idle_age is the floor of the controller's age, which
	 * starts at BUDGET_AGE_START and may rise to ETMEM_IDLE_AGE_MAX: 0
	 * (off, with T) means nothing there, and a floor at the most would
	 * leave the controller nothing to move.
	 */
	if (cfg_get_uint(sec, "idle_age", false, budget ? 1 : 0,
			 budget ? ETMEM_IDLE_AGE_MAX - 1 : ETMEM_IDLE_AGE_MAX, &age, err) == -EINVAL) {
		if (budget)
			g_string_append(err, " (with a budget, idle_age is the floor of the age the "
					"controller chooses, default 2)");
		goto free_params;
	}
	if (age && proj->scan_type == SCAN_TYPE_AUTO) {
		cfg_error_prefix(sec, "idle_age", err);
		g_string_append(err, "idle_age needs the etmem modules' idle ages, and scan_type=auto runs "
				"the damon engine where they are not loaded (use scan_type=page, or no idle_age)");
		goto free_params;
	}
	sp->idle_age = age;
	if (budget) {
		/* Pages idle in every scan of the cycle; the age decides. */
		t = proj->loop + 1;
		sp->idle_age = age ? age : BUDGET_FLOOR_DEFAULT;
		sp->stall_budget_us = stall;
		sp->majflt_budget = flt;
	}
	if (sp->swap_flag && proj->scan_type == SCAN_TYPE_AUTO) {
		cfg_error_prefix(sec, "swap_flag", err);
		g_string_append(err, "swap_flag=yes needs the etmem modules' swap marks, and scan_type=auto runs "
				"the damon engine where they are not loaded (use swap_flag=no, or scan_type=page)");
		goto free_params;
	}
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

/*
 * After a pass before the last: the pages that could still be cold. A
 * page is cold when the cycle's passes found it accessed fewer than T
 * times; one found accessed T times already is hot whatever the passes
 * left find, and one absent in any pass is never cold. So the pages
 * accessed fewer than T times so far are all that could still be cold:
 * they go to proc->cold, less those held back (counted in nr_held), and
 * an empty proc->cold means the passes left cannot change what this cycle
 * pages out of the process (slide_decided()). A cycle that ends here
 * reports as cold the held pages that were idle enough in the passes it
 * made.
 */
static void judge_so_far(const struct slide_run *run, struct slide_proc *proc)
{
	g_array_set_size(proc->cold, 0);
	proc->nr_band = 0;
	proc->nr_pages = page_counts_nr_pages(proc->counts);
	proc->nr_cold = page_counts_cold_ranges(proc->counts, run->params.threshold, 0,
						proc->cold);
	proc->nr_held = ranges_subtract(proc->cold, proc->held) >> 12;
	proc->settled = !proc->cold->len;
}

static void scan_job_run(struct worker_job *base, struct etmem_client *client, int client_err)
{
	struct slide_job *job = (struct slide_job *)base;
	struct slide_proc *proc = job->proc;
	/*
	 * Hot sampling: a PTE table found all accessed in its last reads is
	 * read every other pass (the module's hot_skip_max_passes), its
	 * pages counted accessed in between: it halves the cost of scanning
	 * a hot working set, and can only keep pages resident a pass longer.
	 */
	/*
	 * Run-length replies: a chunk of pages in few runs (swapped out,
	 * untouched, all hot) comes as its runs, and pagecount.c applies a
	 * run at a time instead of decoding each page. The ages are capped at
	 * the one age this cycle asks about (the budget controller's, or
	 * idle_age; loop thread sets both before the passes), so all older
	 * pages make one run.
	 */
	uint32_t flags = ETMEM_SCAN_FLAGS_SAMPLE_HOT | ETMEM_SCAN_FLAGS_RUNS |
			 (job->run->params.swap_flag ? ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY : 0);
	unsigned int min_age = budget_mode(&job->run->params) ? budget_scan_age(&job->run->ctl) :
			       job->run->params.idle_age;

	if (job->run->params.idle_age)
		flags |= ETMEM_SCAN_FLAGS_IDLE_AGES;	/* always in budget mode */
	job->status = page_counts_scan_pass(proc->counts, client, client_err,
					    atomic_load(&job->run->cycle.cancel), &proc->id,
					    proc->pidfd, flags,
					    min_age, job->pass, job->errmsg, sizeof(job->errmsg));
	if (job->status) {
		base->reconnect = job->status != -ESRCH;
		return;
	}
	if (!job->last_pass) {
		proc->settled = false;
		/* Counts reach at most the pass number: no earlier pass decides. */
		if (job->run->may_decide_early && job->pass >= job->run->params.threshold)
			judge_so_far(job->run, proc);
		return;
	}
	/* Cold ranges are computed here, off the loop thread. */
	proc->nr_pages = page_counts_nr_pages(proc->counts);
	g_array_set_size(proc->cold, 0);
	proc->nr_band = 0;
	if (budget_mode(&job->run->params))
		proc->nr_cold = page_counts_aged_ranges(proc->counts, job->run->ctl.age,
							job->run->ctl.probe_from,
							job->run->ctl.probe_share,
							&proc->own_ages, proc->cold,
							&proc->nr_band);
	else
		proc->nr_cold = page_counts_cold_ranges(proc->counts, job->run->params.threshold,
							job->run->params.idle_age, proc->cold);
	proc->nr_held = ranges_subtract(proc->cold, proc->held) >> 12;
}

static int add_approved(const struct etmem_range *range, void *arg)
{
	g_array_append_val((GArray *)arg, *range);
	return 0;
}

/*
 * After a page-out job: hold back what the kernel refused, when every
 * refusal had a lasting reason (struct slide_proc's held). Returns true
 * when it held them all.
 */
static bool hold_refused(struct slide_proc *proc, const struct etmem_swap_result *r,
			 const GArray *approved)
{
	GArray *refused;

	/*
	 * Accessed again, already gone, or off the LRU lists (which the
	 * kernel counts as unevictable: also pages being migrated or
	 * reclaimed right now) can pass in a moment: hold nothing then.
	 */
	if (r->nr_young || r->nr_absent || r->nr_unevictable)
		return false;
	refused = g_array_copy(proc->cold);
	ranges_subtract(refused, approved);
	/* Counted down at the start of each later cycle: held in 16 of them. */
	if (refused->len && !proc->held->len)
		proc->held_cycles = SLIDE_HOLD_CYCLES + 1;
	ranges_merge(proc->held, refused);
	g_array_free(refused, TRUE);
	return true;
}

static void swap_job_run(struct worker_job *base, struct etmem_client *client, int client_err)
{
	struct slide_job *job = (struct slide_job *)base;
	struct slide_proc *proc = job->proc;
	uint32_t flags = job->run->params.swap_flag ? ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY : 0;
	const struct etmem_range *ranges = (const struct etmem_range *)proc->cold->data;
	GArray *approved;
	int pidfd, own_pidfd = -1;

	if (!client) {
		job->status = client_err;
		snprintf(job->errmsg, sizeof(job->errmsg), "cannot open the etmem netlink family (%s)",
			 etmem_modules_hint());
		return;
	}
	/*
	 * The pid must still be the process we scanned. Checked after the
	 * pidfd is open, so the page-out reaches that process or none, even
	 * if the pid is given to another process meanwhile.
	 */
	pidfd = proc->pidfd;
	if (pidfd < 0)
		pidfd = own_pidfd = proc_open_pidfd(&proc->id);
	if (pidfd < 0) {
		job->status = -ESRCH;
		return;
	}
	approved = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	for (guint done = 0; done < proc->cold->len; done += SWAP_RANGES_PER_CALL) {
		struct etmem_swap_result r = { 0 };
		size_t n = MIN(proc->cold->len - done, SWAP_RANGES_PER_CALL);
		int ret = etmem_swap_out_pidfd_approved(client, pidfd, proc->id.pid,
							ranges + done, n, flags, &r,
							add_approved, approved);

		/* What a failed call did before failing counts too. */
		job->result.nr_eligible += r.nr_eligible;
		job->result.nr_young += r.nr_young;
		job->result.nr_locked += r.nr_locked;
		job->result.nr_shared += r.nr_shared;
		job->result.nr_hugetlb += r.nr_hugetlb;
		job->result.nr_unmarked += r.nr_unmarked;
		job->result.nr_absent += r.nr_absent;
		job->result.nr_unevictable += r.nr_unevictable;
		job->result.bytes_advised += r.bytes_advised;
		job->result.bytes_out += r.bytes_out;
		job->result.nr_kept_anon += r.nr_kept_anon;
		job->result.nr_kept_file += r.nr_kept_file;
		if (ret) {
			job->status = ret;
			base->reconnect = ret != -ESRCH;
			snprintf(job->errmsg, sizeof(job->errmsg), "%s", etmem_client_errmsg(client));
			break;
		}
	}
	if (own_pidfd >= 0)
		close(own_pidfd);
	if (!job->status)
		job->changed_nothing = !approved->len &&
				       hold_refused(proc, &job->result, approved);
	g_array_free(approved, TRUE);
	/* The swap state right after the page-out explains what stayed. */
	meminfo_swap(&job->swap_total, &job->swap_free);
	task_counts_add_swap(&job->counts, &job->result, job->swap_total, job->swap_free);
}

/* ---- runs (loop thread) ---- */

static void slide_proc_free(gpointer data)
{
	struct slide_proc *proc = data;

	if (!proc)
		return;		/* carried over to the next cycle */
	if (proc->pidfd >= 0)
		close(proc->pidfd);
	page_counts_free(proc->counts);
	g_array_free(proc->cold, TRUE);
	g_array_free(proc->held, TRUE);
	if (proc->own_ages)
		g_hash_table_destroy(proc->own_ages);
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

static struct slide_run *run_of(struct cycle *cycle)
{
	return (struct slide_run *)((char *)cycle - offsetof(struct slide_run, cycle));
}

static void run_free(struct slide_run *run)
{
	budget_meter_free(&run->meter);
	cycle_destroy(&run->cycle);
	g_ptr_array_free(run->procs, TRUE);
	g_array_free(run->found_pids, TRUE);
	g_free(run);
}

static void slide_cycle_free(struct cycle *cycle)
{
	run_free(run_of(cycle));
}

static void job_done(struct worker_job *base)
{
	struct slide_job *job = (struct slide_job *)base;
	struct slide_run *run = job->run;

	if (job->status == -ESRCH) {
		job->proc->gone = true;
	} else if (job->status == -EOWNERDEAD) {
		/* A zombie keeps its pid (and start time) until it is reaped. */
		run_note(run, "process %d exited (a zombie until its parent reaps it)",
			 job->proc->id.pid);
		job->proc->gone = true;
	} else if (job->status == -ESTALE) {
		run_note(run, "process %d exec'd during the %s: its new memory is scanned from the next cycle",
			 job->proc->id.pid, job->pass ? "scan" : "page-out");
		job->proc->gone = true;
	} else if (job->status) {
		char *error = g_strdup_printf("%s of pid %d failed: %s%s%s",
					      job->pass ? "scan" : "page-out", job->proc->id.pid,
					      strerror(-job->status), *job->errmsg ? ": " : "",
					      job->errmsg);
		struct log_ctx ctx = run->ctx;

		ctx.pid = job->proc->id.pid;
		run->had_errors = true;
		if (run->task)
			task_fail(run->task, &ctx, error);
		g_free(error);
		job->proc->gone = true;
	}
	if (!job->pass) {
		if (!job->changed_nothing)
			run->cycle.quiet = false;
		task_counts_add(&run->counts, &job->counts);
		run->swap_total = job->swap_total;
		run->swap_free = job->swap_free;
		log_debug("%s: page-out of pid %d: %" PRIu64 " pages approved, %" PRIu64
			  " bytes advised, %" PRIu64 " bytes left RAM, %" PRIu64 " anon and %"
			  PRIu64 " file pages stayed", run->name, job->proc->id.pid,
			  job->result.nr_eligible, job->result.bytes_advised, job->result.bytes_out,
			  job->result.nr_kept_anon, job->result.nr_kept_file);
	}
	g_free(job);
	cycle_job_done(&run->cycle);
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
	cycle_submit(&run->cycle, &job->base);
}

static const char *proc_key(const struct proc_id *id, char key[48])
{
	snprintf(key, 48, "%d:%" PRIu64, (int)id->pid, id->start_time);
	return key;
}

/*
 * Adds process @id to this cycle: the last cycle's entry of the same
 * process if @last (proc_key -> index in @last_procs) has one, else a new
 * entry.
 */
static void add_proc(struct slide_run *run, const struct proc_id *id,
		     GPtrArray *last_procs, GHashTable *last, unsigned int *nr_pidfds)
{
	struct slide_proc *proc;
	gpointer idx;
	char key[48];

	if (run->params.swap_threshold_bytes &&
	    proc_rss_bytes(id->pid) < run->params.swap_threshold_bytes)
		return;
	if (g_hash_table_lookup_extended(last, proc_key(id, key), NULL, &idx)) {
		proc = last_procs->pdata[GPOINTER_TO_UINT(idx)];
		last_procs->pdata[GPOINTER_TO_UINT(idx)] = NULL;
		g_hash_table_remove(last, key);
		/* The cap holds for carried entries too. */
		if (proc->pidfd >= 0 && *nr_pidfds >= SLIDE_PIDFDS_MAX) {
			close(proc->pidfd);
			proc->pidfd = -1;
		}
		*nr_pidfds += proc->pidfd >= 0;
		g_array_set_size(proc->cold, 0);
		proc->nr_pages = proc->nr_cold = proc->nr_held = proc->nr_band = 0;
		if (proc->held_cycles && !--proc->held_cycles)
			g_array_set_size(proc->held, 0);
		g_ptr_array_add(run->procs, proc);
		return;
	}
	proc = g_new0(struct slide_proc, 1);
	proc->id = *id;
	/*
	 * A task of many processes holds at most SLIDE_PIDFDS_MAX pidfds (the
	 * daemon's descriptors are limited, 1024 under systemd's default);
	 * the rest are checked through /proc as before.
	 */
	proc->pidfd = *nr_pidfds < SLIDE_PIDFDS_MAX ? proc_open_pidfd(id) : -1;
	*nr_pidfds += proc->pidfd >= 0;
	proc->counts = page_counts_new();
	proc->cold = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	proc->held = g_array_new(FALSE, FALSE, sizeof(struct etmem_range));
	g_ptr_array_add(run->procs, proc);
}

static void end_cycle(struct cycle *cycle);

/*
 * Fills run->procs; returns how many processes exist (threshold or not).
 * Processes of the last cycle found again keep their entries; the others
 * (gone, or a new process under an old pid) are freed.
 */
static unsigned int find_procs(struct slide_run *run)
{
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct proc_id));
	GPtrArray *last_procs = run->procs;
	GHashTable *last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	unsigned int nr_found, nr_pidfds = 0;

	for (guint i = 0; i < last_procs->len; i++) {
		struct slide_proc *proc = last_procs->pdata[i];
		char key[48];

		if (!proc->gone)
			g_hash_table_insert(last, g_strdup(proc_key(&proc->id, key)),
					    GUINT_TO_POINTER(i));
	}
	run->procs = g_ptr_array_new_with_free_func(slide_proc_free);
	if (run->type == TASK_TYPE_NAME) {
		procs_find_by_name(run->value, found);
	} else {
		pinned_proc_find(&run->pinned, atoi(run->value), found);
	}
	run->nr_kvm = procs_drop_kvm_guests(found, run->kvm_why, sizeof(run->kvm_why));
	g_array_set_size(run->found_pids, 0);
	for (guint i = 0; i < found->len; i++) {
		const struct proc_id *id = &g_array_index(found, struct proc_id, i);

		g_array_append_val(run->found_pids, id->pid);
		add_proc(run, id, last_procs, last, &nr_pidfds);
	}
	nr_found = found->len;
	g_array_free(found, TRUE);
	g_hash_table_destroy(last);
	g_ptr_array_free(last_procs, TRUE);
	return nr_found;
}

static void note_kvm(struct slide_run *run)
{
	log_warn("%s: process refused, %s", run->name, run->kvm_why);
	run_note(run, "%u process(es) refused, e.g. %s", run->nr_kvm, run->kvm_why);
}

static void note_no_procs(struct slide_run *run, unsigned int nr_found)
{
	if (run->nr_kvm)
		note_kvm(run);
	else if (nr_found)
		run_note(run, "%u process(es) below swap_threshold %" PRIu64 " bytes resident: left alone",
			 nr_found, run->params.swap_threshold_bytes);
	else if (run->type == TASK_TYPE_NAME)
		run_note(run, "waiting for a process named '%s'", run->value);
	else if (run->pinned.valid) {
		char why[160];

		proc_gone_reason(&run->pinned.id, why, sizeof(why));
		run_note(run, "%s; waiting", why);
	} else
		run_note(run, "waiting for process %s to exist", run->value);
}

/*
 * With no swap the age follows what file pages cost and may come down to
 * the floor; swap turned on then (a zram or swap unit that starts after
 * etmemd, a swapon by hand) would page out every anonymous page idle that
 * long in one cycle. So the first look that finds swap after cycles
 * without it starts the controller again (budget_ctl_restart()): at the
 * cycle's start, or after its scans (begin_swap(), which then pages
 * nothing out). Returns whether it did.
 */
static bool budget_swap_check(struct slide_run *run)
{
	uint64_t total = 0, free = 0;
	unsigned int old = run->ctl.age;
	bool probing = run->ctl.probe_from;

	if (meminfo_swap(&total, &free))
		return false;
	if (!total) {
		run->ctl_swapless = true;
		return false;
	}
	if (!run->ctl_swapless)
		return false;
	run->ctl_swapless = false;
	if (budget_ctl_restart(&run->ctl))
		run->ctl_moved = true;
	if (run->ctl.age != old)
		log_info("%s: swap turned on: idle age %u -> %u scans, the controller starts again (the age came down with no swap, where only file pages could go; the anonymous pages now go step by step)",
			 run->name, old, run->ctl.age);
	else
		log_info("%s: swap turned on: idle age %u scans stays (as old as the start age or older), the controller starts again%s",
			 run->name, old, probing ? ", the band being probed no longer" : "");
	return true;
}

/*
 * Budget mode: the cost paid since the last cycle sets this cycle's age.
 * Logged when the age changes, with what the controller saw.
 */
static void budget_step(struct slide_run *run)
{
	struct budget_ctl *ctl = &run->ctl;
	struct budget_meter *m = &run->meter;
	uint64_t stall, flt, window;
	char probe[96], judged[128];
	unsigned int old = ctl->age, old_share = ctl->probe_share;

	window = budget_meter_sample(m, (pid_t *)run->found_pids->data, run->found_pids->len,
				     &stall, &flt);
	if (m->replaced) {
		log_info("%s: the task's processes are all new: ages found too young before are forgotten",
			 run->name);
		budget_ctl_forget(ctl);
		window = 0;
	}
	/* A cost that cannot be read is no cost: measure nothing, change nothing. */
	if (ctl->stall_budget_us && !m->nr_stall_read && m->nr_procs_read) {
		run_note(run, "stall_budget_us: cannot read the memory stall (%s): the idle age stays at %u",
			 m->stall_error[0] ? m->stall_error : "no cgroup", ctl->age);
		log_warn_limited("budget-stall", NULL, "%s: cannot read the memory stall: %s", run->name,
				 m->stall_error);
		window = 0;
	}
	if (!m->nr_procs_read)
		window = 0;
	run->ctl_moved = budget_ctl_update(ctl, stall, flt, window, !run->held_back);
	if (!run->ctl_moved) {
		budget_swap_check(run);
		return;
	}
	snprintf(probe, sizeof(probe), ", probing %.1f%% of the pages idle %u..%u scans",
		 ctl->probe_share / 10.0, ctl->age, ctl->probe_from - 1);
	judged[0] = '\0';
	/* Undone for a cycle over budget: not judged, the figures are an older step's. */
	if (ctl->step == BUDGET_STEP_FLAT ||
	    (ctl->step == BUDGET_STEP_UNDONE && ctl->verdict != BUDGET_OVER))
		snprintf(judged, sizeof(judged), " (the last step: %" PRIu64
			 "%% of the budget after it, against %" PRIu64 "%% before, flat within %"
			 PRIu64 "%%)",
			 ctl->step_pct, ctl->step_before_pct, ctl->step_margin_pct);
	log_info("%s: idle age %u -> %u scans%s%s: %s%s: stall %" PRIu64 " us/s (budget %" PRIu64
		 "), major faults %.1f/s (budget %" PRIu64 ")",
		 run->name, old, ctl->age,
		 ctl->probe_from ? probe : "",
		 !ctl->probe_from && old_share != BUDGET_PROBE_ALL ? ", probe ended" : "",
		 budget_step_text(ctl->step), judged,
		 ctl->stall_us_per_s, ctl->stall_budget_us,
		 ctl->majflt_milli_per_s / 1000.0, ctl->majflt_budget);
	budget_swap_check(run);
}

/* Starts a cycle; returns the state to go to. */
static enum cycle_state begin_cycle(struct cycle *cycle)
{
	struct slide_run *run = run_of(cycle);
	unsigned int nr_found;

	/* The last cycle's note stays visible until this one ends. */
	run->noted = false;
	run->had_errors = false;
	memset(&run->counts, 0, sizeof(run->counts));
	run->swap_total = run->swap_free = 0;
	nr_found = find_procs(run);
	run->ctl_moved = false;

	if (run->task)
		run->task->stats.nr_procs = run->procs->len;
	if (budget_mode(&run->params))
		budget_step(run);
	run->held_back = false;
	if (!run->procs->len) {
		note_no_procs(run, nr_found);
		if (!nr_found)
			return CYCLE_WAITING;
		/*
		 * All below swap_threshold: a cycle that decided to do nothing.
		 * Its cost (the meter still samples them) says nothing about
		 * the age: held back, or the age would sink to the floor while
		 * nothing goes, and all go at once when one grows back over.
		 */
		run->held_back = true;
		cycle->quiet = !run->ctl_moved;
		end_cycle(cycle);
		return CYCLE_SLEEPING;
	}
	if (run->nr_kvm)
		note_kvm(run);
	for (guint i = 0; i < run->procs->len; i++)
		submit(run, run->procs->pdata[i], cycle->pass);
	return CYCLE_SCANNING;
}

/*
 * Between passes: no process has a page that could still be cold but is
 * not held back (judge_so_far()), so the passes left would page out
 * nothing. In steady state (cold set out, hot set hot, shared libraries
 * held) a T=1 cycle then scans once instead of `loop` times. What
 * skipping changes: a cycle that pages anything out still judges its
 * pages on all `loop` scans, and no accessed bit is lost (the next
 * cycle's first pass reads what the skipped one would have). Cycles that
 * skip end sooner, so the later ones start sooner: a page that cools
 * may go out earlier or later in wall time than without, never after
 * less idle time than `sleep` + (loop - 1) * `interval`.
 */
static bool slide_decided(struct cycle *cycle)
{
	struct slide_run *run = run_of(cycle);

	bool live = false;

	if (!run->may_decide_early)
		return false;
	for (guint i = 0; i < run->procs->len; i++) {
		struct slide_proc *proc = run->procs->pdata[i];

		if (proc->gone)
			continue;
		if (!proc->settled)
			return false;
		live = true;
	}
	/* All gone: the next pass finds nobody and the cycle is dropped. */
	return live;
}

static void next_pass(struct cycle *cycle)
{
	struct slide_run *run = run_of(cycle);

	for (guint i = 0; i < run->procs->len; i++) {
		struct slide_proc *proc = run->procs->pdata[i];

		if (!proc->gone)
			submit(run, proc, cycle->pass);
	}
}

/* After the last scan: page out, unless memory is plentiful. */
static enum cycle_state begin_swap(struct cycle *cycle)
{
	struct slide_run *run = run_of(cycle);
	uint64_t scanned = 0, cold = 0, held = 0;
	int avail;

	for (guint i = 0; i < run->procs->len; i++) {
		struct slide_proc *proc = run->procs->pdata[i];

		if (proc->gone)
			continue;
		scanned += proc->nr_pages;
		cold += proc->nr_cold;
		held += proc->nr_held;
	}
	run->counts.pages_scanned = scanned;
	run->counts.pages_cold = cold;
	run->counts.pages_cold_held = held;
	/* /proc/meminfo only when a threshold asks: one file read less a cycle. */
	if (run->proj.sysmem_threshold >= 0) {
		avail = meminfo_available_pct();
		if (avail >= run->proj.sysmem_threshold) {
			run_note(run, "MemAvailable is %d%% of RAM, not below sysmem_threshold %d%%: nothing paged out",
				 avail, run->proj.sysmem_threshold);
			run->held_back = true;
			cycle->quiet = !run->had_errors && !run->ctl_moved;
			return CYCLE_SLEEPING;
		}
	}
	/*
	 * Swap turned on while this cycle scanned: its cold lists were made
	 * with the age tuned for file pages alone. Nothing goes this cycle;
	 * the next one scans with the age started again.
	 */
	if (budget_mode(&run->params) && run->ctl_swapless && budget_swap_check(run)) {
		run->held_back = true;
		cycle->quiet = false;
		return CYCLE_SLEEPING;
	}
	for (guint i = 0; i < run->procs->len; i++) {
		struct slide_proc *proc = run->procs->pdata[i];

		if (proc->gone || !proc->cold->len)
			continue;
		/* What a probe can cost: the controller weighs faults against it. */
		budget_ctl_took(&run->ctl, proc->nr_band);
		submit(run, proc, 0);
	}
	/*
	 * Nothing to page out (held-back pages aside), or page-outs that
	 * change nothing (job_done()): sleep_max may stretch.
	 */
	cycle->quiet = !run->had_errors && !run->ctl_moved;
	return cycle->pending ? CYCLE_ACTING : CYCLE_SLEEPING;
}

/* Why cold anonymous memory stayed in RAM, when swap is the reason. */
static void note_swap(struct slide_run *run)
{
	const uint64_t *kept = run->counts.bytes_kept;
	char *stayed, *free_sz, *total_sz;

	if (kept[TASK_KEPT_NO_SWAP]) {
		stayed = etmem_out_format_size(kept[TASK_KEPT_NO_SWAP]);
		run_note(run, "no swap configured: %s of cold anonymous memory stayed in RAM",
			 stayed);
		g_free(stayed);
	} else if (kept[TASK_KEPT_SWAP_FULL]) {
		stayed = etmem_out_format_size(kept[TASK_KEPT_SWAP_FULL]);
		free_sz = etmem_out_format_size(run->swap_free);
		total_sz = etmem_out_format_size(run->swap_total);
		run_note(run, "swap full (%s free of %s): %s of cold anonymous memory stayed in RAM",
			 free_sz, total_sz, stayed);
		g_free(stayed);
		g_free(free_sz);
		g_free(total_sz);
	}
}

static void end_cycle(struct cycle *cycle)
{
	struct slide_run *run = run_of(cycle);
	struct log_ctx ctx = run->ctx;

	run->last_nr_passes = cycle->nr_passes;
	if (!run->task)
		return;
	/*
	 * A full swap kept cold anonymous pages: the next cost says nothing
	 * about the age, and a lower age would send them all at once when
	 * swap frees up. With no swap at all, anonymous pages are never an
	 * option: budget mode tunes the age to what the file pages cost (a
	 * hold there kept the age at its first probe for good).
	 */
	if (run->counts.bytes_kept[TASK_KEPT_SWAP_FULL])
		run->held_back = true;
	note_swap(run);
	if (!run->noted)
		run->task->stats.note[0] = '\0';
	ctx.cycle = run->task->stats.nr_cycles + 1;
	task_cycle_end(run->task, &ctx, &run->counts, cycle_elapsed_ms(cycle), run->had_errors);
}

static const struct cycle_ops slide_cycle_ops = {
	.begin = begin_cycle,
	.next_pass = next_pass,
	.decided = slide_decided,
	.act = begin_swap,
	.end = end_cycle,
	.free = slide_cycle_free,
};

/* ---- scan_type=auto without the etmem modules: DAMON ---- */

/* The project's scan_type=auto chose DAMON at its start. */
static bool on_damon(const struct task *task)
{
	return task->engine->project->scan_chosen == SCAN_TYPE_REGION;
}

static int slide_damon_start(struct task *task, GString *err)
{
	const struct project_params *pp = &task->engine->project->params;
	const struct slide_params *sp = task->params;
	struct damon_scheme ds;

	damon_scheme_from_slide(pp, sp->threshold, &ds);
	return damon_task_start(task, &pp->damon, &ds, sp->swap_threshold_bytes, err);
}

/* ---- engine operations ---- */

static int slide_start_task(struct task *task, GString *err)
{
	struct slide_run *run;

	if (on_damon(task))
		return slide_damon_start(task, err);
	run = g_new0(struct slide_run, 1);

	run->task = task;
	snprintf(run->name, sizeof(run->name), "%s/%s",
		 task->engine->project->params.name, task->name);
	run->params = *(struct slide_params *)task->params;
	run->proj = task->engine->project->params;
	run->type = task->type;
	strcpy(run->value, task->value);
	run->procs = g_ptr_array_new_with_free_func(slide_proc_free);
	run->found_pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	budget_meter_init(&run->meter);
	budget_ctl_init(&run->ctl, run->params.stall_budget_us, run->params.majflt_budget,
			run->params.idle_age, ETMEM_IDLE_AGE_MAX);
	/*
	 * Ages grow with every pass, and budget mode judges by them alone: a
	 * pass skipped there would change the answer.
	 */
	run->may_decide_early = !budget_mode(&run->params) && !run->params.idle_age &&
				run->proj.loop > 1;
	if (cycle_init(&run->cycle, &slide_cycle_ops, run->name, "paging out", &run->proj,
		       run->params.max_threads, "slide", err)) {
		run_free(run);
		return -ENOMEM;
	}
	snprintf(run->proj_name, sizeof(run->proj_name), "%s", task->engine->project->params.name);
	snprintf(run->task_name, sizeof(run->task_name), "%s", task->name);
	run->ctx.project = run->proj_name;
	run->ctx.engine = "slide";
	run->ctx.task = run->task_name;
	task_report_reset(task);
	task->priv = run;
	cycle_start(&run->cycle);
	return 0;
}

static void slide_stop_task(struct task *task)
{
	struct slide_run *run = task->priv;

	if (on_damon(task)) {
		damon_task_stop(task);
		return;
	}
	task->priv = NULL;
	if (run) {
		run->task = NULL;
		cycle_stop(&run->cycle);
	}
}

static const char *slide_task_state(const struct task *task)
{
	const struct slide_run *run = task->priv;

	if (run && on_damon(task))
		return damon_task_state(task);
	return run ? cycle_state_name(&run->cycle) : "stopped";
}

/*
 * Budget mode's line: the budgets, then the controller's state once the
 * task runs (JSON: the object "budget").
 */
static void slide_show_budget(const struct task *task, struct etmem_out *out)
{
	const struct slide_params *sp = task->params;
	const struct slide_run *run = task->priv;

	etmem_out_uint(out, "max_threads", "max_threads=%" PRIu64, sp->max_threads);
	etmem_out_uint(out, "swap_threshold", " swap_threshold=%" PRIu64, sp->swap_threshold_bytes);
	etmem_out_bool(out, "swap_flag", " swap_flag=%s", sp->swap_flag);
	if (run)
		cycle_show_sleep(&run->cycle, out);
	etmem_out_text(out, "\n         ");
	etmem_out_open_object(out, "budget");
	etmem_out_uint(out, "stall_budget_us", "budget: stall_budget_us=%" PRIu64, sp->stall_budget_us);
	etmem_out_uint(out, "majflt_budget", " majflt_budget=%" PRIu64, sp->majflt_budget);
	etmem_out_uint(out, "floor", " floor=%" PRIu64, sp->idle_age);
	if (run) {
		const struct budget_ctl *ctl = &run->ctl;

		etmem_out_uint(out, "idle_age", "\n         idle age: %" PRIu64 " scans", ctl->age);
		etmem_out_uint(out, "too_young", " (too young: %" PRIu64 ")", ctl->too_young);
		etmem_out_uint(out, "probe_from", NULL, ctl->probe_from);
		etmem_out_double(out, "probe_share", NULL,
				 ctl->probe_share / (double)BUDGET_PROBE_ALL);
		if (ctl->probe_from && !etmem_out_is_json(out))
			etmem_out_text(out, ", probing %.1f%% of the pages idle %u..%u scans",
				       ctl->probe_share / 10.0, ctl->age, ctl->probe_from - 1);
		etmem_out_str(out, "verdict", NULL, budget_verdict_name(ctl->verdict));
		if (!etmem_out_is_json(out))
			etmem_out_text(out, ", cost %s", ctl->verdict == BUDGET_NO_DATA && ctl->measured ?
				       "not measured in the last cycle" :
				       budget_verdict_text(ctl->verdict));
		/*
		 * The rates of the last cycle measured only: after one that
		 * measured nothing, older ones would pass for current (and so
		 * would their gauges, which are left out with them).
		 */
		if (ctl->verdict != BUDGET_NO_DATA) {
			etmem_out_uint(out, "stall_us_per_s", ": stall %" PRIu64 " us/s",
				       ctl->stall_us_per_s);
			etmem_out_double(out, "majflt_per_s", ", major faults %.1f/s",
					 ctl->majflt_milli_per_s / 1000.0);
		}
		etmem_out_str(out, "stall_source", ", stall from %s",
			      run->meter.source[0] ? run->meter.source : "(not read yet)");
		etmem_out_str(out, "last_step", "\n         last step: %s",
			      budget_step_name(ctl->step));
		if (!etmem_out_is_json(out))
			etmem_out_text(out, " (%s)%s", budget_step_text(ctl->step),
				       ctl->pending ? ", being judged" : "");
		etmem_out_bool(out, "judging", NULL, ctl->pending);
		etmem_out_uint(out, "try_after_cycles",
			       "; tries a step after %" PRIu64 " cycles settled within the budget",
			       ctl->explore_after);
		etmem_out_double(out, "cost_noise",
				 "\n         cost noise: %.3f of the budget (a cycle's standard deviation)",
				 budget_noise_sd(ctl) / 100);
		etmem_out_double(out, "headroom",
				 ", headroom %.2f of it (how far under it the mean cost must be for a step down)",
				 budget_headroom(ctl) / 100.0);
	}
	etmem_out_close_object(out);
}

static void slide_show_task(const struct task *task, struct etmem_out *out)
{
	const struct slide_params *sp = task->params;

	if (budget_mode(sp)) {
		slide_show_budget(task, out);
		return;
	}
	etmem_out_uint(out, "T", "T=%" PRIu64, sp->threshold);
	etmem_out_uint(out, "max_threads", " max_threads=%" PRIu64, sp->max_threads);
	etmem_out_uint(out, "swap_threshold", " swap_threshold=%" PRIu64, sp->swap_threshold_bytes);
	etmem_out_bool(out, "swap_flag", " swap_flag=%s", sp->swap_flag);
	etmem_out_uint(out, "idle_age", " idle_age=%" PRIu64, sp->idle_age);
	if (task->priv && !on_damon(task)) {
		const struct slide_run *run = task->priv;

		cycle_show_sleep(&run->cycle, out);
		/* Text only when a cycle was decided early (slide_decided()). */
		if (etmem_out_is_json(out) ||
		    (run->last_nr_passes && run->last_nr_passes < run->proj.loop))
			etmem_out_uint(out, "scans_last_cycle",
				       " | last cycle decided after %" PRIu64 " of its scans",
				       run->last_nr_passes);
	}
	if (task->priv && on_damon(task)) {
		etmem_out_text(out, "\n         ");
		damon_task_show(task, out);
	}
}

static int slide_engine_cmd(struct engine *eng, struct task *task, const char *cmd,
			    bool json, GString *reply)
{
	g_string_printf(reply, "engine slide has no private command '%s' (private commands belong to cslide and third-party engines)",
			cmd);
	return -EOPNOTSUPP;
}

const struct engine_ops slide_engine_ops = {
	.name = "slide",
	.scan_types = SCAN_TYPES_PAGE | (1u << SCAN_TYPE_AUTO),
	.parse_task = slide_parse_task,
	.start_task = slide_start_task,
	.stop_task = slide_stop_task,
	.free_task = slide_free_task,
	.task_state = slide_task_state,
	.show_task = slide_show_task,
	.engine_cmd = slide_engine_cmd,
};
