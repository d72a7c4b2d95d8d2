// SPDX-License-Identifier: GPL-2.0
/* etmem project start|stop|show [-n NAME] -s NAME [-j] [-w SECONDS] */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "etmem_proto.h"
#include "etmem_text.h"

void etmem_project_usage(FILE *out)
{
	fprintf(out,
		"Usage: etmem project start|stop -n|--name NAME -s|--socket NAME\n"
		"       etmem project show [-n|--name NAME] -s|--socket NAME [-j|--json]\n"
		"                          [-w|--watch SECONDS]\n"
		"       etmem project help\n"
		"  show without -n lists every project; -j prints JSON; --watch shows again\n"
		"  every SECONDS (1..3600) in place until interrupted\n");
}

static volatile sig_atomic_t watch_stop;

static void on_watch_signal(int sig)
{
	watch_stop = 1;
}

/* show again every @secs seconds; on a terminal in place. */
static int watch_show(struct etmem_request *req, unsigned int secs)
{
	struct sigaction sa = { .sa_handler = on_watch_signal };
	bool tty = isatty(STDOUT_FILENO);
	int ret = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!watch_stop) {
		char *text = NULL, when[32];
		time_t now = time(NULL);
		struct tm tm;

		req->reply = &text;
		ret = etmem_request_run(req);
		if (ret)
			return ret;
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (tty)
			printf("\033[H\033[2J");
		if (!(req->flags & ETMEM_REQ_F_JSON))
			printf("every %us, %s\n", secs, when);
		fputs(text, stdout);
		fflush(stdout);
		free(text);
		/* sleep() ends early on a signal, which is what we want. */
		sleep(secs);
	}
	return 0;
}

int etmem_cmd_project(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ 0 }
	};
	struct etmem_request req = { .fd = -1 };
	struct etmem_opts st = { 0 };
	const char *name = NULL;
	long watch = 0;
	char *end;
	int c, ret;

	if (argc < 1 || !strcmp(argv[0], "help")) {
		etmem_project_usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (!strcmp(argv[0], "start"))
		req.cmd = ETMEM_REQ_PROJECT_START;
	else if (!strcmp(argv[0], "stop"))
		req.cmd = ETMEM_REQ_PROJECT_STOP;
	else if (!strcmp(argv[0], "show"))
		req.cmd = ETMEM_REQ_PROJECT_SHOW;
	else {
		char *safe = etmem_escape(argv[0]);

		fprintf(stderr, "etmem project: unknown command '%s' (start, stop, show or help)\n",
			safe);
		g_free(safe);
		return 2;
	}
	st.cmd = etmem_req_name(req.cmd);
	optind = 1;
	while ((c = etmem_getopt(&st, argc, argv, "n:s:jw:", opts)) != -1) {
		if (c == 'n') {
			name = optarg;
		} else if (c == 's') {
			req.socket = optarg;
		} else if (c == 'j' && req.cmd == ETMEM_REQ_PROJECT_SHOW) {
			req.flags |= ETMEM_REQ_F_JSON;
		} else if (c == 'j') {
			etmem_error(st.cmd, "-j|--json applies to project show only");
			return 2;
		} else if (c == 'w' && req.cmd == ETMEM_REQ_PROJECT_SHOW) {
			watch = strtol(optarg, &end, 10);
			if (!*optarg || *end || watch < 1 || watch > 3600) {
				char *safe = etmem_escape(optarg);

				etmem_error(st.cmd, "-w|--watch '%s' is not a number of seconds in 1..3600",
					    safe);
				g_free(safe);
				return 2;
			}
		} else if (c == 'w') {
			etmem_error(st.cmd, "-w|--watch applies to project show only");
			return 2;
		} else {
			return 2;
		}
	}
	if (optind < argc) {
		char *safe = etmem_escape(argv[optind]);

		etmem_error(st.cmd, "unexpected argument '%s'", safe);
		g_free(safe);
		return 2;
	}
	if (!name && req.cmd != ETMEM_REQ_PROJECT_SHOW) {
		etmem_error(st.cmd, "needs -n|--name NAME");
		return 2;
	}
	if (etmem_check_socket_name(st.cmd, req.socket))
		return 2;
	if (name && etmem_payload_add(&req.payload, &req.len, ETMEM_ARG_PROJECT, name))
		return 1;
	ret = watch ? watch_show(&req, watch) : etmem_request_run(&req);
	free(req.payload);
	return ret;
}
