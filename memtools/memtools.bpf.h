/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CO-RE helpers shared by the memory tools' BPF programs. Every read goes
 * through bpf_core_read so the same object runs as tp_btf, raw_tp or
 * iterator program on 6.1 and later kernels. Array elements of structs
 * whose size differs between kernels are addressed with relocated sizes
 * (bpf_core_type_size), never with the size seen in our vmlinux.h.
 */
#ifndef MEMTOOLS_BPF_H
#define MEMTOOLS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define MT_MAX_CPUS	128
#define MT_NR_MM_COUNTERS 4	/* file, anon, swap entries, shmem */

/* Before 6.2 mm->rss_stat was a struct of atomic counters. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[MT_NR_MM_COUNTERS];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

const volatile __u32 mt_nr_cpus = 1;

/*
 * Per-CPU offsets are not reachable by name (__per_cpu_offset and
 * this_cpu_off are missing from kallsyms without KALLSYMS_ALL), so they
 * are measured: a per-CPU array's element for CPU c lives at its per-CPU
 * base pointer plus that CPU's offset.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mt_pcpu_probe SEC(".maps");

__u64 mt_cpu_off[MT_MAX_CPUS];
bool mt_cpu_off_ready;

static __always_inline bool mt_measure_cpu_offsets(void)
{
	void *p = &mt_pcpu_probe;
	__u64 base = 0, elem, array;
	__u32 zero = 0, cpu;

	if (mt_cpu_off_ready)
		return true;
	/* Read pointers' bits as numbers: the verifier forbids arithmetic
	 * on a map pointer, and these only feed probe reads. */
	bpf_probe_read_kernel(&array, sizeof(array), &p);
	bpf_probe_read_kernel(&base, sizeof(base), (void *)(array +
			      bpf_core_field_offset(struct bpf_array, pptrs)));
	if (!base)
		return false;
	for (cpu = 0; cpu < MT_MAX_CPUS && cpu < mt_nr_cpus; cpu++) {
		p = bpf_map_lookup_percpu_elem(&mt_pcpu_probe, &zero, cpu);
		if (!p)
			return false;
		bpf_probe_read_kernel(&elem, sizeof(elem), &p);
		mt_cpu_off[cpu] = elem - base;
	}
	mt_cpu_off_ready = true;
	return true;
}

/* Exact value of a percpu_counter: the shared count plus every CPU's
 * unfolded delta, as percpu_counter_sum() computes it. */
static __always_inline s64 mt_percpu_counter_sum(const void *pc)
{
	const struct percpu_counter *counter = pc;
	s32 *counters = BPF_CORE_READ(counter, counters);
	s64 sum = BPF_CORE_READ(counter, count);
	__u32 cpu;

	if (!mt_measure_cpu_offsets())
		return sum;
	for (cpu = 0; cpu < MT_MAX_CPUS && cpu < mt_nr_cpus; cpu++) {
		s32 delta = 0;

		bpf_probe_read_kernel(&delta, sizeof(delta),
				      (void *)((unsigned long)counters + mt_cpu_off[cpu]));
		sum += delta;
	}
	return sum;
}

/* mm's MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES in pages. */
static __always_inline void mt_read_mm_counters(struct mm_struct *mm, s64 *out)
{
	int i;

	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		for (i = 0; i < MT_NR_MM_COUNTERS; i++)
			out[i] = BPF_CORE_READ(old, rss_stat.count[i].counter);
		return;
	}
	for (i = 0; i < MT_NR_MM_COUNTERS; i++) {
		const void *pc = (const void *)mm +
			bpf_core_field_offset(struct mm_struct, rss_stat) +
			i * bpf_core_type_size(struct percpu_counter);

		out[i] = mt_percpu_counter_sum(pc);
	}
}

/*
 * The node's pglist_data. node_data[] is neither in BTF nor in kallsyms
 * on every kernel, but each memory cgroup keeps a per-node lruvec that
 * points back at its node, so any task's memcg leads there.
 */
static __always_inline struct pglist_data *mt_node_pgdat(struct task_struct *task,
							   int nid)
{
	int memcg_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;
	struct mem_cgroup_per_node *pn = NULL;
	struct mem_cgroup *memcg;

	if (memcg_id < 0 || memcg_id >= 16)
		return NULL;
	css = BPF_CORE_READ(task, cgroups, subsys[memcg_id]);
	if (!css)
		return NULL;
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	bpf_probe_read_kernel(&pn, sizeof(pn), (void *)memcg +
			      bpf_core_field_offset(struct mem_cgroup, nodeinfo) +
			      nid * sizeof(void *));
	if (!pn)
		return NULL;
	return BPF_CORE_READ(pn, lruvec.pgdat);
}

static __always_inline struct zone *mt_node_zone(struct pglist_data *pgdat, int z)
{
	return (void *)pgdat + bpf_core_field_offset(struct pglist_data, node_zones) +
	       z * bpf_core_type_size(struct zone);
}

static __always_inline long mt_atomic_long_at(const void *array, int idx)
{
	long v = 0;

	if (idx < 0)
		return 0;
	bpf_probe_read_kernel(&v, sizeof(v), array + idx * sizeof(atomic_long_t));
	/* Unfolded per-CPU deltas can leave a counter briefly below zero;
	 * the kernel shows 0 then, and so do we. */
	return v < 0 ? 0 : v;
}

/* One node-level vmstat counter (pages), 0 if the item does not exist. */
#define mt_node_stat_of(pgdat, enum_type, item)				\
	(bpf_core_enum_value_exists(enum_type, item) ?			\
	 mt_atomic_long_at((void *)(pgdat) +				\
			   bpf_core_field_offset(struct pglist_data, vm_stat), \
			   bpf_core_enum_value(enum_type, item)) : 0)
#define mt_node_stat(pgdat, item)					\
	mt_node_stat_of(pgdat, enum node_stat_item, item)

/* Items some kernels lack: the ___gone suffix is dropped when matching. */
enum node_stat_item___gone {
	NR_UNSTABLE_NFS___gone = 1000,
	NR_WRITEBACK_TEMP___gone = 1001,
};

#define mt_zone_stat(zone, item)					\
	mt_atomic_long_at((void *)(zone) +				\
			  bpf_core_field_offset(struct zone, vm_stat),	\
			  bpf_core_enum_value(enum zone_stat_item, item))

/* Command-name filter shared by the event tools (rodata, "" = off). */
static __always_inline bool mt_comm_equal(const char *a, const volatile char *b)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			break;
	}
	return true;
}

#endif
