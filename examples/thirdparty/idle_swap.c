// SPDX-License-Identifier: GPL-2.0
/*
 * idle_swap: an example third-party etmem policy. Each cycle it scans a
 * task's processes `loop` times, `interval` seconds apart, and pages out
 * every page that was idle in at least `idle_scans` of them; then it sleeps
 * `sleep` seconds. Private command: `stat` prints what it has done.
 *
 * Engine keys: idle_scans=N (1..loop, default loop; checked at start).
 * Task keys:   anon_only=yes|no (default yes).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <etmem/etmemd_engine.h>
#include <etmem/etmemd_scan.h>

struct idle_eng {
	unsigned int idle_scans;
};

struct idle_task {
	bool anon_only;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping, running;
	/* statistics, under lock */
	unsigned long cycles, pages_scanned, pages_idle;
	long long bytes_out;
	int last_error;
};

static int idle_fill_eng(GKeyFile *config, struct engine *eng)
{
	struct idle_eng *params = calloc(1, sizeof(*params));
	char **groups = g_key_file_get_groups(config, NULL);
	GError *gerr = NULL;
	int val;

	if (!params || !groups || !groups[0]) {
		free(params);
		g_strfreev(groups);
		return -ENOMEM;
	}
	/* 0: as many as the project's loop, known when a task starts. */
	params->idle_scans = 0;
	if (g_key_file_has_key(config, groups[0], "idle_scans", NULL)) {
		val = g_key_file_get_integer(config, groups[0], "idle_scans", &gerr);
		if (gerr || val < 1 || val > 120) {
			g_clear_error(&gerr);
			g_strfreev(groups);
			free(params);
			return -EINVAL;
		}
		params->idle_scans = (unsigned int)val;
	}
	g_strfreev(groups);
	eng->params = params;
	return 0;
}

static void idle_clear_eng(struct engine *eng)
{
	free(eng->params);
	eng->params = NULL;
}

static int idle_fill_task(GKeyFile *config, struct task *tk)
{
	struct idle_task *params = calloc(1, sizeof(*params));
	char **groups = g_key_file_get_groups(config, NULL);
	char *val;

	if (!params || !groups || !groups[0]) {
		free(params);
		g_strfreev(groups);
		return -ENOMEM;
	}
	params->anon_only = true;
	val = g_key_file_get_string(config, groups[0], "anon_only", NULL);
	if (val && strcmp(val, "yes") && strcmp(val, "no")) {
		g_free(val);
		g_strfreev(groups);
		free(params);
		return -EINVAL;
	}
	if (val)
		params->anon_only = strcmp(val, "yes") == 0;
	g_free(val);
	g_strfreev(groups);
	pthread_mutex_init(&params->lock, NULL);
	pthread_cond_init(&params->wake, NULL);
	tk->params = params;
	return 0;
}

static void idle_clear_task(struct task *tk)
{
	struct idle_task *params = tk->params;

	if (!params)
		return;
	pthread_mutex_destroy(&params->lock);
	pthread_cond_destroy(&params->wake);
	free(params);
	tk->params = NULL;
}

/* Sleep up to @seconds; false when told to stop meanwhile. */
static bool idle_wait(struct idle_task *params, unsigned int seconds)
{
	struct timespec until;
	bool stopping;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&params->lock);
	while (!params->stopping &&
	       pthread_cond_timedwait(&params->wake, &params->lock, &until) == 0)
		;
	stopping = params->stopping;
	pthread_mutex_unlock(&params->lock);
	return !stopping;
}

