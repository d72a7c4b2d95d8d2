// SPDX-License-Identifier: GPL-2.0
/* Command line, output formatting and start-up checks shared by the tools. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "etmem_out.h"
#include "common.h"

#define MT_BPF_MAX_CPUS 128	/* MT_MAX_CPUS in memtools.bpf.h */

struct mt_env mt_env = {
	.interval_s = 1.0,
	.timestamps = true,
	.header_every = 20,
	.buffer_kb = MT_BUFFER_KB_DEFAULT,
};
volatile sig_atomic_t mt_exiting;

static const char *const mode_names[__MT_MODE_CNT] = {
	[MT_MODE_AUTO] = "auto",
	[MT_MODE_TP_BTF] = "tp_btf",
	[MT_MODE_RAW_TP] = "raw_tp",
	[MT_MODE_ITER] = "iter",
	[MT_MODE_PROC] = "proc",
};
_Static_assert(sizeof(mode_names) / sizeof(mode_names[0]) == __MT_MODE_CNT,
	       "every mode needs a name");

const char *mt_mode_name(enum mt_mode mode)
{
	return mode < __MT_MODE_CNT ? mode_names[mode] : "?";
}

static void usage(const struct mt_tool *t, FILE *out)
{
	int m;

	fprintf(out, "Usage: %s [OPTIONS] [INTERVAL [COUNT]]\n%s\n\n",
		t->name, t->summary);
	fprintf(out,
		"  INTERVAL        seconds between reports (default 1, decimals allowed)\n"
		"  COUNT           number of reports, then exit (default: until Ctrl-C)\n");
	if (t->takes_filters)
		fprintf(out,
			"  -p PID          only this process (thread group id)\n"
			"  -c COMM         only processes whose command name is COMM\n");
	fprintf(out,
		"  -r              raw numbers (kB and pages) instead of K/M/G units\n"
		"  -j              JSON lines: one object per row, raw numbers\n"
		"  -T              no timestamp column\n"
		"  -H ROWS         repeat the table header every ROWS rows (default 20, 0 = once)\n"
		"  -m MODE         data source: auto");
	for (m = MT_MODE_AUTO + 1; m < __MT_MODE_CNT; m++)
		if (t->modes & MT_MODE_BIT(m))
			fprintf(out, ", %s", mode_names[m]);
	fprintf(out, " (default auto:\n"
		"                  the first BPF mode that loads, else proc)\n"
		"  -F              force the fallback without BPF (same as -m proc)\n"
		"  -v              say which mode is in use; twice shows libbpf messages\n");
	if (t->takes_buffer)
		fprintf(out,
			"  -b KIB          event ring buffer, KiB per CPU (default %d, %d..%d): the\n"
			"                  BPF ring holds KIB x CPUs, tracefs gets buffer_size_kb KIB\n",
			MT_BUFFER_KB_DEFAULT, MT_BUFFER_KB_MIN, MT_BUFFER_KB_MAX);
	fprintf(out,
		"  -V              print the version and exit\n"
		"  -h              this help\n");
	if (t->extra_help)
		fputs(t->extra_help, out);
	if (t->columns)
		fprintf(out, "\n%s", t->columns);
}

static int parse_mode(const struct mt_tool *t, const char *arg)
{
	int m;

	for (m = 0; m < __MT_MODE_CNT; m++) {
		if (strcmp(arg, mode_names[m]))
			continue;
		if (m != MT_MODE_AUTO && !(t->modes & MT_MODE_BIT(m)))
			break;
		mt_env.mode = m;
		return 0;
	}
	fprintf(stderr, "%s: unknown mode '%s'; allowed: auto", t->name, arg);
	for (m = MT_MODE_AUTO + 1; m < __MT_MODE_CNT; m++)
		if (t->modes & MT_MODE_BIT(m))
			fprintf(stderr, ", %s", mode_names[m]);
	fputc('\n', stderr);
	return -1;
}

