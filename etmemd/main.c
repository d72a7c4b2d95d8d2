// SPDX-License-Identifier: GPL-2.0
/*
 * etmemd: the etmem daemon. Parses options, optionally forks for systemd
 * (-m), opens the control socket, runs the event loop until SIGTERM or
 * SIGINT, then stops every project and waits for page-outs in flight.
 *
 * Out-of-memory policy: the daemon uses glib allocators, which abort on
 * failure; a daemon that cannot allocate a few hundred bytes cannot do
 * its job either, and an abort is easier to diagnose than a half-applied
 * request.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control.h"
#include "etmem_proto.h"
#include "kernel.h"
#include "log.h"
#include "loop.h"
#include "objects.h"
#include "workers.h"

#define PID_FILE_FMT	"/run/etmemd-%s.pid"
#define DRAIN_POLL_MS	20

struct env {
	enum log_level log_level;
	const char *socket;
	bool systemd_mode;
	char pid_file[256];
};

static struct env env = { .log_level = LOG_LEVEL_INFO };
static struct loop_timer *drain_timer;
static bool stopping;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: etmemd -s|--socket NAME [-l|--log-level 0..3] [-m|--mode-systemctl] [-h|--help]\n"
		"  -s NAME  name of the control socket (abstract Unix socket, 1..%d characters);\n"
		"           clients use the same NAME with 'etmem ... -s NAME'\n"
		"  -l N     least severe level logged: 0 debug, 1 info (default), 2 warning, 3 error\n"
		"  -m       systemd forking mode: return once the socket accepts requests and\n"
		"           write the daemon's pid to " PID_FILE_FMT "\n"
		"  -h       print this help\n", ETMEM_SOCKET_NAME_MAX, "NAME");
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-level", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		{ "mode-systemctl", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *end;
	long level;
	int c;

	while ((c = getopt_long(argc, argv, "l:s:mh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			level = strtol(optarg, &end, 10);
			if (!*optarg || *end || level < LOG_LEVEL_DEBUG || level > LOG_LEVEL_ERROR) {
				fprintf(stderr, "etmemd: log level '%s' is not one of 0, 1, 2, 3\n", optarg);
				return -EINVAL;
			}
			env.log_level = level;
			break;
		case 's':
			env.socket = optarg;
			break;
		case 'm':
			env.systemd_mode = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "etmemd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!env.socket || !*env.socket) {
		fprintf(stderr, "etmemd: -s|--socket NAME is required\n");
		return -EINVAL;
	}
	if (strlen(env.socket) > ETMEM_SOCKET_NAME_MAX) {
		fprintf(stderr, "etmemd: socket name is %zu characters; at most %d allowed\n",
			strlen(env.socket), ETMEM_SOCKET_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

static void drain_check(void *arg)
{
	if (workers_inflight_total() == 0)
		loop_quit();
	else
		loop_timer_arm(drain_timer, DRAIN_POLL_MS);
}

/* SIGTERM/SIGINT: stop accepting, stop projects, let page-outs finish. */
static void on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si) || stopping)
		return;
	stopping = true;
	log_info("signal %u: stopping all projects", si.ssi_signo);
	control_close();
	objects_stop_all();
	drain_check(NULL);
}

static int setup_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	drain_timer = loop_timer_new(drain_check, NULL);
	return loop_watch_fd(fd, EPOLLIN, on_signal, NULL) && drain_timer ? 0 : -errno;
}

static int write_pid_file(void)
{
	char name[ETMEM_SOCKET_NAME_MAX + 1];
	FILE *f;

	/* A socket name may hold '/', a file name may not. */
	snprintf(name, sizeof(name), "%s", env.socket);
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '_';
	snprintf(env.pid_file, sizeof(env.pid_file), PID_FILE_FMT, name);
	f = fopen(env.pid_file, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) ? -errno : 0;
}

/*
 * -m: the parent waits on a pipe until the child listens (one zero byte)
 * or failed (an error text), and exits accordingly.
 */
static int fork_for_systemd(int *ready_fd)
{
	int pipefd[2];
	char buf[512];
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(pipefd[0]);
		setsid();
		*ready_fd = pipefd[1];
		return 0;
	}
	close(pipefd[1]);
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	if (n == 1 && buf[0] == '\0')
		exit(0);
	buf[n > 0 ? n : 0] = '\0';
	fprintf(stderr, "etmemd: %s\n", n > 0 ? buf : "daemon exited before it was ready");
	exit(1);
}

static void report_ready(int ready_fd, int err, const char *what)
{
	char msg[256];
	int devnull;

	if (ready_fd < 0)
		return;
	if (err) {
		snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-err));
		if (write(ready_fd, msg, strlen(msg)) < 0)
			return;
		return;
	}
	if (write(ready_fd, "", 1) < 0)
		log_warn("cannot tell the parent we are ready: %s", strerror(errno));
	close(ready_fd);
	/* Detached: syslog only from now on. */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		close(devnull);
	}
	log_set_stderr(false);
}

int main(int argc, char **argv)
{
	int ready_fd = -1;
	int ret;

	etmem_proto_check_layout();
	if (parse_args(argc, argv))
		return 2;
	if (env.systemd_mode && fork_for_systemd(&ready_fd))
		return 1;
	log_init("etmemd", env.log_level, true);
	ret = loop_init();
	if (!ret)
		ret = setup_signals();
	if (ret) {
		log_err("event loop: %s", strerror(-ret));
		report_ready(ready_fd, ret, "event loop");
		return 1;
	}
	ret = control_open(env.socket);
	if (ret) {
		log_err("cannot listen on socket '%s': %s%s", env.socket, strerror(-ret),
			ret == -EADDRINUSE ? " (another etmemd uses this name)" : "");
		report_ready(ready_fd, ret, "cannot listen on the socket");
		return 1;
	}
	if (env.systemd_mode) {
		ret = write_pid_file();
		if (ret) {
			log_err("pid file %s: %s", env.pid_file, strerror(-ret));
			report_ready(ready_fd, ret, env.pid_file);
			return 1;
		}
	}
	log_info("listening on abstract socket '%s' (protocol version %d)", env.socket,
		 ETMEM_PROTO_VERSION);
	project_kswap_recover();
	report_ready(ready_fd, 0, NULL);
	ret = loop_run();
	objects_free_all();
	kernel_close();
	control_close();
	loop_timer_free(drain_timer);
	loop_finalise();
	if (env.systemd_mode)
		unlink(env.pid_file);
	log_info("exiting");
	return ret ? 1 : 0;
}
