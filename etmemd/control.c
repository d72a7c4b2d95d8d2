// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <limits.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "etmem_proto.h"
#include "etmem_text.h"
#include "log.h"
#include "loop.h"
#include "objects.h"

struct conn {
	int fd;
	struct loop_watch *watch;
	uid_t uid;
	bool in_group;		/* of the -g group: read-only requests allowed */
	struct etmem_msg msg;
	size_t got;		/* bytes of header + payload received */
	unsigned int nr_fds;	/* descriptors received with the request */
	bool fds_cut;		/* the kernel dropped descriptors (MSG_CTRUNC) */
	GString *out;		/* reply header + payload */
	size_t sent;
	gint64 accepted_us;	/* monotonic */
};

/* A client that has not sent its whole request by then is dropped. */
#define CONN_TIMEOUT_US		(30 * G_USEC_PER_SEC)
#define CONN_SWEEP_MS		5000
/* Read-only requests of group members carry a few names only. */
#define CONN_GROUP_PAYLOAD_MAX	4096u

static GList *conns;		/* struct conn *, open connections */
/*
 * Armed only while a client is connected: an idle daemon (most of its
 * life) has no timer of its own to wake up for between cycles.
 */
static struct loop_timer *sweep_timer;
static bool sweep_armed;

static int listen_fd = -1;
static struct loop_watch *listen_watch;

/* -g GROUP: its members may send read-only requests. */
static bool have_group;
static gid_t group_gid;
static char group_name[64];

void control_allow_group(gid_t gid, const char *name)
{
	have_group = true;
	group_gid = gid;
	g_strlcpy(group_name, name, sizeof(group_name));
}

/* Out of descriptors: a spare one to refuse a client with, and a pause. */
#define ACCEPT_BACKOFF_MS	200
static int reserve_fd = -1;
static struct loop_timer *backoff_timer;
static bool overloaded;
static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* "" if abstract */
static char lock_path[PATH_MAX];
static int lock_fd = -1;

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
	if (msg->fd < 0) {
		g_string_printf(reply, "%s: no file descriptor came with the request", path);
		return -EINVAL;
	}
	return cfg_read_fd(msg->fd, path, text, reply);
}

static int handle_obj(const struct etmem_msg *msg, GString *reply)
{
	/* Any bytes may form a path: messages show it escaped. */
	char *path = etmem_escape(etmem_msg_arg(msg, ETMEM_ARG_FILE));
	GString *text = g_string_new(NULL);
	int ret;

	ret = read_config_fd(msg, path, text, reply);
	if (!ret && msg->hdr.cmd == ETMEM_REQ_OBJ_ADD)
		ret = objects_add(path, text->str, text->len, reply);
	else if (!ret)
		ret = objects_del(path, text->str, text->len, reply);
	g_string_free(text, TRUE);
	g_free(path);
	return ret;
}

