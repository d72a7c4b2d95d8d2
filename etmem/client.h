/* SPDX-License-Identifier: GPL-2.0 */
/* One request to etmemd and its reply (protocol: lib/etmem_proto.h). */
#ifndef ETMEM_CLIENT_H
#define ETMEM_CLIENT_H

#include <stdint.h>

struct etmem_request {
	const char *socket;	/* -s NAME */
	uint16_t cmd;		/* enum etmem_cmd */
	uint32_t flags;		/* ETMEM_REQ_F_* */
	char *payload;		/* etmem_payload_add() */
	uint32_t len;
	int fd;			/* passed to the daemon when >= 0 */
	char **reply;		/* when set: a successful reply goes here (free()),
				 * not to stdout */
};

/*
 * Sends the request, prints the reply (stdout on success, stderr on
 * failure) and returns the process exit code.
 */
int etmem_request_run(struct etmem_request *req);

/* Checks -s NAME: 0, or -errno after printing the reason. */
int etmem_check_socket_name(const char *name);

#endif /* ETMEM_CLIENT_H */
