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
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/un.h>
#include <glib.h>
#include <grp.h>
#include <systemd/sd-daemon.h>

#include "etmem_text.h"
#include <unistd.h>

#include "confdir.h"

#include "control.h"
#include "engine.h"
#include "etmem_proto.h"
#include "kernel.h"
#include "log.h"
#include "loop.h"
#include "metrics_file.h"
#include "objects.h"
#include "workers.h"

#define PID_FILE_FMT	"/run/etmemd-%s.pid"	/* etmem_name_to_file(NAME) */
/* The longest file form of a name: "etmemd-FILE.pid" is one file name. */
#define ETMEMD_NAME_FILE_MAX	(NAME_MAX - (int)sizeof("etmemd-.pid") + 1)
#define DRAIN_POLL_MS	20

struct env {
	enum log_level log_level;
	const char *socket;
	const char *group;	/* -g: may send read-only requests */
	bool systemd_mode;
	const char *conf_dir;
	bool conf_dir_given;
	char pid_file[ETMEM_SOCKET_NAME_MAX * 3 + 32];
	const char *metrics_file;
	unsigned int metrics_interval_s;
};

static struct env env = {
	.log_level = LOG_LEVEL_INFO, .conf_dir = CONFDIR_DEFAULT, .metrics_interval_s = 15,
};
static struct loop_timer *drain_timer;
static bool stopping;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: etmemd -s|--socket NAME [-c|--config-dir DIR] [-l|--log-level 0..3]\n"
		"              [-g|--group GROUP] [-m|--mode-systemctl] [-V|--version] [-h|--help]\n"
		"  -s NAME  name of the control socket: the file " ETMEM_RUN_DIR "/FILE (root only),\n"
		"           or with @NAME the abstract socket NAME; " ETMEM_SOCKET_NAME_RULE ";\n"
		"           clients use the same NAME with 'etmem ... -s NAME'. FILE is NAME with\n"
		"           each byte other than A-Z a-z 0-9 _ - and a non-leading . written %%XX,\n"
		"           at most %d bytes (it names the lock and pid files too)\n"
		"  -c DIR   add every DIR/*.conf at start and again on SIGHUP (default\n"
		"           " CONFDIR_DEFAULT "; -c '' loads none)\n"
		"  -l N     least severe level logged: 0 debug, 1 info (default), 2 warning, 3 error\n"
		"  -g GROUP members of GROUP may send read-only requests (project show,\n"
		"           engine commands named show...); everything else stays root only\n"
		"  -m       systemd forking mode: return once the socket accepts requests and\n"
		"           write the daemon's pid to " PID_FILE_FMT "\n"
		"           (without -m, readiness goes to systemd through sd_notify)\n"
		"  --metrics-file PATH  write the Prometheus metrics of 'etmem metrics' to PATH\n"
		"           (atomically) every --metrics-interval seconds (1..3600, default 15)\n"
		"  -V       print the version and exit\n"
		"  -h       print this help\n"
		"etmemd must run as root. SIGTERM and SIGINT stop it; SIGHUP re-reads the\n"
		"configuration directory.\n", ETMEMD_NAME_FILE_MAX, "FILE");
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-level", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		{ "mode-systemctl", no_argument, NULL, 'm' },
		{ "group", required_argument, NULL, 'g' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "metrics-file", required_argument, NULL, 'M' },
		{ "metrics-interval", required_argument, NULL, 'I' },
		{ 0 }
	};
	struct sockaddr_un sa;
	char file[ETMEM_SOCKET_NAME_MAX * 3 + 8];
	int file_len;
	bool seen[128] = { false };
	char *end;
	long level, secs;
	bool interval_given = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:s:c:mg:Vh", opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			char *arg = etmem_escape(argv[optind - 1]);

			fprintf(stderr, "etmemd: %s '%s'%s\n", c == '?' ? "unknown option" : "option",
				arg, c == '?' ? " (see etmemd -h)" : " needs a value");
			g_free(arg);
			return -EINVAL;
		}
		if (seen[c]) {
			const struct option *o;

			for (o = opts; o->name && o->val != c; o++)
				;
			fprintf(stderr, "etmemd: option -%c|--%s given twice (each option may be given once)\n",
				c, o->name);
			return -EINVAL;
		}
		seen[c] = true;
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
		case 'g':
			env.group = optarg;
			break;
		case 'c':
			env.conf_dir = *optarg ? optarg : NULL;
			env.conf_dir_given = true;
			break;
		case 'V':
			printf("etmemd %s\n", ETMEM_VERSION);
			exit(0);
		case 'M':
			if (!*optarg) {
				fprintf(stderr, "etmemd: --metrics-file needs a path\n");
				return -EINVAL;
			}
			env.metrics_file = optarg;
			break;
		case 'I':
			secs = strtol(optarg, &end, 10);
			if (!*optarg || *end || secs < 1 || secs > 3600) {
				char *safe = etmem_escape(optarg);

				fprintf(stderr, "etmemd: metrics interval '%s' is not a number of seconds in 1..3600\n",
					safe);
				g_free(safe);
				return -EINVAL;
			}
			env.metrics_interval_s = secs;
			interval_given = true;
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
		char *safe = etmem_escape(argv[optind]);

		fprintf(stderr, "etmemd: unexpected argument '%s'\n", safe);
		g_free(safe);
		return -EINVAL;
	}
	if (interval_given && !env.metrics_file) {
		fprintf(stderr, "etmemd: --metrics-interval sets how often --metrics-file is written; give --metrics-file PATH too\n");
		return -EINVAL;
	}
	if (env.conf_dir && env.conf_dir_given && !g_file_test(env.conf_dir, G_FILE_TEST_IS_DIR)) {
		fprintf(stderr, "etmemd: configuration directory '%s' is not a directory\n",
			env.conf_dir);
		return -EINVAL;
	}
	if (!env.socket || !*env.socket) {
		fprintf(stderr, "etmemd: -s|--socket NAME is required\n");
		return -EINVAL;
	}
	if (etmem_proto_sockaddr(env.socket, &sa) < 0) {
		fprintf(stderr, "etmemd: socket name of %zu bytes is too long; allowed: %s\n",
			strlen(env.socket), ETMEM_SOCKET_NAME_RULE);
		return -EINVAL;
	}
	/*
	 * The lock and pid files carry the name's file form: an abstract
	 * name fits sun_path but its escaped form may not fit a file name.
	 */
	file_len = etmem_name_to_file(env.socket, file, sizeof(file));
	if (file_len < 0 || file_len > ETMEMD_NAME_FILE_MAX) {
		fprintf(stderr, "etmemd: socket name of %zu bytes takes %d as the file name of its lock and pid files (each byte other than A-Z a-z 0-9 _ - and a non-leading . counting 3); allowed: at most %d\n",
			strlen(env.socket), file_len, ETMEMD_NAME_FILE_MAX);
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

/* SIGHUP: bring the objects in line with the configuration directory. */
static void reload(void)
{
	struct confdir_stats st;

	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading %s", env.conf_dir ? env.conf_dir : "");
	log_info("SIGHUP: reloading the configuration directory");
	confdir_load(&st);
	sd_notifyf(0, "READY=1\nSTATUS=reloaded: %u added, %u changed, %u removed, %u failed",
		   st.added, st.changed, st.removed, st.failed);
}

/*
 * SIGTERM/SIGINT: stop accepting, stop projects, let page-outs finish.
 * SIGHUP: reload.
 */
static void on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si) || stopping)
		return;
	if (si.ssi_signo == SIGHUP) {
		reload();
		return;
	}
	stopping = true;
	sd_notify(0, "STOPPING=1");
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
	sigaddset(&set, SIGHUP);
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
	char name[ETMEM_SOCKET_NAME_MAX * 3 + 8];
	FILE *f;

	/* One to one: two names never share a pid file (we hold the name's lock). */
	if (etmem_name_to_file(env.socket, name, sizeof(name)) < 0)
		return -ENAMETOOLONG;
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

