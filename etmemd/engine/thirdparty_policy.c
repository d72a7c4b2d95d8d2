// SPDX-License-Identifier: GPL-2.0
/* Loading and calling third-party policies: see thirdparty_policy.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etmem/etmemd_engine.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "thirdparty_policy.h"

struct tp_engine {
	struct engine pub;
	const struct engine_ops *ops;
	void *dl;
	char *name, *proj_name;	/* proj_name changes under names_lock */
	bool filled;
	char error[256];	/* from host->error during a call; under names_lock */
};

struct tp_task {
	struct task pub;
	struct tp_engine *eng;
	char *name, *type, *value;
	bool filled, started;
	uint64_t id;
	pthread_mutex_t pids_lock;	/* pub.pids changes under it */
	char error[256];	/* from host->error during a call; under names_lock */
};

/*
 * Guards what a policy thread may read through the host functions while
 * the loop thread changes it: an engine's project name (tp_engine_bind)
 * and the error messages of host->error.
 */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*event_handler)(const struct tp_event *ev);
static uint64_t next_task_id = 1;

static struct tp_engine *tp_engine_of(struct engine *eng)
{
	return (struct tp_engine *)((char *)eng - offsetof(struct tp_engine, pub));
}

static struct tp_task *tp_task_of(struct task *tk)
{
	return (struct tp_task *)((char *)tk - offsetof(struct tp_task, pub));
}

void tp_set_event_handler(void (*handler)(const struct tp_event *ev))
{
	event_handler = handler;
}

uint64_t tp_task_id(const struct tp_task *tk)
{
	return tk->id;
}

const uint64_t *tp_task_id_ptr(const struct tp_task *tk)
{
	return &tk->id;
}

void tp_task_new_id(struct tp_task *tk)
{
	tk->id = next_task_id++;
}

/* ---- etmemd's services to the policy (struct etmemd_host) ---- */

static void deliver_event(void *arg)
{
	struct tp_event *ev = arg;

	if (event_handler)
		event_handler(ev);
	g_free(ev);
}

static void post_event(struct task *tk, enum tp_event_kind kind, const char *fmt, va_list ap)
{
	struct tp_event *ev;

	if (!tk)
		return;
	ev = g_new0(struct tp_event, 1);
	ev->task_id = tp_task_of(tk)->id;
	ev->kind = kind;
	if (fmt)
		vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	loop_post(deliver_event, ev);
}

static void host_log(struct engine *eng, struct task *tk, enum etmemd_log_level level,
		     const char *fmt, ...)
{
	struct tp_engine *tpe = eng ? tp_engine_of(eng) : NULL;
	struct log_ctx ctx = { 0 };
	char msg[1024], project[CFG_NAME_SIZE], site[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&names_lock);
	snprintf(project, sizeof(project), "%s", tpe && tpe->proj_name ? tpe->proj_name : "");
	pthread_mutex_unlock(&names_lock);
	ctx.project = project[0] ? project : NULL;
	ctx.engine = tpe ? tpe->name : NULL;
	ctx.task = tk ? tp_task_of(tk)->name : NULL;
	switch (level) {
	case ETMEMD_LOG_DEBUG:
		log_ctx_msg(LOG_LEVEL_DEBUG, &ctx, "policy: %s", msg);
		break;
	case ETMEMD_LOG_INFO:
		log_ctx_msg(LOG_LEVEL_INFO, &ctx, "policy: %s", msg);
		break;
	case ETMEMD_LOG_ERROR:
		log_ctx_msg(LOG_LEVEL_ERROR, &ctx, "policy: %s", msg);
		break;
	default:
		/* the format names the call site: one a minute per site and task */
		/*
		 * The format's address names the call site: a policy that
		 * formats into a buffer of its own and passes that as the
		 * format still gets one limit per site, and the table of
		 * limits cannot grow with the messages' text.
		 */
		snprintf(site, sizeof(site), "policy %p", (const void *)fmt);
		log_warn_limited(site, &ctx, "policy: %s", msg);
		break;
	}
}

static void host_set_note(struct task *tk, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	post_event(tk, TP_EVENT_NOTE, fmt, ap);
	va_end(ap);
}

static void host_fail(struct task *tk, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	post_event(tk, TP_EVENT_FAIL, fmt, ap);
	va_end(ap);
}

