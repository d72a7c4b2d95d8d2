/* SPDX-License-Identifier: GPL-2.0 */
/* Layout shared by pr.bpf.c and pr.c. */
#ifndef MEMTOOLS_PR_H
#define MEMTOOLS_PR_H

enum pr_kind {
	PR_SHRINK = 1,		/* one pass over an inactive LRU list */
	PR_DIRECT,		/* a direct reclaim, begin to end */
	PR_MEMCG,		/* a memory cgroup limit reclaim, begin to end */
};

struct pr_event {
	unsigned long long ts_ns;
	unsigned long long latency_ns;		/* PR_DIRECT, PR_MEMCG */
	unsigned long long gfp;			/* PR_DIRECT, PR_MEMCG */
	unsigned long long nr_scanned;		/* PR_SHRINK */
	unsigned long long nr_reclaimed;
	unsigned int nr_dirty, nr_unqueued_dirty, nr_congested, nr_writeback;
	unsigned int nr_immediate;
	int nid, priority, file, order;
	unsigned int pid, kind;
	char comm[16];
};

/*
 * Kernel-side running totals, exact even if the ring buffer overflows
 * (in pages, nanoseconds, and counts of passes and reclaims).
 */
struct pr_totals {
	unsigned long long passes, scanned, reclaimed, dirty, unqueued_dirty;
	unsigned long long congested, writeback;
	unsigned long long direct, direct_ns, direct_max_ns, direct_reclaimed;
	unsigned long long memcg, memcg_ns, memcg_max_ns, memcg_reclaimed;
	unsigned long long lost_events;	/* ring reservations that failed */
};

#endif
