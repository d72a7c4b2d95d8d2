// SPDX-License-Identifier: GPL-2.0
/* Helpers of the etmemd control protocol shared by daemon and client. */
#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "etmem_proto.h"
#include "etmem_text.h"

/* The wire layout: changing any of these needs a new ETMEM_PROTO_VERSION. */
_Static_assert(sizeof(struct etmem_req_hdr) == 16, "request header layout");
_Static_assert(sizeof(struct etmem_reply_hdr) == 16, "reply header layout");
_Static_assert(offsetof(struct etmem_req_hdr, len) == 12, "request len");
_Static_assert(offsetof(struct etmem_reply_hdr, status) == 8, "reply status");
_Static_assert(ETMEM_SOCKET_NAME_MAX + 1 == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "abstract socket name fills sun_path after the leading NUL");

static const char *const args_file[] = { ETMEM_ARG_FILE, NULL };
static const char *const args_project[] = { ETMEM_ARG_PROJECT, NULL };
static const char *const args_engine[] = {
	ETMEM_ARG_ENGINE_CMD, ETMEM_ARG_PROJECT, ETMEM_ARG_ENGINE, ETMEM_ARG_TASK, NULL
};

static const struct etmem_req_info req_table[__ETMEM_REQ_CNT] = {
	[ETMEM_REQ_OBJ_ADD] = { "obj add", 0, args_file, 0x1, true, ETMEM_PERM_ROOT },
	[ETMEM_REQ_OBJ_DEL] = { "obj del", 0, args_file, 0x1, true, ETMEM_PERM_ROOT },
	[ETMEM_REQ_PROJECT_START] = { "project start", 0, args_project, 0x1, false, ETMEM_PERM_ROOT },
	[ETMEM_REQ_PROJECT_STOP] = { "project stop", 0, args_project, 0x1, false, ETMEM_PERM_ROOT },
	[ETMEM_REQ_PROJECT_SHOW] = { "project show", ETMEM_REQ_F_JSON, args_project, 0, false,
				     ETMEM_PERM_GROUP },
	[ETMEM_REQ_ENGINE] = { "engine", ETMEM_REQ_F_JSON, args_engine, 0x7, false,
			       ETMEM_PERM_GROUP_SHOW },
};

void etmem_proto_check_layout(void)
{
	/* Every command needs a row, or a new one was added half-way. */
	for (unsigned int cmd = 1; cmd < __ETMEM_REQ_CNT; cmd++) {
		if (!req_table[cmd].name || !req_table[cmd].args) {
			fprintf(stderr, "etmem: protocol command %u has no row in the request table\n", cmd);
			abort();
		}
	}
}

const struct etmem_req_info *etmem_req_info(unsigned int cmd)
{
	if (cmd == 0 || cmd >= __ETMEM_REQ_CNT || !req_table[cmd].name)
		return NULL;
	return &req_table[cmd];
}

const char *etmem_req_name(unsigned int cmd)
{
	const struct etmem_req_info *info = etmem_req_info(cmd);

	return info ? info->name : "unknown command";
}

int etmem_req_check_header(const struct etmem_req_hdr *hdr, GString *why)
{
	const struct etmem_req_info *info = etmem_req_info(hdr->cmd);

	if (hdr->magic != ETMEM_PROTO_MAGIC) {
		g_string_assign(why, "not an etmem request (bad magic)");
	} else if (hdr->version != ETMEM_PROTO_VERSION) {
		g_string_printf(why, "protocol version %u not supported; etmemd speaks version %u (use the etmem client of the same build)",
				hdr->version, ETMEM_PROTO_VERSION);
	} else if (hdr->len > ETMEM_PAYLOAD_MAX) {
		g_string_printf(why, "request of %u bytes is too large (at most %u)", hdr->len,
				ETMEM_PAYLOAD_MAX);
	} else if (!info) {
		g_string_printf(why, "unknown request %u", hdr->cmd);
	} else if (hdr->flags & ~info->flags) {
		g_string_printf(why, "unknown request flags 0x%x (%s accepts 0x%x)",
				hdr->flags & ~info->flags, info->name, info->flags);
	} else {
		return 0;
	}
	return -EPROTO;
}

/* Keys whose values are names: checked against the name rule. */
static bool is_name_key(const char *key)
{
	return strcmp(key, ETMEM_ARG_FILE) != 0;
}

int etmem_req_check(const struct etmem_msg *msg, GString *why)
{
	const struct etmem_req_info *info;
	const char *p = msg->payload, *end = msg->payload + msg->hdr.len;
	unsigned int seen = 0;
	int ret = etmem_req_check_header(&msg->hdr, why);

	if (ret)
		return ret;
	info = etmem_req_info(msg->hdr.cmd);
	if (msg->hdr.len && end[-1] != '\0') {
		g_string_printf(why, "the request's last argument lacks its terminating NUL");
		return -EINVAL;
	}
	for (unsigned int nr = 1; p < end; nr++) {
		size_t n = strlen(p);
		const char *eq = memchr(p, '=', n);
		unsigned int i;

		if (!eq) {
			g_string_printf(why, "argument %u is not key=value", nr);
			return -EINVAL;
		}
		for (i = 0; info->args[i]; i++)
			if (strlen(info->args[i]) == (size_t)(eq - p) &&
			    !memcmp(info->args[i], p, eq - p))
				break;
		if (!info->args[i]) {
			char *key = g_strndup(p, MIN(eq - p, 32));
			char *safe = etmem_escape(key);

			g_string_printf(why, "unknown argument '%s%s'", safe,
					eq - p > 32 ? "..." : "");
			g_free(safe);
			g_free(key);
			return -EINVAL;
		}
		if (seen & (1u << i)) {
			g_string_printf(why, "argument '%s' given twice", info->args[i]);
			return -EINVAL;
		}
		seen |= 1u << i;
		if (is_name_key(info->args[i])) {
			GString *rule = g_string_new(NULL);

			if (etmem_name_check(eq + 1, ETMEM_ARG_NAME_MAX, rule)) {
				g_string_printf(why, "%s name %s", info->args[i], rule->str);
				g_string_free(rule, TRUE);
				return -EINVAL;
			}
			g_string_free(rule, TRUE);
		} else if (!eq[1]) {
			g_string_printf(why, "argument '%s' is empty", info->args[i]);
			return -EINVAL;
		}
		p += n + 1;
	}
	if ((seen & info->required) != info->required) {
		unsigned int missing = info->required & ~seen;

		g_string_printf(why, "argument '%s' is missing", info->args[__builtin_ctz(missing)]);
		return -EINVAL;
	}
	if (info->takes_fd && msg->fd < 0) {
		g_string_printf(why, "no file descriptor came with the request");
		return -EINVAL;
	}
	if (!info->takes_fd && msg->fd >= 0) {
		g_string_printf(why, "the request takes no file descriptor");
		return -EINVAL;
	}
	return 0;
}

bool etmem_req_allowed(const struct etmem_msg *msg, unsigned int uid, bool in_group)
{
	const struct etmem_req_info *info = etmem_req_info(msg->hdr.cmd);
	const char *cmd;

	if (uid == 0)
		return true;
	if (!info || !in_group)
		return false;
	switch (info->perm) {
	case ETMEM_PERM_GROUP:
		return true;
	case ETMEM_PERM_GROUP_SHOW:
		cmd = etmem_msg_arg(msg, ETMEM_ARG_ENGINE_CMD);
		return cmd && !strncmp(cmd, "show", 4);
	default:
		return false;
	}
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
