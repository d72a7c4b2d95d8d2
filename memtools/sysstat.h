/* SPDX-License-Identifier: GPL-2.0 */
/* Layout shared by sysstat.bpf.c and sysstat.c. */
#ifndef MEMTOOLS_SYSSTAT_H
#define MEMTOOLS_SYSSTAT_H

#define SYSSTAT_MAX_NODES 16

/* Order of the report; names and sources are in sysstat.c. */
enum sysstat_item {
	SYS_ACTIVE, SYS_INACTIVE,
	SYS_ACTIVE_ANON, SYS_INACTIVE_ANON, SYS_ACTIVE_FILE, SYS_INACTIVE_FILE,
	SYS_UNEVICTABLE, SYS_DIRTY, SYS_WRITEBACK, SYS_ANONPAGES, SYS_MAPPED,
	SYS_SHMEM, SYS_KRECLAIMABLE, SYS_SLAB, SYS_SRECLAIMABLE, SYS_SUNRECLAIM,
	SYS_NFS_UNSTABLE, SYS_WRITEBACKTMP, SYS_ANONHUGEPAGES, SYS_SHMEMHUGEPAGES,
	__SYS_CNT
};

/* One node's figures in pages; valid is 0 for a node without memory. */
struct sysstat_node {
	unsigned long long pages[__SYS_CNT];
	unsigned int valid;
};

#endif
