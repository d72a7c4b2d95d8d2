// SPDX-License-Identifier: GPL-2.0
/* NUMA tiers for cslide: node pools and page placement (move_pages). */
#include <errno.h>
#include <limits.h>
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

/* A status move_pages() never writes: a node or a negative errno. */
#define NOT_REPORTED	INT_MIN

static long move_batch(pid_t pid, const uint64_t *addrs, const int *to_nodes,
		       size_t nr, int *status)
{
	void *pages[MOVE_BATCH];
	size_t i;

	for (i = 0; i < nr; i++)
		pages[i] = (void *)(uintptr_t)addrs[i];
	/* nodes == NULL only asks where the pages are. */
	long ret = move_pages(pid, nr, pages, to_nodes, status, to_nodes ? MPOL_MF_MOVE : 0);

	return ret < 0 ? -errno : ret;
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
		for (i = done; i < done + n; i++)
			status[i] = NOT_REPORTED;
		err = move_batch(pid, addrs + done, to_nodes + done, n,
				 status + done);
		if (err < 0)
			return err;
		/*
		 * A positive return counts pages that failed inside the
		 * migration itself (busy, pinned, no memory on the node), and
		 * the kernel then stops: the statuses of that group and of
		 * every later page are left unwritten. Where those pages are
		 * now is the result.
		 */
		for (i = done; i < done + n; i++) {
			int node;

			if (status[i] != NOT_REPORTED)
				continue;
			if (numa_tier_where(pid, &addrs[i], 1, &node) == 0 && node == to_nodes[i])
				status[i] = node;
			else
				status[i] = -EAGAIN;
		}
		for (i = done; i < done + n; i++)
			moved += status[i] == to_nodes[i];
	}
	return moved;
}
