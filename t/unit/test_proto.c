// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the etmemd <-> etmem control protocol helpers (lib/etmem_proto.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "etmem_proto.h"

static void test_layout_and_names(void **state)
{
	(void)state;
	etmem_proto_check_layout();
	assert_string_equal(etmem_cmd_name(ETMEM_CMD_OBJ_ADD), "obj add");
	assert_string_equal(etmem_cmd_name(ETMEM_CMD_ENGINE), "engine");
	assert_string_equal(etmem_cmd_name(0), "unknown command");
	assert_string_equal(etmem_cmd_name(__ETMEM_CMD_CNT), "unknown command");
	assert_string_equal(etmem_cmd_name(0xffff), "unknown command");
}

/* Abstract socket names: 1..107 bytes, no NUL, none on the file system. */
static void test_sockaddr(void **state)
{
	struct sockaddr_un sa;
	char name[ETMEM_SOCKET_NAME_MAX + 2];
	int len;

	(void)state;
	assert_int_equal(etmem_proto_sockaddr("", &sa), -EINVAL);
	len = etmem_proto_sockaddr("etmemd_socket", &sa);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 1 + 13);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "etmemd_socket", 13);

	memset(name, 'x', sizeof(name));
	name[ETMEM_SOCKET_NAME_MAX] = '\0';
	len = etmem_proto_sockaddr(name, &sa);
	assert_int_equal(len, sizeof(struct sockaddr_un));
	name[ETMEM_SOCKET_NAME_MAX] = 'x';
	name[ETMEM_SOCKET_NAME_MAX + 1] = '\0';
	assert_int_equal(etmem_proto_sockaddr(name, &sa), -ENAMETOOLONG);
}

/* What the client appends, the daemon finds; keys never match by prefix. */
static void test_payload_round_trip(void **state)
{
	struct etmem_msg msg = { .fd = -1 };
	char *buf = NULL;
	uint32_t len = 0;

	(void)state;
	assert_int_equal(etmem_payload_add(&buf, &len, "projectx", "decoy"), 0);
	assert_int_equal(etmem_payload_add(&buf, &len, ETMEM_ARG_PROJECT, "db=1"), 0);
	assert_int_equal(etmem_payload_add(&buf, &len, ETMEM_ARG_TASK, ""), 0);
	assert_int_equal(len, strlen("projectx=decoy") + 1 + strlen("project=db=1") + 1 +
			 strlen("task=") + 1);
	msg.hdr.len = len;
	msg.payload = buf;
	assert_string_equal(etmem_msg_arg(&msg, ETMEM_ARG_PROJECT), "db=1");
	assert_string_equal(etmem_msg_arg(&msg, "projectx"), "decoy");
	assert_string_equal(etmem_msg_arg(&msg, ETMEM_ARG_TASK), "");
	assert_null(etmem_msg_arg(&msg, ETMEM_ARG_ENGINE));
	assert_null(etmem_msg_arg(&msg, "proj"));
	free(buf);
}

/*
 * The daemon NUL-terminates a payload one past hdr.len whatever the peer
 * sent; lookups stay inside hdr.len even when the peer's last string has
 * no NUL of its own.
 */
static void test_payload_unterminated(void **state)
{
	char raw[] = "cmd=stat";
	struct etmem_msg msg = { .hdr.len = 6, .payload = raw, .fd = -1 };

	(void)state;
	raw[6] = '\0';		/* what the daemon's reader does */
	assert_string_equal(etmem_msg_arg(&msg, "cmd"), "st");
	msg.hdr.len = 3;	/* "cmd": the '=' lies past the payload */
	assert_null(etmem_msg_arg(&msg, "cmd"));
	msg.hdr.len = 0;
	assert_null(etmem_msg_arg(&msg, "cmd"));
}

static void test_payload_limit(void **state)
{
	size_t big = ETMEM_PAYLOAD_MAX / 2;
	char *value = malloc(big);
	char *buf = NULL;
	uint32_t len = 0;

	(void)state;
	assert_non_null(value);
	memset(value, 'v', big - 1);
	value[big - 1] = '\0';
	assert_int_equal(etmem_payload_add(&buf, &len, "a", value), 0);
	assert_int_equal(etmem_payload_add(&buf, &len, "b", value), -E2BIG);
	assert_int_equal(len, 2 + big);	/* "a=" + value + NUL; b not added */
	free(value);
	free(buf);
}

/* Full reads and writes; the end of the stream is -EPIPE, not a short read. */
static void test_read_write_all(void **state)
{
	char out[100000], in[sizeof(out)];
	int sv[2];
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(etmem_write_all(sv[1], out, sizeof(out)) ? 1 : 0);
	}
	close(sv[1]);
	assert_int_equal(etmem_read_all(sv[0], in, sizeof(in)), 0);
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(etmem_read_all(sv[0], in, 1), -EPIPE);
	close(sv[0]);

	/* Writing to a closed peer fails with EPIPE instead of killing us. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(etmem_write_all(sv[0], out, sizeof(out)), -EPIPE);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_names),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_payload_round_trip),
		cmocka_unit_test(test_payload_unterminated),
		cmocka_unit_test(test_payload_limit),
		cmocka_unit_test(test_read_write_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
