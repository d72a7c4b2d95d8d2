// SPDX-License-Identifier: GPL-2.0
/*
 * idle_swap: an example third-party etmem policy. Each cycle it scans a
 * task's processes `loop` times, `interval` seconds apart, and pages out
 * every page that was idle in at least `idle_scans` of them; then it sleeps
 * `sleep` seconds. Private command: `stat` prints what it has done.
 *
 * Engine keys: idle_scans=N (1..loop, default loop; checked at start).
 * Task keys:   anon_only=yes|no (default yes).
 *
 * It uses what etmemd offers a policy: the task's process list, which
 * follows processes that start and exit (it sets eng->follow_pids and
 * walks the list under tk->pids_lock), the start time that tells a reused
 * pid, and eng->host to log, to set the task's note, to report failures
 * and each cycle's figures (etmem project show prints them), and to name
 * the key a refused parameter is about.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdint.h>
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
			char *text = g_key_file_get_value(config, groups[0], "idle_scans", NULL);

			eng->host->error(eng, NULL, "idle_scans=%s: allowed 1..120 "
					 "(and at most the project's loop)", text ? text : "");
			g_free(text);
			g_clear_error(&gerr);
			g_strfreev(groups);
			free(params);
			return -EINVAL;
		}
		params->idle_scans = (unsigned int)val;
	}
	g_strfreev(groups);
	eng->params = params;
	/* Its threads walk tk->pids under tk->pids_lock: the list may change. */
	eng->follow_pids = 1;
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
		tk->eng->host->error(tk->eng, tk, "anon_only=%s: allowed yes or no", val);
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

/* Field 22 of /proc/PID/stat (clock ticks after boot); 0 when gone. */
static unsigned long long start_time_of(unsigned int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	size_t len;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	/* All of it: comm may hold a newline (and parentheses, spaces). */
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	if ((p = strrchr(buf, ')'))) {
		/* after "comm)": field 3 is the state; field 22 is 19 further */
		for (i = 3, p += 2; i < 22 && p; i++)
			p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
		if (p)
			start = strtoull(p, NULL, 10);
	}
	fclose(f);
	return start;
}

