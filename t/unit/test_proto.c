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
#include <glib.h>

#include "etmem_proto.h"
#include "etmem_text.h"

static void test_layout_and_names(void **state)
{
	(void)state;
	etmem_proto_check_layout();
	assert_string_equal(etmem_req_name(ETMEM_REQ_OBJ_ADD), "obj add");
	assert_string_equal(etmem_req_name(ETMEM_REQ_ENGINE), "engine");
	assert_string_equal(etmem_req_name(0), "unknown command");
	assert_string_equal(etmem_req_name(__ETMEM_REQ_CNT), "unknown command");
	assert_string_equal(etmem_req_name(0xffff), "unknown command");
}

/*
 * NAME: the file /run/etmem/FILE, FILE one to one with NAME (at most 96
 * bytes once escaped); @NAME: the abstract socket NAME of 1..107 bytes.
 */
static void test_sockaddr(void **state)
{
	struct sockaddr_un sa;
	char name[ETMEM_SOCKET_NAME_MAX + 3];
	int len;

	(void)state;
	assert_int_equal(etmem_proto_sockaddr("", &sa), -EINVAL);
	assert_int_equal(etmem_proto_sockaddr("@", &sa), -EINVAL);
	len = etmem_proto_sockaddr("etmemd_socket", &sa);
	assert_string_equal(sa.sun_path, "/run/etmem/etmemd_socket");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path) + 1);
	etmem_proto_sockaddr("a/b", &sa);
	assert_string_equal(sa.sun_path, "/run/etmem/a%2Fb");
	etmem_proto_sockaddr("..", &sa);
	assert_string_equal(sa.sun_path, "/run/etmem/%2E.");

	len = etmem_proto_sockaddr("@etmemd_socket", &sa);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 1 + 13);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "etmemd_socket", 13);

	/* 96 plain bytes fit the file form, 97 do not. */
	memset(name, 'x', sizeof(name));
	name[96] = '\0';
	assert_true(etmem_proto_sockaddr(name, &sa) > 0);
	name[96] = 'x';
	name[97] = '\0';
	assert_int_equal(etmem_proto_sockaddr(name, &sa), -ENAMETOOLONG);
	/* 32 escaped bytes are 96 bytes of file name; 33 are too many. */
	memset(name, ' ', 33);
	name[32] = '\0';
	assert_true(etmem_proto_sockaddr(name, &sa) > 0);
	name[32] = ' ';
	name[33] = '\0';
	assert_int_equal(etmem_proto_sockaddr(name, &sa), -ENAMETOOLONG);

	/* Abstract: '@' and 107 bytes fit, 108 do not. */
	memset(name, 'x', sizeof(name));
	name[0] = '@';
	name[ETMEM_SOCKET_NAME_MAX + 1] = '\0';
	assert_int_equal(etmem_proto_sockaddr(name, &sa), sizeof(struct sockaddr_un));
	name[ETMEM_SOCKET_NAME_MAX + 1] = 'x';
	name[ETMEM_SOCKET_NAME_MAX + 2] = '\0';
	assert_int_equal(etmem_proto_sockaddr(name, &sa), -ENAMETOOLONG);
}