static void host_cycle_done(struct task *tk, const struct etmemd_cycle *cycle)
{
	struct tp_event *ev;

	if (!tk || !cycle)
		return;
	ev = g_new0(struct tp_event, 1);
	ev->task_id = tp_task_of(tk)->id;
	ev->kind = TP_EVENT_CYCLE;
	ev->pages_scanned = cycle->pages_scanned;
	ev->pages_cold = cycle->pages_cold;
	ev->bytes_paged_out = cycle->bytes_paged_out;
	ev->duration_ms = cycle->duration_ms;
	loop_post(deliver_event, ev);
}

static void host_error(struct engine *eng, struct task *tk, const char *fmt, ...)
{
	char *dst;
	va_list ap;

	if (!tk && !eng)
		return;
	pthread_mutex_lock(&names_lock);
	dst = tk ? tp_task_of(tk)->error : tp_engine_of(eng)->error;
	va_start(ap, fmt);
	vsnprintf(dst, sizeof(((struct tp_task *)0)->error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&names_lock);
}

static const struct etmemd_host host = {
	.log = host_log,
	.set_note = host_set_note,
	.fail = host_fail,
	.cycle_done = host_cycle_done,
	.error = host_error,
};

/* Forgets what host->error was given before a callback of @eng (and @tk). */
static void forget_error(struct tp_engine *eng, struct tp_task *tk)
{
	pthread_mutex_lock(&names_lock);
	eng->error[0] = '\0';
	if (tk)
		tk->error[0] = '\0';
	pthread_mutex_unlock(&names_lock);
}

/*
 * Takes the message the callback gave host->error for @tk or, as a callback
 * without a task gives it (fill_eng_params, alloc_pid_params), for @eng;
 * else the errno's text.
 */
static void take_error(struct tp_engine *eng, struct tp_task *tk, int ret, GString *err)
{
	const char *msg;

	pthread_mutex_lock(&names_lock);
	msg = tk && tk->error[0] ? tk->error : eng->error;
	if (msg[0])
		g_string_append(err, msg);
	else
		g_string_append(err, strerror(ret < 0 ? -ret : ret));
	pthread_mutex_unlock(&names_lock);
	forget_error(eng, tk);
}

static int check_library_file(const char *path, GString *err)
{
	struct stat st;
	mode_t mode;

	if (path[0] != '/') {
		g_string_append_printf(err, "libname %s is not an absolute path", path);
		return -EINVAL;
	}
	if (stat(path, &st)) {
		g_string_append_printf(err, "libname %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		g_string_append_printf(err, "libname %s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != 0) {
		g_string_append_printf(err, "libname %s is owned by uid %u, "
				       "it must be owned by root", path,
				       (unsigned int)st.st_uid);
		return -EPERM;
	}
	mode = st.st_mode & 07777;
	if (mode != 0500 && mode != 0700) {
		g_string_append_printf(err, "libname %s has mode %04o, it must be "
				       "0500 or 0700", path, (unsigned int)mode);
		return -EPERM;
	}
	return 0;
}

int tp_engine_load(const char *libname, const char *ops_name,
		   const char *eng_name, struct tp_engine **out, GString *err)
{
	const struct engine_ops *ops;
	struct tp_engine *eng;
	void *dl;
	int ret;

	ret = check_library_file(libname, err);
	if (ret)
		return ret;
	/* RTLD_LOCAL: two policies may export the same symbol names. */
	dl = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		g_string_append_printf(err, "cannot load libname %s: %s", libname,
				       dlerror());
		return -ENOEXEC;
	}
	ops = dlsym(dl, ops_name);
	if (!ops) {
		g_string_append_printf(err, "libname %s has no symbol ops_name=%s",
				       libname, ops_name);
		dlclose(dl);
		return -ENOENT;
	}
	if (!ops->start_task || !ops->stop_task) {
		g_string_append_printf(err, "%s in %s has no %s (mandatory)",
				       ops_name, libname,
				       !ops->start_task ? "start_task" : "stop_task");
		dlclose(dl);
		return -EINVAL;
	}
	eng = calloc(1, sizeof(*eng));
	if (!eng) {
		dlclose(dl);
		return -ENOMEM;
	}
	eng->ops = ops;
	eng->dl = dl;
	eng->name = g_strdup(eng_name);
	eng->pub.name = eng->name;
	eng->pub.proj_name = "";
	eng->pub.host = &host;
	*out = eng;
	return 0;
}

void tp_engine_bind(struct tp_engine *eng, const char *proj_name,
		    unsigned int loop, unsigned int interval, unsigned int sleep)
{
	/*
	 * Called at each task's parse and start while the engine's other
	 * tasks may run: their threads read these fields without a lock, so
	 * they are written only when they change (an engine stays in one
	 * project: in practice, once).
	 */
	if (!eng->proj_name || strcmp(eng->proj_name, proj_name)) {
		pthread_mutex_lock(&names_lock);
		g_free(eng->proj_name);
		eng->proj_name = g_strdup(proj_name);
		eng->pub.proj_name = eng->proj_name;
		pthread_mutex_unlock(&names_lock);
	}
	if (eng->pub.loop != loop)
		eng->pub.loop = loop;
	if (eng->pub.interval != interval)
		eng->pub.interval = interval;
	if (eng->pub.sleep != sleep)
		eng->pub.sleep = sleep;
}

int tp_engine_fill(struct tp_engine *eng, GKeyFile *group, GString *err)
{
	int ret;

	if (!eng->ops->fill_eng_params)
		return 0;
	forget_error(eng, NULL);
	ret = eng->ops->fill_eng_params(group, &eng->pub);
	if (ret) {
		g_string_append_printf(err, "engine %s refused its parameters: ", eng->name);
		take_error(eng, NULL, ret, err);
		return ret < 0 ? ret : -EINVAL;
	}
	eng->filled = true;
	return 0;
}

void tp_engine_free(struct tp_engine *eng)
{
	if (!eng)
		return;
	if (eng->filled && eng->ops->clear_eng_params)
		eng->ops->clear_eng_params(&eng->pub);
	dlclose(eng->dl);
	g_free(eng->name);
	g_free(eng->proj_name);
	free(eng);
}

int tp_task_new(struct tp_engine *eng, const char *name, const char *type,
		const char *value, GKeyFile *group, struct tp_task **out,
		GString *err)
{
	struct tp_task *tk = calloc(1, sizeof(*tk));
	int ret;

	if (!tk)
		return -ENOMEM;
	tk->eng = eng;
	tk->name = g_strdup(name);
	tk->type = g_strdup(type);
	tk->value = g_strdup(value);
	tk->pub.name = tk->name;
	tk->pub.type = tk->type;
	tk->pub.value = tk->value;
	tk->pub.eng = &eng->pub;
	tk->id = next_task_id++;
	pthread_mutex_init(&tk->pids_lock, NULL);
	tk->pub.pids_lock = &tk->pids_lock;
	if (eng->ops->fill_task_params) {
		forget_error(eng, tk);
		ret = eng->ops->fill_task_params(group, &tk->pub);
		if (ret) {
			g_string_append_printf(err, "engine %s refused the parameters "
					       "of task %s: ", eng->name, name);
			take_error(eng, tk, ret, err);
			tp_task_free(tk);
			return ret < 0 ? ret : -EINVAL;
		}
		tk->filled = true;
	}
	*out = tk;
	return 0;
}

static void free_pid(struct tp_task *tk, struct task_pid *tp)
{
	if (tk->eng->ops->free_pid_params)
		tk->eng->ops->free_pid_params(&tk->eng->pub, &tp);
	free(tp);
}

static void free_pids(struct tp_task *tk)
{
	struct task_pid *tp, *next;

	pthread_mutex_lock(&tk->pids_lock);
	tp = tk->pub.pids;
	tk->pub.pids = NULL;
	pthread_mutex_unlock(&tk->pids_lock);
	for (; tp; tp = next) {
		next = tp->next;
		free_pid(tk, tp);
	}
}

/* A list entry for @p with the policy's per-process data; NULL on failure. */
static struct task_pid *new_pid(struct tp_task *tk, const struct tp_proc *p, GString *err)
{
	const struct engine_ops *ops = tk->eng->ops;
	struct task_pid *tp = calloc(1, sizeof(*tp));
	int ret;

	if (!tp) {
		g_string_append_printf(err, "pid %d: %s", (int)p->pid, strerror(ENOMEM));
		return NULL;
	}
	tp->pid = (unsigned int)p->pid;
	tp->start_time = p->start_time;
	if (ops->alloc_pid_params) {
		forget_error(tk->eng, tk);
		ret = ops->alloc_pid_params(&tk->eng->pub, &tp);
		if (ret || !tp) {
			g_string_append_printf(err, "engine %s: alloc_pid_params failed for pid %d: ",
					       tk->eng->name, (int)p->pid);
			take_error(tk->eng, tk, ret ? ret : -EINVAL, err);
			free(tp);
			return NULL;
		}
	}
	return tp;
}

static bool procs_have(const struct tp_proc *procs, size_t n, const struct task_pid *tp)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned int)procs[i].pid == tp->pid && procs[i].start_time == tp->start_time)
			return true;
	return false;
}

