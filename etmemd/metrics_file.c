// SPDX-License-Identifier: GPL-2.0
/* The metrics file; see metrics_file.h. */
#include <errno.h>
#include <glib.h>

#include "etmem_metrics.h"
#include "log.h"
#include "loop.h"
#include "metrics_file.h"
#include "objects.h"

static struct loop_timer *metrics_timer;
static char *metrics_path;
static unsigned int metrics_interval_s;

/* 0 or -EIO/-EINVAL, GLib's message in @why if not NULL. */
static int metrics_write(GString *why)
{
	GString *json = g_string_new(NULL);
	GError *error = NULL;
	char *text;
	int ret = 0;

	project_show(NULL, true, json);
	text = etmem_metrics_from_show_json(json->str, &error);
	g_string_free(json, TRUE);
	if (!text || !g_file_set_contents_full(metrics_path, text, -1,
					       G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error)) {
		/* The first write's failure is the start's error, not a warning. */
		if (why)
			g_string_assign(why, error->message);
		else
			log_warn_limited("metrics", NULL, "metrics file %s: %s", metrics_path,
					 error->message);
		ret = error->domain == G_FILE_ERROR ? -EIO : -EINVAL;
		g_error_free(error);
	}
	g_free(text);
	return ret;
}

static void metrics_fired(void *arg)
{
	metrics_write(NULL);
	loop_timer_arm(metrics_timer, metrics_interval_s * 1000);
}

int metrics_file_start(const char *path, unsigned int interval_s, GString *why)
{
	int ret;

	metrics_path = g_strdup(path);
	metrics_interval_s = interval_s;
	metrics_timer = loop_timer_new(metrics_fired, NULL);
	if (!metrics_timer) {
		ret = -errno;
		if (why)
			g_string_printf(why, "timer: %s", g_strerror(-ret));
		return ret;
	}
	ret = metrics_write(why);
	if (!ret)
		loop_timer_arm(metrics_timer, interval_s * 1000);
	return ret;
}

void metrics_file_stop(void)
{
	loop_timer_free(metrics_timer);
	metrics_timer = NULL;
	g_free(metrics_path);
	metrics_path = NULL;
}
