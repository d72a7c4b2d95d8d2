// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "etmem_proto.h"

#define REPLY_TIMEOUT_S	60

int etmem_check_socket_name(const char *name)
{
	if (!name || !*name) {
		fprintf(stderr, "etmem: -s|--socket NAME is required (the name given to etmemd -s)\n");
		return -EINVAL;
	}
	if (strlen(name) > ETMEM_SOCKET_NAME_MAX) {
		fprintf(stderr, "etmem: socket name is %zu characters; at most %d allowed\n",
			strlen(name), ETMEM_SOCKET_NAME_MAX);
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

static void print_text(FILE *out, const char *text, uint32_t len, const char *prefix)
{
	if (!len)
		return;
	fprintf(out, "%s", prefix);
	fwrite(text, 1, len, out);
	if (text[len - 1] != '\n')
		fputc('\n', out);
}

int etmem_request_run(struct etmem_request *req)
{
	int sock = connect_daemon(req->socket);
	int status = 0, ret;
	char *text = NULL;
	uint32_t len = 0;

	if (sock < 0) {
		fprintf(stderr, "etmem: cannot reach etmemd on socket '%s': %s%s\n", req->socket,
			strerror(-sock), sock == -ECONNREFUSED ?
			" (no etmemd is listening under that name; start it with etmemd -s NAME)" : "");
		return 1;
	}
	ret = send_request(sock, req);
	/* The daemon may answer and close before reading all of a request. */
	if (!ret || ret == -EPIPE || ret == -ECONNRESET)
		ret = read_reply(sock, &status, &text, &len);
	close(sock);
	if (ret) {
		fprintf(stderr, "etmem: %s on socket '%s' failed: %s\n", etmem_cmd_name(req->cmd),
			req->socket, ret == -EPROTO ? "the daemon speaks another protocol version" :
			ret == -EAGAIN ? "no reply in time" : strerror(-ret));
		return 1;
	}
	if (status) {
		print_text(stderr, text, len, "etmem: ");
		if (!len)
			fprintf(stderr, "etmem: %s failed: %s\n", etmem_cmd_name(req->cmd),
				strerror(-status));
	} else if (req->reply) {
		*req->reply = text;
		text = NULL;
	} else {
		print_text(stdout, text, len, "");
	}
	free(text);
	return status ? 1 : 0;
}
