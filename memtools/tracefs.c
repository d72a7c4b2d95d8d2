// SPDX-License-Identifier: GPL-2.0
/* Private tracefs instances and trace_pipe line parsing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tracefs.h"

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* tracefs is often mounted at one of two places; mount it if neither. */
static int tracefs_root(const char **root)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/instances", roots[i]);
		if (access(path, F_OK))
			continue;
		*root = roots[i];
		return access(path, W_OK) ? -EACCES : 0;
	}
	*root = roots[0];
	if (geteuid())
		return -EACCES;
	return mount("nodev", roots[0], "tracefs", 0, NULL) ? -errno : 0;
}

int tracefs_open(struct tracefs_inst *t, const char *tool)
{
	const char *root;
	char size[32];
	int err = tracefs_root(&root);

	t->pipe_fd = -1;
	t->len = 0;
	t->stats_warned = false;
	snprintf(t->dir, sizeof(t->dir), "%s", root);
	if (err)
		return err;
	snprintf(t->dir, sizeof(t->dir), "%s/instances/memtools-%s-%d", root,
		 tool, (int)getpid());
	if (mkdir(t->dir, 0700) && errno != EEXIST)
		return -errno;
	/*
	 * A reclaim storm on a small machine writes events faster than one
	 * reader drains them: a new instance's default ring (about 1.4 MiB
	 * a CPU) overflows and events are lost. The default 8 MiB a CPU
	 * holds seconds of a storm (-b sets it); what is lost anyway is
	 * counted by tracefs_lost_events().
	 */
	snprintf(size, sizeof(size), "%lu", mt_env.buffer_kb);
	err = write_file(t->dir, "buffer_size_kb", size);
	if (err)
		fprintf(stderr, "%s: tracefs kept its own ring buffer size (%s/buffer_size_kb: %s)\n",
			tool, t->dir, strerror(-err));
	return 0;
}

