/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text that reaches a terminal, a log or a JSON document: the name rule
 * for project, engine and task names, and escaping of everything that was
 * not checked against it.
 */
#ifndef ETMEM_TEXT_H
#define ETMEM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/*
 * Append len bytes of s to out; every byte that is not part of a valid,
 * printable UTF-8 character becomes \xHH (newlines and tabs are kept
 * when keep_lines is true). Backslashes are kept as they are.
 */
void etmem_escape_append(GString *out, const char *s, size_t len, bool keep_lines);

/* s escaped as above (no newlines kept), to be g_free()d. */
char *etmem_escape(const char *s);

/*
 * The name rule: 1 to max_chars characters of valid UTF-8, every one
 * printable (no control or format characters). 0, or -EINVAL with the
 * reason appended to why ("is not valid UTF-8 (byte 3)", ...).
 */
int etmem_name_check(const char *s, size_t max_chars, GString *why);

/* Human text of the rule for messages and help. */
#define ETMEM_NAME_RULE "printable characters of valid UTF-8, no control characters"

#endif /* ETMEM_TEXT_H */
