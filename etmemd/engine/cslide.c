// SPDX-License-Identifier: GPL-2.0
/*
 * The cslide engine: keeps the hot huge pages of its tasks' processes on
 * fast (DRAM) nodes and moves cold ones to paired slow nodes.
 *
 * Placement is decided per node pair across all tasks of the engine (the
 * hot reserve is a property of the DRAM node, not of one process), so the
 * engine runs one scan cycle (cycle.h), in struct cslide_run, shared by its
 * started tasks. Each cycle it scans every process's hugetlb mappings `loop` times
 * `interval` seconds apart at huge-page granularity, then one migration
 * job ranks the pages and moves them (cslide_policy.c decides, numa_tier.c
 * moves), then it sleeps `sleep` seconds.
 *
 * node_pair lists "DRAM node,slow node" pairs: the first node of a pair is
 * the fast one, as this project's documentation defines it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cslide_policy.h"
#include "cycle.h"
#include "engine.h"
#include "etmem_kvm.h"
#include "etmem_genl.h"
#include "log.h"
#include "loop.h"
#include "numa_tier.h"
#include "pagecount.h"
#include "procs.h"
#include "report.h"
#include "workers.h"

#define HUGE_SHIFT	21
#define PAGES_PER_MIB(mib)	((uint64_t)(mib) / 2)	/* 2 MiB pages */
#define CSLIDE_THREADS	2

struct cslide_eng_params {
	GArray *pairs;			/* struct cslide_pair */
	unsigned long hot_threshold;
	unsigned long mig_quota_mib;
	unsigned long hot_reserve_mib;
	unsigned long idle_age;		/* 0: off */
};

struct cslide_task_params {
	bool anon_only;
	bool ign_host;	/* accepted; see docs/cslide.md: no effect outside VMs */
};

/* What the engine holds: its parameters and, while started, its run. */
struct cslide_engine {
	struct cslide_eng_params params;
	struct cslide_run *run;
};

/* One process of the current cycle. */
struct cs_proc {
	struct task *task;		/* NULL once its task stopped */
	struct proc_id id;
	uint32_t scan_flags;
	struct page_counts *counts;
	GArray *pages;			/* struct cslide_page, after migration */
	bool gone;
	bool failed;			/* its scan failed (not: it exited) */
};

/* Moves of one cycle, for show. */
struct cs_moves {
	uint64_t demoted, promoted, failed;
	uint64_t refused;	/* of failed: -EACCES, held back from now on */
	uint64_t held;		/* pages of this cycle's processes held back */
};

struct cslide_run {
	struct cycle cycle;
	struct engine *eng;		/* NULL once stopping */
	char name[2 * CFG_NAME_SIZE + 8];
	struct cslide_eng_params params;	/* snapshot at start */
	struct project_params proj;
	GList *tasks;			/* started struct task * */
	GPtrArray *procs;		/* struct cs_proc *, this cycle */
	GPtrArray *last;		/* struct cs_proc *, the last finished cycle */
	struct cslide_history *history;	/* touched only by the migration job */
	unsigned int cycle_nr;		/* cycles begun, for the policy's history */
	struct cs_moves moves;		/* the last finished cycle */
};

struct cs_job {
	struct worker_job base;
	struct cslide_run *run;
	struct cs_proc *proc;		/* scan job; NULL for migration */
	unsigned int pass;
	int status;
	char errmsg[160];
	struct cs_moves moves;
};

/* ---- configuration ---- */

static int parse_node(const char *text, int *node)
{
	char *end;
	long val;

	errno = 0;
	val = strtol(text, &end, 10);
	if (errno || end == text || *end || val < 0 || val > 1023)
		return -EINVAL;
	*node = (int)val;
	return 0;
}

