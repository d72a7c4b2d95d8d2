// SPDX-License-Identifier: GPL-2.0
/*
 * pr: page reclaim passes from mm_vmscan_lru_shrink_inactive (with the
 * pass's reclaim_stat, which holds the unqueued-dirty count the trace
 * text leaves out) and direct / memcg reclaim latency from the
 * *_reclaim_begin and *_reclaim_end pairs.
 */
#include "memtools.bpf.h"
#include "pr.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 filter_tgid;
const volatile char filter_comm[16];

struct pr_totals totals;

struct reclaim_start {
	__u64 ts_ns;
	__u64 gfp;
	int order;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct reclaim_start);
} starts SEC(".maps");

/* Sized by user space before loading (-b, mt_bpf_ring_bytes()). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline bool wanted(char *comm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	bpf_get_current_comm(comm, 16);
	if (filter_tgid && tgid != filter_tgid)
		return false;
	return !filter_comm[0] || mt_comm_equal(comm, filter_comm);
}

static __always_inline void on_shrink(int nid, unsigned long nr_scanned,
				      unsigned long nr_reclaimed,
				      struct reclaim_stat *stat, int priority, int file)
{
	unsigned int dirty, unqueued_dirty, congested, writeback;
	struct pr_event *e;
	char comm[16];

	if (!wanted(comm))
		return;
	dirty = BPF_CORE_READ(stat, nr_dirty);
	unqueued_dirty = BPF_CORE_READ(stat, nr_unqueued_dirty);
	congested = BPF_CORE_READ(stat, nr_congested);
	writeback = BPF_CORE_READ(stat, nr_writeback);
	/* Totals first: they stay exact when the ring is full. */
	__sync_fetch_and_add(&totals.passes, 1);
	__sync_fetch_and_add(&totals.scanned, nr_scanned);
	__sync_fetch_and_add(&totals.reclaimed, nr_reclaimed);
	__sync_fetch_and_add(&totals.dirty, dirty);
	__sync_fetch_and_add(&totals.unqueued_dirty, unqueued_dirty);
	__sync_fetch_and_add(&totals.congested, congested);
	__sync_fetch_and_add(&totals.writeback, writeback);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&totals.lost_events, 1);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = PR_SHRINK;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid();
	__builtin_memcpy(e->comm, comm, sizeof(comm));
	e->nid = nid;
	e->nr_scanned = nr_scanned;
	e->nr_reclaimed = nr_reclaimed;
	e->priority = priority;
	e->file = file;
	e->nr_dirty = dirty;
	e->nr_unqueued_dirty = unqueued_dirty;
	e->nr_congested = congested;
	e->nr_writeback = writeback;
	e->nr_immediate = BPF_CORE_READ(stat, nr_immediate);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void on_begin(int order, gfp_t gfp)
{
	__u32 tid = bpf_get_current_pid_tgid();
	struct reclaim_start s = {
		.ts_ns = bpf_ktime_get_ns(), .gfp = gfp, .order = order,
	};
	char comm[16];

	if (wanted(comm))
		bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
}

static __always_inline void on_end(unsigned long nr_reclaimed, unsigned int kind)
{
	__u32 tid = bpf_get_current_pid_tgid();
	struct reclaim_start *s = bpf_map_lookup_elem(&starts, &tid);
	struct pr_event *e;
	__u64 now, lat;

	if (!s)
		return;
	now = bpf_ktime_get_ns();
	lat = now - s->ts_ns;
	if (kind == PR_DIRECT) {
		__sync_fetch_and_add(&totals.direct, 1);
		__sync_fetch_and_add(&totals.direct_ns, lat);
		__sync_fetch_and_add(&totals.direct_reclaimed, nr_reclaimed);
		if (lat > totals.direct_max_ns)
			totals.direct_max_ns = lat;	/* racy max is good enough */
	} else {
		__sync_fetch_and_add(&totals.memcg, 1);
		__sync_fetch_and_add(&totals.memcg_ns, lat);
		__sync_fetch_and_add(&totals.memcg_reclaimed, nr_reclaimed);
		if (lat > totals.memcg_max_ns)
			totals.memcg_max_ns = lat;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&totals.lost_events, 1);
		bpf_map_delete_elem(&starts, &tid);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->ts_ns = now;
	e->latency_ns = lat;
	e->gfp = s->gfp;
	e->order = s->order;
	e->nr_reclaimed = nr_reclaimed;
	e->nid = -1;
	e->pid = tid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_map_delete_elem(&starts, &tid);
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/mm_vmscan_lru_shrink_inactive")
int BPF_PROG(shrink_btf, int nid, unsigned long nr_scanned, unsigned long nr_reclaimed,
	     struct reclaim_stat *stat, int priority, int file)
{
	on_shrink(nid, nr_scanned, nr_reclaimed, stat, priority, file);
	return 0;
}

SEC("raw_tp/mm_vmscan_lru_shrink_inactive")
int BPF_PROG(shrink_raw, int nid, unsigned long nr_scanned, unsigned long nr_reclaimed,
	     struct reclaim_stat *stat, int priority, int file)
{
	on_shrink(nid, nr_scanned, nr_reclaimed, stat, priority, file);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_begin_btf, int order, gfp_t gfp)
{
	on_begin(order, gfp);
	return 0;
}

SEC("raw_tp/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_begin_raw, int order, gfp_t gfp)
{
	on_begin(order, gfp);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_end_btf, unsigned long nr_reclaimed)
{
	on_end(nr_reclaimed, PR_DIRECT);
	return 0;
}

SEC("raw_tp/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_end_raw, unsigned long nr_reclaimed)
{
	on_end(nr_reclaimed, PR_DIRECT);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_begin_btf, int order, gfp_t gfp)
{
	on_begin(order, gfp);
	return 0;
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_begin_raw, int order, gfp_t gfp)
{
	on_begin(order, gfp);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_end_btf, unsigned long nr_reclaimed)
{
	on_end(nr_reclaimed, PR_MEMCG);
	return 0;
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_end_raw, unsigned long nr_reclaimed)
{
	on_end(nr_reclaimed, PR_MEMCG);
	return 0;
}