/* Adds the loss counters of one per_cpu/cpuN/stats file to @lost. */
static int add_cpu_lost(const char *path, unsigned long long *lost)
{
	static const char *const keys[] = {
		"overrun:", "commit overrun:", "dropped events:",
	};
	char buf[1024], *line;
	size_t i;
	int n = mt_read_text(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				*lost += strtoull(line + strlen(keys[i]), NULL, 10);
	return 0;
}

int tracefs_lost_events(struct tracefs_inst *t, unsigned long long *lost)
{
	char path[sizeof(t->dir) + 300];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	*lost = 0;
	snprintf(path, sizeof(path), "%s/per_cpu", t->dir);
	dir = opendir(path);
	if (!dir) {
		err = -errno;
		if (!t->stats_warned)
			fprintf(stderr, "cannot read %s: lost events are not counted: %s\n",
				path, strerror(-err));
		t->stats_warned = true;
		return err;
	}
	while (!err && (de = readdir(dir))) {
		if (strncmp(de->d_name, "cpu", 3))
			continue;
		snprintf(path, sizeof(path), "%s/per_cpu/%s/stats", t->dir, de->d_name);
		err = add_cpu_lost(path, lost);
	}
	closedir(dir);
	if (err && !t->stats_warned) {
		fprintf(stderr, "cannot read %s: lost events are not counted: %s\n",
			path, strerror(-err));
		t->stats_warned = true;
	}
	return err;
}

int tracefs_enable(struct tracefs_inst *t, const char *event, const char *filter)
{
	char name[256];
	int err;

	if (filter) {
		snprintf(name, sizeof(name), "events/%s/filter", event);
		err = write_file(t->dir, name, filter);
		if (err)
			return err;
	}
	snprintf(name, sizeof(name), "events/%s/enable", event);
	return write_file(t->dir, name, "1");
}

/* "  comm-123  [001] d..1.  45.678901: event: args" */
static bool parse_line(char *line, struct trace_line *out)
{
	char *bracket = strstr(line, " [");
	char *dash, *p, *colon;

	if (!bracket)
		return false;
	*bracket = '\0';
	dash = strrchr(line, '-');
	if (!dash)
		return false;
	*dash = '\0';
	out->pid = atoi(dash + 1);
	for (p = line; *p == ' '; p++)
		;
	out->comm = p;
	p = strchr(bracket + 1, ']');
	if (!p)
		return false;
	/* The timestamp is the first token ending in ':' after the CPU. */
	for (p++; *p; p++) {
		while (*p == ' ')
			p++;
		colon = strchr(p, ' ');
		if (colon && colon[-1] == ':') {
			out->ts = strtod(p, NULL);
			p = colon + 1;
			break;
		}
		if (!colon)
			return false;
		p = colon;
	}
	colon = strstr(p, ": ");
	if (!colon)
		return false;
	*colon = '\0';
	out->event = p;
	out->args = colon + 2;
	return true;
}

static int open_pipe(struct tracefs_inst *t)
{
	char path[512];

	if (t->pipe_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/trace_pipe", t->dir);
	t->pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return t->pipe_fd < 0 ? -errno : 0;
}

/* One read of trace_pipe: bytes read, 0 when it is empty, or -errno. */
static ssize_t read_lines(struct tracefs_inst *t, trace_line_fn fn, void *ctx)
{
	struct trace_line tl;
	char *start, *nl;
	ssize_t n;

	n = read(t->pipe_fd, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
	if (n <= 0)
		return n < 0 && errno != EAGAIN && errno != EINTR ? -errno : 0;
	t->len += n;
	t->buf[t->len] = '\0';
	for (start = t->buf; (nl = strchr(start, '\n')); start = nl + 1) {
		*nl = '\0';
		if (parse_line(start, &tl))
			fn(&tl, ctx);
	}
	t->len = strlen(start);
	memmove(t->buf, start, t->len);
	if (t->len == sizeof(t->buf) - 1)
		t->len = 0;	/* a line longer than the buffer: drop it */
	return n;
}

int tracefs_poll(struct tracefs_inst *t, int timeout_ms, trace_line_fn fn, void *ctx)
{
	struct pollfd pfd;
	ssize_t n;
	int err = open_pipe(t);

	if (err)
		return err;
	pfd.fd = t->pipe_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	n = read_lines(t, fn, ctx);
	return n < 0 ? (int)n : 0;
}

int tracefs_drain(struct tracefs_inst *t, trace_line_fn fn, void *ctx)
{
	/* Bounded by what the ring can hold, in case writers keep going. */
	unsigned long long left = (unsigned long long)mt_env.buffer_kb * 1024 *
				  (sysconf(_SC_NPROCESSORS_CONF) + 1);
	ssize_t n;
	int err = open_pipe(t);

	if (err)
		return err;
	while ((n = read_lines(t, fn, ctx)) > 0 && (unsigned long long)n < left)
		left -= n;
	return n < 0 ? (int)n : 0;
}

void tracefs_close(struct tracefs_inst *t)
{
	if (t->pipe_fd >= 0)
		close(t->pipe_fd);
	t->pipe_fd = -1;
	/* After a failed open, dir names the tracefs root: leave it alone. */
	if (!strstr(t->dir, "/instances/"))
		return;
	write_file(t->dir, "events/enable", "0");
	rmdir(t->dir);
	t->dir[0] = '\0';
}

static const char *find_key(const char *args, const char *key)
{
	size_t klen = strlen(key);
	const char *p = args;

	while ((p = strstr(p, key))) {
		if ((p == args || p[-1] == ' ') && p[klen] == '=')
			return p + klen + 1;
		p += klen;
	}
	return NULL;
}

bool trace_arg_u64(const char *args, const char *key, unsigned long long *val)
{
	const char *v = find_key(args, key);

	if (!v)
		return false;
	*val = strtoull(v, NULL, 0);
	return true;
}

unsigned long long trace_arg(const char *args, const char *key)
{
	unsigned long long v = 0;

	trace_arg_u64(args, key, &v);
	return v;
}

bool trace_arg_str(const char *args, const char *key, char *val, size_t len)
{
	const char *v = find_key(args, key);
	size_t n;

	if (!v)
		return false;
	n = strcspn(v, " ");
	if (n >= len)
		n = len - 1;
	memcpy(val, v, n);
	val[n] = '\0';
	return true;
}

bool trace_line_wanted(const struct trace_line *l)
{
	/* Recent thread -> wanted answers; busy events repeat threads. */
	static struct { int tid; bool wanted; } cache[64];
	char path[64], buf[1024], *p;
	unsigned int slot = (unsigned int)l->pid % 64;
	bool wanted;

	if (!mt_comm_matches(l->comm))
		return false;
	if (!mt_env.pid)
		return true;
	if (cache[slot].tid == l->pid)
		return cache[slot].wanted;
	/* Trace lines carry the thread id; the filter names a process. */
	snprintf(path, sizeof(path), "/proc/%d/status", l->pid);
	wanted = mt_read_text(path, buf, sizeof(buf)) > 0 && (p = strstr(buf, "Tgid:")) &&
		 atoi(p + 5) == mt_env.pid;
	cache[slot].tid = l->pid;
	cache[slot].wanted = wanted;
	return wanted;
}