/* The file form is one to one: names that differ never share a file. */
static void test_name_to_file(void **state)
{
	static const char *const names[] = {
		"a/b", "a_b", "a%2Fb", "a-b", "a.b", ".a", "%2Ea", "@a", "%40a", "a b", "\xc3\xa9",
	};
	char files[G_N_ELEMENTS(names)][64];
	char small[4];

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		assert_true(etmem_name_to_file(names[i], files[i], sizeof(files[i])) > 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(files[i], files[j]);
	}
	assert_string_equal(files[0], "a%2Fb");
	assert_string_equal(files[2], "a%252Fb");
	assert_string_equal(files[10], "%C3%A9");
	assert_int_equal(etmem_name_to_file("abc", small, sizeof(small)), 3);
	assert_int_equal(etmem_name_to_file("abcd", small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(etmem_name_to_file("a/", small, sizeof(small)), -ENAMETOOLONG);
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

/* Escaping: printable UTF-8 stays, everything else becomes \xHH. */
static void test_escape(void **state)
{
	static const struct { const char *in; bool lines; const char *out; } rows[] = {
		{ "plain", false, "plain" },
		{ "a\x1b[2Jb", false, "a\\x1B[2Jb" },
		{ "caf\xc3\xa9", false, "caf\xc3\xa9" },
		{ "\xff\xfe", false, "\\xFF\\xFE" },
		{ "\xc3", false, "\\xC3" },
		{ "a\xe2\x80\xae" "b", false, "a\\xE2\\x80\\xAEb" },
		{ "l1\nl2\tx", true, "l1\nl2\tx" },
		{ "l1\nl2", false, "l1\\x0Al2" },
		{ "back\\slash", false, "back\\slash" },
	};
	GString *out = g_string_new(NULL);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_string_truncate(out, 0);
		etmem_escape_append(out, rows[i].in, strlen(rows[i].in), rows[i].lines);
		assert_string_equal(out->str, rows[i].out);
		assert_true(g_utf8_validate(out->str, -1, NULL));
	}
	/* A NUL inside the length is escaped too. */
	g_string_truncate(out, 0);
	etmem_escape_append(out, "a\0b", 3, false);
	assert_string_equal(out->str, "a\\x00b");
	g_string_free(out, TRUE);
}

/* The name rule, counted in characters. */
static void test_name_check(void **state)
{
	static const struct { const char *name; const char *why; } rows[] = {
		{ "test", NULL },
		{ "a b", NULL },
		{ "\xe6\x97\xa5\xe6\x9c\xac", NULL },
		{ "", "must be 1 to 4 characters long (it has 0)" },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "must be 1 to 4 characters long (it has 5)" },
		{ "a\x1b", "has a control character U+001B at character 2" },
		{ "a\x7f", "has a control character U+007F at character 2" },
		{ "\xc2\x85", "has a control character U+0085 at character 1" },
		{ "a\xe2\x80\x8b", "has a non-printable character U+200B at character 2" },
		{ "ab\xff", "is not valid UTF-8 (byte 3 is 0xFF)" },
		{ "\xed\xa0\x80", "is not valid UTF-8 (byte 1 is 0xED)" },
	};
	GString *why = g_string_new(NULL);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_string_truncate(why, 0);
		if (!rows[i].why) {
			assert_int_equal(etmem_name_check(rows[i].name, 4, why), 0);
			continue;
		}
		assert_int_equal(etmem_name_check(rows[i].name, 4, why), -EINVAL);
		if (!strstr(why->str, rows[i].why))
			fail_msg("row %zu: '%s' lacks '%s'", i, why->str, rows[i].why);
	}
	g_string_free(why, TRUE);
}

