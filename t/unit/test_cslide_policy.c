// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the cslide placement policy (etmemd/engine/cslide_policy.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cslide_policy.h"

#define FAST 0
#define SLOW 1
#define MB2 (2ULL << 20)

static const struct cslide_pair pair = { .hot_node = FAST, .cold_node = SLOW };
static size_t held;	/* cslide_plan()'s count of held-back pages */

static struct cslide_page page(uint64_t idx, int node, uint32_t count)
{
	return (struct cslide_page){ .pid = 100, .addr = idx * MB2,
				     .node = node, .count = count };
}

static size_t count_dir(const struct cslide_move *moves, size_t nr,
			enum cslide_dir dir)
{
	size_t i, n = 0;

	for (i = 0; i < nr; i++)
		n += moves[i].dir == dir;
	return n;
}

static const struct cslide_move *find_move(const struct cslide_move *moves,
					   size_t nr, uint64_t idx)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (moves[i].addr == idx * MB2)
			return &moves[i];
	return NULL;
}

/*
 * min_idle_age: a page not hot in this cycle but used within that many
 * scans (the kernel's idle age) stays on the fast node; an unknown age
 * (-1) leaves the decision to the count.
 */
static void test_min_idle_age_keeps_recently_used(void **state)
{
	struct cslide_params params = { .hot_threshold = 1,
		.mig_quota_pages = 100, .hot_reserve_pages = 100, .min_idle_age = 5 };
	struct cslide_page pages[] = { page(0, FAST, 0), page(1, FAST, 0),
				       page(2, FAST, 0), page(3, FAST, 2) };
	struct cslide_move *moves;
	size_t nr;

	pages[0].idle_age = 9;	/* idle long enough: demoted */
	pages[1].idle_age = 3;	/* used 3 scans ago: stays */
	pages[2].idle_age = -1;	/* unknown: the count decides, demoted */
	pages[3].idle_age = 0;	/* hot */
	assert_int_equal(cslide_plan(&params, &pair, pages, 4, 0, 10, NULL, 1,
				     &moves, &nr, &held), 0);
	assert_int_equal(nr, 2);
	assert_non_null(find_move(moves, nr, 0));
	assert_non_null(find_move(moves, nr, 2));
	assert_null(find_move(moves, nr, 1));
	free(moves);
}

/* Cold pages on the fast node go to the slow node, hot ones stay. */
static void test_demotes_cold_keeps_hot(void **state)
{
	struct cslide_params params = { .hot_threshold = 1,
		.mig_quota_pages = 100, .hot_reserve_pages = 100 };
	struct cslide_page pages[] = { page(0, FAST, 2), page(1, FAST, 0),
				       page(2, FAST, 1), page(3, FAST, 0) };
	struct cslide_move *moves;
	size_t nr;

	assert_int_equal(cslide_plan(&params, &pair, pages, 4, 0, 10, NULL, 1,
				     &moves, &nr, &held), 0);
	assert_int_equal(nr, 2);
	assert_non_null(find_move(moves, nr, 1));
	assert_non_null(find_move(moves, nr, 3));
	assert_int_equal(find_move(moves, nr, 1)->to, SLOW);
	assert_int_equal(count_dir(moves, nr, CSLIDE_DEMOTE), 2);
	free(moves);
}

/* Hot pages on the slow node come back; demotions free room for them. */
static void test_promotes_hot_into_freed_pages(void **state)
{
	struct cslide_params params = { .hot_threshold = 2,
		.mig_quota_pages = 100, .hot_reserve_pages = 100 };
	struct cslide_page pages[] = { page(0, SLOW, 3), page(1, FAST, 0),
				       page(2, SLOW, 2), page(3, SLOW, 1) };
	struct cslide_move *moves;
	size_t nr;

	/* No free page on the fast node: only the one demotion makes room. */
	assert_int_equal(cslide_plan(&params, &pair, pages, 4, 0, 10, NULL, 1,
				     &moves, &nr, &held), 0);
	assert_int_equal(count_dir(moves, nr, CSLIDE_DEMOTE), 1);
	assert_int_equal(count_dir(moves, nr, CSLIDE_PROMOTE), 1);
	assert_int_equal(moves[0].dir, CSLIDE_DEMOTE);
	assert_int_equal(find_move(moves, nr, 0)->to, FAST);
	assert_null(find_move(moves, nr, 2));
	assert_null(find_move(moves, nr, 3));
	free(moves);
}

