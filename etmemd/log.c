// SPDX-License-Identifier: GPL-2.0
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>

#include "etmem_text.h"
#include "log.h"

static enum log_level log_min_level = LOG_LEVEL_INFO;
static bool log_to_stderr = true;

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

void log_init(const char *ident, enum log_level min_level, bool to_stderr)
{
	log_min_level = min_level;
	log_to_stderr = to_stderr;
	openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_stderr(bool to_stderr)
{
	log_to_stderr = to_stderr;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024], *safe;
	va_list ap;

	if (level < log_min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Names are checked, process names and paths are not: escape them all. */
	safe = etmem_escape(buf);
	syslog(syslog_prio[level], "%s", safe);
	/* One fprintf per line keeps lines of worker threads whole. */
	if (log_to_stderr)
		fprintf(stderr, "etmemd[%s]: %s\n", level_names[level], safe);
	g_free(safe);
}