static void report_ready(int ready_fd, int err, const char *what, const char *why)
{
	char msg[512];
	int devnull;

	if (ready_fd < 0)
		return;
	if (err) {
		snprintf(msg, sizeof(msg), "%s: %s", what, why ? why : strerror(-err));
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
	struct confdir_stats st;
	int ready_fd = -1;
	GString *why;
	int ret;

	etmem_proto_check_layout();
	if (parse_args(argc, argv))
		return 2;
	if (env.group) {
		struct group *gr = getgrnam(env.group);
		char *safe = etmem_escape(env.group);

		if (!gr) {
			fprintf(stderr, "etmemd: -g %s: no such group\n", safe);
			g_free(safe);
			return 2;
		}
		control_allow_group(gr->gr_gid, safe);
		g_free(safe);
	}
	if (geteuid() != 0) {
		fprintf(stderr, "etmemd: must run as root (effective uid is %u): it controls other users' processes through the etmem kernel modules and serves root's requests\n",
			(unsigned int)geteuid());
		return 1;
	}
	if (env.systemd_mode && fork_for_systemd(&ready_fd))
		return 1;
	/* Under systemd, stderr and syslog both end in the journal: log once. */
	log_init("etmemd", env.log_level, !getenv("NOTIFY_SOCKET"));
	ret = loop_init();
	if (!ret)
		ret = setup_signals();
	if (ret) {
		log_err("event loop: %s", strerror(-ret));
		report_ready(ready_fd, ret, "event loop", NULL);
		return 1;
	}
	why = g_string_new(NULL);
	ret = control_open(env.socket, why);
	if (ret) {
		if (!why->len)
			g_string_printf(why, "%s%s", strerror(-ret),
					ret == -EADDRINUSE ? " (another etmemd uses this name)" : "");
		log_err("cannot listen on socket '%s': %s", env.socket, why->str);
		report_ready(ready_fd, ret, "cannot listen on the socket", why->str);
		control_close();
		control_unlock();
		return 1;
	}
	g_string_free(why, TRUE);
	if (env.systemd_mode) {
		ret = write_pid_file();
		if (ret) {
			log_err("pid file %s: %s", env.pid_file, strerror(-ret));
			report_ready(ready_fd, ret, env.pid_file, NULL);
			control_close();
			control_unlock();
			return 1;
		}
	}
	if (env.metrics_file) {
		why = g_string_new(NULL);
		ret = metrics_file_start(env.metrics_file, env.metrics_interval_s, why);
		if (ret) {
			/* Nothing stays behind: no socket, lock or pid file. */
			log_err("cannot write the metrics file %s: %s", env.metrics_file, why->str);
			metrics_file_stop();
			if (env.systemd_mode)
				unlink(env.pid_file);
			control_close();
			control_unlock();
			/* Only now: the parent's exit may start the next etmemd. */
			g_string_prepend(why, ": ");
			g_string_prepend(why, env.metrics_file);
			report_ready(ready_fd, ret, "cannot write the metrics file", why->str);
			return 1;
		}
		g_string_free(why, TRUE);
	}
	log_info("etmemd %s listening on socket '%s' (protocol version %d)",
		 ETMEM_VERSION, env.socket, ETMEM_PROTO_VERSION);
	project_kswap_recover();
	damon_stat_recover();
	if (env.conf_dir) {
		confdir_init(env.conf_dir);
		confdir_load(&st);
	}
	report_ready(ready_fd, 0, NULL, NULL);
	sd_notifyf(0, "READY=1\nSTATUS=listening on '%s'", env.socket);
	ret = loop_run();
	metrics_file_stop();
	objects_free_all();
	confdir_free();
	kernel_close();
	control_close();
	loop_timer_free(drain_timer);
	loop_finalise();
	if (env.systemd_mode)
		unlink(env.pid_file);
	control_unlock();
	log_info("exiting");
	return ret ? 1 : 0;
}
