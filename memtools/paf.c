// SPDX-License-Identifier: GPL-2.0
/*
 * paf: page allocation failures, with the order, the allocation flags by
 * name, the task, and every zone's watermarks and sizes. BPF reads the
 * zones when the failure happens; the tracefs fallback can only read
 * /proc/zoneinfo when it reports, a moment later.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "gfp.h"
#include "paf.h"
#include "paf.skel.h"
#include "tracefs.h"

struct paf_report {
	bool failed;
	unsigned int pid, order;
	int migratetype, local_nid;
	char comm[16];
	char gfp[256];
	struct paf_zone zones[PAF_MAX_NODES][PAF_MAX_ZONES];
};

static unsigned long long by_order[PAF_MAX_ORDER + 1], nr_seen;
static bool report_all;
static unsigned long header_rows;
static struct paf_bpf *skel;
static struct ring_buffer *ring;
static struct tracefs_inst trace;

static int count_nodes(void)
{
	char buf[64], *p;
	int last;

	if (mt_read_text("/sys/devices/system/node/possible", buf, sizeof(buf)) <= 0)
		return 1;
	p = strrchr(buf, '-');
	last = atoi(p ? p + 1 : buf);
	return last + 1 > PAF_MAX_NODES ? PAF_MAX_NODES : last + 1;
}

static void print_zones_json(const struct paf_report *r)
{
	int nid, z;

	mt_json_open(stdout, "zones", true);
	for (nid = 0; nid < PAF_MAX_NODES; nid++) {
		for (z = 0; z < PAF_MAX_ZONES; z++) {
			const struct paf_zone *zn = &r->zones[nid][z];

			if (!zn->valid)
				continue;
			mt_json_open(stdout, NULL, false);
			mt_json_int(stdout, "node", nid);
			mt_json_str(stdout, "zone", zn->name);
			mt_json_u64(stdout, "min_pages", zn->min);
			mt_json_u64(stdout, "low_pages", zn->low);
			mt_json_u64(stdout, "high_pages", zn->high);
			mt_json_u64(stdout, "free_pages", zn->free);
			mt_json_u64(stdout, "present_pages", zn->present);
			mt_json_u64(stdout, "managed_pages", zn->managed);
			mt_json_close(stdout, false);
		}
	}
	mt_json_close(stdout, true);
}

static void print_report(const struct paf_report *r)
{
	char clock[16] = "";
	int nid, z;

	if (mt_env.json) {
		mt_json_begin(stdout, "paf");
		mt_json_str(stdout, "event", r->failed ? "failure" : "alloc");
		mt_json_u64(stdout, "pid", r->pid);
		mt_json_str(stdout, "comm", r->comm);
		mt_json_u64(stdout, "order", r->order);
		mt_json_str(stdout, "gfp_flags", r->gfp);
		mt_json_int(stdout, "migratetype", r->migratetype);
		mt_json_int(stdout, "local_node", r->local_nid);
		if (r->failed)
			print_zones_json(r);
		mt_json_end(stdout);
		return;
	}
	if (mt_header_due(&header_rows)) {
		if (mt_env.timestamps)
			printf("%-8s ", "TIME");
		printf("%7s %-15s %5s %4s %s\n", "PID", "COMM", "ORDER", "MIGR", "GFP_FLAGS");
		printf("%8s %-16s %9s %9s %9s %9s %9s %9s  (pages)\n", "", "  NODE ZONE",
		       "MIN", "LOW", "HIGH", "FREE", "PRESENT", "MANAGED");
	}
	if (mt_env.timestamps) {
		mt_fmt_clock(clock, sizeof(clock));
		printf("%-8s ", clock);
	}
	printf("%7u %-15s %5u %4d %s%s\n", r->pid, r->comm, r->order, r->migratetype,
	       r->gfp, r->failed ? "" : "  (succeeded)");
	for (nid = 0; r->failed && nid < PAF_MAX_NODES; nid++) {
		for (z = 0; z < PAF_MAX_ZONES; z++) {
			const struct paf_zone *zn = &r->zones[nid][z];

			if (!zn->valid)
				continue;
			printf("%8s   node%d %-8s %9llu %9llu %9llu %9llu %9llu %9llu\n", "",
			       nid, zn->name, zn->min, zn->low, zn->high, zn->free,
			       zn->present, zn->managed);
		}
	}
}

static void handle(const struct paf_report *r)
{
	if (r->failed) {
		nr_seen++;
		by_order[r->order > PAF_MAX_ORDER ? PAF_MAX_ORDER : r->order]++;
	}
	print_report(r);
}

/* Failures by order and what was lost, read together. */
struct paf_reading {
	unsigned long long failures;
	unsigned long long by_order[PAF_MAX_ORDER + 1];
	struct mt_loss loss;
};

