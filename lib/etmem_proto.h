/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control protocol between etmemd and the etmem client.
 *
 * Transport: a SOCK_STREAM Unix socket in the abstract namespace whose
 * name is exactly the -s NAME given to both programs (sun_path[0] == '\0',
 * then NAME, at most ETMEM_SOCKET_NAME_MAX bytes, no trailing NUL). The
 * abstract namespace leaves no file behind and lets daemons with
 * different names coexist. The daemon only talks to peers whose
 * SO_PEERCRED uid is 0.
 *
 * One connection carries one request and one reply. Each is a fixed
 * header followed by hdr.len bytes of payload:
 *   request payload: NUL-terminated "key=value" strings (ETMEM_ARG_*);
 *     "obj add/del" also passes the opened configuration file as an
 *     SCM_RIGHTS file descriptor with the first byte of the header, so
 *     the daemon checks owner, mode and size of what the client opened
 *     (relative paths therefore resolve against the client's cwd);
 *   reply payload: text (or JSON when ETMEM_REQ_F_JSON) to print; when
 *     status is not 0 the text is the reason, printed on stderr.
 * Payloads are length-framed, so no byte value is reserved.
 *
 * Bump ETMEM_PROTO_VERSION whenever the header layout, a command number,
 * an argument key or the meaning of a field changes; both sides refuse a
 * peer with another version. etmem_proto_check_layout() pins the layout
 * and runs at start-up in both programs.
 */
#ifndef ETMEM_PROTO_H
#define ETMEM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define ETMEM_PROTO_MAGIC	0x65746d64u	/* "etmd" */
#define ETMEM_PROTO_VERSION	1
#define ETMEM_SOCKET_NAME_MAX	107		/* sizeof(sun_path) - 1 */
#define ETMEM_PAYLOAD_MAX	(16u << 20)	/* bytes, either direction */

enum etmem_cmd {
	ETMEM_CMD_OBJ_ADD = 1,
	ETMEM_CMD_OBJ_DEL,
	ETMEM_CMD_PROJECT_START,
	ETMEM_CMD_PROJECT_STOP,
	ETMEM_CMD_PROJECT_SHOW,
	ETMEM_CMD_ENGINE,		/* engine private command */

	/* add new commands above here, then bump ETMEM_PROTO_VERSION */
	__ETMEM_CMD_CNT
};

/* Request flags. */
#define ETMEM_REQ_F_JSON	0x1u	/* show, engine commands: reply in JSON */

/* Argument keys in the request payload. */
#define ETMEM_ARG_PROJECT	"project"	/* -n */
#define ETMEM_ARG_ENGINE	"engine"	/* -e */
#define ETMEM_ARG_TASK		"task"		/* -t */
#define ETMEM_ARG_ENGINE_CMD	"cmd"		/* engine CMD */
#define ETMEM_ARG_FILE		"file"		/* path as the user typed it */

struct etmem_req_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t cmd;		/* enum etmem_cmd */
	uint32_t flags;		/* ETMEM_REQ_F_* */
	uint32_t len;		/* payload bytes that follow */
};

struct etmem_reply_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;	/* 0 */
	int32_t status;		/* 0 or a negative errno */
	uint32_t len;		/* payload bytes that follow */
};

/* A parsed request: header, raw payload, optional passed descriptor. */
struct etmem_msg {
	struct etmem_req_hdr hdr;
	char *payload;		/* hdr.len bytes, NUL-terminated one past */
	int fd;			/* -1 when none was passed */
};

/* Aborts when the command table is incomplete (sizes are checked at build). */
void etmem_proto_check_layout(void);

const char *etmem_cmd_name(unsigned int cmd);

/* Fill sa for NAME; returns the address length or -ENAMETOOLONG/-EINVAL. */
struct sockaddr_un;
int etmem_proto_sockaddr(const char *name, struct sockaddr_un *sa);

/* Look up "key=" in a request payload; NULL when absent. */
const char *etmem_msg_arg(const struct etmem_msg *msg, const char *key);

/*
 * Append "key=value\0" to a growing payload buffer; returns 0 or -ENOMEM
 * (or -E2BIG past ETMEM_PAYLOAD_MAX).
 */
int etmem_payload_add(char **buf, uint32_t *len, const char *key,
		      const char *value);

/* Blocking, EINTR-safe full writes and reads; 0 or -errno (-EPIPE on EOF). */
int etmem_write_all(int fd, const void *buf, size_t len);
int etmem_read_all(int fd, void *buf, size_t len);

#endif /* ETMEM_PROTO_H */
