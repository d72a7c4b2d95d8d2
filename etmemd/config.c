// SPDX-License-Identifier: GPL-2.0
/* Splitting configuration files into sections and typed key access. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "etmem_text.h"

static const char *const group_names[] = {
	[CFG_GROUP_PROJECT] = "project",
	[CFG_GROUP_ENGINE] = "engine",
	[CFG_GROUP_TASK] = "task",
};

_Static_assert(G_N_ELEMENTS(group_names) == __CFG_GROUP_CNT, "one name per group");

const char *cfg_group_name(enum cfg_group group)
{
	return group < __CFG_GROUP_CNT ? group_names[group] : "?";
}

static void section_free(gpointer data)
{
	struct cfg_section *sec = data;

	if (sec->keys)
		g_key_file_free(sec->keys);
	if (sec->key_lines)
		g_hash_table_destroy(sec->key_lines);
	if (sec->consumed)
		g_hash_table_destroy(sec->consumed);
	g_free(sec);
}

void cfg_file_free(struct cfg_file *file)
{
	if (!file)
		return;
	g_ptr_array_free(file->sections, TRUE);
	g_free(file->path);
	g_free(file);
}

void cfg_error_prefix(struct cfg_section *sec, const char *key, GString *err)
{
	unsigned int line = sec->line;

	if (key && g_hash_table_contains(sec->key_lines, key))
		line = GPOINTER_TO_UINT(g_hash_table_lookup(sec->key_lines, key));
	g_string_append_printf(err, "%s:%u: [%s] ", sec->path, line,
			       cfg_group_name(sec->group));
}

static char *strip(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* A "[name]" line: returns the group or -EINVAL with a message. */
static int parse_header(const char *path, unsigned int line, char *text,
			GString *err)
{
	size_t len = strlen(text);

	if (text[len - 1] != ']') {
		g_string_append_printf(err, "%s:%u: malformed group header '%s' (expected [project], [engine] or [task])",
				       path, line, text);
		return -EINVAL;
	}
	text[len - 1] = '\0';
	for (int g = 0; g < __CFG_GROUP_CNT; g++)
		if (!strcmp(strip(text + 1), group_names[g]))
			return g;
	g_string_append_printf(err, "%s:%u: unknown group [%s] (allowed: [project], [engine], [task])",
			       path, line, strip(text + 1));
	return -EINVAL;
}

static struct cfg_section *section_new(const char *path, enum cfg_group group,
				       unsigned int line)
{
	struct cfg_section *sec = g_new0(struct cfg_section, 1);

	sec->group = group;
	sec->path = path;
	sec->line = line;
	sec->keys = g_key_file_new();
	sec->key_lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sec->consumed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return sec;
}

/* A "key=value" line of the current section; duplicates are refused. */
static int parse_key_line(struct cfg_section *sec, unsigned int line,
			  char *text, GString *body, GString *err)
{
	char *eq = strchr(text, '=');
	char *key;
	gpointer first;

	if (!eq) {
		g_string_append_printf(err, "%s:%u: [%s] '%s' is not a key=value line",
				       sec->path, line, cfg_group_name(sec->group), text);
		return -EINVAL;
	}
	*eq = '\0';
	key = strip(text);
	if (!*key) {
		g_string_append_printf(err, "%s:%u: [%s] empty key before '='",
				       sec->path, line, cfg_group_name(sec->group));
		return -EINVAL;
	}
	first = g_hash_table_lookup(sec->key_lines, key);
	if (first) {
		g_string_append_printf(err, "%s:%u: [%s] key '%s' given twice (first on line %u)",
				       sec->path, line, cfg_group_name(sec->group), key,
				       GPOINTER_TO_UINT(first));
		return -EINVAL;
	}
	g_hash_table_insert(sec->key_lines, g_strdup(key), GUINT_TO_POINTER(line));
	g_string_append_printf(body, "%s=%s\n", key, strip(eq + 1));
	return 0;
}

static int section_load(struct cfg_section *sec, GString *body, GString *err)
{
	GError *gerr = NULL;
	char *text = g_strdup_printf("[%s]\n%s", cfg_group_name(sec->group), body->str);
	int ret = 0;

	if (!g_key_file_load_from_data(sec->keys, text, -1, G_KEY_FILE_NONE, &gerr)) {
		cfg_error_prefix(sec, NULL, err);
		g_string_append_printf(err, "cannot parse section: %s", gerr->message);
		g_error_free(gerr);
		ret = -EINVAL;
	}
	g_free(text);
	return ret;
}

static int finish_section(struct cfg_file *file, struct cfg_section *sec,
			  GString *body, GString *err)
{
	int ret;

	if (!sec)
		return 0;
	ret = section_load(sec, body, err);
	if (ret) {
		section_free(sec);
		return ret;
	}
	g_ptr_array_add(file->sections, sec);
	g_string_truncate(body, 0);
	return 0;
}

