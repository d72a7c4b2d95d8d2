// SPDX-License-Identifier: GPL-2.0
/* Text or JSON from the same calls; see etmem_out.h. */
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "etmem_out.h"

struct etmem_out {
	JsonBuilder *builder;	/* JSON; NULL for text */
	GString *text;
	unsigned int depth;	/* objects and arrays open, the top one included */
	guint64 arrays;		/* bit n: the container at depth n+1 is an array */
};

static bool in_array(const struct etmem_out *out)
{
	return out->depth && (out->arrays >> (out->depth - 1)) & 1;
}

/*
 * Inside an object a member name first; inside an array none. A field
 * without a key inside an object is for text only: false, skip it.
 */
static bool member(struct etmem_out *out, const char *key)
{
	if (in_array(out))
		return true;
	if (!key)
		return false;
	json_builder_set_member_name(out->builder, key);
	return true;
}

static void push(struct etmem_out *out, bool array)
{
	g_assert(out->depth < 64);
	out->arrays &= ~(1ULL << out->depth);
	out->arrays |= (guint64)array << out->depth;
	out->depth++;
}

struct etmem_out *etmem_out_new(bool json)
{
	struct etmem_out *out = g_new0(struct etmem_out, 1);

	out->text = g_string_new(NULL);
	if (json) {
		out->builder = json_builder_new();
		json_builder_begin_object(out->builder);
		json_builder_set_member_name(out->builder, "format_version");
		json_builder_add_int_value(out->builder, ETMEM_OUT_FORMAT_VERSION);
		push(out, false);
	}
	return out;
}

bool etmem_out_is_json(const struct etmem_out *out)
{
	return out->builder != NULL;
}

char *etmem_out_finish(struct etmem_out *out)
{
	char *result, *data;

	if (out->builder) {
		JsonGenerator *gen = json_generator_new();
		JsonNode *root;

		/* Callers close their arrays; what is left open are objects. */
		while (out->depth--)
			json_builder_end_object(out->builder);
		root = json_builder_get_root(out->builder);
		json_generator_set_root(gen, root);
		data = json_generator_to_data(gen, NULL);
		result = g_strconcat(data, "\n", NULL);
		g_free(data);
		json_node_unref(root);
		g_object_unref(gen);
		g_object_unref(out->builder);
		g_string_free(out->text, TRUE);
	} else {
		result = g_string_free(out->text, FALSE);
	}
	g_free(out);
	return result;
}

void etmem_out_open_object(struct etmem_out *out, const char *key)
{
	if (!out->builder)
		return;
	member(out, key);
	json_builder_begin_object(out->builder);
	push(out, false);
}

void etmem_out_close_object(struct etmem_out *out)
{
	if (!out->builder)
		return;
	json_builder_end_object(out->builder);
	out->depth--;
}

void etmem_out_open_array(struct etmem_out *out, const char *key)
{
	if (!out->builder)
		return;
	member(out, key);
	json_builder_begin_array(out->builder);
	push(out, true);
}

void etmem_out_close_array(struct etmem_out *out)
{
	if (!out->builder)
		return;
	json_builder_end_array(out->builder);
	out->depth--;
}

static void text_printf(struct etmem_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_printf(struct etmem_out *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_string_append_vprintf(out->text, fmt, ap);
	va_end(ap);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void etmem_out_str(struct etmem_out *out, const char *key, const char *fmt, const char *val)
{
	if (out->builder) {
		char *valid = g_utf8_make_valid(val, -1);

		if (member(out, key))
			json_builder_add_string_value(out->builder, valid);
		g_free(valid);
	} else if (fmt) {
		char *shown = etmem_out_escape(val);

		text_printf(out, fmt, shown);
		g_free(shown);
	}
}

void etmem_out_uint(struct etmem_out *out, const char *key, const char *fmt, uint64_t val)
{
	if (out->builder) {
		/* JSON numbers above 2^63 would need a string; none get there. */
		if (member(out, key))
			json_builder_add_int_value(out->builder, (gint64)MIN(val, (uint64_t)G_MAXINT64));
	} else if (fmt) {
		text_printf(out, fmt, val);
	}
}

void etmem_out_int(struct etmem_out *out, const char *key, const char *fmt, int64_t val)
{
	if (out->builder) {
		if (member(out, key))
			json_builder_add_int_value(out->builder, val);
	} else if (fmt) {
		text_printf(out, fmt, val);
	}
}

void etmem_out_double(struct etmem_out *out, const char *key, const char *fmt, double val)
{
	if (out->builder) {
		if (member(out, key))
			json_builder_add_double_value(out->builder, val);
	} else if (fmt) {
		text_printf(out, fmt, val);
	}
}

void etmem_out_bool(struct etmem_out *out, const char *key, const char *fmt, bool val)
{
	if (out->builder) {
		if (member(out, key))
			json_builder_add_boolean_value(out->builder, val);
	} else if (fmt) {
		text_printf(out, fmt, val ? "yes" : "no");
	}
}

void etmem_out_size(struct etmem_out *out, const char *key, const char *fmt, uint64_t bytes)
{
	if (out->builder) {
		etmem_out_uint(out, key, NULL, bytes);
	} else if (fmt) {
		char *size = etmem_out_format_size(bytes);

		text_printf(out, fmt, size);
		g_free(size);
	}
}

void etmem_out_text(struct etmem_out *out, const char *fmt, ...)
{
	va_list ap;

	if (out->builder)
		return;
	va_start(ap, fmt);
	g_string_append_vprintf(out->text, fmt, ap);
	va_end(ap);
}

#pragma GCC diagnostic pop

char *etmem_out_format_size(uint64_t bytes)
{
	char *size = g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
	char *nbsp;

	/* U+00A0 is two bytes in UTF-8; a space and a shift fit in them. */
	while ((nbsp = strstr(size, "\xc2\xa0"))) {
		*nbsp = ' ';
		memmove(nbsp + 1, nbsp + 2, strlen(nbsp + 2) + 1);
	}
	return size;
}

char *etmem_out_escape(const char *s)
{
	GString *shown = g_string_new(NULL);

	while (*s) {
		gunichar c = g_utf8_get_char_validated(s, -1);
		const char *next = c < 0x110000 ? g_utf8_next_char(s) : s + 1;

		if (c == '\\')
			g_string_append(shown, "\\\\");
		else if (c >= 0x110000 || !g_unichar_isprint(c))
			for (const char *b = s; b < next; b++)
				g_string_append_printf(shown, "\\x%02x", (unsigned char)*b);
		else
			g_string_append_len(shown, s, next - s);
		s = next;
	}
	return g_string_free(shown, FALSE);
}
