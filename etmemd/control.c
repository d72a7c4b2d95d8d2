// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "etmem_proto.h"
#include "log.h"
#include "loop.h"
#include "objects.h"

struct conn {
	int fd;
	struct loop_watch *watch;
	uid_t uid;
	struct etmem_msg msg;
	size_t got;		/* bytes of header + payload received */
	GString *out;		/* reply header + payload */
	size_t sent;
	gint64 accepted_us;	/* monotonic */
};

/* A client that has not sent its whole request by then is dropped. */
#define CONN_TIMEOUT_US		(30 * G_USEC_PER_SEC)
#define CONN_SWEEP_MS		5000

static GList *conns;		/* struct conn *, open connections */
static struct loop_timer *sweep_timer;

static int listen_fd = -1;
static struct loop_watch *listen_watch;

static void conn_free(struct conn *conn)
{
	conns = g_list_remove(conns, conn);
	loop_unwatch(conn->watch);
	close(conn->fd);
	if (conn->msg.fd >= 0)
		close(conn->msg.fd);
	g_free(conn->msg.payload);
	if (conn->out)
		g_string_free(conn->out, TRUE);
	g_free(conn);
}

/* Reads the configuration file the client opened and passed to us. */
static int read_config_fd(const struct etmem_msg *msg, const char *path,
			  GString *text, GString *reply)
{
	struct stat st;
	mode_t mode;
	char buf[65536];
	ssize_t n;
	off_t off = 0;

	if (msg->fd < 0) {
		g_string_printf(reply, "%s: no file descriptor came with the request", path);
		return -EINVAL;
	}
	if (fstat(msg->fd, &st))
		return -errno;
	mode = st.st_mode & 07777;
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		g_string_printf(reply, "%s: is %s, not a regular file", path,
				S_ISDIR(st.st_mode) ? "a directory" : "a special file");
		return -EINVAL;
	}
	if (st.st_uid != 0) {
		g_string_printf(reply, "%s: owned by uid %u; configuration files must be owned by root",
				path, (unsigned int)st.st_uid);
		return -EPERM;
	}
	if (mode != 0600 && mode != 0400) {
		g_string_printf(reply, "%s: has mode %04o; configuration files must have mode 0600 or 0400",
				path, (unsigned int)mode);
		return -EPERM;
	}
	if (st.st_size > (off_t)CFG_FILE_SIZE_MAX) {
		g_string_printf(reply, "%s: is %lld bytes; configuration files may be at most %u bytes (10 MiB)",
				path, (long long)st.st_size, CFG_FILE_SIZE_MAX);
		return -EFBIG;
	}
	while ((n = pread(msg->fd, buf, sizeof(buf), off)) > 0) {
		off += n;
		if (off > (off_t)CFG_FILE_SIZE_MAX) {
			g_string_printf(reply, "%s: grew past 10 MiB while being read", path);
			return -EFBIG;
		}
		g_string_append_len(text, buf, n);
	}
	return n < 0 ? -errno : 0;
}

static int handle_obj(const struct etmem_msg *msg, GString *reply)
{
	const char *path = etmem_msg_arg(msg, ETMEM_ARG_FILE);
	GString *text = g_string_new(NULL);
	int ret;

	if (!path)
		path = "(unnamed file)";
	ret = read_config_fd(msg, path, text, reply);
	if (!ret && msg->hdr.cmd == ETMEM_CMD_OBJ_ADD)
		ret = objects_add(path, text->str, text->len, reply);
	else if (!ret)
		ret = objects_del(path, text->str, text->len, reply);
	g_string_free(text, TRUE);
	return ret;
}

static int dispatch(struct conn *conn, GString *reply)
{
	const struct etmem_msg *msg = &conn->msg;
	const char *proj = etmem_msg_arg(msg, ETMEM_ARG_PROJECT);

	if (conn->uid != 0) {
		g_string_printf(reply, "permission denied: etmemd serves root only (client uid %u)",
				(unsigned int)conn->uid);
		return -EACCES;
	}
	switch (msg->hdr.cmd) {
	case ETMEM_CMD_OBJ_ADD:
	case ETMEM_CMD_OBJ_DEL:
		return handle_obj(msg, reply);
	case ETMEM_CMD_PROJECT_START:
		return project_start(proj, reply);
	case ETMEM_CMD_PROJECT_STOP:
		return project_stop(proj, reply);
	case ETMEM_CMD_PROJECT_SHOW:
		return project_show(proj, msg->hdr.flags & ETMEM_REQ_F_JSON, reply);
	case ETMEM_CMD_ENGINE:
		return engine_command(proj, etmem_msg_arg(msg, ETMEM_ARG_ENGINE),
				      etmem_msg_arg(msg, ETMEM_ARG_TASK),
				      etmem_msg_arg(msg, ETMEM_ARG_ENGINE_CMD),
				      msg->hdr.flags & ETMEM_REQ_F_JSON, reply);
	default:
		g_string_printf(reply, "unknown request %u", msg->hdr.cmd);
		return -EOPNOTSUPP;
	}
}

static void conn_queue_reply(struct conn *conn, int status, const GString *text)
{
	struct etmem_reply_hdr hdr = {
		.magic = ETMEM_PROTO_MAGIC,
		.version = ETMEM_PROTO_VERSION,
		.status = status,
		.len = text->len,
	};

	conn->out = g_string_new_len((const char *)&hdr, sizeof(hdr));
	g_string_append_len(conn->out, text->str, text->len);
	loop_watch_modify(conn->watch, EPOLLOUT);
}

