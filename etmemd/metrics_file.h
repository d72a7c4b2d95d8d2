/* SPDX-License-Identifier: GPL-2.0 */
/*
 * etmemd --metrics-file PATH: the Prometheus metrics of `etmem metrics`,
 * written by the daemon itself every --metrics-interval seconds, for
 * node_exporter's textfile collector. Each write replaces the file
 * atomically (a temporary file in the same directory, then rename()).
 */
#ifndef ETMEMD_METRICS_FILE_H
#define ETMEMD_METRICS_FILE_H

#include <glib.h>

/*
 * Writes now and then every @interval_s; 0, or -EIO (the file could not
 * be written) or -EINVAL (no metrics from the show) with GLib's message,
 * naming the file, in @why (if not NULL). Loop thread.
 */
int metrics_file_start(const char *path, unsigned int interval_s, GString *why);
void metrics_file_stop(void);

#endif /* ETMEMD_METRICS_FILE_H */
