/* SPDX-License-Identifier: GPL-2.0 */
/*
 * etmemd logging. Messages go to the systemd journal when it runs (with
 * the fields PROJECT, ENGINE, TASK, PID and CYCLE where a message is
 * about a task), otherwise to syslog; and to stderr while in the
 * foreground.
 */
#ifndef ETMEMD_LOG_H
#define ETMEMD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* What a message is about; NULL / 0 fields are left out. */
struct log_ctx {
	const char *project;
	const char *engine;
	const char *task;
	pid_t pid;
	uint64_t cycle;
};

void log_init(const char *ident, enum log_level min_level, bool to_stderr);
void log_set_stderr(bool to_stderr);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_ctx_msg(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A warning that may repeat every cycle: at most one per LOG_LIMIT_S
 * seconds for each @kind and task of @ctx; the next one that passes says
 * how many were left out.
 */
#define LOG_LIMIT_S	60
void log_warn_limited(const char *kind, const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_err(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif /* ETMEMD_LOG_H */
