// SPDX-License-Identifier: GPL-2.0
/*
 * procstat: per-process memory state (the /proc/PID/status memory lines),
 * read by BPF when each process is switched out, or from /proc directly.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "procstat.h"
#include "procstat.skel.h"

enum procstat_field {
	PS_VSIZE, PS_SIZE, PS_RSSANON, PS_RSSFILE, PS_RSSSHMEM,
	PS_VSWAP, PS_VDATA, PS_VPTE, PS_VSTK, __PS_CNT
};

/* Column name, JSON key and the /proc/PID/status line it matches. */
static const struct {
	const char *column, *json, *status;
} fields[__PS_CNT] = {
	[PS_VSIZE]    = { "VSIZE",    "vsize_kb",    "VmSize:" },
	[PS_SIZE]     = { "SIZE",     "size_kb",     "VmHWM:" },
	[PS_RSSANON]  = { "RSSANON",  "rssanon_kb",  "RssAnon:" },
	[PS_RSSFILE]  = { "RSSFILE",  "rssfile_kb",  "RssFile:" },
	[PS_RSSSHMEM] = { "RSSSHMEM", "rssshmem_kb", "RssShmem:" },
	[PS_VSWAP]    = { "VSWAP",    "vswap_kb",    "VmSwap:" },
	[PS_VDATA]    = { "VDATA",    "vdata_kb",    "VmData:" },
	[PS_VPTE]     = { "VPTE",     "vpte_kb",     "VmPTE:" },
	[PS_VSTK]     = { "VSTK",     "vstk_kb",     "VmStk:" },
};

struct ps_row {
	int tgid;
	char comm[16];
	unsigned long long kb[__PS_CNT];
};

struct ps_rows {
	struct ps_row *v;
	size_t n, cap;
};

static unsigned long header_rows;

static struct ps_row *rows_add(struct ps_rows *rows)
{
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 256;
		struct ps_row *v = realloc(rows->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		rows->v = v;
		rows->cap = cap;
	}
	memset(&rows->v[rows->n], 0, sizeof(rows->v[0]));
	return &rows->v[rows->n++];
}

static int by_tgid(const void *a, const void *b)
{
	return ((const struct ps_row *)a)->tgid - ((const struct ps_row *)b)->tgid;
}

static void print_header(void)
{
	int f;

	if (mt_env.timestamps)
		printf("%-8s ", "TIME");
	printf("%7s %-15s", "PID", "COMM");
	for (f = 0; f < __PS_CNT; f++)
		printf(" %9s", fields[f].column);
	putchar('\n');
}

static void print_row(const struct ps_row *r)
{
	char clock[16], val[32];
	int f;

	if (mt_env.json) {
		mt_json_begin(stdout, "procstat");
		mt_json_u64(stdout, "pid", r->tgid);
		mt_json_str(stdout, "comm", r->comm);
		for (f = 0; f < __PS_CNT; f++)
			mt_json_u64(stdout, fields[f].json, r->kb[f]);
		mt_json_end(stdout);
		return;
	}
	if (mt_header_due(&header_rows))
		print_header();
	if (mt_env.timestamps) {
		mt_fmt_clock(clock, sizeof(clock));
		printf("%-8s ", clock);
	}
	printf("%7d %-15s", r->tgid, r->comm);
	for (f = 0; f < __PS_CNT; f++) {
		mt_fmt_kb(val, sizeof(val), r->kb[f]);
		printf(" %9s", val);
	}
	putchar('\n');
}

/* ---- /proc fallback ---- */

static int proc_read_one(int tgid, struct ps_row *r)
{
	char path[64], buf[4096], *line;
	int f, found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", tgid);
	if (mt_read_text(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	r->tgid = tgid;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "Name:", 5) == 0) {
			sscanf(line + 5, " %15[^\n]", r->comm);
			continue;
		}
		for (f = 0; f < __PS_CNT; f++) {
			size_t len = strlen(fields[f].status);

			if (strncmp(line, fields[f].status, len) == 0) {
				r->kb[f] = strtoull(line + len, NULL, 10);
				found++;
			}
		}
	}
	return found ? 0 : -ESRCH;	/* kernel threads have no Vm lines */
}

