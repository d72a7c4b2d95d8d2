// SPDX-License-Identifier: GPL-2.0
/*
 * pr: page reclaim, one line per pass over an inactive LRU list and per
 * direct or memory-cgroup reclaim (with its latency), interval lines
 * and a summary at exit. BPF tracepoints, or tracefs text as fallback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "gfp.h"
#include "pr.h"
#include "pr.skel.h"
#include "tracefs.h"

static bool summary_only;
static unsigned long header_rows;
static struct pr_totals seen;		/* accumulated from events */
static struct pr_bpf *skel;
static struct ring_buffer *ring;
static struct tracefs_inst trace;

static const char *kind_name(unsigned int kind)
{
	return kind == PR_SHRINK ? "shrink" : kind == PR_DIRECT ? "direct" : "memcg";
}

static void account(const struct pr_event *e)
{
	unsigned long long *n, *ns, *max, *rec;

	if (e->kind == PR_SHRINK) {
		seen.passes++;
		seen.scanned += e->nr_scanned;
		seen.reclaimed += e->nr_reclaimed;
		seen.dirty += e->nr_dirty;
		seen.unqueued_dirty += e->nr_unqueued_dirty;
		seen.congested += e->nr_congested;
		seen.writeback += e->nr_writeback;
		return;
	}
	n = e->kind == PR_DIRECT ? &seen.direct : &seen.memcg;
	ns = e->kind == PR_DIRECT ? &seen.direct_ns : &seen.memcg_ns;
	max = e->kind == PR_DIRECT ? &seen.direct_max_ns : &seen.memcg_max_ns;
	rec = e->kind == PR_DIRECT ? &seen.direct_reclaimed : &seen.memcg_reclaimed;
	(*n)++;
	*ns += e->latency_ns;
	*rec += e->nr_reclaimed;
	if (e->latency_ns > *max)
		*max = e->latency_ns;
}

static void print_header(void)
{
	if (mt_env.timestamps)
		printf("%-8s ", "TIME");
	printf("%7s %-15s %-6s %3s %4s %4s %8s %9s %5s %8s %7s %7s %9s\n",
	       "PID", "COMM", "EVENT", "NID", "PRIO", "LRU", "SCANNED",
	       "RECLAIMED", "DIRTY", "UNQDIRTY", "CONGEST", "WRITEBK", "LAT(ms)");
}

static void print_json_event(const struct pr_event *e)
{
	char flags[256];

	mt_json_begin(stdout, "pr");
	mt_json_str(stdout, "event", kind_name(e->kind));
	mt_json_u64(stdout, "pid", e->pid);
	mt_json_str(stdout, "comm", e->comm);
	mt_json_u64(stdout, "nr_reclaimed", e->nr_reclaimed);
	if (e->kind == PR_SHRINK) {
		mt_json_int(stdout, "nid", e->nid);
		mt_json_int(stdout, "priority", e->priority);
		mt_json_str(stdout, "lru", e->file ? "file" : "anon");
		mt_json_u64(stdout, "nr_scanned", e->nr_scanned);
		mt_json_u64(stdout, "nr_dirty", e->nr_dirty);
		if (mt_env.mode != MT_MODE_PROC)
			mt_json_u64(stdout, "nr_unqueued_dirty", e->nr_unqueued_dirty);
		mt_json_u64(stdout, "nr_congested", e->nr_congested);
		mt_json_u64(stdout, "nr_writeback", e->nr_writeback);
	} else {
		mt_json_int(stdout, "order", e->order);
		if (mt_env.mode != MT_MODE_PROC) {
			gfp_format(e->gfp, flags, sizeof(flags));
			mt_json_str(stdout, "gfp_flags", flags);
		}
		mt_json_u64(stdout, "latency_us", e->latency_ns / 1000);
	}
	mt_json_end(stdout);
}

