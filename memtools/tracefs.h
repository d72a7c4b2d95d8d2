/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading trace events through a private tracefs instance: the fallback
 * of paf and pr when BPF cannot run. A private instance leaves the
 * system's main trace buffer and other users' events alone.
 */
#ifndef MEMTOOLS_TRACEFS_H
#define MEMTOOLS_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>

struct tracefs_inst {
	char dir[256];		/* .../instances/memtools-TOOL-PID */
	int pipe_fd;
	size_t len;		/* bytes of an incomplete line in buf */
	bool stats_warned;	/* said once that per_cpu stats are unreadable */
	char buf[65536];
};

/* One line of trace_pipe, split into its parts (pointers into the line). */
struct trace_line {
	const char *comm;
	int pid;
	double ts;		/* seconds, trace clock */
	const char *event;
	const char *args;
};

typedef void (*trace_line_fn)(const struct trace_line *line, void *ctx);

int tracefs_open(struct tracefs_inst *t, const char *tool);
/* @event is "system/name"; @filter (may be NULL) uses tracefs syntax. */
int tracefs_enable(struct tracefs_inst *t, const char *event, const char *filter);
/* Waits up to @timeout_ms for lines and hands each to @fn. */
int tracefs_poll(struct tracefs_inst *t, int timeout_ms, trace_line_fn fn, void *ctx);
/* Hands every line already in the ring to @fn (at exit, before the summary). */
int tracefs_drain(struct tracefs_inst *t, trace_line_fn fn, void *ctx);
/*
 * Events the instance's ring lost since it was created, summed over the
 * CPUs' per_cpu/cpuN/stats: "overrun" (overwritten before they were
 * read), "commit overrun" and "dropped events" (buffer full). 0 or
 * -errno, after saying once on stderr that losses cannot be counted.
 */
int tracefs_lost_events(struct tracefs_inst *t, unsigned long long *lost);
void tracefs_close(struct tracefs_inst *t);

/* Applies the -p (thread group) and -c filters to a trace line. */
bool trace_line_wanted(const struct trace_line *l);
/* The number after "key=" in a trace line's arguments, 0 if absent. */
unsigned long long trace_arg(const char *args, const char *key);
bool trace_arg_u64(const char *args, const char *key, unsigned long long *val);
bool trace_arg_str(const char *args, const char *key, char *val, size_t len);

#endif