/* "dram,slow;dram,slow": every node once, every node present with huge pages. */
static int parse_node_pairs(struct cfg_section *sec, GArray *pairs, GString *err)
{
	char text[256];
	gchar **items;
	GHashTable *seen;
	int ret = 0;

	if (cfg_get_string(sec, "node_pair", true, sizeof(text) - 1, text, err))
		return -EINVAL;
	items = g_strsplit(text, ";", -1);
	seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (gchar **item = items; *item && !ret; item++) {
		gchar **nodes = g_strsplit(g_strstrip(*item), ",", -1);
		struct cslide_pair pair;
		int both[2];

		if (g_strv_length(nodes) != 2 || parse_node(g_strstrip(nodes[0]), &both[0]) ||
		    parse_node(g_strstrip(nodes[1]), &both[1])) {
			cfg_error_prefix(sec, "node_pair", err);
			g_string_append_printf(err, "'%s' is not a pair of node numbers "
					       "(allowed: DRAM,SLOW pairs separated by ';', "
					       "e.g. 0,1)", *item);
			ret = -EINVAL;
		}
		for (int i = 0; i < 2 && !ret; i++) {
			struct node_hugepages pool;

			if (g_hash_table_contains(seen, GINT_TO_POINTER(both[i] + 1))) {
				cfg_error_prefix(sec, "node_pair", err);
				g_string_append_printf(err, "node %d appears more than once "
						       "(every node may be in one pair only)", both[i]);
				ret = -EINVAL;
			} else if (numa_tier_hugepages(both[i], &pool) == -ENOENT) {
				cfg_error_prefix(sec, "node_pair", err);
				g_string_append_printf(err, "node %d does not exist on this machine",
						       both[i]);
				ret = -EINVAL;
			} else if (pool.total == 0) {
				cfg_error_prefix(sec, "node_pair", err);
				g_string_append_printf(err, "node %d has no 2 MiB huge pages (set "
						       "/sys/devices/system/node/node%d/hugepages/"
						       "hugepages-2048kB/nr_hugepages first)",
						       both[i], both[i]);
				ret = -EINVAL;
			}
			g_hash_table_add(seen, GINT_TO_POINTER(both[i] + 1));
		}
		if (!ret) {
			pair.hot_node = both[0];
			pair.cold_node = both[1];
			g_array_append_val(pairs, pair);
		}
		g_strfreev(nodes);
	}
	g_hash_table_destroy(seen);
	g_strfreev(items);
	if (!ret && pairs->len == 0) {
		cfg_error_prefix(sec, "node_pair", err);
		g_string_append(err, "no node pair given (allowed: DRAM,SLOW pairs separated by ';')");
		ret = -EINVAL;
	}
	return ret;
}

static int cslide_parse_engine(struct cfg_section *sec, struct engine *eng, GString *err)
{
	struct cslide_engine *ce = g_new0(struct cslide_engine, 1);
	struct cslide_eng_params *p = &ce->params;

	p->pairs = g_array_new(FALSE, FALSE, sizeof(struct cslide_pair));
	eng->priv = ce;
	if (parse_node_pairs(sec, p->pairs, err) ||
	    cfg_get_uint(sec, "hot_threshold", true, 0, INT32_MAX, &p->hot_threshold, err) ||
	    cfg_get_uint(sec, "node_mig_quota", true, 0, INT32_MAX, &p->mig_quota_mib, err) ||
	    cfg_get_uint(sec, "node_hot_reserve", true, 0, INT32_MAX, &p->hot_reserve_mib, err) ||
	    cfg_get_uint(sec, "idle_age", false, 0, ETMEM_IDLE_AGE_MAX, &p->idle_age, err) == -EINVAL)
		return -EINVAL;
	return 0;
}

static void cslide_free_engine(struct engine *eng)
{
	struct cslide_engine *ce = eng->priv;

	if (!ce)
		return;
	g_array_free(ce->params.pairs, TRUE);
	g_free(ce);
	eng->priv = NULL;
}

/* vm_flags: space-separated VMA flags; only "ht" (hugetlb) is supported. */
static int parse_vm_flags(struct cfg_section *sec, GString *err)
{
	char text[257];
	gchar **flags;
	int ret = 0;

	ret = cfg_get_string(sec, "vm_flags", false, sizeof(text) - 1, text, err);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	flags = g_strsplit_set(text, " \t", -1);
	for (gchar **f = flags; *f && !ret; f++) {
		if (!**f || !strcmp(*f, "ht"))
			continue;
		cfg_error_prefix(sec, "vm_flags", err);
		g_string_append_printf(err, "flag '%s' is not supported (allowed: ht, "
				       "hugetlb mappings)", *f);
		ret = -EINVAL;
	}
	g_strfreev(flags);
	return ret;
}

static int cslide_parse_task(struct cfg_section *sec, const struct project_params *proj,
			     struct task *task, GString *err)
{
	struct cslide_task_params *tp = g_new0(struct cslide_task_params, 1);

