/* SPDX-License-Identifier: GPL-2.0 */
/* etmemd logging: syslog always, stderr too while in the foreground. */
#ifndef ETMEMD_LOG_H
#define ETMEMD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

void log_init(const char *ident, enum log_level min_level, bool to_stderr);
void log_set_stderr(bool to_stderr);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_err(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif /* ETMEMD_LOG_H */
