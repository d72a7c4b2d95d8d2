// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_vm_holder: a process that holds a KVM VM descriptor (what QEMU holds
 * while it runs a guest) and some memory, for the KVM-guest refusal tests.
 *
 *   kvm_vm_holder MIB
 *
 * Opens /dev/kvm, creates a VM (KVM_CREATE_VM), writes MIB MiB of memory,
 * prints "ready pid=P" and waits for SIGTERM. Exits 2 with a reason when
 * /dev/kvm or KVM_CREATE_VM is not available.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t bytes = (argc > 1 ? strtoul(argv[1], NULL, 10) : 16) << 20;
	int kvm, vm, sig;
	sigset_t set;
	char *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("no /dev/kvm: %s\n", strerror(errno));
		return 2;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		printf("KVM_CREATE_VM failed: %s\n", strerror(errno));
		return 2;
	}
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(mem, 0x5a, bytes);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready pid=%d vm_fd=%d\n", (int)getpid(), vm);
	fflush(stdout);
	sigwait(&set, &sig);
	return 0;
}
