// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: raw control requests through the decoder of
 * lib/etmem_proto.c, as etmemd reads them: the 16-byte header is checked
 * before anything is allocated, then the payload (the rest of the input;
 * its length replaces hdr.len when the header asks for another) with the
 * request table, argument lookups and the permission check. One byte after
 * the header says whether a descriptor came and who sent it.
 */
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etmem_proto.h"
#include "etmem_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		ETMEM_ARG_PROJECT, ETMEM_ARG_ENGINE, ETMEM_ARG_TASK, ETMEM_ARG_ENGINE_CMD,
		ETMEM_ARG_FILE,
	};
	struct etmem_msg msg = { .fd = -1 };
	GString *why = g_string_new(NULL);
	uint8_t extra = 0;
	int ret;

	memcpy(&msg.hdr, data, MIN(size, sizeof(msg.hdr)));
	data += MIN(size, sizeof(msg.hdr));
	size -= MIN(size, sizeof(msg.hdr));
	ret = etmem_req_check_header(&msg.hdr, why);
	if (ret && !why->len)
		__builtin_trap();	/* every refusal says why */
	if (size) {
		extra = *data++;
		size--;
	}
	if (!ret || (extra & 0x80)) {
		/* The payload as the daemon holds it: NUL-terminated one past. */
		msg.hdr.len = size;
		msg.payload = malloc(size + 1);
		memcpy(msg.payload, data, size);
		msg.payload[size] = '\0';
		msg.fd = (extra & 1) ? 0 : -1;
		g_string_truncate(why, 0);
		ret = etmem_req_check(&msg, why);
		if (ret && !why->len)
			__builtin_trap();
		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
			const char *v = etmem_msg_arg(&msg, keys[i]);

			/* An accepted request's names are valid UTF-8. */
			if (!ret && v && strcmp(keys[i], ETMEM_ARG_FILE) &&
			    !g_utf8_validate(v, -1, NULL))
				__builtin_trap();
		}
		etmem_req_allowed(&msg, (extra & 2) ? 0 : 1000, extra & 4);
		free(msg.payload);
	}
	/* Replies are printed through the escaper: its output is valid UTF-8. */
	if (!g_utf8_validate(why->str, why->len, NULL))
		__builtin_trap();
	g_string_truncate(why, 0);
	etmem_escape_append(why, (const char *)data, size, true);
	if (!g_utf8_validate(why->str, why->len, NULL))
		__builtin_trap();
	g_string_free(why, TRUE);
	return 0;
}
