/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition format (HELP and TYPE lines, one sample per
 * line, labels project/engine/task) from the JSON of "project show -j".
 * One converter for `etmem metrics` and `etmemd --metrics-file`, so both
 * print the same metrics.
 */
#ifndef ETMEM_METRICS_H
#define ETMEM_METRICS_H

#include <glib.h>

/* Returns the metrics text (g_free() it), or NULL with @error set. */
char *etmem_metrics_from_show_json(const char *json, GError **error);

#endif /* ETMEM_METRICS_H */
