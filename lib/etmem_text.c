// SPDX-License-Identifier: GPL-2.0
/* Name rule and escaping of unchecked text (see etmem_text.h). */
#include <errno.h>
#include <string.h>

#include "etmem_text.h"

void etmem_escape_append(GString *out, const char *s, size_t len, bool keep_lines)
{
	const char *end = s + len;

	while (s < end) {
		gunichar c = g_utf8_get_char_validated(s, end - s);

		if (c == (gunichar)-1 || c == (gunichar)-2 || c == 0 ||
		    (!g_unichar_isprint(c) && !(keep_lines && (c == '\n' || c == '\t')))) {
			/* Invalid sequences and control characters: byte by byte. */
			size_t n = c == (gunichar)-1 || c == (gunichar)-2 || c == 0 ? 1 :
				   (size_t)(g_utf8_next_char(s) - s);

			for (size_t i = 0; i < n; i++)
				g_string_append_printf(out, "\\x%02X", (unsigned char)s[i]);
			s += n;
			continue;
		}
		g_string_append_len(out, s, g_utf8_next_char(s) - s);
		s = g_utf8_next_char(s);
	}
}

char *etmem_escape(const char *s)
{
	GString *out = g_string_sized_new(strlen(s));

	etmem_escape_append(out, s, strlen(s), false);
	return g_string_free(out, FALSE);
}

int etmem_name_check(const char *s, size_t max_chars, GString *why)
{
	const char *bad;
	size_t n = 0;

	if (!g_utf8_validate(s, -1, &bad)) {
		g_string_append_printf(why, "is not valid UTF-8 (byte %zu is 0x%02X)",
				       (size_t)(bad - s) + 1, (unsigned char)*bad);
		return -EINVAL;
	}
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		n++;
		if (!g_unichar_isprint(c)) {
			g_string_append_printf(why, "has a%s character U+%04X at character %zu (allowed: %s)",
					       g_unichar_iscntrl(c) ? " control" : " non-printable",
					       (unsigned int)c, n, ETMEM_NAME_RULE);
			return -EINVAL;
		}
	}
	if (n == 0 || n > max_chars) {
		g_string_append_printf(why, "must be 1 to %zu characters long (it has %zu)", max_chars, n);
		return -EINVAL;
	}
	return 0;
}