static void read_now(struct paf_reading *r)
{
	unsigned long long lost = 0;

	memset(r, 0, sizeof(*r));
	r->loss.totals_in_kernel = skel != NULL;
	if (skel) {
		/* Counted by BPF before the ring: exact when it is full. */
		r->failures = skel->bss->failures;
		memcpy(r->by_order, skel->bss->failures_by_order, sizeof(r->by_order));
		r->loss.lost_events = skel->bss->lost_events;
		r->loss.recursion_misses = mt_bpf_recursion_misses(skel->obj);
		return;
	}
	r->failures = nr_seen;
	memcpy(r->by_order, by_order, sizeof(r->by_order));
	r->loss.uncounted = tracefs_lost_events(&trace, &lost) != 0;
	r->loss.lost_events = lost;
}

static void print_totals(const char *what, const struct paf_reading *r)
{
	char loss[192];
	int o;

	if (mt_env.json) {
		mt_json_begin(stdout, "paf");
		mt_json_str(stdout, "event", what);
		mt_json_u64(stdout, "failures", r->failures);
		mt_json_open(stdout, "by_order", false);
		for (o = 0; o <= PAF_MAX_ORDER; o++)
			if (r->by_order[o]) {
				char key[8];

				snprintf(key, sizeof(key), "%d", o);
				mt_json_u64(stdout, key, r->by_order[o]);
			}
		mt_json_close(stdout, false);
		mt_loss_json(&r->loss);
		mt_json_end(stdout);
		fflush(stdout);
		return;
	}
	printf("paf %s: %llu failed allocations", what, r->failures);
	for (o = 0; o <= PAF_MAX_ORDER; o++)
		if (r->by_order[o])
			printf(", order %d%s: %llu", o, o == PAF_MAX_ORDER ? "+" : "",
			       r->by_order[o]);
	mt_loss_text(loss, sizeof(loss), &r->loss);
	printf("; %s\n", loss);
	fflush(stdout);
}

static void print_interval(struct paf_reading *prev)
{
	struct paf_reading now, d;
	int o;

	read_now(&now);
	d = now;
	d.failures -= prev->failures;
	for (o = 0; o <= PAF_MAX_ORDER; o++)
		d.by_order[o] -= prev->by_order[o];
	d.loss.lost_events -= prev->loss.lost_events;
	d.loss.recursion_misses -= prev->loss.recursion_misses;
	print_totals("interval", &d);
	*prev = now;
}

/* ---- BPF mode ---- */

static int on_ring(void *ctx, void *data, size_t len)
{
	const struct paf_event *e = data;
	struct paf_report r = {};

	if (len < offsetof(struct paf_event, zones) ||
	    (e->failed && len < sizeof(*e)))
		return 0;
	r.failed = e->failed;
	r.pid = e->pid;
	r.order = e->order;
	r.migratetype = e->migratetype;
	r.local_nid = e->local_nid;
	memcpy(r.comm, e->comm, sizeof(r.comm));
	r.comm[15] = '\0';
	gfp_format(e->gfp, r.gfp, sizeof(r.gfp));
	if (r.failed)
		memcpy(r.zones, e->zones, sizeof(r.zones));
	handle(&r);
	return 0;
}

static int bpf_start(enum mt_mode mode)
{
	int err;

	skel = paf_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->filter_tgid = mt_env.pid;
	memcpy((char *)skel->rodata->filter_comm, mt_env.comm, sizeof(mt_env.comm));
	skel->rodata->nr_nodes = count_nodes();
	skel->rodata->report_all = report_all;
	bpf_program__set_autoload(skel->progs.alloc_btf, mode == MT_MODE_TP_BTF);
	bpf_program__set_autoload(skel->progs.alloc_raw, mode == MT_MODE_RAW_TP);
	err = bpf_map__set_max_entries(skel->maps.events, mt_bpf_ring_bytes());
	if (!err)
		err = paf_bpf__load(skel);
	if (!err)
		err = paf_bpf__attach(skel);
	if (!err) {
		ring = ring_buffer__new(bpf_map__fd(skel->maps.events), on_ring, NULL, NULL);
		if (!ring)
			err = -errno;
	}
	if (err) {
		paf_bpf__destroy(skel);
		skel = NULL;
	}
	return err;
}

/* ---- tracefs fallback ---- */

/* Zones as /proc/zoneinfo shows them now. */
static void read_zoneinfo(struct paf_zone zones[PAF_MAX_NODES][PAF_MAX_ZONES])
{
	static char buf[1 << 18];
	struct paf_zone *cur = NULL;
	int nid, nz[PAF_MAX_NODES] = { 0 };
	char *line, name[12], key[32];
	unsigned long long v;

	memset(zones, 0, sizeof(struct paf_zone) * PAF_MAX_NODES * PAF_MAX_ZONES);
	if (mt_read_text("/proc/zoneinfo", buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "Node %d, zone %11s", &nid, name) == 2) {
			cur = NULL;
			if (nid < 0 || nid >= PAF_MAX_NODES || nz[nid] >= PAF_MAX_ZONES)
				continue;
			cur = &zones[nid][nz[nid]++];
			memcpy(cur->name, name, sizeof(cur->name));
			continue;
		}
		if (!cur)
			continue;
		if (sscanf(line, " pages free %llu", &v) == 1)
			cur->free = v;
		else if (sscanf(line, " %31s %llu", key, &v) == 2) {
			if (!strcmp(key, "min")) cur->min = v;
			else if (!strcmp(key, "low")) cur->low = v;
			else if (!strcmp(key, "high")) cur->high = v;
			else if (!strcmp(key, "present")) {
				cur->present = v;
				cur->valid = v > 0;
			}
			else if (!strcmp(key, "managed")) cur->managed = v;
		}
	}
}

