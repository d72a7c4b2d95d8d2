// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "etmem_genl.h"
#include "log.h"
#include "loop.h"
#include "workers.h"

struct worker_pool {
	char name[80];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	GQueue queue;			/* struct worker_job *, under lock */
	bool exiting;			/* under lock */
	unsigned int nr_threads;
	pthread_t *threads;
	/* Loop thread only: */
	unsigned int inflight;		/* submitted, done() not yet run */
	bool released;
};

static unsigned int inflight_total;	/* loop thread only */

static void job_complete(void *arg);

static void *worker_main(void *arg)
{
	struct worker_pool *pool = arg;
	struct etmem_client *client = NULL;
	int client_err = etmem_client_open(&client);

	if (client_err) {
		log_err("%s: cannot open the etmem netlink family: %s%s%s%s", pool->name,
			strerror(-client_err), client_err == -ENOENT ? " (" : "",
			client_err == -ENOENT ? etmem_modules_hint() : "",
			client_err == -ENOENT ? ")" : "");
		client = NULL;
	}
	for (;;) {
		struct worker_job *job;

		pthread_mutex_lock(&pool->lock);
		while (g_queue_is_empty(&pool->queue) && !pool->exiting)
			pthread_cond_wait(&pool->wake, &pool->lock);
		job = g_queue_pop_head(&pool->queue);
		pthread_mutex_unlock(&pool->lock);
		if (!job)
			break;	/* exiting and nothing left */
		if (!client)
			client_err = etmem_client_open(&client);
		job->run(job, client, client_err);
		if (job->reconnect && client) {
			etmem_client_close(client);
			client = NULL;
		}
		loop_post(job_complete, job);
	}
	if (client)
		etmem_client_close(client);
	return NULL;
}

struct worker_pool *worker_pool_new(unsigned int nr_threads, const char *name)
{
	struct worker_pool *pool = g_new0(struct worker_pool, 1);

	snprintf(pool->name, sizeof(pool->name), "%s", name);
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	g_queue_init(&pool->queue);
	pool->threads = g_new0(pthread_t, nr_threads);
	for (unsigned int i = 0; i < nr_threads; i++) {
		int err = pthread_create(&pool->threads[i], NULL, worker_main, pool);

		if (err) {
			log_err("%s: thread %u: %s", name, i, strerror(err));
			break;
		}
		pool->nr_threads++;
	}
	if (!pool->nr_threads) {
		g_free(pool->threads);
		g_free(pool);
		return NULL;
	}
	return pool;
}

static void pool_join_free(struct worker_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->exiting = true;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned int i = 0; i < pool->nr_threads; i++)
		pthread_join(pool->threads[i], NULL);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->wake);
	g_free(pool->threads);
	g_free(pool);
}

/* Loop thread, after job->run(): the owner's done(), then bookkeeping. */
static void job_complete(void *arg)
{
	struct worker_job *job = arg;
	struct worker_pool *pool = job->pool;

	job->done(job);		/* frees job */
	pool->inflight--;
	inflight_total--;
	if (pool->released && !pool->inflight)
		pool_join_free(pool);
}

void worker_pool_submit(struct worker_pool *pool, struct worker_job *job)
{
	job->pool = pool;
	pool->inflight++;
	inflight_total++;
	pthread_mutex_lock(&pool->lock);
	g_queue_push_tail(&pool->queue, job);
	pthread_cond_signal(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
}

unsigned int worker_pool_inflight(const struct worker_pool *pool)
{
	return pool->inflight;
}

void worker_pool_release(struct worker_pool *pool)
{
	if (!pool)
		return;
	pool->released = true;
	if (!pool->inflight)
		pool_join_free(pool);
}

unsigned int workers_inflight_total(void)
{
	return inflight_total;
}