static bool pids_have(const struct task_pid *list, const struct tp_proc *p)
{
	for (; list; list = list->next)
		if (list->pid == (unsigned int)p->pid && list->start_time == p->start_time)
			return true;
	return false;
}

size_t tp_task_update_pids(struct tp_task *tk, const struct tp_proc *procs,
			   size_t nr_procs, GString *err)
{
	struct task_pid **link, *tp, *gone = NULL, *added = NULL, **added_tail = &added;
	size_t n = 0;

	if (!tk->started || !tp_task_follows_pids(tk))
		return 0;
	/* New processes first, outside the lock: alloc_pid_params may be slow. */
	for (size_t i = 0; i < nr_procs; i++) {
		if (pids_have(tk->pub.pids, &procs[i]))
			continue;
		tp = new_pid(tk, &procs[i], err);
		if (!tp)
			continue;
		*added_tail = tp;
		added_tail = &tp->next;
	}
	pthread_mutex_lock(&tk->pids_lock);
	for (link = &tk->pub.pids; *link;) {
		tp = *link;
		if (procs_have(procs, nr_procs, tp)) {
			link = &tp->next;
			n++;
			continue;
		}
		*link = tp->next;
		tp->next = gone;
		gone = tp;
	}
	*link = added;
	for (tp = added; tp; tp = tp->next)
		n++;
	pthread_mutex_unlock(&tk->pids_lock);
	while (gone) {
		tp = gone;
		gone = tp->next;
		free_pid(tk, tp);
	}
	return n;
}

