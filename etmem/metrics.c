// SPDX-License-Identifier: GPL-2.0
/*
 * etmem metrics -s NAME [-n PROJECT]: what project show -j says, in the
 * Prometheus text exposition format (for node_exporter's textfile
 * collector or a scrape through a small wrapper).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "etmem_text.h"
#include "commands.h"
#include "etmem_metrics.h"
#include "etmem_proto.h"

void etmem_metrics_usage(FILE *out)
{
	fprintf(out,
		"Usage: etmem metrics [-n|--name PROJECT] -s|--socket NAME\n"
		"  print the projects' task counters in the Prometheus text format\n");
}

int etmem_cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *json = NULL, *text;
	struct etmem_request req = { .cmd = ETMEM_REQ_PROJECT_SHOW, .cmd_text = "metrics",
				     .flags = ETMEM_REQ_F_JSON,
				     .fd = -1, .reply = &json };
	struct etmem_opts st = { .cmd = "metrics" };
	const char *name = NULL;
	GError *error = NULL;
	int c, ret;

	/* "etmem metrics help", as the other commands take it. */
	if (argc == 2 && !strcmp(argv[1], "help")) {
		etmem_metrics_usage(stdout);
		return 0;
	}
	optind = 1;
	while ((c = etmem_getopt(&st, argc, argv, "n:s:h", opts)) != -1) {
		if (c == 'n') {
			name = optarg;
		} else if (c == 's') {
			req.socket = optarg;
		} else if (c == 'h') {
			etmem_metrics_usage(stdout);
			return 0;
		} else {
			etmem_metrics_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		char *safe = etmem_escape(argv[optind]);

		etmem_error(st.cmd, "unexpected argument '%s'", safe);
		g_free(safe);
		return 2;
	}
	if (etmem_check_socket_name(st.cmd, req.socket))
		return 2;
	if (name && etmem_payload_add(&req.payload, &req.len, ETMEM_ARG_PROJECT, name))
		return 1;
	ret = etmem_request_run(&req);
	free(req.payload);
	if (ret)
		return ret;
	text = etmem_metrics_from_show_json(json, &error);
	free(json);
	if (!text) {
		etmem_error(st.cmd, "%s", error->message);
		g_error_free(error);
		return 1;
	}
	fputs(text, stdout);
	g_free(text);
	return 0;
}
