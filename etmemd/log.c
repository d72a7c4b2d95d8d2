// SPDX-License-Identifier: GPL-2.0
#include <glib.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "etmem_text.h"
#include "log.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

static enum log_level log_min_level = LOG_LEVEL_INFO;
static bool log_to_stderr = true;
static bool log_to_journal;
static const char *log_ident = "etmemd";

static const int syslog_prio[] = {
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_ERROR] = LOG_ERR,
};

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == LOG_LEVEL_ERROR + 1,
	       "one name per log level");

static const GLogLevelFlags glib_levels[] = {
	[LOG_LEVEL_DEBUG] = G_LOG_LEVEL_DEBUG,
	[LOG_LEVEL_INFO] = G_LOG_LEVEL_INFO,
	[LOG_LEVEL_WARN] = G_LOG_LEVEL_WARNING,
	[LOG_LEVEL_ERROR] = G_LOG_LEVEL_CRITICAL,
};

void log_init(const char *ident, enum log_level min_level, bool to_stderr)
{
	log_min_level = min_level;
	log_to_stderr = to_stderr;
	log_ident = ident;
	log_to_journal = access(JOURNAL_SOCKET, W_OK) == 0;
	openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_stderr(bool to_stderr)
{
	log_to_stderr = to_stderr;
}

/* The journal gets the fields; syslog and stderr the text alone. */
static void log_emit(enum log_level level, const struct log_ctx *ctx, const char *raw)
{
	/* Names are checked, process names and paths are not: escape them all. */
	char *text = etmem_escape(raw);

	if (log_to_journal) {
		char pid[16], cycle[24], prio[4];
		GLogField fields[9];
		size_t n = 0;

		snprintf(prio, sizeof(prio), "%d", syslog_prio[level]);
		fields[n++] = (GLogField){ "MESSAGE", text, -1 };
		fields[n++] = (GLogField){ "PRIORITY", prio, -1 };
		fields[n++] = (GLogField){ "SYSLOG_IDENTIFIER", log_ident, -1 };
		if (ctx && ctx->project)
			fields[n++] = (GLogField){ "PROJECT", ctx->project, -1 };
		if (ctx && ctx->engine)
			fields[n++] = (GLogField){ "ENGINE", ctx->engine, -1 };
		if (ctx && ctx->task)
			fields[n++] = (GLogField){ "TASK", ctx->task, -1 };
		if (ctx && ctx->pid) {
			snprintf(pid, sizeof(pid), "%d", (int)ctx->pid);
			fields[n++] = (GLogField){ "PID", pid, -1 };
		}
		if (ctx && ctx->cycle) {
			snprintf(cycle, sizeof(cycle), "%" PRIu64, ctx->cycle);
			fields[n++] = (GLogField){ "CYCLE", cycle, -1 };
		}
		if (g_log_writer_journald(glib_levels[level], fields, n, NULL) !=
		    G_LOG_WRITER_HANDLED)
			syslog(syslog_prio[level], "%s", text);
	} else {
		syslog(syslog_prio[level], "%s", text);
	}
	/* One fprintf per line keeps lines of worker threads whole. */
	if (log_to_stderr)
		fprintf(stderr, "etmemd[%s]: %s\n", level_names[level], text);
	g_free(text);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level < log_min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_emit(level, NULL, buf);
}

void log_ctx_msg(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level < log_min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_emit(level, ctx, buf);
}

struct limit {
	time_t window_start;
	unsigned int suppressed;
};

static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *limits;	/* "kind project/engine/task" -> struct limit */

void log_warn_limited(const char *kind, const struct log_ctx *ctx, const char *fmt, ...)
{
	struct timespec now;
	struct limit *lim;
	unsigned int suppressed = 0;
	char *key, buf[1024];
	bool pass = true;
	va_list ap;

	if (LOG_LEVEL_WARN < log_min_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	key = g_strdup_printf("%s %s/%s/%s", kind, ctx && ctx->project ? ctx->project : "",
			      ctx && ctx->engine ? ctx->engine : "",
			      ctx && ctx->task ? ctx->task : "");
	pthread_mutex_lock(&limits_lock);
	if (!limits)
		limits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	lim = g_hash_table_lookup(limits, key);
	if (!lim) {
		lim = g_new0(struct limit, 1);
		g_hash_table_insert(limits, key, lim);
		key = NULL;
		lim->window_start = now.tv_sec;
	} else if (now.tv_sec - lim->window_start < LOG_LIMIT_S) {
		lim->suppressed++;
		pass = false;
	} else {
		suppressed = lim->suppressed;
		lim->suppressed = 0;
		lim->window_start = now.tv_sec;
	}
	pthread_mutex_unlock(&limits_lock);
	g_free(key);
	if (!pass)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (suppressed)
		log_ctx_msg(LOG_LEVEL_WARN, ctx, "%s (and %u more like it in the last %d s, not logged)",
			    buf, suppressed, LOG_LIMIT_S);
	else
		log_ctx_msg(LOG_LEVEL_WARN, ctx, "%s", buf);
}
