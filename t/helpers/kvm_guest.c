// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_guest: a minimal KVM guest with a hot and a cold part of its RAM,
 * for testing what a host-side reclaimer does to a virtual machine.
 *
 *   kvm_guest MIB HOT_KIB
 *
 * Gives a VM MIB MiB of RAM at guest-physical 0 (one anonymous mapping of
 * this process, filled with a per-page pattern), and runs one vCPU in real
 * mode on a loop that reads one byte of every page of HOT_KIB KiB at
 * guest-physical 128 KiB (at most 512 KiB: real mode reaches 1 MiB) and
 * never touches the rest. The guest's reads set accessed bits in the
 * nested page tables only, never in this process's page tables, which is
 * why a host page-table scan sees all of it idle.
 *
 * Prints "ready pid=P", then every second
 *   status hot_resident=.. hot_pages=.. cold_resident=.. cold_pages=.. loops=..
 * (residency of the host mapping from mincore(); loops: guest passes over
 * the hot part, counted by the guest in its RAM). On SIGTERM it checks
 * every page's pattern and prints "verify ok" or "verify FAILED ...".
 * Exits 2 with a reason when KVM cannot run a vCPU here.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096UL
#define CODE_GPA	0x1000UL	/* the guest's loop */
#define COUNT_GPA	0x2000UL	/* its pass counter (32 bits) */
#define HOT_GPA		0x20000UL	/* 128 KiB: the hot part starts here */
#define HOT_MAX_KIB	512UL

static int kvm_fd, vm_fd, vcpu_fd;
static struct kvm_run *run;
static uint8_t *mem;
static size_t mem_bytes, hot_bytes;

/* The byte each page holds everywhere but in the guest's own two pages. */
static uint8_t pattern(size_t page)
{
	return (uint8_t)(page * 131 + 7);
}

static int fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	fflush(stdout);
	return 2;
}

/*
 * 16-bit real-mode code:
 *   again: mov ax, HOT_GPA >> 4 ; segment of the first hot page
 *          mov cx, NR_PAGES
 *   next:  mov es, ax
 *          mov bl, [es:0]       ; read one byte: the page's accessed bit
 *          add ax, 0x100        ; next 4 KiB
 *          loop next
 *          inc dword [COUNT_GPA]
 *          jmp again
 */
static size_t guest_code(uint8_t *c, unsigned int nr_pages)
{
	size_t n = 0;

	c[n++] = 0xb8;					/* mov ax, imm16 */
	c[n++] = (HOT_GPA >> 4) & 0xff;
	c[n++] = (HOT_GPA >> 12) & 0xff;
	c[n++] = 0xb9;					/* mov cx, imm16 */
	c[n++] = nr_pages & 0xff;
	c[n++] = (nr_pages >> 8) & 0xff;
	c[n++] = 0x8e; c[n++] = 0xc0;			/* mov es, ax */
	c[n++] = 0x26; c[n++] = 0x8a; c[n++] = 0x1e;	/* mov bl, [es:0] */
	c[n++] = 0x00; c[n++] = 0x00;
	c[n++] = 0x05; c[n++] = 0x00; c[n++] = 0x01;	/* add ax, 0x100 */
	c[n++] = 0xe2; c[n++] = 0xf4;			/* loop next (-12) */
	c[n++] = 0x66; c[n++] = 0xff; c[n++] = 0x06;	/* inc dword [COUNT_GPA] */
	c[n++] = COUNT_GPA & 0xff;
	c[n++] = (COUNT_GPA >> 8) & 0xff;
	c[n++] = 0xeb;					/* jmp again */
	c[n] = (uint8_t)(0 - (n + 1));
	return n + 1;
}

static void *vcpu_thread(void *arg)
{
	(void)arg;
	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			printf("KVM_RUN: %s\n", strerror(errno));
			fflush(stdout);
			exit(2);
		}
		if (run->exit_reason != KVM_EXIT_INTR) {
			printf("vcpu exit %u (the guest loop should never exit)\n",
			       run->exit_reason);
			fflush(stdout);
			exit(2);
		}
	}
	return NULL;
}

static void residency(size_t from, size_t to, size_t *res)
{
	size_t pages = (to - from) / PAGE;
	unsigned char *vec = malloc(pages);

	*res = 0;
	if (!vec || mincore(mem + from, to - from, vec)) {
		free(vec);
		return;
	}
	for (size_t i = 0; i < pages; i++)
		*res += vec[i] & 1;
	free(vec);
}

static int verify(void)
{
	size_t bad = 0, first = 0;

	for (size_t page = 0; page < mem_bytes / PAGE; page++) {
		size_t off = page * PAGE;

		if (off == CODE_GPA || off == COUNT_GPA)
			continue;
		for (size_t i = 0; i < PAGE; i++)
			if (mem[off + i] != pattern(page)) {
				if (!bad++)
					first = off + i;
				break;
			}
	}
	if (bad)
		printf("verify FAILED: %zu pages differ, first at guest-physical %#zx\n",
		       bad, first);
	else
		printf("verify ok\n");
	fflush(stdout);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_regs regs = { 0 };
	struct kvm_sregs sregs;
	size_t hot_res, cold_res, cold_from;
	struct timespec ts = { 1, 0 };
	pthread_t thread;
	sigset_t set;
	int run_size, sig;

	if (argc != 3) {
		fprintf(stderr, "usage: kvm_guest MIB HOT_KIB\n");
		return 1;
	}
	mem_bytes = strtoul(argv[1], NULL, 10) << 20;
	hot_bytes = strtoul(argv[2], NULL, 10) << 10;
	if (mem_bytes < (2UL << 20) || !hot_bytes || hot_bytes > HOT_MAX_KIB << 10) {
		fprintf(stderr, "kvm_guest: MIB >= 2, HOT_KIB 4..%lu\n", HOT_MAX_KIB);
		return 1;
	}
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return fail("no /dev/kvm");
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	/* 4 KiB pages: THP would make hot and cold share a 2 MiB page. */
	madvise(mem, mem_bytes, MADV_NOHUGEPAGE);
	for (size_t page = 0; page < mem_bytes / PAGE; page++)
		memset(mem + page * PAGE, pattern(page), PAGE);
	memset(mem + CODE_GPA, 0xf4, PAGE);			/* hlt */
	guest_code(mem + CODE_GPA, (unsigned int)(hot_bytes / PAGE));
	memset(mem + COUNT_GPA, 0, PAGE);
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = mem_bytes;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		return fail("KVM_CREATE_VCPU");
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs))
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs))
		return fail("KVM_SET_SREGS");
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs))
		return fail("KVM_SET_REGS");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&thread, NULL, vcpu_thread, NULL)) {
		printf("pthread_create failed\n");
		return 2;
	}
	printf("ready pid=%d hot_kib=%zu mib=%zu\n", (int)getpid(), hot_bytes >> 10,
	       mem_bytes >> 20);
	fflush(stdout);
	cold_from = HOT_GPA + hot_bytes;
	for (;;) {
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		residency(HOT_GPA, HOT_GPA + hot_bytes, &hot_res);
		residency(cold_from, mem_bytes, &cold_res);
		printf("status hot_resident=%zu hot_pages=%zu cold_resident=%zu cold_pages=%zu loops=%u\n",
		       hot_res, hot_bytes / PAGE, cold_res, (mem_bytes - cold_from) / PAGE,
		       *(volatile uint32_t *)(mem + COUNT_GPA));
		fflush(stdout);
	}
	return verify();
}
