// SPDX-License-Identifier: GPL-2.0
/* Helpers of the etmemd control protocol shared by daemon and client. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "etmem_proto.h"

/* The wire layout: changing any of these needs a new ETMEM_PROTO_VERSION. */
_Static_assert(sizeof(struct etmem_req_hdr) == 16, "request header layout");
_Static_assert(sizeof(struct etmem_reply_hdr) == 16, "reply header layout");
_Static_assert(offsetof(struct etmem_req_hdr, len) == 12, "request len");
_Static_assert(offsetof(struct etmem_reply_hdr, status) == 8, "reply status");
_Static_assert(ETMEM_SOCKET_NAME_MAX + 1 == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "abstract socket name fills sun_path after the leading NUL");

static const char *const cmd_names[__ETMEM_CMD_CNT] = {
	[ETMEM_CMD_OBJ_ADD] = "obj add",
	[ETMEM_CMD_OBJ_DEL] = "obj del",
	[ETMEM_CMD_PROJECT_START] = "project start",
	[ETMEM_CMD_PROJECT_STOP] = "project stop",
	[ETMEM_CMD_PROJECT_SHOW] = "project show",
	[ETMEM_CMD_ENGINE] = "engine",
};

void etmem_proto_check_layout(void)
{
	/* Every command needs a name, or a new one was added half-way. */
	for (unsigned int cmd = 1; cmd < __ETMEM_CMD_CNT; cmd++) {
		if (!cmd_names[cmd]) {
			fprintf(stderr, "etmem: protocol command %u has no name\n", cmd);
			abort();
		}
	}
}

const char *etmem_cmd_name(unsigned int cmd)
{
	if (cmd >= __ETMEM_CMD_CNT || !cmd_names[cmd])
		return "unknown command";
	return cmd_names[cmd];
}

int etmem_name_to_file(const char *name, char *out, size_t size)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		bool plain = isascii(*p) && (isalnum(*p) || *p == '_' || *p == '-' ||
					     (*p == '.' && p != (const unsigned char *)name));

		if (n + (plain ? 1 : 3) >= size)
			return -ENAMETOOLONG;
		if (plain)
			out[n++] = (char)*p;
		else
			n += sprintf(out + n, "%%%02X", *p);
	}
	if (n >= size)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return (int)n;
}

int etmem_proto_sockaddr(const char *name, struct sockaddr_un *sa)
{
	const size_t dir_len = strlen(ETMEM_RUN_DIR "/");
	size_t len = strlen(name);
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (name[0] == '@') {
		if (--len == 0)
			return -EINVAL;
		if (len > ETMEM_SOCKET_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(sa->sun_path + 1, name + 1, len);
		return (int)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	}
	if (len == 0)
		return -EINVAL;
	memcpy(sa->sun_path, ETMEM_RUN_DIR "/", dir_len);
	n = etmem_name_to_file(name, sa->sun_path + dir_len, sizeof(sa->sun_path) - dir_len);
	if (n < 0)
		return n;
	return (int)(offsetof(struct sockaddr_un, sun_path) + dir_len + n + 1);
}

const char *etmem_msg_arg(const struct etmem_msg *msg, const char *key)
{
	size_t klen = strlen(key);
	const char *p = msg->payload, *end = msg->payload + msg->hdr.len;

	while (p && p < end) {
		size_t n = strnlen(p, end - p);

		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=')
			return p + klen + 1;
		p += n + 1;
	}
	return NULL;
}

int etmem_payload_add(char **buf, uint32_t *len, const char *key,
		      const char *value)
{
	size_t add = strlen(key) + 1 + strlen(value) + 1;
	char *grown;

	if (*len + add > ETMEM_PAYLOAD_MAX)
		return -E2BIG;
	grown = realloc(*buf, *len + add + 1);
	if (!grown)
		return -ENOMEM;
	sprintf(grown + *len, "%s=%s", key, value);
	*len += add;
	grown[*len] = '\0';
	*buf = grown;
	return 0;
}

int etmem_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int etmem_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}