static void print_event(const struct pr_event *e)
{
	char clock[16], unq[16];

	if (mt_env.json) {
		print_json_event(e);
		return;
	}
	if (mt_header_due(&header_rows))
		print_header();
	if (mt_env.timestamps) {
		mt_fmt_clock(clock, sizeof(clock));
		printf("%-8s ", clock);
	}
	printf("%7u %-15s %-6s ", e->pid, e->comm, kind_name(e->kind));
	if (e->kind == PR_SHRINK) {
		snprintf(unq, sizeof(unq), "%u", e->nr_unqueued_dirty);
		printf("%3d %4d %4s %8llu %9llu %5u %8s %7u %7u %9s\n",
		       e->nid, e->priority, e->file ? "file" : "anon",
		       e->nr_scanned, e->nr_reclaimed, e->nr_dirty,
		       mt_env.mode == MT_MODE_PROC ? "-" : unq,
		       e->nr_congested, e->nr_writeback, "-");
	} else {
		printf("%3s %4s %4s %8s %9llu %5s %8s %7s %7s %9.3f\n", "-", "-",
		       "-", "-", e->nr_reclaimed, "-", "-", "-", "-",
		       e->latency_ns / 1e6);
	}
}

static void handle(const struct pr_event *e)
{
	account(e);
	if (!summary_only)
		print_event(e);
}

/* ---- totals: per interval and at exit ---- */

/* Totals and what they lost, read together. */
struct pr_reading {
	struct pr_totals t;
	struct mt_loss loss;
};

static void read_now(struct pr_reading *r)
{
	unsigned long long lost = 0;

	memset(r, 0, sizeof(*r));	/* callers pass uninitialised readings */
	/* Kernel-side totals count passes even when the ring overflowed. */
	r->t = skel ? skel->bss->totals : seen;
	r->loss.totals_in_kernel = skel != NULL;
	if (skel) {
		r->loss.lost_events = r->t.lost_events;
		r->loss.recursion_misses = mt_bpf_recursion_misses(skel->obj);
	} else {
		r->loss.uncounted = tracefs_lost_events(&trace, &lost) != 0;
		r->loss.lost_events = lost;
		r->loss.recursion_misses = 0;
	}
}

static void print_totals(const char *what, const struct pr_reading *r)
{
	const struct pr_totals *t = &r->t;
	double d_avg = t->direct ? t->direct_ns / 1e6 / t->direct : 0;
	double m_avg = t->memcg ? t->memcg_ns / 1e6 / t->memcg : 0;
	char rec[32], loss[192];

	if (mt_env.json) {
		mt_json_begin(stdout, "pr");
		mt_json_str(stdout, "event", what);
		mt_json_u64(stdout, "passes", t->passes);
		mt_json_u64(stdout, "nr_scanned", t->scanned);
		mt_json_u64(stdout, "nr_reclaimed", t->reclaimed);
		mt_json_u64(stdout, "nr_dirty", t->dirty);
		if (mt_env.mode != MT_MODE_PROC)
			mt_json_u64(stdout, "nr_unqueued_dirty", t->unqueued_dirty);
		mt_json_u64(stdout, "nr_congested", t->congested);
		mt_json_u64(stdout, "nr_writeback", t->writeback);
		mt_json_u64(stdout, "direct", t->direct);
		mt_json_u64(stdout, "direct_avg_us", (unsigned long long)(d_avg * 1000));
		mt_json_u64(stdout, "direct_max_us", t->direct_max_ns / 1000);
		mt_json_u64(stdout, "memcg", t->memcg);
		mt_json_u64(stdout, "memcg_avg_us", (unsigned long long)(m_avg * 1000));
		mt_json_u64(stdout, "memcg_max_us", t->memcg_max_ns / 1000);
		mt_loss_json(&r->loss);
		mt_json_end(stdout);
		fflush(stdout);
		return;
	}
	mt_fmt_kb(rec, sizeof(rec), t->reclaimed * mt_page_kb());
	mt_loss_text(loss, sizeof(loss), &r->loss);
	printf("pr %s: %llu passes, %llu scanned, %llu reclaimed (%s), %llu dirty, "
	       "%llu congested, %llu writeback; direct reclaim %llu (avg %.3f ms, "
	       "max %.3f ms); memcg reclaim %llu (avg %.3f ms, max %.3f ms); %s\n",
	       what, t->passes, t->scanned, t->reclaimed, rec, t->dirty,
	       t->congested, t->writeback, t->direct, d_avg,
	       t->direct_max_ns / 1e6, t->memcg, m_avg, t->memcg_max_ns / 1e6, loss);
	fflush(stdout);
}

