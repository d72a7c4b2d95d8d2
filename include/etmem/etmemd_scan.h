/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libetmemd_scan: the scanning library for third-party etmem policies.
 *
 * A policy (a shared library loaded by etmemd, see etmem/etmemd_engine.h)
 * uses these calls to learn which pages of a process are hot or cold and to
 * page out the cold ones. They talk to the etmem_scan and etmem_swap kernel
 * modules through the "etmem" generic netlink family, so the modules must be
 * loaded and the caller must be root.
 *
 * Build against it with: pkg-config --cflags --libs etmemd_scan
 *
 * Every call is safe to use from several threads at once: each thread gets
 * its own netlink socket, opened on first use.
 */
#ifndef ETMEM_ETMEMD_SCAN_H
#define ETMEM_ETMEMD_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of etmemd_get_page_refs() and etmemd_swap_out(). */
#define ETMEMD_SCAN_AS_HUGE	0x1	/* count PTE-mapped 2 MiB blocks as one page */
/*
 * Ignore accessed bits of the host page tables. openEuler uses it when the
 * target is a virtual machine whose guest accesses show in EPT tables. A
 * stock kernel exposes no EPT scan, so for every process the only page
 * tables are the host's: the flag is accepted for source compatibility and
 * changes nothing.
 */
#define ETMEMD_SCAN_IGN_HOST	0x2
#define ETMEMD_SCAN_SWAPFLAG	0x4	/* only memory the process marked swappable */

enum page_type {
	PTE_TYPE,	/* 4 KiB page */
	PMD_TYPE,	/* 2 MiB page (THP, hugetlb, or ETMEMD_SCAN_AS_HUGE) */
	PAGE_TYPE_INVAL,
};

#define VMA_PERM_LEN	5
#define VMA_PATH_LEN	256

/* One mapping of /proc/PID/maps. */
struct vma {
	uint64_t start;		/* inclusive */
	uint64_t end;		/* exclusive */
	char perms[VMA_PERM_LEN];	/* "rw-p" */
	uint64_t offset;
	uint64_t inode;
	bool anon;		/* no backing file (heap, stack, anonymous) */
	bool hugetlb;		/* VmFlags has "ht" */
	char path[VMA_PATH_LEN];	/* "" for anonymous mappings */
	struct vma *next;
};

struct vmas {
	uint64_t vma_cnt;
	struct vma *vma_list;
};

/*
 * One page's access record, in address order. @idle_age (appended: the
 * fields before it are upstream's) is the kernel's count of consecutive
 * scans of the process, ending with the last one, that found the page
 * mapped and not accessed: 0 if it was accessed in the last scan, at most
 * 254, and -1 where the kernel keeps no history (ranges that cover a
 * 2 MiB page table partly). THP and hugetlb pages have an age each. Unlike @count it
 * survives between calls: a page touched every few minutes has a small
 * age however cold it looks within one call.
 */
struct page_refs {
	uint64_t addr;
	int count;		/* scans in which the page was accessed */
	enum page_type type;
	struct page_refs *next;
	int idle_age;		/* consecutive idle scans, -1 unknown */
};

/*
 * A process that runs a KVM guest (it holds an anon_inode:kvm-vm
 * descriptor) is refused by etmemd_get_vmas (NULL, errno EOPNOTSUPP),
 * etmemd_get_page_refs and etmemd_swap_out (-EOPNOTSUPP): a host
 * page-table scan cannot see the guest's accesses (the hardware sets them
 * in the EPT/NPT tables), so all guest RAM would look idle. etmemd's
 * damon engine monitors such processes correctly. A process whose
 * /proc/PID/fd (or a link in it) the caller cannot read (another user's
 * without CAP_DAC_READ_SEARCH, one with more capabilities without
 * CAP_SYS_PTRACE) cannot be checked, and is refused the same way with that
 * error: a negative errno (errno for etmemd_get_vmas) other than ENOENT and
 * ESRCH, usually EACCES.
 */

/*
 * Check that the etmem family is reachable. Returns 0, or a negative errno
 * (-ENOENT: modules not loaded, -EPERM: not root).
 */
int etmemd_scan_init(void);

/* Release the calling thread's resources; other threads keep theirs. */
void etmemd_scan_exit(void);

/*
 * The mappings of process @pid (decimal string) to scan.
 * @vmflags_array: VmFlags names of /proc/PID/smaps ("ht" for hugetlb) a
 *	mapping must all carry, or NULL. @vmflags_num: their number.
 * @anon_only: skip file-backed mappings.
 * Returns NULL with errno set on failure; an empty list is not a failure.
 */
struct vmas *etmemd_get_vmas(const char *pid, char **vmflags_array,
			     int vmflags_num, bool anon_only);
void etmemd_free_vmas(struct vmas *vmas);

/*
 * One scan pass over @vmas of process @pid: every mapped page of the
 * process's own is reported once (not the zero page or a PFN map: the
 * kernel reports them absent) and its accessed bit is cleared, so the next pass sees only new
 * accesses. If *@page_refs already holds a list from earlier passes over
 * the same mappings, the counts of the pages found again are incremented
 * and new pages are inserted, keeping address order; pass *@page_refs ==
 * NULL for the first pass. @flags: ETMEMD_SCAN_*.
 * Returns 0 or a negative errno; on failure *@page_refs is left as it was.
 */
int etmemd_get_page_refs(const struct vmas *vmas, const char *pid,
			 struct page_refs **page_refs, int flags);
void etmemd_free_page_refs(struct page_refs *page_refs);

/*
 * Page out the pages of @page_refs whose count is below @cold_threshold.
 * The kernel re-checks each page first and keeps those accessed since the
 * last scan, mlocked, shared or hugetlb. @flags: ETMEMD_SCAN_SWAPFLAG to
 * keep memory the process did not mark swappable. Returns the number of
 * bytes handed to reclaim, or a negative errno.
 */
long long etmemd_swap_out(const char *pid, const struct page_refs *page_refs,
			  int cold_threshold, int flags);

#ifdef __cplusplus
}
#endif

#endif /* ETMEM_ETMEMD_SCAN_H */