	if (parse_vm_flags(sec, err) ||
	    cfg_get_bool(sec, "anon_only", false, &tp->anon_only, err) == -EINVAL ||
	    cfg_get_bool(sec, "ign_host", false, &tp->ign_host, err) == -EINVAL) {
		g_free(tp);
		return -EINVAL;
	}
	task->params = tp;
	return 0;
}

static void cslide_free_task(struct task *task)
{
	g_free(task->params);
	task->params = NULL;
}

/* ---- jobs (run on workers) ---- */

static void scan_job_run(struct worker_job *base, struct etmem_client *client, int client_err)
{
	struct cs_job *job = (struct cs_job *)base;
	struct cs_proc *proc = job->proc;

	job->status = page_counts_scan_pass(proc->counts, client, client_err,
					    atomic_load(&job->run->cycle.cancel), &proc->id, -1,
					    proc->scan_flags, 0, job->pass, job->errmsg,
					    sizeof(job->errmsg));
}

static void collect_page(uint64_t addr, unsigned int page_shift, unsigned int count,
			 int idle_age, void *arg)
{
	struct cs_proc *proc = arg;
	struct cslide_page page = { .pid = proc->id.pid, .addr = addr, .node = -1,
				    .count = count, .idle_age = idle_age };

	if (page_shift == HUGE_SHIFT)
		g_array_append_val(proc->pages, page);
}

/* Where each page of the process sits now (move_pages query). */
static void locate_pages(struct cs_proc *proc)
{
	guint n = proc->pages->len;
	uint64_t *addrs = g_new(uint64_t, n ? n : 1);
	int *nodes = g_new(int, n ? n : 1);

	for (guint i = 0; i < n; i++)
		addrs[i] = g_array_index(proc->pages, struct cslide_page, i).addr;
	if (n && numa_tier_where(proc->id.pid, addrs, n, nodes) == 0)
		for (guint i = 0; i < n; i++)
			g_array_index(proc->pages, struct cslide_page, i).node = nodes[i];
	g_free(addrs);
	g_free(nodes);
}

static struct cslide_page *find_page(struct cs_proc *proc, uint64_t addr)
{
	guint lo = 0, hi = proc->pages->len;

