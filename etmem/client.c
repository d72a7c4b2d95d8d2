// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "etmem_proto.h"
#include "etmem_text.h"

#define REPLY_TIMEOUT_S	60

void etmem_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "etmem %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int etmem_check_socket_name(const char *cmd, const char *name)
{
	struct sockaddr_un sa;

	if (!name || !*name) {
		etmem_error(cmd, "-s|--socket NAME is required (the name given to etmemd -s)");
		return -EINVAL;
	}
	if (etmem_proto_sockaddr(name, &sa) < 0) {
		etmem_error(cmd, "socket name of %zu bytes is too long; allowed: %s", strlen(name),
			    ETMEM_SOCKET_NAME_RULE);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int connect_daemon(const char *name)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	struct sockaddr_un sa;
	int len = etmem_proto_sockaddr(name, &sa);
	int fd;

	if (len < 0)
		return len;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The header goes with the descriptor (if any) in one sendmsg(). */
static int send_request(int sock, const struct etmem_request *req)
{
	struct etmem_req_hdr hdr = {
		.magic = ETMEM_PROTO_MAGIC,
		.version = ETMEM_PROTO_VERSION,
		.cmd = req->cmd,
		.flags = req->flags,
		.len = req->len,
	};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (req->fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &req->fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(hdr)) {
		int ret = etmem_write_all(sock, (char *)&hdr + n, sizeof(hdr) - n);

		if (ret)
			return ret;
	}
	return req->len ? etmem_write_all(sock, req->payload, req->len) : 0;
}

static int read_reply(int sock, int *status, char **text, uint32_t *len)
{
	struct etmem_reply_hdr hdr;
	int ret = etmem_read_all(sock, &hdr, sizeof(hdr));

	if (ret)
		return ret;
	if (hdr.magic != ETMEM_PROTO_MAGIC || hdr.version != ETMEM_PROTO_VERSION ||
	    hdr.len > ETMEM_PAYLOAD_MAX)
		return -EPROTO;
	*text = malloc(hdr.len + 1);
	if (!*text)
		return -ENOMEM;
	ret = etmem_read_all(sock, *text, hdr.len);
	if (ret) {
		free(*text);
		return ret;
	}
	(*text)[hdr.len] = '\0';
	*status = hdr.status;
	*len = hdr.len;
	return 0;
}

/*
 * On a terminal the reply is printed escaped: no byte of it reaches the
 * terminal unchecked (a policy's text could carry escape sequences). Into a
 * pipe or a file it goes byte for byte, as the length-framed protocol
 * carried it, so a script sees exactly what the engine wrote.
 */
static void print_text(FILE *out, const char *text, uint32_t len, const char *prefix)
{
	GString *safe;

	if (!len)
		return;
	safe = g_string_new(prefix);
	if (isatty(fileno(out)))
		etmem_escape_append(safe, text, len, true);
	else
		g_string_append_len(safe, text, len);
	if (safe->str[safe->len - 1] != '\n')
		g_string_append_c(safe, '\n');
	fwrite(safe->str, 1, safe->len, out);
	g_string_free(safe, TRUE);
}

/*
 * Whoever listens under the name must be root (etmemd runs as root): any
 * user can bind an abstract name first, and the request may carry a
 * root-owned file's descriptor. Checked before a single byte is sent.
 */
static int check_peer(int sock, const char *cmd, const char *name)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char *safe_name;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0)
		return 0;
	safe_name = etmem_escape(name);
	if (len == sizeof(cred))
		etmem_error(cmd, "refusing to talk to socket '%s': it is served by uid %u (pid %d), not by root; etmemd runs as root, so another user holds that name; nothing was sent",
			    safe_name, (unsigned int)cred.uid, (int)cred.pid);
	else
		etmem_error(cmd, "refusing to talk to socket '%s': its owner cannot be verified (%s); nothing was sent",
			    safe_name, strerror(errno));
	g_free(safe_name);
	return -EPERM;
}

int etmem_request_run(struct etmem_request *req)
{
	const char *cmd = req->cmd_text ? req->cmd_text : etmem_req_name(req->cmd);
	int sock = connect_daemon(req->socket);
	char prefix[128];
	int status = 0, ret;
	char *text = NULL;
	uint32_t len = 0;

	if (sock < 0) {
		char *safe_name = etmem_escape(req->socket);
		struct sockaddr_un sa;

		etmem_proto_sockaddr(req->socket, &sa);
		etmem_error(cmd, "cannot reach etmemd on socket '%s'%s%s%s: %s%s", safe_name,
			    sa.sun_path[0] ? " (" : "", sa.sun_path[0] ? sa.sun_path : "",
			    sa.sun_path[0] ? ")" : "", strerror(-sock),
			    sock == -ECONNREFUSED || sock == -ENOENT ?
			    " (no etmemd is listening under that name; start it with etmemd -s NAME)" :
			    sock == -EACCES ? " (only root may reach etmemd's socket)" : "");
		g_free(safe_name);
		return 1;
	}
	if (check_peer(sock, cmd, req->socket)) {
		close(sock);
		return 1;
	}
	ret = send_request(sock, req);
	/* The daemon may answer and close before reading all of a request. */
	if (!ret || ret == -EPIPE || ret == -ECONNRESET)
		ret = read_reply(sock, &status, &text, &len);
	close(sock);
	if (ret) {
		char *safe_name = etmem_escape(req->socket);

		etmem_error(cmd, "request on socket '%s' failed: %s", safe_name,
			    ret == -EPROTO ? "the daemon speaks another protocol version" :
			    ret == -EAGAIN ? "no reply in time" : strerror(-ret));
		g_free(safe_name);
		return 1;
	}
	if (status) {
		snprintf(prefix, sizeof(prefix), "etmem %s: ", cmd);
		print_text(stderr, text, len, prefix);
		if (!len)
			etmem_error(cmd, "failed: %s", strerror(-status));
	} else if (req->reply) {
		*req->reply = text;
		text = NULL;
	} else {
		print_text(stdout, text, len, "");
	}
	free(text);
	return status ? 1 : 0;
}

int etmem_getopt(struct etmem_opts *st, int argc, char **argv, const char *shortopts,
		 const struct option *longopts)
{
	char optstring[64];
	const struct option *o;
	int c;

	snprintf(optstring, sizeof(optstring), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, optstring, longopts, NULL);
	if (c == -1)
		return -1;
	if (c == '?') {
		char *arg = etmem_escape(argv[optind - 1]);

		if (optopt)
			etmem_error(st->cmd, "unknown option '-%c' (see etmem help)", optopt);
		else
			etmem_error(st->cmd, "unknown option '%s' (see etmem help)", arg);
		g_free(arg);
		return -2;
	}
	if (c == ':') {
		char *arg = etmem_escape(argv[optind - 1]);

		etmem_error(st->cmd, "option '%s' needs a value", arg);
		g_free(arg);
		return -2;
	}
	if ((unsigned int)c < sizeof(st->seen) && st->seen[c]) {
		for (o = longopts; o->name && o->val != c; o++)
			;
		etmem_error(st->cmd, "option -%c%s%s given twice (each option may be given once)", c,
			    o->name ? "|--" : "", o->name ? o->name : "");
		return -2;
	}
	if ((unsigned int)c < sizeof(st->seen))
		st->seen[c] = true;
	return c;
}