static int split_lines(struct cfg_file *file, char *text, GString *err)
{
	struct cfg_section *sec = NULL;
	GString *body = g_string_new(NULL);
	unsigned int line = 0;
	char *save = NULL, *raw;
	int ret = 0;

	/* strtok_r would skip empty lines and lose the count; split by hand. */
	for (raw = text; raw && !ret; raw = save) {
		char *nl = strchr(raw, '\n'), *s;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		line++;
		s = strip(raw);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			int group = parse_header(file->path, line, s, err);

			if (group < 0) {
				ret = group;
				break;
			}
			ret = finish_section(file, sec, body, err);
			sec = section_new(file->path, group, line);
			continue;
		}
		if (!sec) {
			g_string_append_printf(err, "%s:%u: '%s' appears before any group (start with [project], [engine] or [task])",
					       file->path, line, s);
			ret = -EINVAL;
			break;
		}
		ret = parse_key_line(sec, line, s, body, err);
	}
	if (!ret)
		ret = finish_section(file, sec, body, err);
	else if (sec)
		section_free(sec);
	g_string_free(body, TRUE);
	return ret;
}

/*
 * Configuration files are UTF-8 text with tabs and newlines as the only
 * control characters, so nothing a message echoes from them can upset a
 * terminal or a JSON reader.
 */
static int check_text(const char *path, const char *text, size_t len, GString *err)
{
	const char *end = text + len, *bad, *line_start = text;
	unsigned int line = 1;

	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		g_string_append_printf(err, "%s:1: starts with a UTF-8 byte-order mark (bytes EF BB BF); save the file without it",
				       path);
		return -EINVAL;
	}
	if (!g_utf8_validate_len(text, len, &bad))
		end = bad;
	for (const char *p = text; p < end; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '\n') {
			line++;
			line_start = p + 1;
		} else if (c != '\t' && g_unichar_iscntrl(c)) {
			g_string_append_printf(err, "%s:%u: has the control character U+%04X in column %u; configuration files may hold no control characters but tabs and newlines",
					       path, line, (unsigned int)c,
					       (unsigned int)g_utf8_strlen(line_start, p - line_start) + 1);
			return -EINVAL;
		}
	}
	if (end != text + len) {
		g_string_append_printf(err, "%s:%u: byte 0x%02X in column %u is not valid UTF-8; configuration files are UTF-8 text",
				       path, line, (unsigned char)*end,
				       (unsigned int)g_utf8_strlen(line_start, end - line_start) + 1);
		return -EINVAL;
	}
	return 0;
}

int cfg_file_parse(const char *path, const char *text, size_t len,
		   struct cfg_file **out, GString *err)
{
	struct cfg_file *file = g_new0(struct cfg_file, 1);
	char *copy;
	int ret;

	file->path = g_strdup(path);
	file->sections = g_ptr_array_new_with_free_func(section_free);
	if (memchr(text, '\0', len)) {
		g_string_append_printf(err, "%s: contains a NUL byte (not a text file)", path);
		cfg_file_free(file);
		return -EINVAL;
	}
	if (check_text(path, text, len, err)) {
		cfg_file_free(file);
		return -EINVAL;
	}
	copy = g_strndup(text, len);
	ret = split_lines(file, copy, err);
	g_free(copy);
	if (!ret && file->sections->len == 0) {
		g_string_append_printf(err, "%s: no [project], [engine] or [task] group found", path);
		ret = -EINVAL;
	}
	if (ret) {
		cfg_file_free(file);
		return ret;
	}
	*out = file;
	return 0;
}

void cfg_consume(struct cfg_section *sec, const char *key)
{
	if (!g_hash_table_contains(sec->consumed, key))
		g_hash_table_add(sec->consumed, g_strdup(key));
}

bool cfg_has_key(struct cfg_section *sec, const char *key)
{
	return g_hash_table_contains(sec->key_lines, key);
}

bool cfg_is_consumed(struct cfg_section *sec, const char *key)
{
	return g_hash_table_contains(sec->consumed, key);
}

/* Keys of upstream etmem features this daemon does not build. */
static const struct {
	const char *key;
	const char *feature;
} foreign_keys[] = {
	{ "sample_period", "PMU sampling (hardware performance counters)" },
	{ "vma_updata_rate", "PMU sampling (hardware performance counters)" },
	{ "cpu_set_size", "PMU sampling (hardware performance counters)" },
	{ "cooling_interval", "PMU sampling (hardware performance counters)" },
};