/* Never more than the quota per direction, coldest demoted first. */
static void test_quota_per_direction(void **state)
{
	struct cslide_params params = { .hot_threshold = 5,
		.mig_quota_pages = 2, .hot_reserve_pages = 100 };
	struct cslide_page pages[6];
	struct cslide_move *moves;
	size_t nr, i;

	for (i = 0; i < 6; i++)
		pages[i] = page(i, FAST, (uint32_t)i);
	assert_int_equal(cslide_plan(&params, &pair, pages, 6, 0, 100, NULL, 1,
				     &moves, &nr, &held), 0);
	assert_int_equal(nr, 2);
	assert_non_null(find_move(moves, nr, 0));
	assert_non_null(find_move(moves, nr, 1));
	free(moves);
}

/* Only into free huge pages of the destination. */
static void test_limited_by_free_pages(void **state)
{
	struct cslide_params params = { .hot_threshold = 1,
		.mig_quota_pages = 100, .hot_reserve_pages = 100 };
	struct cslide_page pages[] = { page(0, FAST, 0), page(1, FAST, 0),
				       page(2, FAST, 0) };
	struct cslide_move *moves;
	size_t nr;

	assert_int_equal(cslide_plan(&params, &pair, pages, 3, 0, 1, NULL, 1,
				     &moves, &nr, &held), 0);
	assert_int_equal(nr, 1);
	free(moves);
}

/* Hot memory beyond the reserve goes to the slow node, least hot first. */
static void test_hot_reserve_overflow(void **state)
{
	struct cslide_params params = { .hot_threshold = 1,
		.mig_quota_pages = 100, .hot_reserve_pages = 2 };
	struct cslide_page pages[] = { page(0, FAST, 5), page(1, FAST, 3),
				       page(2, FAST, 1), page(3, SLOW, 4) };
	struct cslide_move *moves;
	size_t nr;

	assert_int_equal(cslide_plan(&params, &pair, pages, 4, 0, 10, NULL, 1,
				     &moves, &nr, &held), 0);
	/* Reserve of 2 holds pages 0 (5) and 3 (4): 1 and 2 are demoted. */
	assert_int_equal(count_dir(moves, nr, CSLIDE_DEMOTE), 2);
	assert_non_null(find_move(moves, nr, 1));
	assert_non_null(find_move(moves, nr, 2));
	assert_int_equal(find_move(moves, nr, 3)->dir, CSLIDE_PROMOTE);
	free(moves);
}

/* A page demoted last cycle comes back only with a clear margin. */
static void test_no_ping_pong(void **state)
{
	struct cslide_params params = { .hot_threshold = 2,
		.mig_quota_pages = 100, .hot_reserve_pages = 100 };
	struct cslide_history *history = cslide_history_new();
	struct cslide_page pages[] = { page(0, SLOW, 2), page(1, SLOW, 3) };
	struct cslide_move *moves;
	size_t nr;

	cslide_history_record(history, 100, 0 * MB2, CSLIDE_DEMOTE, 4);
	cslide_history_record(history, 100, 1 * MB2, CSLIDE_DEMOTE, 4);
	assert_int_equal(cslide_plan(&params, &pair, pages, 2, 10, 10, history,
				     5, &moves, &nr, &held), 0);
	/* Count 2 is just at the threshold: stays; count 3 crossed it. */
	assert_int_equal(nr, 1);
	assert_non_null(find_move(moves, nr, 1));
	free(moves);

	/* Two cycles later the history no longer holds it back. */
	cslide_history_expire(history, 6);
	assert_int_equal(cslide_plan(&params, &pair, pages, 2, 10, 10, history,
				     6, &moves, &nr, &held), 0);
	assert_int_equal(nr, 2);
	free(moves);
	cslide_history_free(history);
}

/* A page promoted last cycle is not demoted at once when it cools a bit. */
static void test_no_ping_pong_after_promotion(void **state)
{
	struct cslide_params params = { .hot_threshold = 3,
		.mig_quota_pages = 100, .hot_reserve_pages = 100 };
	struct cslide_history *history = cslide_history_new();
	struct cslide_page pages[] = { page(0, FAST, 2), page(1, FAST, 0) };
	struct cslide_move *moves;
	size_t nr;

	cslide_history_record(history, 100, 0 * MB2, CSLIDE_PROMOTE, 7);
	cslide_history_record(history, 100, 1 * MB2, CSLIDE_PROMOTE, 7);
	assert_int_equal(cslide_plan(&params, &pair, pages, 2, 10, 10, history,
				     8, &moves, &nr, &held), 0);
	assert_int_equal(nr, 1);
	assert_non_null(find_move(moves, nr, 1));
	free(moves);
	cslide_history_free(history);
}

