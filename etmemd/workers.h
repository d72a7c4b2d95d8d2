/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Worker pools: threads that do the slow, per-process work (scanning,
 * paging out) so the event loop stays responsive.
 *
 * A job is self-contained: run() executes on a worker with that worker's
 * own netlink client and must not touch loop-owned objects; done() then
 * runs on the loop thread, where it may. A pool is freed only when it is
 * idle; worker_pool_release() hands that to the pool itself, so an owner
 * can go away while jobs are still in flight.
 */
#ifndef ETMEMD_WORKERS_H
#define ETMEMD_WORKERS_H

#include <stdbool.h>

struct etmem_client;
struct worker_pool;

struct worker_job {
	/* client is NULL when the worker could not open one (see client_err). */
	void (*run)(struct worker_job *job, struct etmem_client *client, int client_err);
	void (*done)(struct worker_job *job);	/* loop thread; frees the job */
	struct worker_pool *pool;		/* set by worker_pool_submit() */
	/*
	 * Set by run() when a netlink request failed in a way that may mean
	 * the family went away (module unloaded): the worker opens a new
	 * client before its next job. A worker without a client tries again
	 * before every job, so a task recovers once the modules are back.
	 */
	bool reconnect;
};

struct worker_pool *worker_pool_new(unsigned int nr_threads, const char *name);
void worker_pool_submit(struct worker_pool *pool, struct worker_job *job);
unsigned int worker_pool_inflight(const struct worker_pool *pool);
/* Joins the threads once the last job in flight is done. */
void worker_pool_release(struct worker_pool *pool);

/* Jobs in flight in all pools, released ones included (for shutdown). */
unsigned int workers_inflight_total(void);

#endif /* ETMEMD_WORKERS_H */
