// SPDX-License-Identifier: GPL-2.0
/*
 * cslide placement policy.
 *
 * Ranking: the pages of a node pair are sorted by access count, hottest
 * first. Pages with count >= hot_threshold belong on the fast node, but
 * only as many as hot_reserve_pages: the hottest fill the reserve and the
 * overflow goes to the slow node with the cold pages.
 *
 * No ping-pong: a page moved in the previous cycle is moved back only if
 * its count crossed the threshold by a margin of PINGPONG_MARGIN scans
 * (demoted then promoted: count >= threshold + margin; promoted then
 * demoted: count + margin < threshold). A page whose count hovers at the
 * threshold therefore stays where it is for at least one more cycle.
 */
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cslide_policy.h"

#define PINGPONG_MARGIN	1

struct cslide_history {
	GHashTable *last_move;	/* page key -> (cycle << 1 | dir) */
	GHashTable *held;	/* page key -> last cycle of its hold */
};

struct page_key {
	pid_t pid;
	uint64_t addr;
};

static guint page_key_hash(gconstpointer p)
{
	const struct page_key *key = p;

	return g_int64_hash(&key->addr) ^ (guint)key->pid;
}

static gboolean page_key_equal(gconstpointer a, gconstpointer b)
{
	const struct page_key *x = a, *y = b;

	return x->pid == y->pid && x->addr == y->addr;
}

struct cslide_history *cslide_history_new(void)
{
	struct cslide_history *history = calloc(1, sizeof(*history));

	if (!history)
		return NULL;
	history->last_move = g_hash_table_new_full(page_key_hash, page_key_equal,
						   g_free, NULL);
	history->held = g_hash_table_new_full(page_key_hash, page_key_equal, g_free, NULL);
	return history;
}

void cslide_history_free(struct cslide_history *history)
{
	if (!history)
		return;
	g_hash_table_destroy(history->last_move);
	g_hash_table_destroy(history->held);
	free(history);
}

void cslide_history_record(struct cslide_history *history, pid_t pid,
			   uint64_t addr, enum cslide_dir dir, unsigned int cycle)
{
	struct page_key *key = g_new(struct page_key, 1);

	key->pid = pid;
	key->addr = addr;
	g_hash_table_insert(history->last_move, key,
			    GUINT_TO_POINTER((cycle << 1) | (unsigned int)dir));
}

static gboolean move_is_old(gpointer key, gpointer value, gpointer cycle)
{
	unsigned int moved = GPOINTER_TO_UINT(value) >> 1;

	return moved + 1 < GPOINTER_TO_UINT(cycle);
}

void cslide_history_hold(struct cslide_history *history, pid_t pid, uint64_t addr,
			 unsigned int cycle)
{
	struct page_key *key = g_new(struct page_key, 1);

	key->pid = pid;
	key->addr = addr;
	g_hash_table_insert(history->held, key, GUINT_TO_POINTER(cycle + CSLIDE_HOLD_CYCLES));
}

static gboolean hold_ended(gpointer key, gpointer value, gpointer cycle)
{
	return GPOINTER_TO_UINT(value) < GPOINTER_TO_UINT(cycle);
}

unsigned int cslide_history_expire(struct cslide_history *history, unsigned int cycle)
{
	g_hash_table_foreach_remove(history->last_move, move_is_old,
				    GUINT_TO_POINTER(cycle));
	g_hash_table_foreach_remove(history->held, hold_ended, GUINT_TO_POINTER(cycle));
	return g_hash_table_size(history->held);
}

/* Is the page held back in @cycle (a lasting refusal before)? */
static bool is_held(const struct cslide_history *history, const struct cslide_page *page,
		    unsigned int cycle)
{
	struct page_key key = { .pid = page->pid, .addr = page->addr };
	gpointer value;

	return history && g_hash_table_lookup_extended(history->held, &key, NULL, &value) &&
	       GPOINTER_TO_UINT(value) >= cycle;
}

/* Did the page move in direction @dir in the cycle before @cycle? */
static bool moved_last_cycle(const struct cslide_history *history,
			     const struct cslide_page *page,
			     enum cslide_dir dir, unsigned int cycle)
{
	struct page_key key = { .pid = page->pid, .addr = page->addr };
	gpointer value;
	unsigned int packed;

