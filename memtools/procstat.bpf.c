// SPDX-License-Identifier: GPL-2.0
/*
 * procstat: snapshot a process's memory counters when it is switched out.
 * At that point the task is off the CPU, so its own faults and unmaps are
 * not half-way through updating the counters. A task iterator, run by
 * user space before each report, fills in processes that did not run.
 */
#include "memtools.bpf.h"
#include "procstat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 filter_tgid;
const volatile char filter_comm[16];
/* Report round; user space bumps it after printing each report. */
volatile __u64 report_gen;
/* Snapshots that could not be stored (the table of processes is full). */
__u64 lost_events;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROCSTAT_MAX_PROCS);
	__type(key, u32);
	__type(value, struct procstat_snap);
} snaps SEC(".maps");

static __always_inline int record(struct task_struct *task, bool from_switch)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	u32 tgid = BPF_CORE_READ(task, tgid);
	struct procstat_snap snap = {}, *old;
	s64 cnt[MT_NR_MM_COUNTERS] = {};
	struct task_struct *leader;

	if (!mm)
		return 0;	/* kernel thread, or an exiting task */
	if (filter_tgid && tgid != filter_tgid)
		return 0;
	leader = BPF_CORE_READ(task, group_leader);
	BPF_CORE_READ_STR_INTO(&snap.comm, leader, comm);
	if (filter_comm[0] && !mt_comm_equal(snap.comm, filter_comm))
		return 0;
	if (!from_switch) {
		/* A switch-time snapshot of this round is the better one. */
		old = bpf_map_lookup_elem(&snaps, &tgid);
		if (old && old->gen == report_gen && old->from_switch)
			return 0;
	}
	mt_read_mm_counters(mm, cnt);
	snap.gen = report_gen;
	snap.tgid = tgid;
	snap.from_switch = from_switch;
	snap.total_vm = BPF_CORE_READ(mm, total_vm);
	snap.hiwater_rss = BPF_CORE_READ(mm, hiwater_rss);
	snap.rss_file = cnt[0];
	snap.rss_anon = cnt[1];
	snap.swap_ents = cnt[2];
	snap.rss_shmem = cnt[3];
	snap.data_vm = BPF_CORE_READ(mm, data_vm);
	snap.stack_vm = BPF_CORE_READ(mm, stack_vm);
	snap.pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
	if (bpf_map_update_elem(&snaps, &tgid, &snap, BPF_ANY))
		__sync_fetch_and_add(&lost_events, 1);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_btf, bool preempt, struct task_struct *prev)
{
	return record(prev, true);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct *prev)
{
	return record(prev, true);
}

SEC("iter/task")
int refresh_all(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task || BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0;
	return record(task, false);
}
