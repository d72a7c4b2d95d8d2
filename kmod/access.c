// SPDX-License-Identifier: GPL-2.0
/*
 * Accessed-bit primitives and the locked PMD walk, shared by the scan
 * (scan_dump.c) and the swap check (swap_request.c): the one place that
 * tests, clears and interprets page-table accessed bits.
 *
 * Locking. Both callers hold the mmap lock for reading, which keeps the
 * VMAs and the upper page-table levels in place but not the PMD entries:
 * khugepaged, MADV_COLLAPSE and a fault after page-table retraction may
 * install a huge PMD, and retraction may remove a PTE table, at any time.
 * Every one of those changes is made under the PMD lock. So
 * etmem_pmd_walk_locked() takes the PMD lock, reads the entry again, and
 * keeps the lock while it looks at what the entry points to: a leaf (THP,
 * hugetlb) is handed over as it is, a PTE table is walked under its PTE
 * lock as well (nested: the kernel's own order, as in khugepaged). Since
 * the entry cannot change meanwhile, the PTE table is addressed directly
 * with pte_offset_kernel(); no generic helper is asked to walk it, and
 * none can WARN about a huge PMD appearing under it.
 *
 * Reclaim. Clearing an accessed bit hides that reference from the
 * kernel's own reclaim (folio_referenced(), MGLRU's generations). Where
 * the kernel has the page-idle flags (CONFIG_PAGE_IDLE_FLAG: Debian 6.12),
 * folio_set_young() records the reference the way page_idle and DAMON do,
 * and folio_referenced() counts it later. Without those flags (Debian 6.1)
 * folio_set_young() does nothing: there a scan makes a page look one
 * reference colder to kswapd than it is.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <asm/tlbflush.h>

#include "etmem_internal.h"

/**
 * etmem_pmdp_test_clear_young - test and clear the accessed bit of a huge PMD
 * @pmd: a leaf entry (THP or hugetlb), PMD lock held
 * @val: its value as read under that lock
 *
 * Return: whether the bit was set.
 */
bool etmem_pmdp_test_clear_young(pmd_t *pmd, pmd_t val)
{
	if (!pmd_young(val) ||
	    !test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmd))
		return false;
	etmem_folio_keep_reference(pmd_pfn(val));
	return true;
}
EXPORT_SYMBOL_GPL(etmem_pmdp_test_clear_young);

/**
 * etmem_pmd_walk_locked - look at one PMD entry and what it maps, locked
 * @mm: the address space, mmap lock held for reading
 * @pmd: the entry
 * @addr: start of the part of the entry's 2 MiB that the caller wants
 * @end: end of that part (at most the entry's end)
 * @ops: what to do with a leaf entry and with a PTE table
 * @arg: passed to @ops
 *
 * Takes the PMD lock and re-reads the entry under it. A leaf goes to
 * @ops->huge with only the PMD lock held; a PTE table goes to @ops->table
 * (if set) with only the PMD lock held, then, unless that returned
 * ETMEM_WALK_DONE, to @ops->ptes with the PMD lock and the table's PTE
 * lock held, @pte pointing at the entry of @addr. An entry that is empty, not present (a THP being
 * migrated or split) or bad is skipped.
 *
 * Return: what the callback returned, or 0 when none was called.
 */