	while (lo < hi) {	/* pages are in address order */
		guint mid = lo + (hi - lo) / 2;
		struct cslide_page *p = &g_array_index(proc->pages, struct cslide_page, mid);

		if (p->addr == addr)
			return p;
		if (p->addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Carry out the moves of one direction, one move_pages() call a process. */
static void execute_moves(struct cslide_run *run, const struct cslide_move *moves,
			  size_t nr, enum cslide_dir dir, struct cs_moves *done)
{
	for (guint i = 0; i < run->procs->len; i++) {
		struct cs_proc *proc = run->procs->pdata[i];
		GArray *addrs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		GArray *to = g_array_new(FALSE, FALSE, sizeof(int));
		int *status;
		long moved;

		for (size_t m = 0; m < nr; m++) {
			if (moves[m].pid != proc->id.pid || moves[m].dir != dir)
				continue;
			g_array_append_val(addrs, moves[m].addr);
			g_array_append_val(to, moves[m].to);
		}
		if (!addrs->len || !proc_alive(&proc->id))
			goto next;
		status = g_new(int, addrs->len);
		moved = numa_tier_move(proc->id.pid, (uint64_t *)addrs->data,
				       (int *)to->data, addrs->len, status);
		for (guint k = 0; moved >= 0 && k < addrs->len; k++) {
			uint64_t addr = g_array_index(addrs, uint64_t, k);
			struct cslide_page *page = find_page(proc, addr);

			if (status[k] != g_array_index(to, int, k)) {
				done->failed++;
				/* Mapped more than once: CSLIDE_HOLD_CYCLES. */
				if (status[k] == -EACCES) {
					cslide_history_hold(run->history, proc->id.pid, addr,
							    run->cycle_nr);
					done->refused++;
				}
				continue;
			}
			if (page)
				page->node = status[k];
			cslide_history_record(run->history, proc->id.pid, addr, dir, run->cycle_nr);
			if (dir == CSLIDE_DEMOTE)
				done->demoted++;
			else
				done->promoted++;
		}
		if (moved < 0)
			done->failed += addrs->len;
		g_free(status);
next:
		g_array_free(addrs, TRUE);
		g_array_free(to, TRUE);
	}
}

/* Rank and move the pages of one node pair across all processes. */
static void migrate_pair(struct cslide_run *run, const struct cslide_pair *pair,
			 struct cs_moves *done)
{
	const struct cslide_eng_params *p = &run->params;
	struct cslide_params params = {
		.hot_threshold = (uint32_t)p->hot_threshold,
		.mig_quota_pages = PAGES_PER_MIB(p->mig_quota_mib),
		.hot_reserve_pages = PAGES_PER_MIB(p->hot_reserve_mib),
		.min_idle_age = (uint32_t)p->idle_age,
	};
	GArray *pages = g_array_new(FALSE, FALSE, sizeof(struct cslide_page));
	struct node_hugepages hot_pool = { 0 }, cold_pool = { 0 };
	struct cslide_move *moves = NULL;
	size_t nr_moves = 0, nr_held = 0;

	for (guint i = 0; i < run->procs->len; i++) {
		struct cs_proc *proc = run->procs->pdata[i];

		for (guint k = 0; !proc->gone && k < proc->pages->len; k++) {
			struct cslide_page *page = &g_array_index(proc->pages, struct cslide_page, k);

			if (page->node == pair->hot_node || page->node == pair->cold_node)
				g_array_append_val(pages, *page);
		}
	}
	numa_tier_hugepages(pair->hot_node, &hot_pool);
	numa_tier_hugepages(pair->cold_node, &cold_pool);
	if (cslide_plan(&params, pair, (struct cslide_page *)pages->data, pages->len,
			hot_pool.free, cold_pool.free, run->history, run->cycle_nr,
			&moves, &nr_moves, &nr_held) == 0) {
		done->held += nr_held;
		/* Demotions first: they free the DRAM pages promotions use. */
		execute_moves(run, moves, nr_moves, CSLIDE_DEMOTE, done);
		execute_moves(run, moves, nr_moves, CSLIDE_PROMOTE, done);
	}
	free(moves);
	g_array_free(pages, TRUE);
}

static void migrate_job_run(struct worker_job *base, struct etmem_client *client, int client_err)
{
	struct cs_job *job = (struct cs_job *)base;
	struct cslide_run *run = job->run;

	for (guint i = 0; i < run->procs->len; i++) {
		struct cs_proc *proc = run->procs->pdata[i];

		if (proc->gone)
			continue;
		g_array_set_size(proc->pages, 0);
		page_counts_foreach(proc->counts, collect_page, proc);
		locate_pages(proc);
	}
	if (atomic_load(&run->cycle.cancel))
		return;
	cslide_history_expire(run->history, run->cycle_nr);
	for (guint i = 0; i < run->params.pairs->len; i++)
		migrate_pair(run, &g_array_index(run->params.pairs, struct cslide_pair, i),
			     &job->moves);
}

/* ---- the run (loop thread) ---- */

static void cs_proc_free(gpointer data)
{
	struct cs_proc *proc = data;

	page_counts_free(proc->counts);
	g_array_free(proc->pages, TRUE);
	g_free(proc);
}

static struct cslide_run *run_of(struct cycle *cycle)
{
	return (struct cslide_run *)((char *)cycle - offsetof(struct cslide_run, cycle));
}

static void run_free(struct cslide_run *run)
{
	cycle_destroy(&run->cycle);
	g_ptr_array_free(run->procs, TRUE);
	g_ptr_array_free(run->last, TRUE);
	cslide_history_free(run->history);
	g_array_free(run->params.pairs, TRUE);
	g_list_free(run->tasks);
	g_free(run);
}

static void job_done(struct worker_job *base)
{
	struct cs_job *job = (struct cs_job *)base;
	struct cslide_run *run = job->run;

	if (job->proc && job->status) {
		struct cs_proc *proc = job->proc;

		if ((job->status == -EOWNERDEAD || job->status == -ESTALE) && proc->task) {
			snprintf(proc->task->stats.note, sizeof(proc->task->stats.note),
				 job->status == -ESTALE ?
				 "process %d exec'd during the scan: its new memory is scanned from the next cycle" :
				 "process %d exited (a zombie until its parent reaps it)",
				 proc->id.pid);
		} else if (job->status != -ESRCH && proc->task) {
			struct log_ctx ctx = { .project = proc->task->engine->project->params.name,
					       .engine = "cslide", .task = proc->task->name,
					       .pid = proc->id.pid };
			char *error = g_strdup_printf("scan of pid %d failed: %s%s%s",
						      proc->id.pid, strerror(-job->status),
						      *job->errmsg ? ": " : "", job->errmsg);

			task_fail(proc->task, &ctx, error);
			g_free(error);
			proc->failed = true;
		}
		proc->gone = true;
	}
	if (!job->proc) {
		run->moves = job->moves;
		/*
		 * Nothing moved, and every move tried was refused for a lasting
		 * reason (held back now: a hold that ended, refused again):
		 * memory is as it was, so sleep_max may stretch.
		 */
		run->cycle.quiet = !job->moves.demoted && !job->moves.promoted &&
				   job->moves.failed == job->moves.refused;
		for (guint i = 0; i < run->procs->len; i++)
			run->cycle.quiet &= !((struct cs_proc *)run->procs->pdata[i])->failed;
	}
	g_free(job);
	cycle_job_done(&run->cycle);
}

static void submit(struct cslide_run *run, struct cs_proc *proc, unsigned int pass)
{
	struct cs_job *job = g_new0(struct cs_job, 1);

	job->base.run = proc ? scan_job_run : migrate_job_run;
	job->base.done = job_done;
	job->run = run;
	job->proc = proc;
	job->pass = pass;
	cycle_submit(&run->cycle, &job->base);
}

static void add_proc(struct cslide_run *run, struct task *task, const struct proc_id *id)
{
	const struct cslide_task_params *tp = task->params;
	struct cs_proc *proc = g_new0(struct cs_proc, 1);

	proc->task = task;
	proc->id = *id;
	proc->scan_flags = ETMEM_SCAN_FLAGS_HUGETLB_ONLY | ETMEM_SCAN_FLAGS_RUNS |
			   (tp->anon_only ? ETMEM_SCAN_FLAGS_ANON_ONLY : 0) |
			   (run->params.idle_age ? ETMEM_SCAN_FLAGS_IDLE_AGES : 0);
	proc->counts = page_counts_new();
	proc->pages = g_array_new(FALSE, FALSE, sizeof(struct cslide_page));
	g_ptr_array_add(run->procs, proc);
}

static void find_procs(struct cslide_run *run)
{
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct proc_id));
	unsigned int nr_kvm;
	char kvm_why[PROCS_KVM_WHY_SIZE];

	g_ptr_array_set_size(run->procs, 0);
	for (GList *l = run->tasks; l; l = l->next) {
		struct task *task = l->data;
		unsigned int before = run->procs->len;

		g_array_set_size(found, 0);
		if (task->type == TASK_TYPE_NAME)
			procs_find_by_name(task->value, found);
		else
			pinned_proc_find(&task->pinned, task->pid, found);
		nr_kvm = procs_drop_kvm_guests(found, kvm_why, sizeof(kvm_why));
		for (guint i = 0; i < found->len; i++)
			add_proc(run, task, &g_array_index(found, struct proc_id, i));
		task->stats.nr_procs = run->procs->len - before;
		if (nr_kvm) {
			log_warn("%s: process refused, %s", run->name, kvm_why);
			snprintf(task->stats.note, sizeof(task->stats.note),
				 "%u process(es) refused, e.g. %s", nr_kvm, kvm_why);
		} else if (!task->stats.nr_procs && task->type == TASK_TYPE_PID && task->pinned.valid) {
			char why[160];

			proc_gone_reason(&task->pinned.id, why, sizeof(why));
			snprintf(task->stats.note, sizeof(task->stats.note), "%s; waiting", why);
		} else if (!task->stats.nr_procs)
			snprintf(task->stats.note, sizeof(task->stats.note),
				 "waiting for %s %s", task->type == TASK_TYPE_PID ?
				 "process" : "a process named", task->value);
		else
			task->stats.note[0] = '\0';
	}
	g_array_free(found, TRUE);
}

/* Per-task figures of the cycle that just ended, and keep its pages. */
static void end_cycle(struct cycle *cycle)
{
	struct cslide_run *run = run_of(cycle);
	GPtrArray *done = run->procs;

	for (GList *l = run->tasks; l; l = l->next) {
		struct task *task = l->data;
		struct task_counts counts = { 0 };
		struct log_ctx ctx = { .project = task->engine->project->params.name,
				       .engine = "cslide", .task = task->name,
				       .cycle = task->stats.nr_cycles + 1 };
		bool had_errors = false;

		for (guint i = 0; i < done->len; i++) {
			struct cs_proc *proc = done->pdata[i];

			if (proc->task != task)
				continue;
			had_errors |= proc->failed;
			if (proc->gone)
				continue;
			for (guint k = 0; k < proc->pages->len; k++) {
				struct cslide_page *page = &g_array_index(proc->pages,
									  struct cslide_page, k);

				counts.pages_scanned += 512;
				if (page->count < run->params.hot_threshold)
					counts.pages_cold += 512;
			}
		}
		task_cycle_end(task, &ctx, &counts, cycle_elapsed_ms(cycle), had_errors);
	}
	log_debug("%s: cycle %u: %" PRIu64 " pages demoted, %" PRIu64 " promoted, %"
		  PRIu64 " failed, %" PRIu64 " held back; of the failed, %" PRIu64
		  " mapped more than once", run->name, run->cycle_nr,
		  run->moves.demoted, run->moves.promoted, run->moves.failed, run->moves.held,
		  run->moves.refused);
	g_ptr_array_free(run->last, TRUE);
	run->last = done;
	run->procs = g_ptr_array_new_with_free_func(cs_proc_free);
}

static enum cycle_state begin_cycle(struct cycle *cycle)
{
	struct cslide_run *run = run_of(cycle);