/* VmSwap of the process in bytes; -1 when it cannot be read. */
static long long vm_swap_bytes(unsigned int pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* One process's share of a cycle; 0 or a negative errno. */
static int idle_one_process(struct engine *eng, struct task *tk,
			    struct idle_task *params, unsigned int pid,
			    struct etmemd_cycle *cycle)
{
	const struct idle_eng *ep = eng->params;
	struct page_refs *refs = NULL, *ref;
	unsigned long scanned = 0, idle = 0;
	long long out = 0, swap_before, swap_after;
	struct vmas *vmas;
	char pid_text[16];
	unsigned int i;
	int err = 0;

	snprintf(pid_text, sizeof(pid_text), "%u", pid);
	vmas = etmemd_get_vmas(pid_text, NULL, 0, params->anon_only);
	if (!vmas)
		return -errno;
	for (i = 0; i < eng->loop && !err; i++) {
		if (i && !idle_wait(params, eng->interval))
			break;
		err = etmemd_get_page_refs(vmas, pid_text, &refs, 0);
	}
	for (ref = refs; ref; ref = ref->next) {
		scanned++;
		idle += eng->loop - (unsigned int)ref->count >= ep->idle_scans;
	}
	/*
	 * Idle in idle_scans of loop scans: accessed in fewer than the rest.
	 * What left RAM is what the process's swap grew by, at most what was
	 * handed to reclaim: an estimate (file pages dropped are not counted,
	 * pages still being written to swap are).
	 */
	swap_before = vm_swap_bytes(pid);
	if (!err)
		out = etmemd_swap_out(pid_text, refs,
				      (int)(eng->loop - ep->idle_scans + 1), 0);
	swap_after = vm_swap_bytes(pid);
	etmemd_free_page_refs(refs);
	etmemd_free_vmas(vmas);
	if (!err && out < 0)
		err = (int)out;
	cycle->pages_scanned += scanned;
	cycle->pages_cold += idle;
	if (out > 0 && swap_before >= 0 && swap_after > swap_before)
		cycle->bytes_paged_out += (uint64_t)(swap_after - swap_before < out ?
						     swap_after - swap_before : out);
	pthread_mutex_lock(&params->lock);
	params->pages_scanned += scanned;
	params->pages_idle += idle;
	if (out > 0)
		params->bytes_out += out;
	params->last_error = err;
	pthread_mutex_unlock(&params->lock);
	if (err)
		eng->host->log(eng, tk, ETMEMD_LOG_WARN, "pid %u: %s", pid, strerror(-err));
	return err;
}

/* The task's processes, copied under its lock: pid and start time. */
struct idle_proc {
	unsigned int pid;
	unsigned long long start_time;
};

static size_t idle_procs(struct task *tk, struct idle_proc **out)
{
	struct idle_proc *procs = NULL;
	struct task_pid *tp;
	size_t n = 0, i = 0;

	pthread_mutex_lock(tk->pids_lock);
	for (tp = tk->pids; tp; tp = tp->next)
		n++;
	procs = n ? calloc(n, sizeof(*procs)) : NULL;
	for (tp = tk->pids; procs && tp; tp = tp->next, i++) {
		procs[i].pid = tp->pid;
		procs[i].start_time = tp->start_time;
	}
	pthread_mutex_unlock(tk->pids_lock);
	*out = procs;
	return procs ? n : 0;
}

struct idle_run {
	struct engine *eng;
	struct task *tk;
};

static void *idle_thread(void *arg)
{
	struct idle_run *run = arg;
	struct engine *eng = run->eng;
	struct task *tk = run->tk;
	struct idle_task *params = tk->params;
	struct idle_proc *procs;
	struct timespec t0, t1;
	size_t n, i, failed;
	int err, first_err;

	do {
		struct etmemd_cycle cycle = { 0 };

		clock_gettime(CLOCK_MONOTONIC, &t0);
		n = idle_procs(tk, &procs);
		failed = 0;
		first_err = 0;
		for (i = 0; i < n; i++) {
			/* A pid that now names another process is not ours. */
			if (start_time_of(procs[i].pid) != procs[i].start_time)
				continue;
			err = idle_one_process(eng, tk, params, procs[i].pid, &cycle);
			if (err && !first_err)
				first_err = err;
			failed += err != 0;
		}
		free(procs);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		cycle.duration_ms = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
				    (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (!n)
			eng->host->set_note(tk, "idle_swap: no process to work on");
		else
			eng->host->set_note(tk, NULL);
		if (failed == n && n)
			eng->host->fail(tk, "idle_swap: every process failed (%zu), e.g. %s",
					n, strerror(-first_err));
		else
			eng->host->cycle_done(tk, &cycle);
		pthread_mutex_lock(&params->lock);
		params->cycles++;
		pthread_mutex_unlock(&params->lock);
		eng->host->log(eng, tk, ETMEMD_LOG_DEBUG, "cycle: %zu process(es), %" PRIu64
			       " pages scanned, %" PRIu64 " idle", n, cycle.pages_scanned,
			       cycle.pages_cold);
	} while (idle_wait(params, eng->sleep));
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
	if (ep->idle_scans > eng->loop) {
		/* cannot be idle in more scans than a cycle has */
		eng->host->error(eng, tk, "idle_scans=%u: allowed 1..loop (%u)",
				 ep->idle_scans, eng->loop);
		return -ERANGE;
	}
	err = etmemd_scan_init();
	if (err) {
		eng->host->error(eng, tk, "the scan library cannot start: %s "
				 "(are the etmem modules loaded?)", strerror(-err));
		return err;
	}
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
	struct idle_proc *procs;
	size_t n = idle_procs(tk, &procs);

	dprintf(fd, "task %s: processes", tk->name);
	for (size_t i = 0; i < n; i++)
		dprintf(fd, " %u(start %llu)", procs[i].pid, procs[i].start_time);
	dprintf(fd, "%s\n", n ? "" : " none");
	free(procs);

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
