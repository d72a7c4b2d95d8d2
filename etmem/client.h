/* SPDX-License-Identifier: GPL-2.0 */
/* One request to etmemd and its reply (protocol: lib/etmem_proto.h). */
#ifndef ETMEM_CLIENT_H
#define ETMEM_CLIENT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

struct etmem_request {
	const char *socket;	/* -s NAME */
	const char *cmd_text;	/* "obj add", ... for messages; NULL: the protocol's name */
	uint16_t cmd;		/* enum etmem_req */
	uint32_t flags;		/* ETMEM_REQ_F_* */
	char *payload;		/* etmem_payload_add() */
	uint32_t len;
	int fd;			/* passed to the daemon when >= 0 */
};

/*
 * Sends the request, prints the reply (stdout on success, stderr on
 * failure) and returns the process exit code.
 */
int etmem_request_run(struct etmem_request *req);

/* Checks -s NAME: 0, or -errno after printing the reason. */
int etmem_check_socket_name(const char *cmd, const char *name);

/* Prints "etmem CMD: " and the message on stderr, e.g. CMD "project show". */
void etmem_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Option parsing shared by the subcommands. */
struct etmem_opts {
	const char *cmd;	/* "obj add", for messages */
	bool seen[128];
};

/*
 * getopt_long() whose errors name the full command: returns the option,
 * -1 at the end, or -2 after printing why (unknown option, missing value,
 * an option given twice). Set optind = 1 before the first call.
 */
int etmem_getopt(struct etmem_opts *st, int argc, char **argv, const char *shortopts,
		 const struct option *longopts);

#endif /* ETMEM_CLIENT_H */