	find_procs(run);
	if (!run->procs->len)
		return CYCLE_WAITING;
	run->cycle_nr++;
	for (guint i = 0; i < run->procs->len; i++)
		submit(run, run->procs->pdata[i], cycle->pass);
	return CYCLE_SCANNING;
}

static void next_pass(struct cycle *cycle)
{
	struct cslide_run *run = run_of(cycle);

	for (guint i = 0; i < run->procs->len; i++) {
		struct cs_proc *proc = run->procs->pdata[i];

		if (!proc->gone)
			submit(run, proc, cycle->pass);
	}
}

/* One migration job per cycle: placement is decided across processes. */
static enum cycle_state migrate(struct cycle *cycle)
{
	submit(run_of(cycle), NULL, 0);
	return CYCLE_ACTING;
}

static void cslide_cycle_free(struct cycle *cycle)
{
	run_free(run_of(cycle));
}

static const struct cycle_ops cslide_cycle_ops = {
	.begin = begin_cycle,
	.next_pass = next_pass,
	.act = migrate,
	.end = end_cycle,
	.free = cslide_cycle_free,
};

static struct cslide_run *run_new(struct engine *eng, GString *err)
{
	struct cslide_engine *ce = eng->priv;
	struct cslide_run *run = g_new0(struct cslide_run, 1);