static void print_interval(struct pr_reading *prev)
{
	struct pr_reading now, d;

	read_now(&now);
	d = now;
	d.t.passes -= prev->t.passes;
	d.t.scanned -= prev->t.scanned;
	d.t.reclaimed -= prev->t.reclaimed;
	d.t.dirty -= prev->t.dirty;
	d.t.unqueued_dirty -= prev->t.unqueued_dirty;
	d.t.congested -= prev->t.congested;
	d.t.writeback -= prev->t.writeback;
	d.t.direct -= prev->t.direct;
	d.t.direct_ns -= prev->t.direct_ns;
	d.t.memcg -= prev->t.memcg;
	d.t.memcg_ns -= prev->t.memcg_ns;
	d.loss.lost_events -= prev->loss.lost_events;
	d.loss.recursion_misses -= prev->loss.recursion_misses;
	print_totals("interval", &d);
	*prev = now;
}

/* ---- BPF mode ---- */

static int on_ring(void *ctx, void *data, size_t len)
{
	if (len >= sizeof(struct pr_event))
		handle(data);
	return 0;
}

static int bpf_start(enum mt_mode mode)
{
	struct bpf_program *prog;
	bool btf = mode == MT_MODE_TP_BTF;
	int err;

	skel = pr_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->filter_tgid = mt_env.pid;
	memcpy((char *)skel->rodata->filter_comm, mt_env.comm, sizeof(mt_env.comm));
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, btf == (strstr(bpf_program__name(prog), "_btf") != NULL));
	err = bpf_map__set_max_entries(skel->maps.events, mt_bpf_ring_bytes());
	if (!err)
		err = pr_bpf__load(skel);
	if (!err)
		err = pr_bpf__attach(skel);
	if (!err) {
		ring = ring_buffer__new(bpf_map__fd(skel->maps.events), on_ring, NULL, NULL);
		if (!ring)
			err = -errno;
	}
	if (err) {
		pr_bpf__destroy(skel);
		skel = NULL;
	}
	return err;
}

/* ---- tracefs fallback ---- */

/* Open reclaims by thread id; a collision only loses one latency. */
struct reclaim_begin {
	int tid;
	double ts;
	int order;
};

static struct reclaim_begin begins[256];

static struct reclaim_begin *begin_slot(int tid)
{
	return &begins[(unsigned int)tid % 256];
}

static void trace_to_shrink(const struct trace_line *l, struct pr_event *e)
{
	char flags[128] = "";

	e->kind = PR_SHRINK;
	e->nid = (int)trace_arg(l->args, "nid");
	e->nr_scanned = trace_arg(l->args, "nr_scanned");
	e->nr_reclaimed = trace_arg(l->args, "nr_reclaimed");
	e->nr_dirty = trace_arg(l->args, "nr_dirty");
	e->nr_writeback = trace_arg(l->args, "nr_writeback");
	e->nr_congested = trace_arg(l->args, "nr_congested");
	e->nr_immediate = trace_arg(l->args, "nr_immediate");
	e->priority = (int)trace_arg(l->args, "priority");
	trace_arg_str(l->args, "flags", flags, sizeof(flags));
	e->file = strstr(flags, "FILE") != NULL;
}

static void on_trace_line(const struct trace_line *l, void *ctx)
{
	struct pr_event e = { .pid = l->pid, .ts_ns = l->ts * 1e9, .nid = -1 };
	struct reclaim_begin *b = begin_slot(l->pid);

	if (!trace_line_wanted(l))
		return;
	snprintf(e.comm, sizeof(e.comm), "%s", l->comm);
	if (strcmp(l->event, "mm_vmscan_lru_shrink_inactive") == 0) {
		trace_to_shrink(l, &e);
		handle(&e);
	} else if (strstr(l->event, "_reclaim_begin")) {
		/* The text names the flags; only the order is kept. */
		b->tid = l->pid;
		b->ts = l->ts;
		b->order = (int)trace_arg(l->args, "order");
	} else if (strstr(l->event, "_reclaim_end") && b->tid == l->pid) {
		e.kind = strstr(l->event, "memcg") ? PR_MEMCG : PR_DIRECT;
		e.nr_reclaimed = trace_arg(l->args, "nr_reclaimed");
		e.latency_ns = (l->ts - b->ts) * 1e9;
		e.order = b->order;
		b->tid = 0;
		handle(&e);
	}
}

