// SPDX-License-Identifier: GPL-2.0
/* etmem engine CMD -n PROJECT -e ENGINE [-t TASK] -s NAME */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "etmem_proto.h"
#include "etmem_text.h"

void etmem_engine_usage(FILE *out)
{
	fprintf(out,
		"Usage: etmem engine CMD -n|--proj_name PROJECT -e|--engine ENGINE [-t|--task_name TASK] -s|--socket NAME\n"
		"       etmem engine help\n"
		"  sends the engine's private command CMD (e.g. cslide's showtaskpages, showhostpages)\n");
}

int etmem_cmd_engine(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "proj_name", required_argument, NULL, 'n' },
		{ "engine", required_argument, NULL, 'e' },
		{ "task_name", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		{ 0 }
	};
	struct etmem_request req = { .cmd = ETMEM_REQ_ENGINE, .fd = -1 };
	const char *proj = NULL, *eng = NULL, *task = NULL;
	struct etmem_opts st = { .cmd = "engine" };
	int c, ret = 1;

	if (argc < 1 || !strcmp(argv[0], "help")) {
		etmem_engine_usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	optind = 1;
	while ((c = etmem_getopt(&st, argc, argv, "n:e:t:s:", opts)) != -1) {
		if (c == 'n')
			proj = optarg;
		else if (c == 'e')
			eng = optarg;
		else if (c == 't')
			task = optarg;
		else if (c == 's')
			req.socket = optarg;
		else
			return 2;
	}
	if (optind < argc) {
		char *safe = etmem_escape(argv[optind]);

		etmem_error(st.cmd, "unexpected argument '%s'", safe);
		g_free(safe);
		return 2;
	}
	if (!proj || !eng) {
		etmem_error(st.cmd, "needs -n|--proj_name PROJECT and -e|--engine ENGINE");
		return 2;
	}
	if (etmem_check_socket_name(st.cmd, req.socket))
		return 2;
	if (etmem_payload_add(&req.payload, &req.len, ETMEM_ARG_ENGINE_CMD, argv[0]) ||
	    etmem_payload_add(&req.payload, &req.len, ETMEM_ARG_PROJECT, proj) ||
	    etmem_payload_add(&req.payload, &req.len, ETMEM_ARG_ENGINE, eng) ||
	    (task && etmem_payload_add(&req.payload, &req.len, ETMEM_ARG_TASK, task)))
		goto out;
	ret = etmem_request_run(&req);
out:
	free(req.payload);
	return ret;
}