	run->eng = eng;
	snprintf(run->name, sizeof(run->name), "%s/%s", eng->project->params.name, eng->name);
	run->params = ce->params;
	run->params.pairs = g_array_copy(ce->params.pairs);
	run->proj = eng->project->params;
	run->procs = g_ptr_array_new_with_free_func(cs_proc_free);
	run->last = g_ptr_array_new_with_free_func(cs_proc_free);
	run->history = cslide_history_new();
	if (!run->history) {
		g_string_append(err, "out of memory for the migration history");
		run_free(run);
		return NULL;
	}
	if (cycle_init(&run->cycle, &cslide_cycle_ops, run->name, "migrating", &run->proj,
		       CSLIDE_THREADS, "cslide", err)) {
		run_free(run);
		return NULL;
	}
	return run;
}

/* ---- engine operations ---- */

static int cslide_start_task(struct task *task, GString *err)
{
	struct cslide_engine *ce = task->engine->priv;
	bool first = !ce->run;

	if (first) {
		ce->run = run_new(task->engine, err);
		if (!ce->run)
			return -ENOMEM;
	}
	task_report_reset(task);
	memset(&task->pinned, 0, sizeof(task->pinned));
	ce->run->tasks = g_list_append(ce->run->tasks, task);
	task->priv = ce->run;
	/* A new task joins at the next cycle of a running engine. */
	if (first)
		cycle_start(&ce->run->cycle);
	return 0;
}

static void forget_task(GPtrArray *procs, const struct task *task)
{
	for (guint i = 0; i < procs->len; i++) {
		struct cs_proc *proc = procs->pdata[i];

		if (proc->task == task)
			proc->task = NULL;
	}
}

static void cslide_stop_task(struct task *task)
{
	struct cslide_engine *ce = task->engine->priv;
	struct cslide_run *run = task->priv;

	task->priv = NULL;
	if (!run)
		return;
	run->tasks = g_list_remove(run->tasks, task);
	forget_task(run->procs, task);
	forget_task(run->last, task);
	if (!run->tasks) {
		ce->run = NULL;
		run->eng = NULL;
		cycle_stop(&run->cycle);
	}
}

static const char *cslide_task_state(const struct task *task)
{
	const struct cslide_run *run = task->priv;

	return run ? cycle_state_name(&run->cycle) : "stopped";
}

static void cslide_show_task(const struct task *task, struct etmem_out *out)
{
	const struct cslide_engine *ce = task->engine->priv;
	const struct cslide_eng_params *p = &ce->params;
	struct cs_moves m = ce->run ? ce->run->moves : (struct cs_moves){ 0 };

	etmem_out_uint(out, "hot_threshold", "hot_threshold=%" PRIu64, p->hot_threshold);
	etmem_out_uint(out, "node_mig_quota_mib", " node_mig_quota=%" PRIu64 "MiB",
		       p->mig_quota_mib);
	etmem_out_uint(out, "node_hot_reserve_mib", " node_hot_reserve=%" PRIu64 "MiB",
		       p->hot_reserve_mib);
	etmem_out_uint(out, "idle_age", " idle_age=%" PRIu64, p->idle_age);
	etmem_out_uint(out, "last_cycle_demoted_pages", " | engine's last cycle: demoted %"
		       PRIu64 " huge pages", m.demoted);
	etmem_out_size(out, NULL, " (%s)", m.demoted << 21);
	etmem_out_uint(out, "last_cycle_promoted_pages", ", promoted %" PRIu64 " huge pages",
		       m.promoted);
	etmem_out_size(out, NULL, " (%s)", m.promoted << 21);
	etmem_out_uint(out, "last_cycle_failed_moves", ", %" PRIu64 " moves failed", m.failed);
	etmem_out_uint(out, "last_cycle_held_pages", ", %" PRIu64
		       " huge pages held back after a lasting refusal", m.held);
	if (ce->run)
		cycle_show_sleep(&ce->run->cycle, out);
}

#define MAX_NODES	1024

struct node_usage {
	uint64_t used_kib, hot_kib, cold_kib;
	bool seen;
};

/*
 * Adds the pages of the last cycle's processes (of @task, or all) per node;
 * a process that has exited since is not counted.
 */
static unsigned int tally(const struct cslide_run *run, const struct task *task,
			  struct node_usage *usage)
{
	unsigned int nr_procs = 0;

