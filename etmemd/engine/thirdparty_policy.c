// SPDX-License-Identifier: GPL-2.0
/* Loading and calling third-party policies: see thirdparty_policy.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etmem/etmemd_engine.h"
#include "thirdparty_policy.h"

struct tp_engine {
	struct engine pub;
	const struct engine_ops *ops;
	void *dl;
	char *name, *proj_name;
	bool filled;
};

struct tp_task {
	struct task pub;
	struct tp_engine *eng;
	char *name, *type, *value;
	bool filled, started;
};

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
	*out = eng;
	return 0;
}

void tp_engine_bind(struct tp_engine *eng, const char *proj_name,
		    unsigned int loop, unsigned int interval, unsigned int sleep)
{
	g_free(eng->proj_name);
	eng->proj_name = g_strdup(proj_name);
	eng->pub.proj_name = eng->proj_name;
	eng->pub.loop = loop;
	eng->pub.interval = interval;
	eng->pub.sleep = sleep;
}

int tp_engine_fill(struct tp_engine *eng, GKeyFile *group, GString *err)
{
	int ret;

	if (!eng->ops->fill_eng_params)
		return 0;
	ret = eng->ops->fill_eng_params(group, &eng->pub);
	if (ret) {
		g_string_append_printf(err, "engine %s refused its parameters: %s",
				       eng->name, strerror(ret < 0 ? -ret : ret));
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
	if (eng->ops->fill_task_params) {
		ret = eng->ops->fill_task_params(group, &tk->pub);
		if (ret) {
			g_string_append_printf(err, "engine %s refused the parameters "
					       "of task %s: %s", eng->name, name,
					       strerror(ret < 0 ? -ret : ret));
			tp_task_free(tk);
			return ret < 0 ? ret : -EINVAL;
		}
		tk->filled = true;
	}
	*out = tk;
	return 0;
}

static void free_pids(struct tp_task *tk)
{
	struct task_pid *tp, *next;

	for (tp = tk->pub.pids; tp; tp = next) {
		next = tp->next;
		if (tk->eng->ops->free_pid_params)
			tk->eng->ops->free_pid_params(&tk->eng->pub, &tp);
		free(tp);
	}
	tk->pub.pids = NULL;
}

void tp_task_free(struct tp_task *tk)
{
	if (!tk)
		return;
	tp_task_stop(tk);
	if (tk->filled && tk->eng->ops->clear_task_params)
		tk->eng->ops->clear_task_params(&tk->pub);
	g_free(tk->name);
	g_free(tk->type);
	g_free(tk->value);
	free(tk);
}

int tp_task_start(struct tp_task *tk, const pid_t *pids, size_t nr_pids,
		  GString *err)
{
	const struct engine_ops *ops = tk->eng->ops;
	struct task_pid **tail = &tk->pub.pids;
	size_t i;
	int ret;

	if (tk->started)
		return 0;
	for (i = 0; i < nr_pids; i++) {
		struct task_pid *tp = calloc(1, sizeof(*tp));

		if (!tp) {
			free_pids(tk);
			return -ENOMEM;
		}
		tp->pid = (unsigned int)pids[i];
		*tail = tp;
		tail = &tp->next;
		if (ops->alloc_pid_params) {
			ret = ops->alloc_pid_params(&tk->eng->pub, &tp);
			if (ret) {
				g_string_append_printf(err, "engine %s: alloc_pid_params "
						       "failed for pid %d: %s",
						       tk->eng->name, (int)pids[i],
						       strerror(ret < 0 ? -ret : ret));
				free_pids(tk);
				return ret < 0 ? ret : -EINVAL;
			}
		}
	}
	ret = ops->start_task(&tk->eng->pub, &tk->pub);
	if (ret) {
		g_string_append_printf(err, "engine %s could not start task %s: %s",
				       tk->eng->name, tk->name,
				       strerror(ret < 0 ? -ret : ret));
		free_pids(tk);
		return ret < 0 ? ret : -EINVAL;
	}
	tk->started = true;
	return 0;
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