static void on_trace_line(const struct trace_line *l, void *ctx)
{
	struct paf_report r = { .pid = l->pid, .local_nid = -1 };

	if (strcmp(l->event, "mm_page_alloc") || !trace_line_wanted(l))
		return;
	/* A failure prints pfn=0x0; no allocation returns pfn 0. */
	r.failed = trace_arg(l->args, "pfn") == 0;
	snprintf(r.comm, sizeof(r.comm), "%s", l->comm);
	r.order = trace_arg(l->args, "order");
	r.migratetype = (int)trace_arg(l->args, "migratetype");
	if (!trace_arg_str(l->args, "gfp_flags", r.gfp, sizeof(r.gfp)))
		snprintf(r.gfp, sizeof(r.gfp), "?");
	if (r.failed)
		read_zoneinfo(r.zones);
	handle(&r);
}

static int trace_start(const char *bpf_why)
{
	/* A failed allocation records pfn -1. */
	int err = tracefs_open(&trace, "paf");

	if (!err)
		err = tracefs_enable(&trace, "kmem/mm_page_alloc",
				     report_all ? NULL : "pfn == 0xffffffffffffffff");
	if (err)
		fprintf(stderr, "paf: %s%s%scannot use tracefs at %s: %s\n",
			bpf_why ? "no BPF (" : "", bpf_why ? bpf_why : "",
			bpf_why ? ") and " : "", trace.dir, strerror(-err));
	return err;
}

static const enum mt_mode bpf_modes[] = { MT_MODE_TP_BTF, MT_MODE_RAW_TP };
static const struct mt_sources sources = {
	.tool = "paf",
	.bpf_modes = bpf_modes,
	.nr_bpf_modes = sizeof(bpf_modes) / sizeof(bpf_modes[0]),
	.bpf_start = bpf_start,
	.fallback = "tracefs",
	.fallback_start = trace_start,
};

static int parse_extra(int opt, const char *arg)
{
	if (opt != 'a')
		return -1;
	report_all = true;
	return 0;
}

static const struct mt_tool paf_tool = {
	.name = "paf",
	.summary = "Page allocation failures: order, allocation flags, task, and every\n"
		   "zone's watermarks and sizes. With INTERVAL, a count line every\n"
		   "INTERVAL seconds; Ctrl-C (or COUNT intervals) ends with a summary.",
	.columns =
		"Per failure: PID and COMM of the allocating task, ORDER (2^order pages),\n"
		"MIGR migrate type, GFP_FLAGS by name; then per zone, in pages: MIN/LOW/HIGH\n"
		"watermarks (boost included), FREE, PRESENT and MANAGED pages. BPF modes\n"
		"read zones when the failure happens; -m proc reads /proc/zoneinfo when\n"
		"it reports, slightly later.\n",
	.modes = MT_MODE_BIT(MT_MODE_TP_BTF) | MT_MODE_BIT(MT_MODE_RAW_TP) |
		 MT_MODE_BIT(MT_MODE_PROC),
	.takes_filters = true,
	.takes_buffer = true,
	.extra_opts = "a",
	.extra_help = "  -a              report successful allocations too (no zone figures;\n"
		      "                  verbose: combine with -p or -c)\n",
	.parse_extra = parse_extra,
};

static void run(void)
{
	unsigned long long next = mt_monotonic_ns() + mt_env.interval_s * 1e9;
	struct paf_reading prev = {};
	long intervals = 0;

	while (!mt_exiting) {
		if (ring)
			ring_buffer__poll(ring, 100);
		else
			tracefs_poll(&trace, 100, on_trace_line, NULL);
		fflush(stdout);
		if (!mt_env.interval_given || mt_monotonic_ns() < next)
			continue;
		next += mt_env.interval_s * 1e9;
		print_interval(&prev);
		if (mt_env.count && ++intervals >= mt_env.count)
			break;
	}
	if (ring)
		ring_buffer__consume(ring);
	else
		tracefs_drain(&trace, on_trace_line, NULL);
}

int main(int argc, char **argv)
{
	struct paf_reading total;
	enum mt_mode mode;
	int err;

	err = mt_parse_args(&paf_tool, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	mt_quiet_libbpf();
	mt_install_signals();
	mode = mt_choose_mode(&sources);
	if (mode == MT_MODE_AUTO)
		return 1;
	mt_env.mode = mode;
	if (mt_env.verbose)
		fprintf(stderr, "paf: mode %s\n", mt_mode_name(mode));
	run();
	read_now(&total);
	print_totals("summary", &total);
	ring_buffer__free(ring);
	paf_bpf__destroy(skel);
	tracefs_close(&trace);
	return 0;
}