int etmem_pmd_walk_locked(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
			  unsigned long end, const struct etmem_walk_ops *ops,
			  void *arg)
{
	spinlock_t *pml, *ptl;
	pmd_t val;
	int ret = 0;

	pml = pmd_lock(mm, pmd);
	val = READ_ONCE(*pmd);
	if (pmd_none(val) || !pmd_present(val))
		goto unlock;
	if (pmd_leaf(val)) {
		if (ops->huge)
			ret = ops->huge(pmd, val, addr, end, arg);
		goto unlock;
	}
	if (pmd_bad(val))
		goto unlock;
	if (ops->table) {
		ret = ops->table(pmd, val, addr, end, arg);
		if (ret == ETMEM_WALK_DONE) {
			ret = 0;
			goto unlock;
		}
		if (ret)
			goto unlock;
	}
	if (!ops->ptes)
		goto unlock;
	ptl = pte_lockptr(mm, pmd);
	if (ptl != pml)
		spin_lock_nested(ptl, SINGLE_DEPTH_NESTING);
	ret = ops->ptes(pmd, val, pte_offset_kernel(pmd, addr), addr, end, arg);
	if (ptl != pml)
		spin_unlock(ptl);
unlock:
	spin_unlock(pml);
	return ret;
}
EXPORT_SYMBOL_GPL(etmem_pmd_walk_locked);

/*
 * TLB policy. Clearing an accessed bit does not reach the TLBs: a CPU that
 * keeps its cached translation goes on touching the page without setting
 * the bit again, and a scanner whose whole output is "what was touched"
 * would call the hottest page idle. The kernel's own users of the bit
 * accept that (see ptep_clear_flush_young() on x86); etmem does not. The
 * precise flush (flush_tlb_mm_range()) is not exported; __flush_tlb_all()
 * and on_each_cpu_cond_mask() are. So, once per dump call or swap check
 * that cleared anything:
 *  1. the mm's TLB generation is bumped, so that every CPU that switched
 *     away from the mm while keeping its PCID-tagged entries (and left
 *     mm_cpumask) flushes them when it switches back: a thread that sleeps
 *     and wakes is covered, not only one that spins;
 *  2. the CPUs in mm_cpumask (running the mm now, or lazily) flush by IPI.
 * The flush is a full one (global entries included); its cost is one IPI
 * round per call, counted in etmem_flush_rounds for the benchmark.
 */
static atomic64_t flush_rounds = ATOMIC64_INIT(0);

static void flush_local_tlb(void *unused)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	/*
	 * Since 6.19 __flush_tlb_all() is exported to the KVM modules only.
	 * The same for this CPU's user entries with inline helpers: INVPCID
	 * drops the non-global entries of every PCID; without it, reloading
	 * CR3 drops those of the current PCID, which holds the user entries
	 * unless page-table isolation gives user space a PCID of its own
	 * (then only step 1 above helps).
	 */
	if (cpu_feature_enabled(X86_FEATURE_INVPCID))
		invpcid_flush_all_nonglobals();
	else
		write_cr3(__read_cr3());
#else
	__flush_tlb_all();
#endif
}

static bool cpu_runs_mm(int cpu, void *mm)
{
	return cpumask_test_cpu(cpu, mm_cpumask((struct mm_struct *)mm));
}

/**
 * etmem_flush_tlbs - make every CPU drop stale translations of @mm
 * @mm: the address space whose accessed bits were cleared
 */
void etmem_flush_tlbs(struct mm_struct *mm)
{
	/*
	 * What inc_mm_tlb_gen() does (asm/tlbflush.h keeps it from modules):
	 * a fully ordered increment, so that the cleared bits are visible
	 * before mm_cpumask is read below. A CPU whose recorded generation
	 * for this mm is behind flushes when it next switches to the mm or
	 * handles a flush for it: a CPU we also flush now only flushes once
	 * more than needed.
	 */
	atomic64_inc_return(&mm->context.tlb_gen);
	on_each_cpu_cond_mask(cpu_runs_mm, flush_local_tlb, mm, true,
			      cpu_online_mask);
	atomic64_inc(&flush_rounds);
}
EXPORT_SYMBOL_GPL(etmem_flush_tlbs);

/**
 * etmem_flush_rounds - TLB flush rounds since the module was loaded
 *
 * Return: the count (one per etmem_flush_tlbs() call).
 */
u64 etmem_flush_rounds(void)
{
	return atomic64_read(&flush_rounds);
}
EXPORT_SYMBOL_GPL(etmem_flush_rounds);