	if (!history || !g_hash_table_lookup_extended(history->last_move, &key,
						      NULL, &value))
		return false;
	packed = GPOINTER_TO_UINT(value);
	return (packed & 1) == (unsigned int)dir && (packed >> 1) + 1 == cycle;
}

/* Hottest first; on equal counts, pages already on the fast node first. */
static int hotter_first(const void *a, const void *b, void *hot_node)
{
	const struct cslide_page *x = a, *y = b;
	int fast = *(const int *)hot_node;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if ((x->node == fast) != (y->node == fast))
		return x->node == fast ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void add_move(struct cslide_move *moves, size_t *nr,
		     const struct cslide_page *page, int to, enum cslide_dir dir)
{
	moves[*nr] = (struct cslide_move){
		.pid = page->pid, .addr = page->addr,
		.from = page->node, .to = to, .dir = dir,
	};
	(*nr)++;
}

int cslide_plan(const struct cslide_params *params,
		const struct cslide_pair *pair, struct cslide_page *pages,
		size_t nr_pages, uint64_t free_hot, uint64_t free_cold,
		const struct cslide_history *history, unsigned int cycle,
		struct cslide_move **moves, size_t *nr_moves, size_t *nr_held)
{
	uint64_t reserve_left = params->hot_reserve_pages;
	uint64_t demote_budget, promote_budget, nr_demoted = 0;
	struct cslide_move *plan;
	bool *wants_fast;
	size_t i, nr = 0;
	int fast = pair->hot_node;

	*moves = NULL;
	*nr_moves = 0;
	*nr_held = 0;
	if (nr_pages == 0)
		return 0;
	plan = calloc(nr_pages, sizeof(*plan));
	wants_fast = calloc(nr_pages, sizeof(*wants_fast));
	if (!plan || !wants_fast) {
		free(plan);
		free(wants_fast);
		return -ENOMEM;
	}
	qsort_r(pages, nr_pages, sizeof(*pages), hotter_first, &fast);
	for (i = 0; i < nr_pages; i++) {
		bool held = is_held(history, &pages[i], cycle);

		*nr_held += held;
		if (!reserve_left || pages[i].count < params->hot_threshold)
			continue;
		/* A held page on the slow node cannot come up: no reserve slot. */
		if (held && pages[i].node != fast)
			continue;
		wants_fast[i] = true;
		reserve_left--;
	}

	/* Demotions, coldest first, into free pages of the slow node. */
	demote_budget = params->mig_quota_pages < free_cold ?
			params->mig_quota_pages : free_cold;
	for (i = nr_pages; i-- > 0 && nr_demoted < demote_budget;) {
		const struct cslide_page *page = &pages[i];

		if (page->node != pair->hot_node || wants_fast[i] || is_held(history, page, cycle))
			continue;
		/* Used within min_idle_age scans (the kernel's count): stays. */
		if (params->min_idle_age && page->idle_age >= 0 &&
		    (uint32_t)page->idle_age < params->min_idle_age)
			continue;
		if (moved_last_cycle(history, page, CSLIDE_PROMOTE, cycle) &&
		    page->count + PINGPONG_MARGIN >= params->hot_threshold)
			continue;
		add_move(plan, &nr, page, pair->cold_node, CSLIDE_DEMOTE);
		nr_demoted++;
	}

	/* Promotions, hottest first; each demotion freed a fast-node page. */
	promote_budget = free_hot + nr_demoted;
	if (promote_budget > params->mig_quota_pages)
		promote_budget = params->mig_quota_pages;
	for (i = 0; i < nr_pages && promote_budget; i++) {
		const struct cslide_page *page = &pages[i];

		if (page->node != pair->cold_node || !wants_fast[i] || is_held(history, page, cycle))
			continue;
		if (moved_last_cycle(history, page, CSLIDE_DEMOTE, cycle) &&
		    page->count < params->hot_threshold + PINGPONG_MARGIN)
			continue;
		add_move(plan, &nr, page, pair->hot_node, CSLIDE_PROMOTE);
		promote_budget--;
	}

	free(wants_fast);
	*moves = plan;
	*nr_moves = nr;
	return 0;
}