void tp_task_free(struct tp_task *tk)
{
	if (!tk)
		return;
	tp_task_stop(tk);
	if (tk->filled && tk->eng->ops->clear_task_params)
		tk->eng->ops->clear_task_params(&tk->pub);
	pthread_mutex_destroy(&tk->pids_lock);
	g_free(tk->name);
	g_free(tk->type);
	g_free(tk->value);
	free(tk);
}

int tp_task_start(struct tp_task *tk, const struct tp_proc *procs, size_t nr_procs,
		  GString *err)
{
	struct task_pid **tail = &tk->pub.pids, *tp;
	int ret;

	if (tk->started)
		return 0;
	for (size_t i = 0; i < nr_procs; i++) {
		tp = new_pid(tk, &procs[i], err);
		if (!tp) {
			free_pids(tk);
			return -EINVAL;
		}
		*tail = tp;
		tail = &tp->next;
	}
	forget_error(tk->eng, tk);
	ret = tk->eng->ops->start_task(&tk->eng->pub, &tk->pub);
	if (ret) {
		g_string_append_printf(err, "engine %s could not start task %s: ",
				       tk->eng->name, tk->name);
		take_error(tk->eng, tk, ret, err);
		free_pids(tk);
		return ret < 0 ? ret : -EINVAL;
	}
	tk->started = true;
	return 0;
}

bool tp_task_follows_pids(const struct tp_task *tk)
{
	return tk->eng->pub.follow_pids != 0;
}

bool tp_task_running(const struct tp_task *tk)
{
	return tk && tk->started;
}

void tp_task_stop(struct tp_task *tk)
{
	if (!tk->started)
		return;
	tk->eng->ops->stop_task(&tk->eng->pub, &tk->pub);
	free_pids(tk);
	tk->started = false;
}

/*
 * The policy writes to a memory file rather than a pipe: it runs on our
 * thread, so a pipe would deadlock once its output passed the pipe size.
 */
int tp_engine_cmd(struct tp_engine *eng, struct tp_task *tk, const char *cmd,
		  GString *reply)
{
	char *cmd_copy, buf[4096];
	ssize_t n;
	int fd, ret;

	if (!eng->ops->eng_mgt_func) {
		g_string_append_printf(reply, "engine %s has no private commands",
				       eng->name);
		return -EOPNOTSUPP;
	}
	fd = memfd_create("etmem-engine-cmd", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	cmd_copy = g_strdup(cmd);
	ret = eng->ops->eng_mgt_func(&eng->pub, tk ? &tk->pub : NULL, cmd_copy, fd);
	g_free(cmd_copy);
	if (lseek(fd, 0, SEEK_SET) == 0)
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			g_string_append_len(reply, buf, n);
	close(fd);
	if (ret && reply->len == 0)
		g_string_append_printf(reply, "engine %s: command %s failed: %s",
				       eng->name, cmd, strerror(ret < 0 ? -ret : ret));
	return ret > 0 ? -ret : ret;
}
