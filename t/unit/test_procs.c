// SPDX-License-Identifier: GPL-2.0
/* Unit tests of process identity (etmemd/procs.c) on real child processes. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "procs.h"

static pid_t start_child(struct proc_id *id)
{
	struct proc_stat st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		/* Never outlives a failed test (it would hold the runner's output). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	assert_int_equal(proc_read_stat(pid, &st), 0);
	id->pid = pid;
	id->start_time = st.start_time;
	return pid;
}

/* A pidfd follows its process: alive, then exited (a zombie), then reaped. */
static void test_pidfd_follows_process(void **state)
{
	struct proc_id id;
	pid_t pid = start_child(&id);
	int pidfd = proc_open_pidfd(&id);
	siginfo_t si;

	assert_true(pidfd >= 0);
	assert_true(proc_alive_pidfd(&id, pidfd));
	assert_true(proc_alive_pidfd(&id, -1));
	assert_int_equal(kill(pid, SIGKILL), 0);
	/* A zombie (waited for, not reaped): exited, for both checks. */
	assert_int_equal(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
	assert_false(proc_alive_pidfd(&id, -1));
	assert_false(proc_alive_pidfd(&id, pidfd));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_false(proc_alive_pidfd(&id, pidfd));
	assert_false(proc_alive_pidfd(&id, -1));
	close(pidfd);
	/* Reaped: no pidfd any more. */
	assert_int_equal(proc_open_pidfd(&id), -1);
}

/* Another process under the same pid (another start time) gets none. */
static void test_pidfd_refuses_other_process(void **state)
{
	struct proc_id id;
	pid_t pid = start_child(&id);

	id.start_time++;
	assert_int_equal(proc_open_pidfd(&id), -1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pidfd_follows_process),
		cmocka_unit_test(test_pidfd_refuses_other_process),
	};

	/* Children must stay zombies until waited for. */
	signal(SIGCHLD, SIG_DFL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
