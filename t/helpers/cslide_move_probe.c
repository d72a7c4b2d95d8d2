// SPDX-License-Identifier: GPL-2.0
/*
 * Checks etmemd's NUMA tier layer on real hugetlb memory: maps huge pages
 * on node 0, moves half of them to node 1 with numa_tier_move(), and
 * verifies placement (numa_tier_where), pool counts and the data.
 */
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "numa_tier.h"

#define NR_PAGES 8
#define PAGE_2M (2UL << 20)

static int fail(const char *what)
{
	printf("not ok: %s\n", what);
	return 1;
}

int main(void)
{
	unsigned long node0 = 1;
	uint64_t addrs[NR_PAGES];
	int nodes[NR_PAGES], to[NR_PAGES], status[NR_PAGES];
	struct node_hugepages before, after;
	unsigned char *mem;
	long moved;
	int i;

	mem = mmap(NULL, NR_PAGES * PAGE_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap of huge pages");
	if (mbind(mem, NR_PAGES * PAGE_2M, MPOL_BIND, &node0, 2, 0))
		return fail("mbind to node 0");
	for (i = 0; i < NR_PAGES; i++) {
		memset(mem + i * PAGE_2M, 0x40 + i, PAGE_2M);
		addrs[i] = (uint64_t)(uintptr_t)(mem + i * PAGE_2M);
	}
	/* The binding would pull moved pages back: allow every node now. */
	if (mbind(mem, NR_PAGES * PAGE_2M, MPOL_DEFAULT, NULL, 0, 0))
		return fail("mbind default");
	if (numa_tier_where(getpid(), addrs, NR_PAGES, nodes))
		return fail("numa_tier_where");
	for (i = 0; i < NR_PAGES; i++)
		if (nodes[i] != 0)
			return fail("pages start on node 0");
	if (numa_tier_hugepages(1, &before))
		return fail("numa_tier_hugepages(1)");
	for (i = 0; i < NR_PAGES; i++)
		to[i] = i % 2;
	moved = numa_tier_move(getpid(), addrs, to, NR_PAGES, status);
	printf("moved %ld of %d pages (to node 1: %d)\n", moved, NR_PAGES, NR_PAGES / 2);
	if (moved != NR_PAGES)
		return fail("every page reached its node");
	if (numa_tier_where(getpid(), addrs, NR_PAGES, nodes))
		return fail("numa_tier_where after the move");
	for (i = 0; i < NR_PAGES; i++)
		if (nodes[i] != i % 2)
			return fail("placement after the move");
	if (numa_tier_hugepages(1, &after))
		return fail("numa_tier_hugepages(1) after");
	printf("node1 free huge pages %lu -> %lu\n", (unsigned long)before.free,
	       (unsigned long)after.free);
	if (before.free - after.free != NR_PAGES / 2)
		return fail("node 1 pool lost exactly the moved pages");
	for (i = 0; i < NR_PAGES; i++) {
		size_t j;

		for (j = 0; j < PAGE_2M; j += 4096)
			if (mem[i * PAGE_2M + j] != 0x40 + i)
				return fail("data intact after the move");
	}
	if (numa_tier_node_exists(7) || numa_tier_hugepages(7, &after) != -ENOENT)
		return fail("a missing node is reported missing");
	printf("ok: cslide NUMA tier layer\n");
	return 0;
}
