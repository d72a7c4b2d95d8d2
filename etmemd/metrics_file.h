/* SPDX-License-Identifier: GPL-2.0 */
/*
 * etmemd --metrics-file PATH: the Prometheus metrics of `etmem metrics`,
 * written by the daemon itself every --metrics-interval seconds, for
 * node_exporter's textfile collector. Each write replaces the file
 * atomically (a temporary file in the same directory, then rename()).
 */
#ifndef ETMEMD_METRICS_FILE_H
#define ETMEMD_METRICS_FILE_H

/* Writes now and then every @interval_s; 0 or -errno. Loop thread. */
int metrics_file_start(const char *path, unsigned int interval_s);
void metrics_file_stop(void);

#endif /* ETMEMD_METRICS_FILE_H */