/* The decoder: one row per request shape and the reason it gets. */
static void test_req_check(void **state)
{
	static const struct {
		uint16_t cmd;
		uint32_t flags;
		const char *payload;
		uint32_t len;
		int fd;
		const char *why;	/* NULL: accepted */
	} rows[] = {
		{ ETMEM_REQ_PROJECT_SHOW, 0, "", 0, -1, NULL },
		{ ETMEM_REQ_PROJECT_SHOW, ETMEM_REQ_F_JSON, "project=a", 10, -1, NULL },
		{ ETMEM_REQ_PROJECT_SHOW, 2, "", 0, -1, "unknown request flags 0x2" },
		{ ETMEM_REQ_PROJECT_START, ETMEM_REQ_F_JSON, "project=a", 10, -1, "unknown request flags 0x1" },
		{ ETMEM_REQ_PROJECT_START, 0, "", 0, -1, "argument 'project' is missing" },
		{ ETMEM_REQ_PROJECT_START, 0, "project=a\0project=b", 20, -1, "given twice" },
		{ ETMEM_REQ_PROJECT_START, 0, "project=a", 9, -1, "lacks its terminating NUL" },
		{ ETMEM_REQ_PROJECT_START, 0, "projecta", 9, -1, "argument 1 is not key=value" },
		{ ETMEM_REQ_PROJECT_START, 0, "file=/x", 8, -1, "unknown argument 'file'" },
		{ ETMEM_REQ_PROJECT_START, 0, "project=", 9, -1, "project name must be 1 to 64" },
		{ ETMEM_REQ_PROJECT_START, 0, "project=\x1b", 10, -1, "control character U+001B" },
		{ ETMEM_REQ_PROJECT_START, 0, "project=a", 10, 0, "takes no file descriptor" },
		{ ETMEM_REQ_OBJ_ADD, 0, "file=/x", 8, 0, NULL },
		{ ETMEM_REQ_OBJ_ADD, 0, "file=/x", 8, -1, "no file descriptor came" },
		{ ETMEM_REQ_OBJ_ADD, 0, "file=", 6, 0, "argument 'file' is empty" },
		{ ETMEM_REQ_ENGINE, 0, "cmd=show\0project=p\0engine=e", 28, -1, NULL },
		{ ETMEM_REQ_ENGINE, 0, "project=p\0engine=e", 19, -1, "argument 'cmd' is missing" },
		{ 0, 0, "", 0, -1, "unknown request 0" },
		{ __ETMEM_REQ_CNT, 0, "", 0, -1, "unknown request" },
	};
	GString *why = g_string_new(NULL);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct etmem_msg msg = {
			.hdr = { ETMEM_PROTO_MAGIC, ETMEM_PROTO_VERSION, rows[i].cmd, rows[i].flags,
				 rows[i].len },
			.payload = (char *)rows[i].payload,
			.fd = rows[i].fd,
		};
		int ret;

		g_string_truncate(why, 0);
		ret = etmem_req_check(&msg, why);
		if (!rows[i].why && ret)
			fail_msg("row %zu refused: %s", i, why->str);
		if (rows[i].why && (!ret || !strstr(why->str, rows[i].why)))
			fail_msg("row %zu: %d '%s' lacks '%s'", i, ret, why->str, rows[i].why);
	}
	g_string_free(why, TRUE);
}

/* Who may send what: root everything, the group read-only requests. */
static void test_req_allowed(void **state)
{
	struct etmem_msg show = { .hdr = { .cmd = ETMEM_REQ_PROJECT_SHOW }, .fd = -1 };
	struct etmem_msg start = { .hdr = { .cmd = ETMEM_REQ_PROJECT_START }, .fd = -1 };
	struct etmem_msg eng_show = {
		.hdr = { .cmd = ETMEM_REQ_ENGINE, .len = 18 }, .payload = "cmd=showtaskpages", .fd = -1
	};
	struct etmem_msg eng_other = {
		.hdr = { .cmd = ETMEM_REQ_ENGINE, .len = 9 }, .payload = "cmd=move", .fd = -1
	};

	(void)state;
	assert_true(etmem_req_allowed(&start, 0, false));
	assert_true(etmem_req_allowed(&show, 1000, true));
	assert_false(etmem_req_allowed(&show, 1000, false));
	assert_false(etmem_req_allowed(&start, 1000, true));
	assert_true(etmem_req_allowed(&eng_show, 1000, true));
	assert_false(etmem_req_allowed(&eng_other, 1000, true));
	for (unsigned int cmd = 1; cmd < __ETMEM_REQ_CNT; cmd++) {
		const struct etmem_req_info *info = etmem_req_info(cmd);

		assert_non_null(info);
		/* Whatever takes a file changes state: root only. */
		if (info->takes_fd)
			assert_int_equal(info->perm, ETMEM_PERM_ROOT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_names),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_name_to_file),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_name_check),
		cmocka_unit_test(test_req_check),
		cmocka_unit_test(test_req_allowed),
		cmocka_unit_test(test_payload_round_trip),
		cmocka_unit_test(test_payload_unterminated),
		cmocka_unit_test(test_payload_limit),
		cmocka_unit_test(test_read_write_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