static int proc_collect(struct ps_rows *rows)
{
	struct dirent *de;
	struct ps_row *r;
	DIR *dir;

	if (mt_env.pid) {
		r = rows_add(rows);
		if (!r)
			return -ENOMEM;
		if (proc_read_one(mt_env.pid, r) || !mt_comm_matches(r->comm))
			rows->n--;
		return 0;
	}
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		int tgid = atoi(de->d_name);

		if (tgid <= 0 || !(r = rows_add(rows)))
			continue;
		if (proc_read_one(tgid, r) || !mt_comm_matches(r->comm))
			rows->n--;
	}
	closedir(dir);
	return 0;
}

/* ---- BPF mode ---- */

static struct procstat_bpf *skel;
static struct bpf_link *iter_link;

static int bpf_start(enum mt_mode mode)
{
	int err;

	skel = procstat_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->filter_tgid = mt_env.pid;
	memcpy((char *)skel->rodata->filter_comm, mt_env.comm, sizeof(mt_env.comm));
	skel->rodata->mt_nr_cpus = mt_bpf_nr_cpus();
	bpf_program__set_autoload(skel->progs.switch_btf, mode == MT_MODE_TP_BTF);
	bpf_program__set_autoload(skel->progs.switch_raw, mode == MT_MODE_RAW_TP);
	err = procstat_bpf__load(skel);
	if (!err)
		err = procstat_bpf__attach(skel);
	if (err)
		goto destroy;
	/* The iterator only adds processes that sleep through a report;
	 * without it (older kernels) switch-time snapshots still work. */
	iter_link = bpf_program__attach_iter(skel->progs.refresh_all, NULL);
	if (!iter_link && mt_env.verbose)
		fprintf(stderr, "procstat: task iterator unavailable; showing only processes that ran\n");
	return 0;
destroy:
	procstat_bpf__destroy(skel);
	skel = NULL;
	return err;
}

static void bpf_run_iterator(void)
{
	char buf[256];
	int fd;

	if (!iter_link)
		return;
	fd = bpf_iter_create(bpf_link__fd(iter_link));
	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static void snap_to_row(const struct procstat_snap *s, struct ps_row *r)
{
	long pkb = mt_page_kb();
	long long rss = s->rss_anon + s->rss_file + s->rss_shmem;

	r->tgid = s->tgid;
	memcpy(r->comm, s->comm, sizeof(r->comm));
	r->comm[15] = '\0';
	r->kb[PS_VSIZE] = s->total_vm * pkb;
	r->kb[PS_SIZE] = ((long long)s->hiwater_rss > rss ? (long long)s->hiwater_rss : rss) * pkb;
	r->kb[PS_RSSANON] = (s->rss_anon > 0 ? s->rss_anon : 0) * pkb;
	r->kb[PS_RSSFILE] = (s->rss_file > 0 ? s->rss_file : 0) * pkb;
	r->kb[PS_RSSSHMEM] = (s->rss_shmem > 0 ? s->rss_shmem : 0) * pkb;
	r->kb[PS_VSWAP] = (s->swap_ents > 0 ? s->swap_ents : 0) * pkb;
	r->kb[PS_VDATA] = s->data_vm * pkb;
	r->kb[PS_VPTE] = s->pgtables_bytes / 1024;
	r->kb[PS_VSTK] = s->stack_vm * pkb;
}

static int bpf_collect(struct ps_rows *rows)
{
	int map = bpf_map__fd(skel->maps.snaps);
	__u64 gen = skel->bss->report_gen;
	struct procstat_snap snap;
	__u32 key, next, *prev = NULL;
	struct ps_row *r;

	bpf_run_iterator();
	while (bpf_map_get_next_key(map, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map, &key, &snap))
			continue;
		/* With the iterator, every live process is refreshed each
		 * round, so a stale entry belongs to a process that exited. */
		if (iter_link && snap.gen != gen) {
			bpf_map_delete_elem(map, &key);
			continue;
		}
		r = rows_add(rows);
		if (!r)
			return -ENOMEM;
		snap_to_row(&snap, r);
	}
	skel->bss->report_gen = gen + 1;
	return 0;
}

