// SPDX-License-Identifier: GPL-2.0
/* etmem project start|stop|show [-n NAME] -s NAME [-j] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "etmem_proto.h"
#include "etmem_text.h"

void etmem_project_usage(FILE *out)
{
	fprintf(out,
		"Usage: etmem project start|stop -n|--name NAME -s|--socket NAME\n"
		"       etmem project show [-n|--name NAME] -s|--socket NAME [-j|--json]\n"
		"       etmem project help\n"
		"  show without -n lists every project; -j prints JSON\n");
}

int etmem_cmd_project(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct etmem_request req = { .fd = -1 };
	struct etmem_opts st = { 0 };
	const char *name = NULL;
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
	while ((c = etmem_getopt(&st, argc, argv, "n:s:j", opts)) != -1) {
		if (c == 'n') {
			name = optarg;
		} else if (c == 's') {
			req.socket = optarg;
		} else if (c == 'j' && req.cmd == ETMEM_REQ_PROJECT_SHOW) {
			req.flags |= ETMEM_REQ_F_JSON;
		} else if (c == 'j') {
			etmem_error(st.cmd, "-j|--json applies to project show only");
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
	ret = etmem_request_run(&req);
	free(req.payload);
	return ret;
}