static void idle_one_process(struct engine *eng, struct idle_task *params,
			     unsigned int pid)
{
	const struct idle_eng *ep = eng->params;
	struct page_refs *refs = NULL, *ref;
	unsigned long scanned = 0, idle = 0;
	struct vmas *vmas;
	char pid_text[16];
	long long out = 0;
	unsigned int i;
	int err = 0;

	snprintf(pid_text, sizeof(pid_text), "%u", pid);
	vmas = etmemd_get_vmas(pid_text, NULL, 0, params->anon_only);
	if (!vmas) {
		err = -errno;
		goto record;
	}
	for (i = 0; i < eng->loop && !err; i++) {
		if (i && !idle_wait(params, eng->interval))
			break;
		err = etmemd_get_page_refs(vmas, pid_text, &refs, 0);
	}
	for (ref = refs; ref; ref = ref->next) {
		scanned++;
		idle += eng->loop - (unsigned int)ref->count >= ep->idle_scans;
	}
	/* Idle in idle_scans of loop scans: accessed in fewer than the rest. */
	if (!err)
		out = etmemd_swap_out(pid_text, refs,
				      (int)(eng->loop - ep->idle_scans + 1), 0);
	etmemd_free_page_refs(refs);
	etmemd_free_vmas(vmas);
record:
	pthread_mutex_lock(&params->lock);
	params->pages_scanned += scanned;
	params->pages_idle += idle;
	if (out > 0)
		params->bytes_out += out;
	params->last_error = err ? err : (out < 0 ? (int)out : 0);
	pthread_mutex_unlock(&params->lock);
}

struct idle_run {
	struct engine *eng;
	struct task *tk;
};

static void *idle_thread(void *arg)
{
	struct idle_run *run = arg;
	struct idle_task *params = run->tk->params;
	struct task_pid *tp;

	do {
		for (tp = run->tk->pids; tp; tp = tp->next)
			idle_one_process(run->eng, params, tp->pid);
		pthread_mutex_lock(&params->lock);
		params->cycles++;
		pthread_mutex_unlock(&params->lock);
	} while (idle_wait(params, run->eng->sleep));
	etmemd_scan_exit();
	free(run);
	return NULL;
}

static int idle_start(struct engine *eng, struct task *tk)
{
	struct idle_task *params = tk->params;
	struct idle_run *run;
	int err;

	struct idle_eng *ep = eng->params;

	if (!params || params->running)
		return -EINVAL;
	if (ep->idle_scans == 0)
		ep->idle_scans = eng->loop;
	if (ep->idle_scans > eng->loop)
		return -ERANGE;	/* cannot be idle in more scans than a cycle has */
	err = etmemd_scan_init();
	if (err)
		return err;
	run = malloc(sizeof(*run));
	if (!run)
		return -ENOMEM;
	run->eng = eng;
	run->tk = tk;
	params->stopping = false;
	err = pthread_create(&params->thread, NULL, idle_thread, run);
	if (err) {
		free(run);
		return -err;
	}
	params->running = true;
	return 0;
}

static void idle_stop(struct engine *eng, struct task *tk)
{
	struct idle_task *params = tk->params;

	if (!params || !params->running)
		return;
	pthread_mutex_lock(&params->lock);
	params->stopping = true;
	pthread_cond_broadcast(&params->wake);
	pthread_mutex_unlock(&params->lock);
	pthread_join(params->thread, NULL);
	params->running = false;
}

static int idle_stat_task(struct task *tk, int fd)
{
	struct idle_task *params = tk->params;

	pthread_mutex_lock(&params->lock);
	dprintf(fd, "task %s: cycles %lu, pages scanned %lu, idle pages %lu, "
		"bytes paged out %lld, last error %d\n", tk->name,
		params->cycles, params->pages_scanned, params->pages_idle,
		params->bytes_out, params->last_error);
	pthread_mutex_unlock(&params->lock);
	return 0;
}

static int idle_mgt(struct engine *eng, struct task *tk, char *cmd, int fd)
{
	if (strcmp(cmd, "stat") != 0) {
		dprintf(fd, "idle_swap: unknown command '%s' (known: stat)\n", cmd);
		return -EINVAL;
	}
	if (!tk) {
		dprintf(fd, "idle_swap: stat needs -t TASK\n");
		return -EINVAL;
	}
	return idle_stat_task(tk, fd);
}

struct engine_ops idle_swap_ops = {
	.fill_eng_params = idle_fill_eng,
	.clear_eng_params = idle_clear_eng,
	.fill_task_params = idle_fill_task,
	.clear_task_params = idle_clear_task,
	.start_task = idle_start,
	.stop_task = idle_stop,
	.eng_mgt_func = idle_mgt,
};