int cfg_check_consumed(struct cfg_section *sec, GString *err)
{
	GHashTableIter iter;
	gpointer key, line;
	const char *worst = NULL;
	unsigned int worst_line = 0;

	/* Report the first unknown key by line, so the message is stable. */
	g_hash_table_iter_init(&iter, sec->key_lines);
	while (g_hash_table_iter_next(&iter, &key, &line)) {
		if (g_hash_table_contains(sec->consumed, key))
			continue;
		if (!worst || GPOINTER_TO_UINT(line) < worst_line) {
			worst = key;
			worst_line = GPOINTER_TO_UINT(line);
		}
	}
	if (!worst)
		return 0;
	cfg_error_prefix(sec, worst, err);
	for (size_t i = 0; i < G_N_ELEMENTS(foreign_keys); i++) {
		if (!strcmp(worst, foreign_keys[i].key)) {
			g_string_append_printf(err, "key '%s' belongs to upstream etmem's %s, which this etmem does not have",
					       worst, foreign_keys[i].feature);
			return -EINVAL;
		}
	}
	g_string_append_printf(err, "unknown key '%s'", worst);
	/* Keys are case-sensitive; a known key in another case is a typo. */
	g_hash_table_iter_init(&iter, sec->consumed);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_ascii_strcasecmp(key, worst)) {
			g_string_append_printf(err, " (did you mean '%s'?)", (const char *)key);
			break;
		}
	}
	return -EINVAL;
}

/* Edit distance (insert, delete, substitute) of two short keys, at most 255. */
static unsigned int key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int row[64], prev, tmp;

	if (la >= G_N_ELEMENTS(row) || lb >= G_N_ELEMENTS(row))
		return 255;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1),
				     prev + (g_ascii_tolower(a[i - 1]) != g_ascii_tolower(b[j - 1])));
			prev = tmp;
		}
	}
	return row[lb];
}

/*
 * A required key is missing: a key of the section that no one reads and
 * that differs from it by a letter or two is most likely it, misspelt.
 */
static void missing_key_hint(struct cfg_section *sec, const char *missing, GString *err)
{
	GHashTableIter iter;
	gpointer key, line;

	g_hash_table_iter_init(&iter, sec->key_lines);
	while (g_hash_table_iter_next(&iter, &key, &line)) {
		if (g_hash_table_contains(sec->consumed, key) || strlen(key) < 4 ||
		    key_distance(key, missing) > 2)
			continue;
		g_string_append_printf(err, " (line %u has '%s', which is not a key: '%s' misspelt?)",
				       GPOINTER_TO_UINT(line), (const char *)key, missing);
		return;
	}
}

/* Fetches the raw value and handles "required". Caller g_free()s it. */
static int get_raw(struct cfg_section *sec, const char *key, bool required,
		   char **value, GString *err)
{
	const char *group = cfg_group_name(sec->group);

	cfg_consume(sec, key);
	*value = g_key_file_get_value(sec->keys, group, key, NULL);
	if (*value)
		return 0;
	if (required) {
		cfg_error_prefix(sec, NULL, err);
		g_string_append_printf(err, "missing required key '%s'", key);
		missing_key_hint(sec, key, err);
	}
	return -ENOENT;
}

int cfg_get_string(struct cfg_section *sec, const char *key, bool required,
		   size_t max_len, char *out, GString *err)
{
	char *value;
	int ret = get_raw(sec, key, required, &value, err);

	if (ret)
		return ret;
	if (!*value || strlen(value) > max_len) {
		cfg_error_prefix(sec, key, err);
		if (strlen(value) > max_len + 16)
			g_string_append_printf(err, "%s='%.16s...' must be 1 to %zu bytes long (it has %zu)",
					       key, value, max_len, strlen(value));
		else
			g_string_append_printf(err, "%s='%s' must be 1 to %zu bytes long (it has %zu)",
					       key, value, max_len, strlen(value));
		g_free(value);
		return -EINVAL;
	}
	strcpy(out, value);
	g_free(value);
	return 0;
}

int cfg_get_name(struct cfg_section *sec, const char *key, bool required,
		 char out[CFG_NAME_SIZE], GString *err)
{
	GString *why = g_string_new(NULL);
	char *value;
	int ret = get_raw(sec, key, required, &value, err);

	if (ret)
		goto out;
	ret = etmem_name_check(value, CFG_NAME_MAX, why);
	if (ret) {
		/* A long value is shown in part: the message names the limit. */
		cfg_error_prefix(sec, key, err);
		if (g_utf8_strlen(value, -1) > CFG_NAME_MAX + 16)
			g_string_append_printf(err, "%s='%.*s...' %s", key,
					       (int)(g_utf8_offset_to_pointer(value, 16) - value), value,
					       why->str);
		else
			g_string_append_printf(err, "%s='%s' %s", key, value, why->str);
		goto out;
	}
	g_strlcpy(out, value, CFG_NAME_SIZE);
out:
	g_free(value);
	g_string_free(why, TRUE);
	return ret;
}

