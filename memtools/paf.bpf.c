// SPDX-License-Identifier: GPL-2.0
/*
 * paf: page allocation failures. mm_page_alloc fires at the end of every
 * allocation through the buddy allocator, with a NULL page when it
 * failed; only those are reported, with every zone's watermarks and
 * sizes read at that moment.
 */
#include "memtools.bpf.h"
#include "paf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 filter_tgid;
const volatile char filter_comm[16];
const volatile __u32 nr_nodes = 1;
/* -a: report successful allocations too (without zone figures). */
const volatile bool report_all;

/* Counted before the ring, so exact when it is full. */
__u64 failures;
__u64 failures_by_order[PAF_MAX_ORDER + 1];
__u64 lost_events;	/* ring reservations that failed */

/* Sized by user space before loading (-b, mt_bpf_ring_bytes()). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");


static __always_inline void read_zone(struct zone *zone, struct paf_zone *out)
{
	unsigned long boost = BPF_CORE_READ(zone, watermark_boost);
	const char *name = BPF_CORE_READ(zone, name);

	out->valid = 0;
	out->present = BPF_CORE_READ(zone, present_pages);
	if (!out->present)
		return;
	out->valid = 1;
	out->min = BPF_CORE_READ(zone, _watermark[0]) + boost;
	out->low = BPF_CORE_READ(zone, _watermark[1]) + boost;
	out->high = BPF_CORE_READ(zone, _watermark[2]) + boost;
	out->managed = BPF_CORE_READ(zone, managed_pages.counter);
	out->free = mt_zone_stat(zone, NR_FREE_PAGES);
	bpf_probe_read_kernel_str(out->name, sizeof(out->name), name);
}

#define PAF_HEADER_SIZE __builtin_offsetof(struct paf_event, zones)

static __always_inline void fill_header(struct paf_event *e, unsigned int order,
					gfp_t gfp, int migratetype, const char *comm,
					bool failed)
{
	e->ts_ns = bpf_ktime_get_ns();
	e->gfp = gfp;
	e->order = order;
	e->migratetype = migratetype;
	e->pid = bpf_get_current_pid_tgid();
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->local_nid = bpf_get_numa_node_id();
	e->failed = failed;
	__builtin_memcpy(e->comm, comm, 16);
}

static __always_inline void fill_zones(struct paf_event *e)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	int nr_zones = bpf_core_enum_value(enum zone_type, __MAX_NR_ZONES);
	struct pglist_data *pgdat;
	__u32 nid, z;

	/* Ring buffer space is not zeroed, and is too big for memset. */
	for (nid = 0; nid < PAF_MAX_NODES; nid++)
		for (z = 0; z < PAF_MAX_ZONES; z++)
			e->zones[nid][z].valid = 0;
	for (nid = 0; nid < PAF_MAX_NODES && nid < nr_nodes; nid++) {
		pgdat = mt_node_pgdat(task, nid);
		if (!pgdat)
			continue;
		for (z = 0; z < PAF_MAX_ZONES && z < nr_zones; z++)
			read_zone(mt_node_zone(pgdat, z), &e->zones[nid][z]);
	}
}

static __always_inline void on_alloc(struct page *page, unsigned int order,
				     gfp_t gfp, int migratetype)
{
	struct paf_event *e;
	char comm[16];

	if (page && !report_all)
		return;
	bpf_get_current_comm(comm, sizeof(comm));
	if (filter_tgid && (bpf_get_current_pid_tgid() >> 32) != filter_tgid)
		return;
	if (filter_comm[0] && !mt_comm_equal(comm, filter_comm))
		return;
	if (page) {
		/* A success (with -a) carries no zone figures. */
		e = bpf_ringbuf_reserve(&events, PAF_HEADER_SIZE, 0);
		if (!e)
			goto lost;
		fill_header(e, order, gfp, migratetype, comm, false);
		bpf_ringbuf_submit(e, 0);
		return;
	}
	__sync_fetch_and_add(&failures, 1);
	__sync_fetch_and_add(&failures_by_order[order < PAF_MAX_ORDER ? order : PAF_MAX_ORDER], 1);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto lost;
	fill_header(e, order, gfp, migratetype, comm, true);
	fill_zones(e);
	bpf_ringbuf_submit(e, 0);
	return;
lost:
	__sync_fetch_and_add(&lost_events, 1);
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(alloc_btf, struct page *page, unsigned int order, gfp_t gfp, int migratetype)
{
	on_alloc(page, order, gfp, migratetype);
	return 0;
}

SEC("raw_tp/mm_page_alloc")
int BPF_PROG(alloc_raw, struct page *page, unsigned int order, gfp_t gfp, int migratetype)
{
	on_alloc(page, order, gfp, migratetype);
	return 0;
}
