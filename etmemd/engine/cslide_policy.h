/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cslide placement policy: which huge pages move between a fast (DRAM) node
 * and its paired slow node in one cycle. Pure computation over page access
 * counts and free huge pages, so it is unit-tested without a kernel; the
 * engine (cslide.c) gathers the inputs and carries the moves out.
 */
#ifndef ETMEMD_CSLIDE_POLICY_H
#define ETMEMD_CSLIDE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cslide_params {
	uint32_t hot_threshold;		/* pages accessed fewer times are cold */
	uint64_t mig_quota_pages;	/* most pages moved per direction per cycle */
	uint64_t hot_reserve_pages;	/* most hot pages kept on the fast node */
	uint32_t min_idle_age;		/* 0, or demote only pages idle this long */
};

struct cslide_pair {
	int hot_node;	/* DRAM */
	int cold_node;	/* slow tier */
};

struct cslide_page {
	pid_t pid;
	uint64_t addr;
	int node;		/* where it sits now */
	uint32_t count;		/* scans in which it was accessed */
	int idle_age;		/* the kernel's consecutive idle scans, -1 unknown */
};

enum cslide_dir {
	CSLIDE_DEMOTE,	/* fast node to slow node */
	CSLIDE_PROMOTE,	/* slow node to fast node */
};

struct cslide_move {
	pid_t pid;
	uint64_t addr;
	int from, to;
	enum cslide_dir dir;
};

/* Remembers the last move of each page, for the no-ping-pong rule. */
struct cslide_history;

struct cslide_history *cslide_history_new(void);
void cslide_history_free(struct cslide_history *history);
void cslide_history_record(struct cslide_history *history, pid_t pid,
			   uint64_t addr, enum cslide_dir dir, unsigned int cycle);
/*
 * Cycles a page whose move the kernel refused for a lasting reason is left
 * where it is: move_pages() status -EACCES, mapped more than once (by
 * another process too, or twice by this one), which MPOL_MF_MOVE does not
 * move. Asking again every cycle would repeat the refusal and spend
 * node_mig_quota on it, so that pages that can move wait; after the hold
 * the page is asked again (the other mapping may be gone). Other refusals
 * (-EFAULT: mostly a page or mapping gone since the scan; -ENOENT,
 * -EBUSY) pass and are asked again the next cycle.
 */
#define CSLIDE_HOLD_CYCLES	16

/*
 * Hold back the page at @addr of @pid: cslide_plan() moves it in neither
 * direction in cycles cycle + 1 .. cycle + CSLIDE_HOLD_CYCLES.
 */
void cslide_history_hold(struct cslide_history *history, pid_t pid, uint64_t addr,
			 unsigned int cycle);
/*
 * Forget pages whose last move is older than the previous cycle, and holds
 * that ended before @cycle. Returns the number of pages still held.
 */
unsigned int cslide_history_expire(struct cslide_history *history, unsigned int cycle);

/*
 * Plan one cycle's moves for one node pair.
 * @pages: every scanned page of the pair's two nodes (reordered in place).
 * @free_hot, @free_cold: free huge pages on each node now.
 * @cycle: this cycle's number, to tell last cycle's moves from older ones.
 * Demotions come first in *@moves (they free the fast node's pages that
 * promotions then use); at most mig_quota_pages of each direction. With
 * min_idle_age, a page whose known idle age is below it is not demoted.
 * A page held back (cslide_history_hold()) is not moved and takes no
 * quota; a hot one fills the fast node's reserve only when it is on the
 * fast node. *@nr_held counts the pages of @pages held back.
 * Returns 0 or -ENOMEM; the caller frees *@moves.
 */
int cslide_plan(const struct cslide_params *params,
		const struct cslide_pair *pair, struct cslide_page *pages,
		size_t nr_pages, uint64_t free_hot, uint64_t free_cold,
		const struct cslide_history *history, unsigned int cycle,
		struct cslide_move **moves, size_t *nr_moves, size_t *nr_held);

#endif /* ETMEMD_CSLIDE_POLICY_H */
