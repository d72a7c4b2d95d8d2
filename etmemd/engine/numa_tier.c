// SPDX-License-Identifier: GPL-2.0
/* NUMA tiers for cslide: node pools and page placement (move_pages). */
#include <errno.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "numa_tier.h"

/* move_pages() handles any count, but batches bound the arrays we pass. */
#define MOVE_BATCH	1024

bool numa_tier_node_exists(int node)
{
	char path[64];

	if (node < 0)
		return false;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	return access(path, F_OK) == 0;
}

static int read_u64(const char *path, uint64_t *val)
{
	FILE *file = fopen(path, "re");
	int ok;

	if (!file)
		return -errno;
	ok = fscanf(file, "%" SCNu64, val) == 1;
	fclose(file);
	return ok ? 0 : -EIO;
}

int numa_tier_hugepages(int node, struct node_hugepages *pages)
{
	char path[128];
	int err;

	if (!numa_tier_node_exists(node))
		return -ENOENT;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
		 "hugepages-%dkB/nr_hugepages", node, HUGE_PAGE_KB);
	err = read_u64(path, &pages->total);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
		 "hugepages-%dkB/free_hugepages", node, HUGE_PAGE_KB);
	return read_u64(path, &pages->free);
}

static long move_batch(pid_t pid, const uint64_t *addrs, const int *to_nodes,
		       size_t nr, int *status)
{
	void *pages[MOVE_BATCH];
	size_t i;

	for (i = 0; i < nr; i++)
		pages[i] = (void *)(uintptr_t)addrs[i];
	/* nodes == NULL only asks where the pages are. */
	if (move_pages(pid, nr, pages, to_nodes, status,
		       to_nodes ? MPOL_MF_MOVE : 0) < 0)
		return -errno;
	return 0;
}

int numa_tier_where(pid_t pid, const uint64_t *addrs, size_t nr, int *nodes)
{
	size_t done, n;
	long err;

	for (done = 0; done < nr; done += n) {
		n = nr - done < MOVE_BATCH ? nr - done : MOVE_BATCH;
		err = move_batch(pid, addrs + done, NULL, n, nodes + done);
		if (err)
			return (int)err;
	}
	return 0;
}

long numa_tier_move(pid_t pid, const uint64_t *addrs, const int *to_nodes,
		    size_t nr, int *status)
{
	size_t done, n, i;
	long err, moved = 0;

	for (done = 0; done < nr; done += n) {
		n = nr - done < MOVE_BATCH ? nr - done : MOVE_BATCH;
		err = move_batch(pid, addrs + done, to_nodes + done, n,
				 status + done);
		/*
		 * move_pages() returns the number of pages it could not move
		 * as a positive count, or fails as a whole; per-page results
		 * are in status either way.
		 */
		if (err < 0)
			return err;
		for (i = done; i < done + n; i++)
			moved += status[i] == to_nodes[i];
	}
	return moved;
}