/*
 * A page whose move was refused for a lasting reason is held back for
 * CSLIDE_HOLD_CYCLES cycles in both directions and takes no quota: the
 * next cold page goes instead. Then it is asked again.
 */
static void test_held_back(void **state)
{
	struct cslide_params params = { .hot_threshold = 1,
		.mig_quota_pages = 1, .hot_reserve_pages = 100 };
	struct cslide_history *history = cslide_history_new();
	struct cslide_page pages[] = { page(0, FAST, 0), page(1, FAST, 0), page(2, SLOW, 3) };
	struct cslide_move *moves;
	size_t nr;

	/* Without a hold, page 1 (coldest last in address order) goes first. */
	assert_int_equal(cslide_plan(&params, &pair, pages, 3, 10, 10, history, 10,
				     &moves, &nr, &held), 0);
	assert_int_equal(count_dir(moves, nr, CSLIDE_DEMOTE), 1);
	assert_non_null(find_move(moves, nr, 1));
	assert_non_null(find_move(moves, nr, 2));
	free(moves);
	/* Refused in cycle 10: pages 1 and 2 are held in 11..26. */
	cslide_history_hold(history, 100, 1 * MB2, 10);
	cslide_history_hold(history, 100, 2 * MB2, 10);
	for (unsigned int c = 11; c <= 10 + CSLIDE_HOLD_CYCLES; c++) {
		assert_int_equal(cslide_history_expire(history, c), 2);
		assert_int_equal(cslide_plan(&params, &pair, pages, 3, 10, 10, history, c,
					     &moves, &nr, &held), 0);
		assert_int_equal(nr, 1);
		assert_int_equal(held, 2);
		assert_non_null(find_move(moves, nr, 0));	/* the quota's one page */
		free(moves);
	}
	/* The hold is over: both are asked again. */
	assert_int_equal(cslide_history_expire(history, 11 + CSLIDE_HOLD_CYCLES), 0);
	assert_int_equal(cslide_plan(&params, &pair, pages, 3, 10, 10, history,
				     11 + CSLIDE_HOLD_CYCLES, &moves, &nr, &held), 0);
	assert_non_null(find_move(moves, nr, 1));
	assert_non_null(find_move(moves, nr, 2));
	assert_int_equal(held, 0);
	free(moves);
	cslide_history_free(history);
}

/*
 * A held hot page on the slow node cannot come up, so it takes no slot of
 * the reserve: the hot pages on the fast node keep theirs.
 */
static void test_held_keeps_no_reserve(void **state)
{
	struct cslide_params params = { .hot_threshold = 1,
		.mig_quota_pages = 10, .hot_reserve_pages = 3 };
	struct cslide_history *history = cslide_history_new();
	struct cslide_page pages[] = { page(0, SLOW, 5), page(1, SLOW, 5),
				       page(2, FAST, 3), page(3, FAST, 3) };
	struct cslide_move *moves;
	size_t nr;

	cslide_history_hold(history, 100, 0 * MB2, 1);
	cslide_history_hold(history, 100, 1 * MB2, 1);
	assert_int_equal(cslide_plan(&params, &pair, pages, 4, 10, 10, history, 2,
				     &moves, &nr, &held), 0);
	assert_int_equal(held, 2);
	assert_int_equal(nr, 0);	/* nothing demoted, nothing promoted */
	free(moves);
	cslide_history_free(history);
}

static void test_empty(void **state)
{
	struct cslide_params params = { .hot_threshold = 1 };
	struct cslide_move *moves = (void *)1;
	size_t nr = 1;

	assert_int_equal(cslide_plan(&params, &pair, NULL, 0, 0, 0, NULL, 1,
				     &moves, &nr, &held), 0);
	assert_null(moves);
	assert_int_equal(nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demotes_cold_keeps_hot),
		cmocka_unit_test(test_min_idle_age_keeps_recently_used),
		cmocka_unit_test(test_promotes_hot_into_freed_pages),
		cmocka_unit_test(test_quota_per_direction),
		cmocka_unit_test(test_limited_by_free_pages),
		cmocka_unit_test(test_hot_reserve_overflow),
		cmocka_unit_test(test_no_ping_pong),
		cmocka_unit_test(test_no_ping_pong_after_promotion),
		cmocka_unit_test(test_held_back),
		cmocka_unit_test(test_held_keeps_no_reserve),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
