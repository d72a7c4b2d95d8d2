// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration directory (etmemd -c DIR, default
 * /etc/etmem/etmemd.d): every DIR/NAME.conf is added at start as if by
 * "etmem obj add"; SIGHUP reads the directory again and adds new files,
 * deletes the objects of removed ones and replaces changed ones. A file
 * that fails is logged and skipped; a changed file that fails leaves its
 * previous version in place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "confdir.h"
#include "config.h"
#include "log.h"
#include "objects.h"

static char *conf_dir;
static GHashTable *loaded;	/* file name -> GString * text now applied */

int confdir_init(const char *dir)
{
	conf_dir = g_strdup(dir);
	loaded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return 0;
}

static gint name_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular *.conf entries (no hidden ones). */
static GPtrArray *list_dir(int *err)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	struct dirent *de;
	DIR *d = opendir(conf_dir);

	*err = 0;
	if (!d) {
		*err = -errno;
		return names;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !g_str_has_suffix(de->d_name, ".conf"))
			continue;
		g_ptr_array_add(names, g_strdup(de->d_name));
	}
	closedir(d);
	g_ptr_array_sort(names, name_cmp);
	return names;
}

static int read_conf(const char *path, GString *text, GString *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int ret;

	if (fd < 0) {
		ret = -errno;
		g_string_printf(err, "%s: cannot open: %s", path, g_strerror(-ret));
		return ret;
	}
	ret = cfg_read_fd(fd, path, text, err);
	close(fd);
	return ret;
}

/* Logs the daemon's reply line by line. */
static void log_reply(bool error, const char *what, const char *reply)
{
	gchar **lines = g_strsplit(reply, "\n", -1);

	for (gchar **l = lines; *l; l++) {
		/* Parser messages name the file already. */
		const char *sep = g_str_has_prefix(*l, what) ? NULL : ": ";

		if (!**l)
			continue;
		if (error)
			log_err("%s%s%s", sep ? what : "", sep ? sep : "", *l);
		else
			log_info("%s%s%s", sep ? what : "", sep ? sep : "", *l);
	}
	g_strfreev(lines);
}

static bool listed(GPtrArray *names, const char *name)
{
	for (guint i = 0; i < names->len; i++)
		if (!strcmp(names->pdata[i], name))
			return true;
	return false;
}

static void remove_gone(GPtrArray *names)
{
	GHashTableIter it;
	gpointer key, val;
	GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);

	g_hash_table_iter_init(&it, loaded);
	while (g_hash_table_iter_next(&it, &key, &val))
		if (!listed(names, key))
			g_ptr_array_add(gone, g_strdup(key));
	g_ptr_array_sort(gone, name_cmp);
	for (guint i = 0; i < gone->len; i++) {
		const char *name = gone->pdata[i];
		GString *text = g_hash_table_lookup(loaded, name);
		char *path = g_build_filename(conf_dir, name, NULL);
		GString *reply = g_string_new(NULL);

		if (objects_remove(path, text->str, text->len, reply))
			log_reply(true, path, reply->str);
		else
			log_reply(false, path, reply->str);
		log_info("%s: removed from %s: its objects are deleted", name, conf_dir);
		g_hash_table_remove(loaded, name);
		g_string_free(text, TRUE);
		g_string_free(reply, TRUE);
		g_free(path);
	}
	g_ptr_array_free(gone, TRUE);
}

static void load_one(const char *name, struct confdir_stats *st)
{
	char *path = g_build_filename(conf_dir, name, NULL);
	GString *old = g_hash_table_lookup(loaded, name);
	GString *text = g_string_new(NULL);
	GString *reply = g_string_new(NULL);
	int ret = read_conf(path, text, reply);

	if (ret) {
		log_err("%s%s", reply->str, old ? " (its previous version stays)" : " (skipped)");
		st->failed++;
	} else if (old && old->len == text->len && !memcmp(old->str, text->str, text->len)) {
		st->unchanged++;
	} else if (old) {
		ret = objects_replace(path, old->str, old->len, text->str, text->len, reply);
		if (ret) {
			log_reply(true, path, reply->str);
			log_err("%s: changed but not valid: its previous version stays", path);
			st->failed++;
		} else {
			log_reply(false, path, reply->str);
			log_info("%s: changed: replaced", path);
			g_hash_table_insert(loaded, g_strdup(name), text);
			g_string_free(old, TRUE);
			text = NULL;
			st->changed++;
		}
	} else {
		ret = objects_add(path, text->str, text->len, reply);
		if (ret) {
			log_reply(true, path, reply->str);
			log_err("%s: skipped", path);
			st->failed++;
		} else {
			log_reply(false, path, reply->str);
			g_hash_table_insert(loaded, g_strdup(name), text);
			text = NULL;
			st->added++;
		}
	}
	if (text)
		g_string_free(text, TRUE);
	g_string_free(reply, TRUE);
	g_free(path);
}

int confdir_load(struct confdir_stats *st)
{
	GPtrArray *names;
	int ret;

	memset(st, 0, sizeof(*st));
	if (!conf_dir)
		return 0;
	st->removed = g_hash_table_size(loaded);
	names = list_dir(&ret);
	if (ret) {
		/* A directory that cannot be read leaves everything as it is. */
		if (ret == -ENOENT)
			log_info("configuration directory %s does not exist: nothing to load",
				 conf_dir);
		else
			log_err("configuration directory %s: %s", conf_dir, g_strerror(-ret));
		g_ptr_array_free(names, TRUE);
		st->removed = 0;
		return ret;
	}
	remove_gone(names);
	st->removed -= g_hash_table_size(loaded);
	for (guint i = 0; i < names->len; i++)
		load_one(names->pdata[i], st);
	g_ptr_array_free(names, TRUE);
	log_info("configuration directory %s: %u added, %u changed, %u removed, %u unchanged, %u failed",
		 conf_dir, st->added, st->changed, st->removed, st->unchanged, st->failed);
	return 0;
}

static void free_text(gpointer key, gpointer val, gpointer data)
{
	g_string_free(val, TRUE);
}

void confdir_free(void)
{
	if (loaded) {
		g_hash_table_foreach(loaded, free_text, NULL);
		g_hash_table_destroy(loaded);
	}
	loaded = NULL;
	g_free(conf_dir);
	conf_dir = NULL;
}