static int dispatch(struct conn *conn, GString *reply)
{
	const struct etmem_msg *msg = &conn->msg;
	const char *proj = etmem_msg_arg(msg, ETMEM_ARG_PROJECT);
	int ret;

	if (conn->nr_fds > 1 || conn->fds_cut) {
		g_string_printf(reply, "a request carries at most one descriptor (this one carried %s%u)",
				conn->fds_cut ? "more than " : "", conn->nr_fds);
		return -EINVAL;
	}
	ret = etmem_req_check(msg, reply);
	if (ret)
		return ret;
	if (!etmem_req_allowed(msg, conn->uid, conn->in_group)) {
		g_string_printf(reply, "permission denied: %s%s is for root only (client uid %u)",
				etmem_req_name(msg->hdr.cmd),
				msg->hdr.cmd == ETMEM_REQ_ENGINE ? " with a command not named show..." : "",
				(unsigned int)conn->uid);
		return -EACCES;
	}
	switch (msg->hdr.cmd) {
	case ETMEM_REQ_OBJ_ADD:
	case ETMEM_REQ_OBJ_DEL:
		return handle_obj(msg, reply);
	case ETMEM_REQ_PROJECT_START:
		return project_start(proj, reply);
	case ETMEM_REQ_PROJECT_STOP:
		return project_stop(proj, reply);
	case ETMEM_REQ_PROJECT_SHOW:
		return project_show(proj, msg->hdr.flags & ETMEM_REQ_F_JSON, reply);
	case ETMEM_REQ_ENGINE:
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

	log_debug("request '%s' from uid %u: %s", etmem_req_name(conn->msg.hdr.cmd),
		  (unsigned int)conn->uid, status ? reply->str : "ok");
	if (status)
		log_info("request '%s' refused: %s", etmem_req_name(conn->msg.hdr.cmd), reply->str);
	conn_queue_reply(conn, status, reply);
	g_string_free(reply, TRUE);
}

/* A header we cannot serve gets an error reply before any allocation. */
static bool header_ok(struct conn *conn)
{
	const struct etmem_req_hdr *hdr = &conn->msg.hdr;
	const struct etmem_req_info *info = etmem_req_info(hdr->cmd);
	GString *why = g_string_new(NULL);

	if (etmem_req_check_header(hdr, why)) {
		conn_queue_reply(conn, -EPROTO, why);
	} else if (conn->uid != 0 && info->perm == ETMEM_PERM_ROOT) {
		/* A group member: what only root may send is refused unread. */
		g_string_printf(why, "permission denied: %s is for root only (client uid %u)",
				info->name, (unsigned int)conn->uid);
		conn_queue_reply(conn, -EACCES, why);
	} else if (conn->uid != 0 && hdr->len > CONN_GROUP_PAYLOAD_MAX) {
		g_string_printf(why, "request of %u bytes is too large for a read-only request (at most %u)",
				hdr->len, CONN_GROUP_PAYLOAD_MAX);
		conn_queue_reply(conn, -EPROTO, why);
	}
	g_string_free(why, TRUE);
	return !conn->out;
}

/*
 * Every descriptor that arrives is kept (the first) or closed at once;
 * the request is refused later when more than one came.
 */
static ssize_t conn_recv(struct conn *conn, void *buf, size_t len)
{
	/* Room for a few, so that extra ones are counted and closed. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n = recvmsg(conn->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0)
		return n;
	if (mh.msg_flags & MSG_CTRUNC)
		conn->fds_cut = true;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t nfds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			conn->nr_fds++;
			if (conn->msg.fd < 0)
				conn->msg.fd = fd;
			else
				close(fd);
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

/* The -g group: the peer's primary group or one of its supplementary groups. */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (!have_group)
		return false;
	if (gid == group_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;	/* more groups than fit, or unknown: not a member */
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == group_gid)
			return true;
	return false;
}

static void refuse_non_root(struct conn *conn)
{
	GString *why = g_string_new(NULL);

	if (have_group)
		g_string_printf(why, "permission denied: etmemd serves root and, for read-only requests, group %s only (client uid %u)",
				group_name, (unsigned int)conn->uid);
	else
		g_string_printf(why, "permission denied: etmemd serves root only (client uid %u)",
				(unsigned int)conn->uid);
	log_info("refused a client with uid %u", (unsigned int)conn->uid);
	conn_queue_reply(conn, -EACCES, why);
	g_string_free(why, TRUE);
}

/*
 * Out of descriptors: accept one waiting client with the reserve
 * descriptor, tell it why and close it, then stop polling the listener
 * for a while; logged once until an accept succeeds again.
 */
static void accept_overloaded(int fd, int err)
{
	static const char text[] = "etmemd is out of file descriptors; try again later";
	struct etmem_reply_hdr hdr = {
		.magic = ETMEM_PROTO_MAGIC,
		.version = ETMEM_PROTO_VERSION,
		.status = -err,
		.len = sizeof(text) - 1,
	};
	char buf[sizeof(hdr) + sizeof(text) - 1];
	int cfd;

	if (!overloaded)
		log_warn("accept: %s: refusing clients, polling the socket every %d ms until descriptors are free",
			 strerror(err), ACCEPT_BACKOFF_MS);
	overloaded = true;
	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
	}
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd >= 0) {
		memcpy(buf, &hdr, sizeof(hdr));
		memcpy(buf + sizeof(hdr), text, sizeof(text) - 1);
		if (send(cfd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			log_debug("cannot tell a refused client why: %s", strerror(errno));
		close(cfd);
	}
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	loop_watch_modify(listen_watch, 0);
	loop_timer_arm(backoff_timer, ACCEPT_BACKOFF_MS);
}

static void accept_resume(void *arg)
{
	if (listen_watch)
		loop_watch_modify(listen_watch, EPOLLIN);
}

static void accept_clients(int fd, uint32_t events, void *arg)
{
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct conn *conn;

		if (cfd < 0 && (errno == EMFILE || errno == ENFILE)) {
			accept_overloaded(fd, errno);
			return;
		}
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (overloaded) {
			log_info("descriptors are free again: accepting clients");
			overloaded = false;
		}
		if (reserve_fd < 0)
			reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		conn = g_new0(struct conn, 1);
		conn->fd = cfd;
		conn->msg.fd = -1;
		/* Unknown credentials count as not root. */
		conn->uid = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ? (uid_t)-1 : cred.uid;
		conn->in_group = conn->uid != (uid_t)-1 && peer_in_group(cfd, cred.gid);
		conn->watch = loop_watch_fd(cfd, EPOLLIN, conn_event, conn);
		if (!conn->watch) {
			close(cfd);
			g_free(conn);
			continue;
		}
		conn->accepted_us = g_get_monotonic_time();
		conns = g_list_prepend(conns, conn);
		if (!sweep_armed)
			sweep_armed = !loop_timer_arm(sweep_timer, CONN_SWEEP_MS);
		/* Refuse others before reading (and allocating for) anything. */
		if (conn->uid != 0 && !conn->in_group)
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
	sweep_armed = conns && !loop_timer_arm(sweep_timer, CONN_SWEEP_MS);
}

/*
 * ETMEM_RUN_DIR: a directory of root's, created with mode 0700. An existing
 * one must already be root's and writable by root only; its mode is kept,
 * except that with -g the search bits of group and others are added (0011)
 * so that the group's members can pass through to the socket (not list the
 * directory).
 */
static int run_dir_prepare(GString *why)
{
	struct stat st;
	int fd;

	if (mkdir(ETMEM_RUN_DIR, 0700) && errno != EEXIST) {
		g_string_printf(why, "cannot create %s: %s", ETMEM_RUN_DIR, strerror(errno));
		return -errno;
	}
	fd = open(ETMEM_RUN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		int err = -errno;

		g_string_printf(why, "%s: %s (it must be a directory)", ETMEM_RUN_DIR, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		g_string_printf(why, "%s is owned by uid %u with mode %04o; it must be root's and writable by root only",
				ETMEM_RUN_DIR, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	/* Group members must pass through to reach the socket (not list it). */
	if (have_group && (st.st_mode & 0011) != 0011 && fchmod(fd, (st.st_mode & 07777) | 0011)) {
		g_string_printf(why, "cannot make %s passable for group %s: %s", ETMEM_RUN_DIR,
				group_name, strerror(errno));
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/*
 * One daemon per name: ETMEM_RUN_DIR/.FILE.lock is locked for the daemon's
 * life and removed at exit. A lock taken on a file that another daemon
 * removed meanwhile does not count: take it again on the new file.
 */
static int name_lock(const char *name, GString *why)
{
	char file[ETMEM_SOCKET_NAME_MAX * 3 + 8];
	struct stat fst, pst;

	if (etmem_name_to_file(name, file, sizeof(file)) < 0)
		return -ENAMETOOLONG;
	/* A leading dot: no socket file (escaped names never start with one). */
	snprintf(lock_path, sizeof(lock_path), "%s/.%s.lock", ETMEM_RUN_DIR, file);
	for (;;) {
		lock_fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (lock_fd < 0) {
			g_string_printf(why, "cannot open %s: %s", lock_path, strerror(errno));
			return -errno;
		}
		if (flock(lock_fd, LOCK_EX | LOCK_NB)) {
			int err = errno;

			close(lock_fd);
			lock_fd = -1;
			if (err == EWOULDBLOCK)
				return -EADDRINUSE;
			g_string_printf(why, "cannot lock %s: %s", lock_path, strerror(err));
			return -err;
		}
		if (!fstat(lock_fd, &fst) && !stat(lock_path, &pst) &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			return 0;
		close(lock_fd);
		lock_fd = -1;
	}
}

void control_unlock(void)
{
	if (lock_fd < 0)
		return;
	unlink(lock_path);
	close(lock_fd);
	lock_fd = -1;
}

int control_open(const char *name, GString *why)
{
	struct sockaddr_un sa;
	int len = etmem_proto_sockaddr(name, &sa);
	int ret;
	mode_t old_umask;

	if (len < 0)
		return len;
	ret = run_dir_prepare(why);
	if (!ret)
		ret = name_lock(name, why);
	if (ret)
		return ret;
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0)
		return -errno;
	if (sa.sun_path[0]) {
		struct stat st;

		/* Another file under the name (kswap's state...) is not ours to remove. */
		if (!lstat(sa.sun_path, &st) && !S_ISSOCK(st.st_mode)) {
			g_string_printf(why, "%s exists and is not a socket; choose another name",
					sa.sun_path);
			return -EEXIST;
		}
		/* We hold the name's lock: a socket file left there is stale. */
		if (unlink(sa.sun_path) && errno != ENOENT) {
			g_string_printf(why, "cannot remove the stale socket %s: %s", sa.sun_path,
					strerror(errno));
			return -errno;
		}
		snprintf(socket_path, sizeof(socket_path), "%s", sa.sun_path);
	}
	old_umask = umask(0177);
	ret = bind(listen_fd, (struct sockaddr *)&sa, len) || listen(listen_fd, 128) ? -errno : 0;
	umask(old_umask);
	/* The socket file is the gate: 0600 root's, or 0660 for the group. */
	if (!ret && socket_path[0] && have_group &&
	    (chown(socket_path, 0, group_gid) || chmod(socket_path, 0660)))
		ret = -errno;
	if (ret) {
		close(listen_fd);
		listen_fd = -1;
		return ret;
	}
	listen_watch = loop_watch_fd(listen_fd, EPOLLIN, accept_clients, NULL);
	if (!listen_watch)
		return -errno;
	sweep_timer = loop_timer_new(sweep_conns, NULL);
	backoff_timer = loop_timer_new(accept_resume, NULL);
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!sweep_timer || !backoff_timer || reserve_fd < 0)
		return -errno;
	return 0;
}

void control_close(void)
{
	while (conns)
		conn_free(conns->data);
	loop_timer_free(sweep_timer);
	sweep_timer = NULL;
	sweep_armed = false;
	loop_timer_free(backoff_timer);
	backoff_timer = NULL;
	if (reserve_fd >= 0)
		close(reserve_fd);
	reserve_fd = -1;
	if (listen_watch)
		loop_unwatch(listen_watch);
	if (listen_fd >= 0)
		close(listen_fd);
	listen_watch = NULL;
	listen_fd = -1;
	if (socket_path[0])
		unlink(socket_path);
	socket_path[0] = '\0';
}
