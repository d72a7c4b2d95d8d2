// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the KVM-guest detection (lib/etmem_kvm.c) on directories
 * of symbolic links made to look like /proc/PID/fd: only a link that reads
 * exactly anon_inode:kvm-vm marks a KVM guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "etmem_kvm.h"

/* A fresh directory with one link per target, named 0, 1, ... */
static char *fd_dir(const char *const *targets)
{
	char *dir = g_dir_make_tmp("etmem-kvm-XXXXXX", NULL);

	assert_non_null(dir);
	for (int i = 0; targets[i]; i++) {
		char *link = g_strdup_printf("%s/%d", dir, i);

		assert_int_equal(symlink(targets[i], link), 0);
		g_free(link);
	}
	return dir;
}

static void rm_dir(char *dir)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
	g_free(cmd);
	g_free(dir);
}

static void check(const char *const *targets, int expected)
{
	char *dir = fd_dir(targets);

	assert_int_equal(etmem_kvm_guest_fd_dir(dir), expected);
	rm_dir(dir);
}

static void test_qemu_like(void **state)
{
	/* What QEMU with KVM holds: /dev/kvm, the VM, vCPUs, eventfds. */
	static const char *const qemu[] = {
		"/dev/null", "/dev/kvm", "anon_inode:kvm-vcpu:0", "anon_inode:[eventfd]",
		"anon_inode:kvm-vm", "socket:[1234]", NULL
	};

	check(qemu, 1);
}

static void test_not_a_guest(void **state)
{
	/* /dev/kvm open, vCPU-like and longer names: no VM descriptor. */
	static const char *const none[] = {
		"/dev/kvm", "anon_inode:kvm-vcpu:0", "anon_inode:kvm-vm-other",
		"anon_inode:kvm-v", "/tmp/anon_inode:kvm-vm", "pipe:[1]", NULL
	};
	static const char *const empty[] = { NULL };

	check(none, 0);
	check(empty, 0);
}

/*
 * A link that cannot be read (here: not a link, EINVAL; in /proc, the
 * ptrace check's EACCES) might be the VM's: its error, not "no guest",
 * unless a VM link is found anyway.
 */
static void test_unreadable_link(void **state)
{
	static const char *const two[] = { "pipe:[1]", "anon_inode:kvm-vm", NULL };
	char dir[] = "/tmp/etmem-kvm-XXXXXX", path[64];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/5", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(etmem_kvm_guest_fd_dir(dir), -EINVAL);
	for (int i = 0; two[i]; i++) {
		snprintf(path, sizeof(path), "%s/%d", dir, i);
		assert_int_equal(symlink(two[i], path), 0);
	}
	assert_int_equal(etmem_kvm_guest_fd_dir(dir), 1);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%d", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/5", dir);
	unlink(path);
	rmdir(dir);
}

static void test_errors(void **state)
{
	assert_int_equal(etmem_kvm_guest_fd_dir("/nonexistent/etmem/fd"), -ENOENT);
	/* This process holds no VM; a pid that does not exist is gone. */
	assert_int_equal(etmem_kvm_guest(getpid()), 0);
	assert_int_equal(etmem_kvm_guest(0x7ffffff0), -ENOENT);
}

/*
 * etmem_kvm_refuse(): no guest and gone processes are not refused; one
 * whose fd directory cannot be read is (fail closed), with the error.
 * Reading root's as nobody needs root to become nobody.
 */
static void test_refuse(void **state)
{
	int err = 1, status;
	pid_t child;

	assert_int_equal(etmem_kvm_refuse(getpid(), &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(etmem_kvm_refuse(0x7ffffff0, &err), 0);
	assert_int_equal(err, -ENOENT);
	if (geteuid() != 0)
		skip();
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		pid_t parent = getppid();

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(etmem_kvm_refuse(parent, &err) == 1 && (err == -EACCES || err == -EPERM) ?
		      0 : 1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_like),
		cmocka_unit_test(test_not_a_guest),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unreadable_link),
		cmocka_unit_test(test_refuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
