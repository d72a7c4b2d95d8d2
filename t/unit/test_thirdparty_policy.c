// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the third-party policy adapter (etmemd/engine/
 * thirdparty_policy.c), compiled in here so that a policy can be a table of
 * functions in this file instead of a library: the process list of a
 * running task, the messages a policy gives eng->host->error.
 */
// wrap: loop_post
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "thirdparty_policy.c"

void __wrap_loop_post(void (*fn)(void *arg), void *arg);

/* The policy's events run at once, as the loop thread would run them. */
void __wrap_loop_post(void (*fn)(void *arg), void *arg)
{
	fn(arg);
}

/* ---- a policy ---- */

static struct {
	bool follow_pids;	/* what start_task sets */
	int alloc_ret;		/* what alloc_pid_params returns */
	bool alloc_says_why;	/* ... after host->error(eng, NULL, ...) */
	unsigned int nr_alloc, nr_free;
} pol;

static int pol_start(struct engine *eng, struct task *tk)
{
	(void)tk;
	eng->follow_pids = pol.follow_pids;
	return 0;
}

static void pol_stop(struct engine *eng, struct task *tk)
{
	(void)eng;
	(void)tk;
}

static int pol_alloc_pid(struct engine *eng, struct task_pid **tp)
{
	(void)tp;
	if (pol.alloc_ret && pol.alloc_says_why)
		eng->host->error(eng, NULL, "pid %u: no room", (*tp)->pid);
	if (pol.alloc_ret)
		return pol.alloc_ret;
	pol.nr_alloc++;
	return 0;
}

static void pol_free_pid(struct engine *eng, struct task_pid **tp)
{
	(void)eng;
	(void)tp;
	pol.nr_free++;
}

static const struct engine_ops pol_ops = {
	.start_task = pol_start,
	.stop_task = pol_stop,
	.alloc_pid_params = pol_alloc_pid,
	.free_pid_params = pol_free_pid,
};

/* An engine of pol_ops without a library (tp_engine_load's result). */
static struct tp_engine *pol_engine(void)
{
	struct tp_engine *eng = calloc(1, sizeof(*eng));

	assert_non_null(eng);
	eng->ops = &pol_ops;
	eng->dl = dlopen(NULL, RTLD_NOW);
	eng->name = g_strdup("pol");
	eng->pub.name = eng->name;
	eng->pub.proj_name = "";
	eng->pub.host = &host;
	return eng;
}

static struct tp_task *pol_task(struct tp_engine *eng)
{
	GString *err = g_string_new(NULL);
	struct tp_task *tk = NULL;

	assert_int_equal(tp_task_new(eng, "t", "name", "app", NULL, &tk, err), 0);
	g_string_free(err, TRUE);
	return tk;
}

static unsigned int list_len(const struct tp_task *tk)
{
	unsigned int n = 0;

	for (const struct task_pid *tp = tk->pub.pids; tp; tp = tp->next)
		n++;
	return n;
}

static int setup(void **state)
{
	(void)state;
	memset(&pol, 0, sizeof(pol));
	return 0;
}

/* ---- tests ---- */

/* A policy that did not set follow_pids walks the list without the lock. */
static void test_list_fixed_without_follow_pids(void **state)
{
	const struct tp_proc at_start[] = { { 100, 5 } }, later[] = { { 200, 7 } };
	struct tp_engine *eng = pol_engine();
	struct tp_task *tk = pol_task(eng);
	GString *err = g_string_new(NULL);
	struct task_pid *first;

	(void)state;
	assert_int_equal(tp_task_start(tk, at_start, 1, err), 0);
	assert_false(tp_task_follows_pids(tk));
	first = tk->pub.pids;
	assert_int_equal(tp_task_update_pids(tk, later, 1, err), 0);
	assert_ptr_equal(tk->pub.pids, first);
	assert_int_equal(first->pid, 100);
	assert_null(first->next);
	assert_int_equal(pol.nr_alloc, 1);
	assert_int_equal(pol.nr_free, 0);
	tp_task_free(tk);
	assert_int_equal(pol.nr_free, 1);
	tp_engine_free(eng);
	g_string_free(err, TRUE);
}