static void conn_reply(struct conn *conn)
{
	GString *reply = g_string_new(NULL);
	int status = dispatch(conn, reply);

	log_debug("request '%s' from uid %u: %s", etmem_cmd_name(conn->msg.hdr.cmd),
		  (unsigned int)conn->uid, status ? reply->str : "ok");
	if (status)
		log_info("request '%s' refused: %s", etmem_cmd_name(conn->msg.hdr.cmd), reply->str);
	conn_queue_reply(conn, status, reply);
	g_string_free(reply, TRUE);
}

/* A header we cannot serve gets an error reply right away. */
static bool header_ok(struct conn *conn)
{
	const struct etmem_req_hdr *hdr = &conn->msg.hdr;
	GString *why = g_string_new(NULL);

	if (hdr->magic != ETMEM_PROTO_MAGIC)
		g_string_assign(why, "not an etmem request (bad magic)");
	else if (hdr->version != ETMEM_PROTO_VERSION)
		g_string_printf(why, "protocol version %u not supported; etmemd speaks version %u (use the etmem client of the same build)",
				hdr->version, ETMEM_PROTO_VERSION);
	else if (hdr->len > ETMEM_PAYLOAD_MAX)
		g_string_printf(why, "request of %u bytes is too large", hdr->len);
	if (why->len)
		conn_queue_reply(conn, -EPROTO, why);
	g_string_free(why, TRUE);
	return !conn->out;
}

static ssize_t conn_recv(struct conn *conn, void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	ssize_t n = recvmsg(conn->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;

			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
			if (conn->msg.fd >= 0)
				close(fd);	/* only one descriptor per request */
			else
				conn->msg.fd = fd;
		}
	}
	return n;
}

static void conn_read(struct conn *conn)
{
	size_t hsize = sizeof(conn->msg.hdr);
	ssize_t n;

	if (conn->got < hsize) {
		n = conn_recv(conn, (char *)&conn->msg.hdr + conn->got, hsize - conn->got);
		if (n <= 0)
			goto closed;
		conn->got += n;
		if (conn->got < hsize || !header_ok(conn))
			return;
		conn->msg.payload = g_malloc(conn->msg.hdr.len + 1);
		conn->msg.payload[conn->msg.hdr.len] = '\0';
	}
	if (conn->got < hsize + conn->msg.hdr.len) {
		n = conn_recv(conn, conn->msg.payload + conn->got - hsize,
			      hsize + conn->msg.hdr.len - conn->got);
		if (n <= 0)
			goto closed;
		conn->got += n;
	}
	if (conn->got == hsize + conn->msg.hdr.len)
		conn_reply(conn);
	return;

closed:
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	conn_free(conn);
}

static void conn_write(struct conn *conn)
{
	ssize_t n = send(conn->fd, conn->out->str + conn->sent, conn->out->len - conn->sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		conn->sent += n;
	if (n <= 0 || conn->sent == conn->out->len)
		conn_free(conn);
}

static void conn_event(int fd, uint32_t events, void *arg)
{
	struct conn *conn = arg;

	if (conn->out)
		conn_write(conn);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(conn);
}

static void refuse_non_root(struct conn *conn)
{
	GString *why = g_string_new(NULL);

	g_string_printf(why, "permission denied: etmemd serves root only (client uid %u)",
			(unsigned int)conn->uid);
	log_info("refused a client with uid %u", (unsigned int)conn->uid);
	conn_queue_reply(conn, -EACCES, why);
	g_string_free(why, TRUE);
}

static void accept_clients(int fd, uint32_t events, void *arg)
{
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct conn *conn;

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		conn = g_new0(struct conn, 1);
		conn->fd = cfd;
		conn->msg.fd = -1;
		/* Unknown credentials count as not root. */
		conn->uid = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ? (uid_t)-1 : cred.uid;
		conn->watch = loop_watch_fd(cfd, EPOLLIN, conn_event, conn);
		if (!conn->watch) {
			close(cfd);
			g_free(conn);
			continue;
		}
		conn->accepted_us = g_get_monotonic_time();
		conns = g_list_prepend(conns, conn);
		/* Refuse others before reading (and allocating for) anything. */
		if (conn->uid != 0)
			refuse_non_root(conn);
	}
}

/* Idle or stuck clients must not pin descriptors and memory forever. */
static void sweep_conns(void *arg)
{
	gint64 now = g_get_monotonic_time();
	GList *l = conns;

	while (l) {
		struct conn *conn = l->data;

		l = l->next;
		if (now - conn->accepted_us > CONN_TIMEOUT_US) {
			log_info("dropping a client that did not finish its request in %d s",
				 (int)(CONN_TIMEOUT_US / G_USEC_PER_SEC));
			conn_free(conn);
		}
	}
	loop_timer_arm(sweep_timer, CONN_SWEEP_MS);
}

int control_open(const char *name)
{
	struct sockaddr_un sa;
	int len = etmem_proto_sockaddr(name, &sa);

	if (len < 0)
		return len;
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0)
		return -errno;
	if (bind(listen_fd, (struct sockaddr *)&sa, len) || listen(listen_fd, 128)) {
		int err = -errno;

		close(listen_fd);
		listen_fd = -1;
		return err;
	}
	listen_watch = loop_watch_fd(listen_fd, EPOLLIN, accept_clients, NULL);
	if (!listen_watch)
		return -errno;
	sweep_timer = loop_timer_new(sweep_conns, NULL);
	if (!sweep_timer)
		return -errno;
	return loop_timer_arm(sweep_timer, CONN_SWEEP_MS);
}

void control_close(void)
{
	while (conns)
		conn_free(conns->data);
	loop_timer_free(sweep_timer);
	sweep_timer = NULL;
	if (listen_watch)
		loop_unwatch(listen_watch);
	if (listen_fd >= 0)
		close(listen_fd);
	listen_watch = NULL;
	listen_fd = -1;
}
