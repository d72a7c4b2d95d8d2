// SPDX-License-Identifier: GPL-2.0
/* etmem obj add|del -f FILE -s NAME; etmem obj check -f FILE */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "config.h"
#include "etmem_proto.h"
#include "etmem_text.h"
#include "log.h"
#include "objects.h"

void etmem_obj_usage(FILE *out)
{
	fprintf(out,
		"Usage: etmem obj add|del -f|--file FILE -s|--socket NAME\n"
		"       etmem obj check -f|--file FILE\n"
		"       etmem obj help\n"
		"  add    add the projects, engines and tasks of FILE (in that order)\n"
		"  del    delete them (tasks, engines, then projects; running ones are stopped)\n"
		"  check  check FILE as 'obj add' would on a daemon without projects,\n"
		"         without a daemon; same messages, nothing changes\n"
		"  FILE must be a regular file owned by root, mode 0600 or 0400, at most 10 MiB;\n"
		"       a relative path is taken from the current directory\n");
}

/* The daemon sees what we opened: it checks owner, mode and size itself. */
static int open_config(const char *cmd, const char *path, char **abs_path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char *cwd;

	if (fd < 0) {
		char *safe = etmem_escape(path);

		etmem_error(cmd, "cannot open configuration file '%s': %s", safe, strerror(errno));
		g_free(safe);
		return -1;
	}
	if (path[0] == '/' || !(cwd = getcwd(NULL, 0))) {
		*abs_path = strdup(path);
	} else {
		*abs_path = malloc(strlen(cwd) + strlen(path) + 2);
		if (*abs_path)
			sprintf(*abs_path, "%s/%s", cwd, path);
		free(cwd);
	}
	if (!*abs_path) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * obj check: the daemon's own checks (file owner, mode and size, then the
 * parser and every engine's keys) run here, against an empty daemon.
 */
static int obj_check(const char *cmd, int fd, const char *path)
{
	GString *text = g_string_new(NULL), *reply = g_string_new(NULL);
	int ret;

	log_init("etmem", LOG_LEVEL_WARN, true);
	ret = cfg_read_fd(fd, path, text, reply);
	if (!ret)
		ret = objects_check(path, text->str, text->len, reply);
	if (ret) {
		char *safe = etmem_escape(reply->str);

		etmem_error(cmd, "%s", safe);
		g_free(safe);
	} else {
		fputs(reply->str, stdout);
	}
	g_string_free(text, TRUE);
	g_string_free(reply, TRUE);
	return ret ? 1 : 0;
}

int etmem_cmd_obj(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ 0 }
	};
	struct etmem_request req = { .fd = -1 };
	struct etmem_opts st = { 0 };
	const char *file = NULL;
	char *abs_path = NULL;
	int c, ret;

	if (argc < 1 || !strcmp(argv[0], "help")) {
		etmem_obj_usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (!strcmp(argv[0], "add"))
		req.cmd = ETMEM_REQ_OBJ_ADD;
	else if (!strcmp(argv[0], "del"))
		req.cmd = ETMEM_REQ_OBJ_DEL;
	else if (strcmp(argv[0], "check")) {
		char *safe = etmem_escape(argv[0]);

		fprintf(stderr, "etmem obj: unknown command '%s' (add, del, check or help)\n", safe);
		g_free(safe);
		return 2;
	}
	st.cmd = strcmp(argv[0], "check") ? etmem_req_name(req.cmd) : "obj check";
	optind = 1;
	while ((c = etmem_getopt(&st, argc, argv, "f:s:", opts)) != -1) {
		if (c == 'f')
			file = optarg;
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
	if (!file) {
		etmem_error(st.cmd, "needs -f|--file FILE");
		return 2;
	}
	if (!strcmp(argv[0], "check")) {
		if (req.socket) {
			etmem_error(st.cmd, "runs without a daemon; drop -s");
			return 2;
		}
		req.fd = open_config(st.cmd, file, &abs_path);
		if (req.fd < 0)
			return 1;
		ret = obj_check(st.cmd, req.fd, abs_path);
		goto out;
	}
	if (etmem_check_socket_name(st.cmd, req.socket))
		return 2;
	req.fd = open_config(st.cmd, file, &abs_path);
	if (req.fd < 0)
		return 1;
	if (etmem_payload_add(&req.payload, &req.len, ETMEM_ARG_FILE, abs_path)) {
		ret = 1;
		goto out;
	}
	ret = etmem_request_run(&req);
out:
	close(req.fd);
	free(abs_path);
	free(req.payload);
	return ret;
}