static int parse_positive_long(const char *tool, const char *what,
			       const char *arg, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v <= 0) {
		fprintf(stderr, "%s: %s must be a positive integer, not '%s'\n",
			tool, what, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_buffer_kb(const char *tool, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < MT_BUFFER_KB_MIN || v > MT_BUFFER_KB_MAX) {
		fprintf(stderr, "%s: -b KIB must be an integer from %d to %d (KiB per CPU), not '%s'\n",
			tool, MT_BUFFER_KB_MIN, MT_BUFFER_KB_MAX, arg);
		return -1;
	}
	mt_env.buffer_kb = v;
	return 0;
}

static int parse_positionals(const struct mt_tool *t, int argc, char **argv)
{
	char *end;
	double iv;

	if (argc - optind > 2) {
		fprintf(stderr, "%s: too many arguments ('%s'); expected [INTERVAL [COUNT]]\n",
			t->name, argv[optind + 2]);
		return -1;
	}
	if (optind < argc) {
		errno = 0;
		iv = strtod(argv[optind], &end);
		if (errno || *end || end == argv[optind] || iv < 0.01 || iv > 86400) {
			fprintf(stderr, "%s: INTERVAL must be seconds between 0.01 and 86400, not '%s'\n",
				t->name, argv[optind]);
			return -1;
		}
		mt_env.interval_s = iv;
		mt_env.interval_given = true;
	}
	if (optind + 1 < argc)
		return parse_positive_long(t->name, "COUNT", argv[optind + 1],
					   &mt_env.count);
	return 0;
}

int mt_parse_args(const struct mt_tool *t, int argc, char **argv)
{
	char optstring[64];
	long v;
	int opt;

	snprintf(optstring, sizeof(optstring), "+%s%srjTH:m:FvVh%s",
		 t->takes_filters ? "p:c:" : "", t->takes_buffer ? "b:" : "",
		 t->extra_opts ? t->extra_opts : "");
	opterr = 0;
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_positive_long(t->name, "PID", optarg, &v))
				return -1;
			mt_env.pid = (int)v;
			break;
		case 'c':
			if (strlen(optarg) >= sizeof(mt_env.comm)) {
				fprintf(stderr, "%s: COMM '%s' is longer than the kernel's 15 characters\n",
					t->name, optarg);
				return -1;
			}
			strcpy(mt_env.comm, optarg);
			break;
		case 'r': mt_env.raw = true; break;
		case 'j': mt_env.json = true; break;
		case 'T': mt_env.timestamps = false; break;
		case 'H':
			if (strcmp(optarg, "0") == 0) {
				mt_env.header_every = 0;
				break;
			}
			if (parse_positive_long(t->name, "ROWS", optarg, &v))
				return -1;
			mt_env.header_every = (int)v;
			break;
		case 'b':
			if (parse_buffer_kb(t->name, optarg))
				return -1;
			break;
		case 'm':
			if (parse_mode(t, optarg))
				return -1;
			break;
		case 'F': mt_env.mode = MT_MODE_PROC; break;
		case 'v': mt_env.verbose++; break;
		case 'V':
			printf("%s %s\n", t->name, ETMEM_VERSION);
			return 1;
		case 'h':
			usage(t, stdout);
			return 1;
		case '?':
			if (optopt && strchr(optstring, optopt))
				fprintf(stderr, "%s: option -%c needs a value\n",
					t->name, optopt);
			else
				fprintf(stderr, "%s: unknown option -%c (see %s -h)\n",
					t->name, optopt ? optopt : '?', t->name);
			return -1;
		default:
			if (!t->parse_extra || t->parse_extra(opt, optarg))
				return -1;
		}
	}
	return parse_positionals(t, argc, argv);
}

static void on_signal(int sig)
{
	mt_exiting = 1;
}

void mt_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool mt_sleep(double seconds)
{
	unsigned long long end = mt_monotonic_ns() + (unsigned long long)(seconds * 1e9);
	unsigned long long now;
	struct timespec ts;

	/* Short naps so a signal is noticed quickly even if it hits
	 * between the check and the nanosleep call. */
	while (!mt_exiting && (now = mt_monotonic_ns()) < end) {
		unsigned long long left = end - now;

		if (left > 100000000ULL)
			left = 100000000ULL;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
	return !mt_exiting;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (mt_env.verbose < 2)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void mt_quiet_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

const char *mt_bpf_unavailable(void)
{
	if (geteuid() != 0)
		return "BPF needs root (CAP_BPF and CAP_PERFMON)";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return "the kernel has no BTF (/sys/kernel/btf/vmlinux is missing)";
	return NULL;
}

enum mt_mode mt_choose_mode(const struct mt_sources *src)
{
	const char *why = NULL;
	size_t i;
	int err = 0;

	if (mt_env.mode != MT_MODE_PROC) {
		why = mt_bpf_unavailable();
		for (i = 0; !why && i < src->nr_bpf_modes; i++) {
			if (mt_env.mode != MT_MODE_AUTO && mt_env.mode != src->bpf_modes[i])
				continue;
			err = src->bpf_start(src->bpf_modes[i]);
			if (!err)
				return src->bpf_modes[i];
		}
		if (mt_env.mode != MT_MODE_AUTO) {
			fprintf(stderr, "%s: cannot use mode %s: %s (try -m proc)\n",
				src->tool, mt_mode_name(mt_env.mode),
				why ? why : strerror(-err));
			return MT_MODE_AUTO;
		}
		if (mt_env.verbose)
			fprintf(stderr, "%s: BPF unavailable (%s); reading %s\n",
				src->tool, why ? why : strerror(-err), src->fallback);
	}
	if (src->fallback_start &&
	    src->fallback_start(mt_env.mode == MT_MODE_AUTO ? why : NULL))
		return MT_MODE_AUTO;
	return MT_MODE_PROC;
}

unsigned int mt_bpf_nr_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 && n <= MT_BPF_MAX_CPUS ? n : 0;
}

unsigned int mt_bpf_ring_bytes(void)
{
	int cpus = libbpf_num_possible_cpus();
	unsigned long long want = (unsigned long long)mt_env.buffer_kb * 1024 *
				  (cpus > 0 ? cpus : 1);
	unsigned long long size = 4096;

	while (size < want && size < (1ULL << 30))
		size <<= 1;
	return (unsigned int)size;
}

unsigned long long mt_bpf_recursion_misses(struct bpf_object *obj)
{
	unsigned long long missed = 0;
	struct bpf_program *prog;

	if (!obj)
		return 0;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) >= 0 &&
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			missed += info.recursion_misses;
	}
	return missed;
}