static int trace_start(const char *bpf_why)
{
	static const char *const events[] = {
		"vmscan/mm_vmscan_lru_shrink_inactive",
		"vmscan/mm_vmscan_direct_reclaim_begin",
		"vmscan/mm_vmscan_direct_reclaim_end",
		"vmscan/mm_vmscan_memcg_reclaim_begin",
		"vmscan/mm_vmscan_memcg_reclaim_end",
	};
	size_t i;
	int err = tracefs_open(&trace, "pr");

	for (i = 0; !err && i < sizeof(events) / sizeof(events[0]); i++)
		err = tracefs_enable(&trace, events[i], NULL);
	if (err)
		fprintf(stderr, "pr: %s%s%scannot use tracefs at %s: %s\n",
			bpf_why ? "no BPF (" : "", bpf_why ? bpf_why : "",
			bpf_why ? ") and " : "", trace.dir, strerror(-err));
	return err;
}

static const enum mt_mode bpf_modes[] = { MT_MODE_TP_BTF, MT_MODE_RAW_TP };
static const struct mt_sources sources = {
	.tool = "pr",
	.bpf_modes = bpf_modes,
	.nr_bpf_modes = sizeof(bpf_modes) / sizeof(bpf_modes[0]),
	.bpf_start = bpf_start,
	.fallback = "tracefs",
	.fallback_start = trace_start,
};

static int parse_extra(int opt, const char *arg)
{
	if (opt != 's')
		return -1;
	summary_only = true;
	return 0;
}

static const struct mt_tool pr_tool = {
	.name = "pr",
	.summary = "Page reclaim: each pass over an inactive LRU list, and direct or\n"
		   "memory-cgroup reclaim with its latency. With INTERVAL, a totals line\n"
		   "every INTERVAL seconds; Ctrl-C (or COUNT intervals) ends with a summary.",
	.columns =
		"Columns: EVENT shrink (one pass), direct or memcg (one reclaim, begin to\n"
		"end); SCANNED pages taken off the list to try, RECLAIMED pages freed,\n"
		"DIRTY dirty pages met, UNQDIRTY dirty and not yet queued for writeback\n"
		"(BPF modes only: the trace text lacks it), CONGEST pages whose device\n"
		"was congested, WRITEBK pages under writeback, LAT(ms) reclaim latency.\n"
		"-p and -c select the task doing the reclaim (kswapd is a task too).\n",
	.modes = MT_MODE_BIT(MT_MODE_TP_BTF) | MT_MODE_BIT(MT_MODE_RAW_TP) |
		 MT_MODE_BIT(MT_MODE_PROC),
	.takes_filters = true,
	.takes_buffer = true,
	.extra_opts = "s",
	.extra_help = "  -s              no per-pass lines: only interval and summary totals\n",
	.parse_extra = parse_extra,
};

static void run(void)
{
	unsigned long long next = mt_monotonic_ns() + mt_env.interval_s * 1e9;
	struct pr_reading prev = {};
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
	/* Drain what is already buffered so the summary matches the lines. */
	if (ring)
		ring_buffer__consume(ring);
	else
		tracefs_drain(&trace, on_trace_line, NULL);
}

int main(int argc, char **argv)
{
	struct pr_reading total;
	enum mt_mode mode;
	int err;

	err = mt_parse_args(&pr_tool, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	mt_quiet_libbpf();
	mt_install_signals();
	mode = mt_choose_mode(&sources);
	if (mode == MT_MODE_AUTO)
		return 1;
	mt_env.mode = mode;
	if (mt_env.verbose)
		fprintf(stderr, "pr: mode %s\n", mt_mode_name(mode));
	run();
	read_now(&total);
	print_totals("summary", &total);
	ring_buffer__free(ring);
	pr_bpf__destroy(skel);
	tracefs_close(&trace);
	return 0;
}
