/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Configuration files: INI-style [project], [engine] and [task] groups,
 * several of each per file.
 *
 * GKeyFile refuses a group name twice, so cfg_split() cuts the text into
 * one section per group header first and gives each section its own
 * GKeyFile, remembering the line of every key for error messages. The
 * typed getters below consume keys; cfg_check_consumed() then reports any
 * key nobody asked for. Every error is one line of the form
 *   FILE:LINE: [group] what is wrong (what is allowed)
 * appended to the caller's GString.
 */
#ifndef ETMEMD_CONFIG_H
#define ETMEMD_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CFG_FILE_SIZE_MAX	(10u << 20)	/* bytes */
#define CFG_NAME_MAX		64		/* characters of a project, engine or task name */
#define CFG_NAME_SIZE		(CFG_NAME_MAX * 4 + 1)	/* bytes to hold one in UTF-8 */
#define CFG_COMM_MAX		15		/* TASK_COMM_LEN - 1 */

enum cfg_group {
	CFG_GROUP_PROJECT,
	CFG_GROUP_ENGINE,
	CFG_GROUP_TASK,
	__CFG_GROUP_CNT
};

struct cfg_section {
	enum cfg_group group;
	const char *path;	/* file name for messages (owned by cfg_file) */
	unsigned int line;	/* line of the [group] header */
	GKeyFile *keys;		/* exactly one group */
	GHashTable *key_lines;	/* key -> line (GUINT_TO_POINTER) */
	GHashTable *consumed;	/* keys read by a getter */
};

struct cfg_file {
	char *path;
	GPtrArray *sections;	/* struct cfg_section *, in file order */
};

const char *cfg_group_name(enum cfg_group group);

/* Split and parse; on error returns -EINVAL with the reason in err. */
int cfg_file_parse(const char *path, const char *text, size_t len,
		   struct cfg_file **out, GString *err);
void cfg_file_free(struct cfg_file *file);

/*
 * Typed getters: return 0 when found and valid, -ENOENT when absent
 * (an error only if required, then also described in err), -EINVAL when
 * present but invalid (described in err).
 */
int cfg_get_string(struct cfg_section *sec, const char *key, bool required,
		   size_t max_len, char *out, GString *err);
/*
 * A project, engine or task name: 1 to CFG_NAME_MAX printable characters
 * of valid UTF-8 (etmem_name_check()); out holds CFG_NAME_SIZE bytes.
 */
int cfg_get_name(struct cfg_section *sec, const char *key, bool required,
		 char out[CFG_NAME_SIZE], GString *err);
int cfg_get_uint(struct cfg_section *sec, const char *key, bool required,
		 unsigned long min, unsigned long max, unsigned long *out,
		 GString *err);
int cfg_get_bool(struct cfg_section *sec, const char *key, bool required,
		 bool *out, GString *err);
int cfg_get_size(struct cfg_section *sec, const char *key, bool required,
		 uint64_t *out, GString *err);
/* One of the NULL-terminated choices; *out is its index. */
int cfg_get_choice(struct cfg_section *sec, const char *key, bool required,
		   const char *const *choices, unsigned int *out, GString *err);

/* Marks a key as used without reading it (for aliases and private keys). */
void cfg_consume(struct cfg_section *sec, const char *key);
bool cfg_has_key(struct cfg_section *sec, const char *key);
bool cfg_is_consumed(struct cfg_section *sec, const char *key);
/*
 * -EINVAL and a message naming the first key that nobody consumed (keys of
 * upstream features not built here are named as such).
 */
int cfg_check_consumed(struct cfg_section *sec, GString *err);

/* Appends "FILE:LINE: [group] " for key (or the header when key NULL). */
void cfg_error_prefix(struct cfg_section *sec, const char *key, GString *err);

/* Parsers shared with tests: 0 or -EINVAL. */
int cfg_parse_size(const char *text, uint64_t *bytes);
bool cfg_valid_comm(const char *name);

#endif /* ETMEMD_CONFIG_H */
