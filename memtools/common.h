/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared command line, output and mode handling for the memory tools
 * (procstat, sysstat, paf, pr). Every tool takes the same core options so
 * that scripts can drive them alike.
 */
#ifndef MEMTOOLS_COMMON_H
#define MEMTOOLS_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How a tool gets its data; chosen at start-up, reported by -v. */
enum mt_mode {
	MT_MODE_AUTO,
	MT_MODE_TP_BTF,		/* BTF-typed tracepoints (+ task iterator) */
	MT_MODE_RAW_TP,		/* raw tracepoints with CO-RE probe reads */
	MT_MODE_ITER,		/* BPF task iterator run on demand */
	MT_MODE_PROC,		/* /proc, /sys and tracefs, no BPF */
	__MT_MODE_CNT
};

#define MT_MODE_BIT(m)	(1u << (m))

struct mt_tool {
	const char *name;
	const char *summary;	/* one line for -h */
	const char *columns;	/* what the output columns mean, for -h */
	unsigned int modes;	/* MT_MODE_BIT()s the tool implements */
	bool takes_filters;	/* -p and -c make sense */
	const char *extra_opts;	/* getopt letters beyond the shared ones */
	const char *extra_help;	/* -h lines for those letters */
	/* Handles one extra option; returns 0 or -1 after printing why. */
	int (*parse_extra)(int opt, const char *arg);
	bool takes_buffer;	/* -b: the tool reads events through a ring */
};

struct mt_env {
	double interval_s;	/* seconds between reports */
	bool interval_given;
	long count;		/* reports before exit; 0 = until Ctrl-C */
	int pid;		/* 0 = every process */
	char comm[16];		/* "" = every command name */
	bool raw;		/* plain numbers (kB, pages) instead of K/M/G */
	bool json;		/* one JSON object per line */
	bool timestamps;
	int verbose;		/* -v count; 2 or more shows libbpf messages */
	int header_every;	/* repeat the table header every N rows */
	enum mt_mode mode;	/* requested; tools replace AUTO by what runs */
	unsigned long buffer_kb;	/* -b: event ring size, KiB per CPU */
};

/* -b bounds and default, in KiB per CPU. */
#define MT_BUFFER_KB_MIN	4
#define MT_BUFFER_KB_MAX	262144
#define MT_BUFFER_KB_DEFAULT	8192

extern struct mt_env mt_env;
extern volatile sig_atomic_t mt_exiting;

/* Returns 0 to run, 1 when -h was shown, -1 on a bad command line. */
int mt_parse_args(const struct mt_tool *tool, int argc, char **argv);
const char *mt_mode_name(enum mt_mode mode);
void mt_install_signals(void);
/* Sleeps up to @seconds; false once Ctrl-C (or SIGTERM) arrived. */
bool mt_sleep(double seconds);
/* Routes libbpf's own messages: hidden unless -vv. */
void mt_quiet_libbpf(void);
/* Why BPF cannot run here (not root, no BTF), or NULL when it may. */
const char *mt_bpf_unavailable(void);

/* How a tool can get its data, best first, for mt_choose_mode(). */
struct mt_sources {
	const char *tool;
	const enum mt_mode *bpf_modes;	/* in order of preference */
	size_t nr_bpf_modes;
	/* Loads and attaches the BPF side in @mode: 0 or -errno. */
	int (*bpf_start)(enum mt_mode mode);
	const char *fallback;		/* what MT_MODE_PROC reads, for -v */
	/*
	 * Sets MT_MODE_PROC up, or NULL when it needs nothing. @bpf_why is
	 * why BPF was passed over when the user did not choose -m proc.
	 * Returns 0, or -errno after printing why.
	 */
	int (*fallback_start)(const char *bpf_why);
};
/*
 * Starts the first source that works, within what -m allows: the mode
 * that runs, or MT_MODE_AUTO after printing why nothing can.
 */
enum mt_mode mt_choose_mode(const struct mt_sources *src);

/* CPUs whose per-CPU counter deltas BPF adds up; 0 (use the shared
 * count only) on machines with more CPUs than the programs loop over. */
unsigned int mt_bpf_nr_cpus(void);

/*
 * Size for a BPF ring buffer map shared by all CPUs: -b KiB times the
 * possible CPUs, rounded up to a power of two (the map requires it),
 * at most 1 GiB.
 */
unsigned int mt_bpf_ring_bytes(void);

struct bpf_object;
/*
 * Runs of @obj's programs the kernel skipped because the program was
 * already running on that CPU (bpf_prog_info.recursion_misses, 5.12+):
 * events the tool never saw at all.
 */
unsigned long long mt_bpf_recursion_misses(struct bpf_object *obj);

/*
 * What a tool could not see, in events, since it started (or over one
 * interval, as a difference of two readings).
 */
struct mt_loss {
	/* Events that never reached user space: BPF ring buffer
	 * reservations that failed, or tracefs ring buffer overruns,
	 * commit overruns and dropped events (per_cpu/cpuN/stats). */
	unsigned long long lost_events;
	/* BPF program runs the kernel skipped (mt_bpf_recursion_misses). */
	unsigned long long recursion_misses;
	/* The totals are counted by the BPF programs before the ring, so
	 * lost_events costs only per-event lines, not totals. */
	bool totals_in_kernel;
	/* Losses could not be read (tracefs stats): completeness unknown. */
	bool uncounted;
	/* Where lost_events were lost, for text; NULL: the mode's ring. */
	const char *lost_where;
};

/* True when the totals count every event: nothing that feeds them lost. */
bool mt_loss_complete(const struct mt_loss *l);
/* Adds lost_events, recursion_misses and complete to the JSON line. */
void mt_loss_json(const struct mt_loss *l);
/* "nothing lost", or what was lost and whether the totals are complete. */
void mt_loss_text(char *buf, size_t len, const struct mt_loss *l);

/* "12.3M" style, or plain kB with -r. */
void mt_fmt_kb(char *buf, size_t len, unsigned long long kb);
/* Human count for pages: "1.2k", or plain with -r. */
void mt_fmt_count(char *buf, size_t len, unsigned long long n);
void mt_fmt_clock(char *buf, size_t len);	/* HH:MM:SS of now */
double mt_epoch(void);			/* seconds since 1970, µs precision */
unsigned long long mt_monotonic_ns(void);
/* Starts a JSON line with "time", "ts" and "tool" members. */
void mt_json_begin(FILE *out, const char *tool);
void mt_json_str(FILE *out, const char *key, const char *val);
void mt_json_u64(FILE *out, const char *key, unsigned long long val);
void mt_json_end(FILE *out);
void mt_json_bool(FILE *out, const char *key, bool val);
/* Signed numbers, and nesting: @key NULL inside an array. */
void mt_json_int(FILE *out, const char *key, long long val);
void mt_json_open(FILE *out, const char *key, bool array);
void mt_json_close(FILE *out, bool array);
/* True when the header should be printed before this data row. */
bool mt_header_due(unsigned long *rows);

int mt_read_text(const char *path, char *buf, size_t len);
bool mt_comm_matches(const char *comm);
long mt_page_kb(void);

#endif
