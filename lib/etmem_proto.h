/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control protocol between etmemd and the etmem client.
 *
 * Transport: a SOCK_STREAM Unix socket named by the -s NAME given to both
 * programs (etmem_proto_sockaddr()):
 *   NAME   the file ETMEM_RUN_DIR/FILE, FILE = etmem_name_to_file(NAME);
 *          ETMEM_RUN_DIR is a directory only root may enter (0700), so no
 *          other user can bind or reach the socket;
 *   @NAME  the abstract socket NAME (sun_path[0] == '\0', then NAME, at
 *          most ETMEM_SOCKET_NAME_MAX bytes); any local user may bind an
 *          abstract name first.
 * Either way each side checks the other's SO_PEERCRED: the daemon serves
 * uid 0 (and read-only requests of its -g group), and the client talks
 * only to a peer of uid 0, before it sends anything.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETMEM_PROTO_MAGIC	0x65746d64u	/* "etmd" */
#define ETMEM_PROTO_VERSION	1
#define ETMEM_SOCKET_NAME_MAX	107		/* sizeof(sun_path) - 1 */
#define ETMEM_RUN_DIR		"/run/etmem"	/* sockets and their locks */
#define ETMEM_PAYLOAD_MAX	(16u << 20)	/* bytes, either direction */

enum etmem_req {
	ETMEM_REQ_OBJ_ADD = 1,
	ETMEM_REQ_OBJ_DEL,
	ETMEM_REQ_PROJECT_START,
	ETMEM_REQ_PROJECT_STOP,
	ETMEM_REQ_PROJECT_SHOW,
	ETMEM_REQ_ENGINE,		/* engine private command */

	/* add new commands above here, then bump ETMEM_PROTO_VERSION */
	__ETMEM_REQ_CNT
};

/*
 * Names: requests ETMEM_REQ_*, their flags ETMEM_REQ_F_*, the reply
 * header struct etmem_reply_hdr whose status is ETMEM_STT_OK or a
 * negative errno. (The kernel family's commands are ETMEM_CMD_*.)
 */
#define ETMEM_STT_OK		0

/* Request flags. */
#define ETMEM_REQ_F_JSON	0x1u	/* show: reply in JSON */

/* Argument keys in the request payload. */
#define ETMEM_ARG_PROJECT	"project"	/* -n */
#define ETMEM_ARG_ENGINE	"engine"	/* -e */
#define ETMEM_ARG_TASK		"task"		/* -t */
#define ETMEM_ARG_ENGINE_CMD	"cmd"		/* engine CMD */
#define ETMEM_ARG_FILE		"file"		/* path as the user typed it */

struct etmem_req_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t cmd;		/* enum etmem_req */
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

/* Who may send a request (etmemd -g GROUP names the group). */
enum etmem_perm {
	ETMEM_PERM_ROOT,	/* changes state: root only */
	ETMEM_PERM_GROUP,	/* read-only: root and members of the group */
	ETMEM_PERM_GROUP_SHOW,	/* engine commands: read-only ones ("show...") as GROUP */
};

/* One row per request: the table both sides check requests against. */
struct etmem_req_info {
	const char *name;		/* "obj add", for messages */
	uint32_t flags;			/* ETMEM_REQ_F_* it accepts */
	const char *const *args;	/* argument keys it accepts, NULL-terminated */
	unsigned int required;		/* bit i: args[i] must be given */
	bool takes_fd;			/* the configuration file's descriptor */
	enum etmem_perm perm;
};

/* Characters of a project, engine, task or engine command name. */
#define ETMEM_ARG_NAME_MAX	64

/* Aborts when the command table is incomplete (sizes are checked at build). */
void etmem_proto_check_layout(void);

const char *etmem_req_name(unsigned int cmd);

/* The row of a request, NULL for an unknown one. */
const struct etmem_req_info *etmem_req_info(unsigned int cmd);

/*
 * The decoder: checks a header before its payload is read (magic,
 * version, a known request, the flags it accepts, the length limit),
 * then a whole request (payload entries "key=value", each key one the
 * request accepts and given once, required keys present, names valid,
 * a descriptor exactly when the request takes one). 0, or -EPROTO /
 * -EINVAL with the reason in why (which never repeats a long value).
 */
struct _GString;
int etmem_req_check_header(const struct etmem_req_hdr *hdr, struct _GString *why);
int etmem_req_check(const struct etmem_msg *msg, struct _GString *why);

/* Whether a client of uid, in the daemon's group or not, may send msg. */
bool etmem_req_allowed(const struct etmem_msg *msg, unsigned int uid, bool in_group);

/*
 * Fill sa for -s NAME (see the top of this file); returns the address
 * length, -EINVAL for an empty name or -ENAMETOOLONG. For a filesystem
 * socket the path is sa->sun_path.
 */
struct sockaddr_un;
int etmem_proto_sockaddr(const char *name, struct sockaddr_un *sa);

/* What -s NAME may be, for error messages. */
#define ETMEM_SOCKET_NAME_RULE \
	"1 to 96 bytes, each byte other than A-Z a-z 0-9 _ - and a non-leading . counting 3, " \
	"or @NAME for an abstract socket of 1 to 107 bytes"

/*
 * The file-name form of a socket name, one to one: bytes other than
 * A-Z a-z 0-9 _ - and a non-leading '.' become %XX, so "a/b", "a_b" and
 * "a%2Fb" stay three names. Writes it NUL-terminated to out; returns its
 * length or -ENAMETOOLONG when it does not fit in size bytes.
 */
int etmem_name_to_file(const char *name, char *out, size_t size);

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