bool mt_loss_complete(const struct mt_loss *l)
{
	return !l->uncounted && !l->recursion_misses &&
	       (l->totals_in_kernel || !l->lost_events);
}

void mt_loss_json(const struct mt_loss *l)
{
	mt_json_u64(stdout, "lost_events", l->lost_events);
	mt_json_u64(stdout, "recursion_misses", l->recursion_misses);
	mt_json_bool(stdout, "complete", mt_loss_complete(l));
}

void mt_loss_text(char *buf, size_t len, const struct mt_loss *l)
{
	const char *verdict = mt_loss_complete(l) ?
			      "totals complete (counted in the kernel)" : "totals INCOMPLETE";
	const char *where = l->lost_where;

	if (!where)
		where = mt_env.mode == MT_MODE_PROC ? "tracefs ring buffer overrun" :
						      "BPF ring buffer full";
	if (l->uncounted)
		snprintf(buf, len, "losses not counted (ring statistics unreadable); "
			 "totals may be INCOMPLETE");
	else if (!l->lost_events && !l->recursion_misses)
		snprintf(buf, len, "nothing lost");
	else if (mt_env.mode == MT_MODE_PROC)
		snprintf(buf, len, "lost %llu events (%s); %s", l->lost_events,
			 where, verdict);
	else
		snprintf(buf, len, "lost %llu events (%s), %llu BPF runs skipped by "
			 "the kernel; %s", l->lost_events, where,
			 l->recursion_misses, verdict);
}

static void fmt_scaled(char *buf, size_t len, double v, const char *const *units)
{
	int i = 0;

	while (v >= 1024 && units[i + 1]) {
		v /= 1024;
		i++;
	}
	if (i == 0 || v >= 100)
		snprintf(buf, len, "%.0f%s", v, units[i]);
	else
		snprintf(buf, len, "%.1f%s", v, units[i]);
}

void mt_fmt_kb(char *buf, size_t len, unsigned long long kb)
{
	static const char *const units[] = { "K", "M", "G", "T", NULL };

	if (mt_env.raw)
		snprintf(buf, len, "%llu", kb);
	else
		fmt_scaled(buf, len, (double)kb, units);
}

void mt_fmt_count(char *buf, size_t len, unsigned long long n)
{
	if (mt_env.raw || n < 10000)
		snprintf(buf, len, "%llu", n);
	else if (n < 10000000ULL)
		snprintf(buf, len, "%.1fk", n / 1000.0);
	else
		snprintf(buf, len, "%.1fM", n / 1e6);
}

void mt_fmt_clock(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

double mt_epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

unsigned long long mt_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The JSON line being built (the tools print from one thread). */
static struct etmem_out *mt_line;

void mt_json_begin(FILE *out, const char *tool)
{
	char clock[16];

	mt_fmt_clock(clock, sizeof(clock));
	mt_line = etmem_out_new(true);
	etmem_out_str(mt_line, "tool", NULL, tool);
	etmem_out_str(mt_line, "time", NULL, clock);
	etmem_out_double(mt_line, "ts", NULL, mt_epoch());
}

void mt_json_str(FILE *out, const char *key, const char *val)
{
	etmem_out_str(mt_line, key, NULL, val);
}

void mt_json_u64(FILE *out, const char *key, unsigned long long val)
{
	etmem_out_uint(mt_line, key, NULL, val);
}

void mt_json_int(FILE *out, const char *key, long long val)
{
	etmem_out_int(mt_line, key, NULL, val);
}

void mt_json_bool(FILE *out, const char *key, bool val)
{
	etmem_out_bool(mt_line, key, NULL, val);
}

void mt_json_open(FILE *out, const char *key, bool array)
{
	if (array)
		etmem_out_open_array(mt_line, key);
	else
		etmem_out_open_object(mt_line, key);
}

void mt_json_close(FILE *out, bool array)
{
	if (array)
		etmem_out_close_array(mt_line);
	else
		etmem_out_close_object(mt_line);
}

void mt_json_end(FILE *out)
{
	char *line = etmem_out_finish(mt_line);

	mt_line = NULL;
	/* No flush per line: a storm of events would cost a write each.
	 * The tools flush after each batch they read and each report. */
	fputs(line, out);
	g_free(line);
}

bool mt_header_due(unsigned long *rows)
{
	bool due;

	if (mt_env.json)
		return false;
	due = *rows == 0 ||
	      (mt_env.header_every && *rows % mt_env.header_every == 0);
	(*rows)++;
	return due;
}

int mt_read_text(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return (int)got;
}

bool mt_comm_matches(const char *comm)
{
	return !mt_env.comm[0] || strcmp(comm, mt_env.comm) == 0;
}

long mt_page_kb(void)
{
	return sysconf(_SC_PAGESIZE) / 1024;
}
