// SPDX-License-Identifier: GPL-2.0
/*
 * Swapcache reclaim (see swapcache.h).
 *
 * What can be reclaimed: a swapcache page that a managed process maps is
 * paged out like any cold page (process_madvise(MADV_PAGEOUT)); its data
 * is in swap already, so that costs no write. The kernel approves only
 * such pages (ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY): page cache and other
 * anonymous memory are never touched. A swapcache page that no managed
 * process maps (readahead, or a process etmemd does not manage) cannot be
 * freed through any interface the kernel offers a module or user space
 * without also reclaiming other memory: that part is reported, not
 * papered over.
 *
 * Threads: the listener runs on the loop thread; each round runs on a
 * worker of its own pool (one thread) and reports back with done().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <glib.h>

#include "etmem_genl.h"
#include "log.h"
#include "loop.h"
#include "objects.h"
#include "procs.h"
#include "swapcache.h"
#include "workers.h"

#define RETRY_MS	500	/* between rounds while above low */

struct reclaimer {
	struct project *owner;		/* NULL once stopped */
	struct etmem_client *events;
	struct loop_watch *watch;
	struct loop_timer *retry;
	struct loop_timer *first;	/* one check right after start */
	struct worker_pool *pool;
	bool inflight;
	unsigned int rounds;
	uint64_t freed_bytes;		/* swapcache paged out, all rounds */
};

struct reclaim_job {
	struct worker_job base;
	struct reclaimer *r;
	GArray *procs;			/* struct proc_id */
	bool only_if_high;		/* not after an event: check the size first */
	/* results */
	bool skipped;			/* below the high mark: nothing done */
	uint64_t approved_pages;
	uint64_t young_pages;		/* mapped swapcache in use: left alone */
	uint64_t advised_bytes;
	unsigned int nr_failed;
	char failure[160];
	struct etmem_swapcache_state after;
	int state_err;
};

static struct reclaimer *the_reclaimer;

struct project *swapcache_owner(void)
{
	return the_reclaimer ? the_reclaimer->owner : NULL;
}

/* Processes of every started task of every started project. */
static GArray *managed_procs(void)
{
	GArray *procs = g_array_new(FALSE, FALSE, sizeof(struct proc_id));

	for (GList *p = projects_all(); p; p = p->next) {
		struct project *proj = p->data;

		if (!proj->started)
			continue;
		for (GList *e = proj->engines; e; e = e->next) {
			for (GList *t = ((struct engine *)e->data)->tasks; t; t = t->next) {
				struct task *task = t->data;
				struct proc_id id = { .pid = task->pid };

				if (!task->started)
					continue;
				if (task->type == TASK_TYPE_NAME)
					procs_find_by_name(task->value, procs);
				else if (task->pid > 0)
					g_array_append_val(procs, id);
			}
		}
	}
	return procs;
}

static void reclaim_run(struct worker_job *base, struct etmem_client *client,
			int client_err)
{
	struct reclaim_job *job = (struct reclaim_job *)base;

	if (!client) {
		job->state_err = client_err;
		snprintf(job->failure, sizeof(job->failure),
			 "cannot open the etmem netlink family: %s", strerror(-client_err));
		return;
	}
	if (job->only_if_high) {
		job->state_err = etmem_swapcache_get(client, &job->after);
		if (job->state_err ||
		    job->after.swapcache_bytes <=
		    job->after.totalram_bytes / 100 * job->after.high_pct) {
			job->skipped = true;
			return;
		}
	}
	for (guint i = 0; i < job->procs->len; i++) {
		const struct proc_id *id = &g_array_index(job->procs, struct proc_id, i);
		struct etmem_swap_result res = { 0 };
		int ret = etmem_swap_out(client, id->pid, NULL, 0,
					 ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY, &res);

		if (ret && ret != -ESRCH && ret != -EOWNERDEAD) {
			job->nr_failed++;
			snprintf(job->failure, sizeof(job->failure), "pid %d: %s: %s",
				 id->pid, strerror(-ret), etmem_client_errmsg(client));
			continue;
		}
		job->approved_pages += res.nr_eligible;
		job->young_pages += res.nr_young;
		job->advised_bytes += res.bytes_advised;
	}
	job->state_err = etmem_swapcache_get(client, &job->after);
}

static void reclaim_round(void *arg);
static void reclaim_first(void *arg);