static const enum mt_mode bpf_modes[] = { MT_MODE_TP_BTF, MT_MODE_RAW_TP };
static const struct mt_sources sources = {
	.tool = "procstat",
	.bpf_modes = bpf_modes,
	.nr_bpf_modes = sizeof(bpf_modes) / sizeof(bpf_modes[0]),
	.bpf_start = bpf_start,
	.fallback = "/proc",
	.fallback_start = NULL,
};

static const struct mt_tool procstat_tool = {
	.name = "procstat",
	.summary = "Per-process memory state, sampled when each process is switched out.",
	.columns =
		"Columns (kB, or K/M/G): VSIZE virtual size, SIZE peak resident size,\n"
		"RSSANON/RSSFILE/RSSSHMEM resident anonymous/file/shared memory,\n"
		"VSWAP swapped out, VDATA private data, VPTE page tables, VSTK stack.\n"
		"They match VmSize, VmHWM, RssAnon, RssFile, RssShmem, VmSwap, VmData,\n"
		"VmPTE and VmStk in /proc/PID/status.\n",
	.modes = MT_MODE_BIT(MT_MODE_TP_BTF) | MT_MODE_BIT(MT_MODE_RAW_TP) |
		 MT_MODE_BIT(MT_MODE_PROC),
	.takes_filters = true,
};

/*
 * In BPF mode, says what the report may miss: snapshots that found the
 * table full, and sched_switch runs the kernel skipped, since the last
 * report. Nothing is printed when nothing was lost.
 */
static void report_loss(void)
{
	static struct mt_loss prev;
	struct mt_loss now = { .lost_where = "table of processes full" }, d;
	char text[192];

	if (!skel)
		return;
	now.lost_events = skel->bss->lost_events;
	now.recursion_misses = mt_bpf_recursion_misses(skel->obj);
	d = now;
	d.lost_events -= prev.lost_events;
	d.recursion_misses -= prev.recursion_misses;
	prev = now;
	if (!d.lost_events && !d.recursion_misses)
		return;
	if (mt_env.json) {
		mt_json_begin(stdout, "procstat");
		mt_json_str(stdout, "event", "loss");
		mt_loss_json(&d);
		mt_json_end(stdout);
		return;
	}
	mt_loss_text(text, sizeof(text), &d);
	printf("procstat: since the last report %s\n", text);
}

static int report(enum mt_mode mode)
{
	struct ps_rows rows = {};
	size_t i;
	int err;

	err = mode == MT_MODE_PROC ? proc_collect(&rows) : bpf_collect(&rows);
	if (err) {
		fprintf(stderr, "procstat: cannot collect figures: %s\n", strerror(-err));
		free(rows.v);
		return err;
	}
	qsort(rows.v, rows.n, sizeof(rows.v[0]), by_tgid);
	for (i = 0; i < rows.n; i++)
		print_row(&rows.v[i]);
	report_loss();
	fflush(stdout);
	err = mt_env.pid && rows.n == 0 ? -ESRCH : 0;
	free(rows.v);
	return err;
}

int main(int argc, char **argv)
{
	enum mt_mode mode;
	long round;
	int err;

	err = mt_parse_args(&procstat_tool, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	if (mt_env.pid && kill(mt_env.pid, 0) && errno == ESRCH) {
		fprintf(stderr, "procstat: no process with PID %d\n", mt_env.pid);
		return 1;
	}
	mt_quiet_libbpf();
	mt_install_signals();
	mode = mt_choose_mode(&sources);
	if (mode == MT_MODE_AUTO)
		return 1;
	if (mt_env.verbose)
		fprintf(stderr, "procstat: mode %s\n", mt_mode_name(mode));
	for (round = 1; !mt_exiting; round++) {
		err = report(mode);
		if (err == -ESRCH) {
			err = 0;
			if (kill(mt_env.pid, 0) == 0 || errno != ESRCH) {
				fprintf(stderr, "procstat: process %d exists but mode %s does not see it (another PID namespace?); try -m proc\n",
					mt_env.pid, mt_mode_name(mode));
				err = -ENOENT;
			} else {
				fprintf(stderr, "procstat: process %d is gone\n", mt_env.pid);
			}
			break;
		}
		if (err || (mt_env.count && round >= mt_env.count))
			break;
		if (!mt_sleep(mt_env.interval_s))
			break;
	}
	bpf_link__destroy(iter_link);
	procstat_bpf__destroy(skel);
	return err ? 1 : 0;
}