/* With follow_pids: new processes join, gone ones and reused pids leave. */
static void test_list_follows_with_follow_pids(void **state)
{
	const struct tp_proc at_start[] = { { 100, 5 } };
	const struct tp_proc two[] = { { 100, 5 }, { 200, 7 } };
	const struct tp_proc reused[] = { { 200, 9 } };
	struct tp_engine *eng = pol_engine();
	struct tp_task *tk = pol_task(eng);
	GString *err = g_string_new(NULL);

	(void)state;
	pol.follow_pids = true;
	assert_int_equal(tp_task_start(tk, at_start, 1, err), 0);
	assert_true(tp_task_follows_pids(tk));
	assert_int_equal(tp_task_update_pids(tk, two, 2, err), 2);
	assert_int_equal(list_len(tk), 2);
	assert_int_equal(pol.nr_alloc, 2);
	/* 100 exited, 200 is now another process */
	assert_int_equal(tp_task_update_pids(tk, reused, 1, err), 1);
	assert_int_equal(list_len(tk), 1);
	assert_int_equal(tk->pub.pids->pid, 200);
	assert_int_equal(tk->pub.pids->start_time, 9);
	assert_int_equal(pol.nr_free, 2);
	assert_int_equal(err->len, 0);
	tp_task_free(tk);
	assert_int_equal(pol.nr_free, 3);
	tp_engine_free(eng);
	g_string_free(err, TRUE);
}

/*
 * A task added to a running engine binds it again: the project's name a
 * running policy thread may be reading is not freed under it.
 */
static void test_bind_again_keeps_proj_name(void **state)
{
	struct tp_engine *eng = pol_engine();
	const char *name;

	(void)state;
	tp_engine_bind(eng, "p", 3, 1, 5);
	name = eng->pub.proj_name;
	assert_string_equal(name, "p");
	tp_engine_bind(eng, "p", 3, 1, 5);
	assert_ptr_equal(eng->pub.proj_name, name);
	assert_int_equal(eng->pub.loop, 3);
	assert_int_equal(eng->pub.interval, 1);
	assert_int_equal(eng->pub.sleep, 5);
	tp_engine_bind(eng, "q", 4, 2, 6);
	assert_string_equal(eng->pub.proj_name, "q");
	assert_int_equal(eng->pub.loop, 4);
	tp_engine_free(eng);
}

/*
 * alloc_pid_params has no task: the message it gives host->error(eng, NULL)
 * is the one reported, and a stale one does not stand in for the errno.
 */
static void test_alloc_pid_params_message(void **state)
{
	const struct tp_proc at_start[] = { { 100, 5 } }, two[] = { { 100, 5 }, { 200, 7 } };
	const struct tp_proc three[] = { { 100, 5 }, { 300, 8 } };
	struct tp_engine *eng = pol_engine();
	struct tp_task *tk = pol_task(eng);
	GString *err = g_string_new(NULL);

	(void)state;
	pol.follow_pids = true;
	assert_int_equal(tp_task_start(tk, at_start, 1, err), 0);
	pol.alloc_ret = -ENOSPC;
	pol.alloc_says_why = true;
	assert_int_equal(tp_task_update_pids(tk, two, 2, err), 1);
	assert_non_null(strstr(err->str, "alloc_pid_params failed for pid 200: pid 200: no room"));
	g_string_truncate(err, 0);
	pol.alloc_says_why = false;
	assert_int_equal(tp_task_update_pids(tk, three, 2, err), 1);
	assert_non_null(strstr(err->str, "alloc_pid_params failed for pid 300: "));
	assert_null(strstr(err->str, "no room"));
	assert_non_null(strstr(err->str, strerror(ENOSPC)));
	tp_task_free(tk);
	tp_engine_free(eng);
	g_string_free(err, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_list_fixed_without_follow_pids, setup),
		cmocka_unit_test_setup(test_list_follows_with_follow_pids, setup),
		cmocka_unit_test_setup(test_bind_again_keeps_proj_name, setup),
		cmocka_unit_test_setup(test_alloc_pid_params_message, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
