// SPDX-License-Identifier: GPL-2.0
/*
 * sysstat: read every node's vmstat counters straight from its
 * pglist_data. A task iterator serves as an on-demand trigger: user space
 * reads the iterator once per report and the first task visited leads,
 * through its memory cgroup, to each node.
 */
#include "memtools.bpf.h"
#include "sysstat.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 nr_nodes = 1;
struct sysstat_node nodes[SYSSTAT_MAX_NODES];

static __always_inline void read_node(struct pglist_data *pgdat,
				      struct sysstat_node *out)
{
	unsigned long long *p = out->pages;

	p[SYS_ACTIVE_ANON] = mt_node_stat(pgdat, NR_ACTIVE_ANON);
	p[SYS_INACTIVE_ANON] = mt_node_stat(pgdat, NR_INACTIVE_ANON);
	p[SYS_ACTIVE_FILE] = mt_node_stat(pgdat, NR_ACTIVE_FILE);
	p[SYS_INACTIVE_FILE] = mt_node_stat(pgdat, NR_INACTIVE_FILE);
	p[SYS_ACTIVE] = p[SYS_ACTIVE_ANON] + p[SYS_ACTIVE_FILE];
	p[SYS_INACTIVE] = p[SYS_INACTIVE_ANON] + p[SYS_INACTIVE_FILE];
	p[SYS_UNEVICTABLE] = mt_node_stat(pgdat, NR_UNEVICTABLE);
	p[SYS_DIRTY] = mt_node_stat(pgdat, NR_FILE_DIRTY);
	p[SYS_WRITEBACK] = mt_node_stat(pgdat, NR_WRITEBACK);
	p[SYS_ANONPAGES] = mt_node_stat(pgdat, NR_ANON_MAPPED);
	p[SYS_MAPPED] = mt_node_stat(pgdat, NR_FILE_MAPPED);
	p[SYS_SHMEM] = mt_node_stat(pgdat, NR_SHMEM);
	p[SYS_SRECLAIMABLE] = mt_node_stat(pgdat, NR_SLAB_RECLAIMABLE_B);
	p[SYS_SUNRECLAIM] = mt_node_stat(pgdat, NR_SLAB_UNRECLAIMABLE_B);
	p[SYS_SLAB] = p[SYS_SRECLAIMABLE] + p[SYS_SUNRECLAIM];
	p[SYS_KRECLAIMABLE] = p[SYS_SRECLAIMABLE] +
			     mt_node_stat(pgdat, NR_KERNEL_MISC_RECLAIMABLE);
	/* Gone since 5.9 (kernels print 0); kept for older ones. */
	p[SYS_NFS_UNSTABLE] = mt_node_stat_of(pgdat, enum node_stat_item___gone,
					     NR_UNSTABLE_NFS___gone);
	p[SYS_WRITEBACKTMP] = mt_node_stat_of(pgdat, enum node_stat_item___gone,
					     NR_WRITEBACK_TEMP___gone);
	p[SYS_ANONHUGEPAGES] = mt_node_stat(pgdat, NR_ANON_THPS);
	p[SYS_SHMEMHUGEPAGES] = mt_node_stat(pgdat, NR_SHMEM_THPS);
	out->valid = 1;
}

SEC("iter/task")
int sample_nodes(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct pglist_data *pgdat;
	__u32 nid;

	if (!task || ctx->meta->seq_num != 0)
		return 0;
	for (nid = 0; nid < SYSSTAT_MAX_NODES && nid < nr_nodes; nid++) {
		__builtin_memset(&nodes[nid], 0, sizeof(nodes[nid]));
		pgdat = mt_node_pgdat(task, nid);
		if (pgdat)
			read_node(pgdat, &nodes[nid]);
	}
	return 0;
}
