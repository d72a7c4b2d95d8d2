// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: whole configuration files through etmemd's parser and
 * checks (objects_add(), the code behind "etmem obj add"), then through
 * objects_del(), then everything is freed. No project is started, so no
 * thread, timer or kernel call is involved. dlopen() is stubbed: a file
 * naming a third-party library never loads one.
 */
#include <dlfcn.h>
#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "objects.h"

void *__wrap_dlopen(const char *file, int mode);
void *__wrap_dlopen(const char *file, int mode)
{
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_config", LOG_LEVEL_ERROR, false);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GString *reply = g_string_new(NULL);

	if (objects_add("fuzz.conf", (const char *)data, size, reply) == 0) {
		/* What was added can be deleted with the same file. */
		g_string_truncate(reply, 0);
		if (objects_del("fuzz.conf", (const char *)data, size, reply))
			__builtin_trap();
	}
	/* Every message is valid UTF-8: the parser checked what it echoes. */
	if (!g_utf8_validate(reply->str, reply->len, NULL))
		__builtin_trap();
	objects_free_all();
	g_string_free(reply, TRUE);
	return 0;
}