static void reclaim_done(struct worker_job *base)
{
	struct reclaim_job *job = (struct reclaim_job *)base;
	struct reclaimer *r = job->r;
	struct project *proj = r->owner;
	uint64_t low_b = job->after.totalram_bytes / 100 * job->after.low_pct;

	r->inflight = false;
	if (job->skipped)
		goto free;
	r->rounds++;
	r->freed_bytes += job->advised_bytes;
	if (proj) {
		if (job->state_err) {
			snprintf(proj->swapcache_reclaim_note, sizeof(proj->swapcache_reclaim_note),
				 "failing: %s", *job->failure ? job->failure :
				 "cannot read the swapcache size");
		} else if (job->after.swapcache_bytes >= low_b && !job->approved_pages) {
			snprintf(proj->swapcache_reclaim_note, sizeof(proj->swapcache_reclaim_note),
				 "%" PRIu64 " MiB of swapcache left above the low mark (%" PRIu64
				 " MiB) after %u rounds (%" PRIu64 " MiB paged out): %" PRIu64
				 " MiB of it is mapped but in use (accessed since the last scan); the rest no managed process maps, and no kernel interface reclaims swapcache alone",
				 job->after.swapcache_bytes >> 20, low_b >> 20, r->rounds,
				 r->freed_bytes >> 20, (job->young_pages * 4096) >> 20);
		} else {
			snprintf(proj->swapcache_reclaim_note, sizeof(proj->swapcache_reclaim_note),
				 "%u rounds, %" PRIu64 " MiB of mapped swapcache paged out from %u processes; swapcache now %" PRIu64 " MiB (low mark %" PRIu64 " MiB)%s%s",
				 r->rounds, r->freed_bytes >> 20, job->procs->len,
				 job->after.swapcache_bytes >> 20, low_b >> 20,
				 job->nr_failed ? "; failing: " : "", job->failure);
		}
		log_info("project %s: swapcache reclaim: %s", proj->params.name,
			 proj->swapcache_reclaim_note);
		/* Another round while it helps and the swapcache is still high. */
		if (!job->state_err && job->approved_pages &&
		    job->after.swapcache_bytes >= low_b)
			loop_timer_arm(r->retry, RETRY_MS);
	}
free:
	g_array_free(job->procs, TRUE);
	g_free(job);
	if (!r->owner && !r->inflight) {
		loop_timer_free(r->retry);
		loop_timer_free(r->first);
		worker_pool_release(r->pool);
		g_free(r);
	}
}

static void reclaim_submit(struct reclaimer *r, bool only_if_high)
{
	struct reclaim_job *job;

	if (!r->owner || r->inflight)
		return;
	job = g_new0(struct reclaim_job, 1);
	job->base.run = reclaim_run;
	job->base.done = reclaim_done;
	job->r = r;
	job->procs = managed_procs();
	job->only_if_high = only_if_high;
	r->inflight = true;
	worker_pool_submit(r->pool, &job->base);
}

/* The first round after start: only if the swapcache is high already. */
static void reclaim_first(void *arg)
{
	reclaim_submit(arg, true);
}

/* A round after a high event, or the next round while it helps. */
static void reclaim_round(void *arg)
{
	reclaim_submit(arg, false);
}

static void on_events(int fd, uint32_t events, void *arg)
{
	struct reclaimer *r = arg;
	struct etmem_swapcache_ntf ev;
	int ret;

	while ((ret = etmem_events_next(r->events, &ev, 0)) == 0) {
		if (ev.type == ETMEM_SWAPCACHE_EVENT_HIGH) {
			log_info("swapcache %" PRIu64 " MiB is above the high mark (%u%% of RAM): reclaiming",
				 ev.swapcache_bytes >> 20, ev.high_pct);
			reclaim_round(r);
		}
	}
	if (ret != -ETIMEDOUT && ret != -EAGAIN && r->owner) {
		snprintf(r->owner->swapcache_reclaim_note,
			 sizeof(r->owner->swapcache_reclaim_note),
			 "failing: swapcache events: %s", strerror(-ret));
		log_warn("project %s: swapcache events: %s", r->owner->params.name,
			 strerror(-ret));
		loop_unwatch(r->watch);
		r->watch = NULL;
	}
}

int swapcache_reclaim_start(struct project *proj, char *err, size_t errlen)
{
	struct reclaimer *r;
	int ret;

	if (the_reclaimer) {
		snprintf(err, errlen, "the swapcache watermarks belong to project %s",
			 the_reclaimer->owner->params.name);
		return -EBUSY;
	}
	r = g_new0(struct reclaimer, 1);
	ret = etmem_events_open(&r->events);
	if (ret) {
		snprintf(err, errlen, "cannot listen for swapcache events: %s",
			 etmem_client_errmsg(NULL));
		g_free(r);
		return ret;
	}
	r->watch = loop_watch_fd(etmem_client_fd(r->events), EPOLLIN, on_events, r);
	r->retry = loop_timer_new(reclaim_round, r);
	r->first = loop_timer_new(reclaim_first, r);
	r->pool = worker_pool_new(1, "swapcache");
	if (!r->watch || !r->retry || !r->first || !r->pool) {
		snprintf(err, errlen, "cannot set up the swapcache listener (out of memory or descriptors)");
		if (r->watch)
			loop_unwatch(r->watch);
		if (r->retry)
			loop_timer_free(r->retry);
		if (r->first)
			loop_timer_free(r->first);
		if (r->pool)
			worker_pool_release(r->pool);
		etmem_client_close(r->events);
		g_free(r);
		return -ENOMEM;
	}
	r->owner = proj;
	proj->swapcache_reclaim_note[0] = '\0';
	the_reclaimer = r;
	/*
	 * The module reports crossings only: a swapcache that is high
	 * already gets one round now (it stops at once if below low).
	 */
	loop_timer_arm(r->first, RETRY_MS);
	return 0;
}

void swapcache_reclaim_stop(struct project *proj)
{
	struct reclaimer *r = the_reclaimer;

	if (!r || r->owner != proj)
		return;
	r->owner = NULL;
	if (r->watch)
		loop_unwatch(r->watch);
	r->watch = NULL;
	etmem_client_close(r->events);
	r->events = NULL;
	loop_timer_cancel(r->retry);
	loop_timer_cancel(r->first);
	the_reclaimer = NULL;
	if (!r->inflight) {
		loop_timer_free(r->retry);
		loop_timer_free(r->first);
		worker_pool_release(r->pool);
		g_free(r);
	}
}
