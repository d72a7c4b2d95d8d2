/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NUMA memory tiers as cslide sees them: which nodes exist, how many huge
 * pages each holds and has free, where a process's pages sit, and moving
 * them (move_pages(2) through libnuma).
 */
#ifndef ETMEMD_NUMA_TIER_H
#define ETMEMD_NUMA_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HUGE_PAGE_KB	2048

struct node_hugepages {
	uint64_t total;	/* nr_hugepages of the node's 2 MiB pool */
	uint64_t free;	/* free_hugepages */
};

bool numa_tier_node_exists(int node);

/* The node's 2 MiB huge-page pool; -ENOENT if the node does not exist. */
int numa_tier_hugepages(int node, struct node_hugepages *pages);

/*
 * Current node of each page of @pid at @addrs; a page that is not resident
 * gets a negative errno in its slot. Returns 0 or a negative errno.
 */
int numa_tier_where(pid_t pid, const uint64_t *addrs, size_t nr, int *nodes);

/*
 * Move the pages at @addrs of @pid to @to_nodes (same length). @status
 * receives each page's node after the call, or the negative errno
 * move_pages() gave it (-EACCES: mapped more than once, -ENOENT: not
 * present, -EBUSY, ...), or -EAGAIN for a page the kernel gave no result
 * for and that is not on its node (the migration failed for a group of
 * pages, busy, pinned or out of memory there, and the kernel stopped).
 * Returns the number of pages that reached their node, or a negative errno.
 */
long numa_tier_move(pid_t pid, const uint64_t *addrs, const int *to_nodes,
		    size_t nr, int *status);

#endif /* ETMEMD_NUMA_TIER_H */
