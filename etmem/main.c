// SPDX-License-Identifier: GPL-2.0
/*
 * etmem: the client of etmemd. One file per subcommand group; this one
 * only dispatches and prints the overall help.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "etmem_proto.h"
#include "monitor.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: etmem COMMAND ...\n"
		"  etmem obj add|del -f FILE -s SOCKET        add or delete projects, engines, tasks\n"
		"  etmem project start|stop -n NAME -s SOCKET start or stop a project\n"
		"  etmem project show [-n NAME] -s SOCKET [-j] show projects and what their tasks did\n"
		"  etmem engine CMD -n PROJECT -e ENGINE [-t TASK] -s SOCKET  engine private command\n"
		"  etmem monitor ...                          swapcache watermark events as JSON lines\n"
		"  etmem kswap show [-j] | on | off           the kernel swap switch (vm.swappiness)\n"
		"  etmem help | obj help | project help | engine help | kswap help\n"
		"SOCKET is the name given to etmemd -s: the socket " ETMEM_RUN_DIR "/SOCKET, or with\n"
		"@NAME the abstract socket NAME. etmem talks only to a socket served by root.\n"
		"Each option may be given once; errors name the command and exit non-zero\n"
		"(2 for a bad command line, 1 when the request fails). Run as root.\n");
}

int main(int argc, char **argv)
{
	etmem_proto_check_layout();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "obj"))
		return etmem_cmd_obj(argc - 2, argv + 2);
	if (!strcmp(argv[1], "project"))
		return etmem_cmd_project(argc - 2, argv + 2);
	if (!strcmp(argv[1], "engine"))
		return etmem_cmd_engine(argc - 2, argv + 2);
	if (!strcmp(argv[1], "kswap"))
		return etmem_cmd_kswap(argc - 2, argv + 2);
	if (!strcmp(argv[1], "monitor"))
		return etmem_cmd_monitor(argc - 1, argv + 1);
	fprintf(stderr, "etmem: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