	for (guint i = 0; i < run->last->len; i++) {
		const struct cs_proc *proc = run->last->pdata[i];

		if (!proc->task || proc->gone || (task && proc->task != task) ||
		    !proc_alive(&proc->id))
			continue;
		nr_procs++;
		for (guint k = 0; k < proc->pages->len; k++) {
			const struct cslide_page *page =
				&g_array_index(proc->pages, struct cslide_page, k);
			struct node_usage *u;

			if (page->node < 0 || page->node >= MAX_NODES)
				continue;
			u = &usage[page->node];
			u->seen = true;
			u->used_kib += HUGE_PAGE_KB;
			if (page->count >= run->params.hot_threshold)
				u->hot_kib += HUGE_PAGE_KB;
			else
				u->cold_kib += HUGE_PAGE_KB;
		}
	}
	return nr_procs;
}

static void mark_pair_nodes(const struct cslide_run *run, struct node_usage *usage)
{
	for (guint i = 0; i < run->params.pairs->len; i++) {
		const struct cslide_pair *pair = &g_array_index(run->params.pairs,
								struct cslide_pair, i);

		usage[pair->hot_node].seen = true;
		usage[pair->cold_node].seen = true;
	}
}

/*
 * The node table of showtaskpages and showhostpages: KiB columns in text,
 * bytes in JSON ("nodes":[{"node":0,"used_bytes":...}, ...]).
 */
static void node_row(struct etmem_out *out, int node, const uint64_t *kib, const char **names,
		     int nr)
{
	etmem_out_open_object(out, NULL);
	etmem_out_int(out, "node", "%-6" PRId64, node);
	for (int i = 0; i < nr; i++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_bytes", names[i]);
		if (etmem_out_is_json(out))
			etmem_out_uint(out, key, NULL, kib[i] << 10);
		else
			etmem_out_uint(out, NULL, " %12" PRIu64, kib[i]);
	}
	etmem_out_text(out, "\n");
	etmem_out_close_object(out);
}

static void reply_out(struct etmem_out *out, GString *reply)
{
	char *text = etmem_out_finish(out);

	g_string_append(reply, text);
	g_free(text);
}

static int show_task_pages(const struct cslide_run *run, const struct task *task,
			   bool json, GString *reply)
{
	struct node_usage *usage = g_new0(struct node_usage, MAX_NODES);
	static const char *names[] = { "used", "hot", "cold" };
	struct etmem_out *out;

	if (!tally(run, task, usage)) {
		g_string_printf(reply, "no process of task %s is running under engine cslide "
				"(or no cycle has finished yet)", task->name);
		g_free(usage);
		return -ESRCH;
	}
	mark_pair_nodes(run, usage);
	out = etmem_out_new(json);
	etmem_out_str(out, "task", "task %s huge pages by node (KiB, last cycle)\n", task->name);
	etmem_out_text(out, "%-6s %12s %12s %12s\n", "node", "used", "hot", "cold");
	etmem_out_open_array(out, "nodes");
	for (int n = 0; n < MAX_NODES; n++) {
		uint64_t kib[] = { usage[n].used_kib, usage[n].hot_kib, usage[n].cold_kib };

		if (usage[n].seen)
			node_row(out, n, kib, names, 3);
	}
	etmem_out_close_array(out);
	reply_out(out, reply);
	g_free(usage);
	return 0;
}

static int show_host_pages(const struct cslide_run *run, bool json, GString *reply)
{
	struct node_usage *usage = g_new0(struct node_usage, MAX_NODES);
	static const char *names[] = { "total", "used", "hot", "cold" };
	struct etmem_out *out;

	if (!tally(run, NULL, usage)) {
		g_string_printf(reply, "no process is running under engine cslide "
				"(or no cycle has finished yet)");
		g_free(usage);
		return -ESRCH;
	}
	out = etmem_out_new(json);
	etmem_out_text(out, "host 2 MiB huge pages by node (KiB; hot and cold: pages of "
		       "this engine's processes, last cycle)\n");
	etmem_out_text(out, "%-6s %12s %12s %12s %12s\n", "node", "total", "used", "hot", "cold");
	etmem_out_open_array(out, "nodes");
	for (int n = 0; n < MAX_NODES; n++) {
		struct node_hugepages pool;
		uint64_t kib[4];

		if (numa_tier_hugepages(n, &pool))
			continue;
		kib[0] = pool.total * HUGE_PAGE_KB;
		kib[1] = (pool.total - pool.free) * HUGE_PAGE_KB;
		kib[2] = usage[n].hot_kib;
		kib[3] = usage[n].cold_kib;
		node_row(out, n, kib, names, 4);
	}
	etmem_out_close_array(out);
	reply_out(out, reply);
	g_free(usage);
	return 0;
}

static int cslide_engine_cmd(struct engine *eng, struct task *task, const char *cmd,
			     bool json, GString *reply)
{
	const struct cslide_engine *ce = eng->priv;
	bool task_cmd = !strcmp(cmd, "showtaskpages");

	if (!task_cmd && strcmp(cmd, "showhostpages")) {
		g_string_printf(reply, "engine cslide has no command '%s' (known: "
				"showtaskpages -t TASK, showhostpages)", cmd);
		return -EOPNOTSUPP;
	}
	if (task_cmd && !task) {
		g_string_printf(reply, "showtaskpages needs a task: -t TASK");
		return -EINVAL;
	}
	if (!ce->run) {
		g_string_printf(reply, "no process is running under engine cslide of project %s "
				"(start the project first)", eng->project->params.name);
		return -ESRCH;
	}
	return task_cmd ? show_task_pages(ce->run, task, json, reply) :
			  show_host_pages(ce->run, json, reply);
}

const struct engine_ops cslide_engine_ops = {
	.name = "cslide",
	.scan_types = SCAN_TYPES_PAGE,
	.parse_engine = cslide_parse_engine,
	.parse_task = cslide_parse_task,
	.free_engine = cslide_free_engine,
	.start_task = cslide_start_task,
	.stop_task = cslide_stop_task,
	.free_task = cslide_free_task,
	.task_state = cslide_task_state,
	.show_task = cslide_show_task,
	.engine_cmd = cslide_engine_cmd,
};