int cfg_get_uint(struct cfg_section *sec, const char *key, bool required,
		 unsigned long min, unsigned long max, unsigned long *out,
		 GString *err)
{
	char *value, *end;
	unsigned long long n;
	int ret = get_raw(sec, key, required, &value, err);

	if (ret)
		return ret;
	errno = 0;
	n = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end || errno || n < min || n > max) {
		cfg_error_prefix(sec, key, err);
		g_string_append_printf(err, "%s='%s' is not an integer in %lu..%lu",
				       key, value, min, max);
		g_free(value);
		return -EINVAL;
	}
	*out = n;
	g_free(value);
	return 0;
}

int cfg_get_choice(struct cfg_section *sec, const char *key, bool required,
		   const char *const *choices, unsigned int *out, GString *err)
{
	char *value;
	int ret = get_raw(sec, key, required, &value, err);

	if (ret)
		return ret;
	for (unsigned int i = 0; choices[i]; i++) {
		if (!strcmp(value, choices[i])) {
			*out = i;
			g_free(value);
			return 0;
		}
	}
	cfg_error_prefix(sec, key, err);
	g_string_append_printf(err, "%s='%s' is not allowed (allowed:", key, value);
	for (unsigned int i = 0; choices[i]; i++)
		g_string_append_printf(err, "%s %s", i ? "," : "", choices[i]);
	g_string_append(err, ")");
	g_free(value);
	return -EINVAL;
}

int cfg_get_bool(struct cfg_section *sec, const char *key, bool required,
		 bool *out, GString *err)
{
	static const char *const yes_no[] = { "no", "yes", NULL };
	unsigned int idx;
	int ret = cfg_get_choice(sec, key, required, yes_no, &idx, err);

	if (!ret)
		*out = idx == 1;
	return ret;
}

int cfg_parse_size(const char *text, uint64_t *bytes)
{
	unsigned long long n;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end || (shift && n > (UINT64_MAX >> shift)))
		return -EINVAL;
	*bytes = (uint64_t)n << shift;
	return 0;
}

int cfg_get_size(struct cfg_section *sec, const char *key, bool required,
		 uint64_t *out, GString *err)
{
	char *value;
	int ret = get_raw(sec, key, required, &value, err);

	if (ret)
		return ret;
	if (cfg_parse_size(value, out)) {
		cfg_error_prefix(sec, key, err);
		g_string_append_printf(err, "%s='%s' is not a size (a number of bytes with an optional k, m or g suffix, e.g. 10g)",
				       key, value);
		g_free(value);
		return -EINVAL;
	}
	g_free(value);
	return 0;
}

bool cfg_valid_comm(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CFG_COMM_MAX)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789./%-_") == len;
}

/*
 * The checks every configuration file passes, whoever opened it: a
 * regular file owned by root, mode 0600 or 0400, at most 10 MiB.
 */
int cfg_read_fd(int fd, const char *path, GString *text, GString *reply)
{
	struct stat st;
	mode_t mode;
	char buf[65536];
	ssize_t n;
	off_t off = 0;

	if (fstat(fd, &st)) {
		n = -errno;
		g_string_printf(reply, "%s: %s", path, g_strerror(-n));
		return n;
	}
	mode = st.st_mode & 07777;
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		g_string_printf(reply, "%s: is %s, not a regular file", path,
				S_ISDIR(st.st_mode) ? "a directory" : "a special file");
		return -EINVAL;
	}
	if (st.st_uid != 0) {
		g_string_printf(reply, "%s: owned by uid %u; configuration files must be owned by root",
				path, (unsigned int)st.st_uid);
		return -EPERM;
	}
	if (mode != 0600 && mode != 0400) {
		g_string_printf(reply, "%s: has mode %04o; configuration files must have mode 0600 or 0400",
				path, (unsigned int)mode);
		return -EPERM;
	}
	if (st.st_size > (off_t)CFG_FILE_SIZE_MAX) {
		g_string_printf(reply, "%s: is %lld bytes; configuration files may be at most %u bytes (10 MiB)",
				path, (long long)st.st_size, CFG_FILE_SIZE_MAX);
		return -EFBIG;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		off += n;
		if (off > (off_t)CFG_FILE_SIZE_MAX) {
			g_string_printf(reply, "%s: grew past 10 MiB while being read", path);
			return -EFBIG;
		}
		g_string_append_len(text, buf, n);
	}
	if (n < 0) {
		n = -errno;
		g_string_printf(reply, "%s: %s", path, g_strerror(-n));
		return n;
	}
	return 0;
}
