/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is a process running a KVM guest? A host page-table scan cannot see a
 * guest's accesses: with EPT/NPT the hardware sets the accessed bits in
 * the guest's tables, and the kernel calls that would report them
 * (mmu_notifier_clear_young and friends) are not exported to modules. One
 * scan later all guest RAM looks idle. The page-table engines (slide,
 * cslide) and libetmemd_scan therefore refuse such a process; DAMON's
 * monitoring goes through the kernel's own notifier path and does see
 * guest accesses (the damon engine).
 */
#ifndef ETMEM_KVM_H
#define ETMEM_KVM_H

#include <sys/types.h>

/* What a KVM VM descriptor's /proc/PID/fd link reads. */
#define ETMEM_KVM_VM_LINK	"anon_inode:kvm-vm"

/*
 * 1 when a link in @fd_dir (a /proc/PID/fd directory) reads
 * ETMEM_KVM_VM_LINK, 0 when none does, -errno when the directory or, with
 * no VM link found, one of its links cannot be read (-ENOENT for the
 * directory: the process is gone; a link that vanished meanwhile is no VM).
 */
int etmem_kvm_guest_fd_dir(const char *fd_dir);

/* The same for process @pid. */
int etmem_kvm_guest(pid_t pid);

/*
 * Must a page-table scan leave process @pid alone? 1 when it runs a KVM
 * guest, and when that cannot be checked: its /proc/PID/fd or a link in it
 * cannot be read (the directory is mode 0500 and the process's user's, a
 * link is behind the ptrace read check), and
 * a guest's RAM must not be taken for idle on a guess; *@err is then the
 * -errno of the read (0 for a guest). 0 when it runs none, or is gone
 * (the scan finds that out itself).
 */
int etmem_kvm_refuse(pid_t pid, int *err);

/* What reading /proc/PID/fd needs, for the refusal when it failed. */
#define ETMEM_KVM_UNCHECKED_NEEDS \
	"another user's process needs CAP_DAC_READ_SEARCH, one with more capabilities " \
	"CAP_SYS_PTRACE"

/* Why such a process is refused, one line, for notes and logs. */
#define ETMEM_KVM_REFUSAL \
	"runs a KVM guest (anon_inode:kvm-vm): a page-table scan cannot see guest " \
	"accesses and all its RAM would look idle; the damon engine sees them"

#endif /* ETMEM_KVM_H */
