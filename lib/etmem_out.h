/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One output path for text and JSON: each call prints one field in
 * whichever form the output was opened for, so the two never drift apart
 * (as iproute2's json_print.h). JSON is built with json-glib, is always
 * valid UTF-8 and starts with "format_version"; text shows sizes for
 * people (KiB, MiB, ...) where JSON keeps bytes.
 *
 * In the calls below, @key names the JSON member (ignored inside an array
 * and in text) and @fmt is the printf format of the text form (NULL: the
 * field appears in JSON only).
 */
#ifndef ETMEM_OUT_H
#define ETMEM_OUT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Bump when a JSON member changes meaning or goes away. */
#define ETMEM_OUT_FORMAT_VERSION	1

struct etmem_out;

/* A new output; in JSON the top-level object is open already. */
struct etmem_out *etmem_out_new(bool json);
bool etmem_out_is_json(const struct etmem_out *out);
/* Closes what is open, frees @out, returns the text (g_free() it). */
char *etmem_out_finish(struct etmem_out *out);

void etmem_out_open_object(struct etmem_out *out, const char *key);
void etmem_out_close_object(struct etmem_out *out);
void etmem_out_open_array(struct etmem_out *out, const char *key);
void etmem_out_close_array(struct etmem_out *out);

void etmem_out_str(struct etmem_out *out, const char *key, const char *fmt, const char *val);
void etmem_out_uint(struct etmem_out *out, const char *key, const char *fmt, uint64_t val);
void etmem_out_int(struct etmem_out *out, const char *key, const char *fmt, int64_t val);
void etmem_out_double(struct etmem_out *out, const char *key, const char *fmt, double val);
void etmem_out_bool(struct etmem_out *out, const char *key, const char *fmt, bool val);
/* Bytes: a number in JSON, "12.0 MiB" through the %s of @fmt in text. */
void etmem_out_size(struct etmem_out *out, const char *key, const char *fmt, uint64_t bytes);
/* Text only (layout, headers); nothing in JSON. */
void etmem_out_text(struct etmem_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Bytes for people: "32.0 MiB" (IEC units, g_format_size_full), with a
 * plain space where GLib puts a no-break space, so logs and notes stay
 * easy to search. g_free() the result.
 */
char *etmem_out_format_size(uint64_t bytes);

/*
 * A string as text output shows it: bytes that are not printable UTF-8
 * (control characters, invalid sequences) become \xNN, a backslash \\.
 * Every name printed in text goes through here. Returns a new string.
 */
char *etmem_out_escape(const char *s);

#endif /* ETMEM_OUT_H */
