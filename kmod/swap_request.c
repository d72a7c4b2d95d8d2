// SPDX-License-Identifier: GPL-2.0
/*
 * ETMEM_CMD_SWAP: the kernel half of a swap request.
 *
 * Stock kernels export no way for a module to page out chosen pages
 * (reclaim_pages, isolate_lru_page and do_madvise are not exported), so a
 * swap request is split in two:
 *  1. here, every page of the requested ranges is re-checked under its
 *     page-table lock: present, not accessed since the last scan, in a
 *     mapping that may be paged out (not mlocked, hugetlb, PFN/IO), not a
 *     special or zero page, on an LRU list and evictable, mapped by this
 *     process only, marked when ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY is set and
 *     in the swapcache when ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY is. The reply
 *     carries the approved ranges (coalesced) and a counter per reason of
 *     refusal;
 *  2. the caller (lib/etmem_genl.c) pages out exactly the approved ranges
 *     with process_madvise(MADV_PAGEOUT).
 * The accessed bit is tested, not cleared: a page touched since the scan
 * is refused and the next scan still sees that touch. Each PMD entry is
 * looked at under its lock (etmem_pmd_walk_locked()); a THP reached by
 * two requested ranges counts once.
 *
 * A reply holds at most ETMEM_MAX_RANGES approved ranges (one
 * process_madvise() call); when they run out, checking stops and the
 * reply names ETMEM_A_SWAP_RESUME_ADDR, from where the caller asks again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hugetlb.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "etmem_internal.h"
#include "etmem_swap.h"

#define SWAP_STEP	(64UL << 20)	/* bytes checked per mmap-lock hold */
#define SWAP_FULL	1		/* approved ranges ran out */

enum swap_count {
	SWAP_ELIGIBLE, SWAP_YOUNG, SWAP_LOCKED, SWAP_SHARED, SWAP_HUGETLB,
	SWAP_UNMARKED, SWAP_UNEVICTABLE, SWAP_NOT_SWAPCACHE, SWAP_NR_COUNTS
};

static const int swap_count_attr[SWAP_NR_COUNTS] = {
	[SWAP_ELIGIBLE]		= ETMEM_A_SWAP_NR_ELIGIBLE,
	[SWAP_YOUNG]		= ETMEM_A_SWAP_NR_YOUNG,
	[SWAP_LOCKED]		= ETMEM_A_SWAP_NR_LOCKED,
	[SWAP_SHARED]		= ETMEM_A_SWAP_NR_SHARED,
	[SWAP_HUGETLB]		= ETMEM_A_SWAP_NR_HUGETLB,
	[SWAP_UNMARKED]		= ETMEM_A_SWAP_NR_UNMARKED,
	[SWAP_UNEVICTABLE]	= ETMEM_A_SWAP_NR_UNEVICTABLE,
	[SWAP_NOT_SWAPCACHE]	= ETMEM_A_SWAP_NR_NOT_SWAPCACHE,
};

struct swap_check {
	struct mm_struct *mm;
	struct pid *pid;	/* the target, checked between steps */
	pid_t nr;
	struct netlink_ext_ack *extack;
	int forced;		/* >= 0: every present page counts as this */
	bool swapcache_only;	/* ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY */
	u64 counts[SWAP_NR_COUNTS];
	u64 nr_checked;		/* mapped pages looked at, present or not */
	struct vm_area_struct *vma;	/* being walked */
	struct etmem_urange *approved;
	unsigned int nr_approved;
	unsigned long resume;	/* where checking stopped, if it did */
	unsigned long last_huge;	/* last huge page counted, + 1 (0: none) */
};

static int swap_approve(struct swap_check *c, unsigned long addr,
			unsigned long end)
{
	struct etmem_urange *last = c->nr_approved ?
				    &c->approved[c->nr_approved - 1] : NULL;

	if (last && last->end == addr) {
		last->end = end;
	} else {
		if (c->nr_approved == ETMEM_MAX_RANGES) {
			c->resume = addr;
			return -ENOSPC;
		}
		c->approved[c->nr_approved++] = (struct etmem_urange){ addr, end };
	}
	c->counts[SWAP_ELIGIBLE] += (end - addr) >> PAGE_SHIFT;
	return 0;
}

/* Why @page (present, not special) may not go, or -1 if it may. */
static int swap_refusal(const struct swap_check *c, struct page *page, bool young)
{
	struct folio *folio = page_folio(page);

	/*
	 * First, so that the other counts speak of swapcache pages only. A
	 * snapshot: swapcache membership changes under the folio lock, which
	 * is not held here; a folio that leaves the swapcache after this
	 * check is still paged out like any cold page.
	 */
	if (c->swapcache_only && !folio_test_swapcache(folio))
		return SWAP_NOT_SWAPCACHE;
	if (young)
		return SWAP_YOUNG;
	/*
	 * Off the LRU lists: the huge zero page, driver pages, pages being
	 * isolated, migrated or reclaimed right now. MADV_PAGEOUT could not
	 * take them either (it isolates from the LRU).
	 */
	if (!folio_test_lru(folio) || folio_test_unevictable(folio) ||
	    folio_test_mlocked(folio))
		return SWAP_UNEVICTABLE;
	if (etmem_page_shared(page))
		return SWAP_SHARED;
	return -1;
}

/* The PTEs of [addr, end), one table, under the PMD and PTE locks. */
static int swap_ptes(pmd_t *pmd, pmd_t pmdval, pte_t *pte, unsigned long addr,
		     unsigned long end, void *arg)
{
	struct swap_check *c = arg;
	int ret;

	for (; addr < end; addr += PAGE_SIZE, pte++) {
		pte_t val = ptep_get(pte);
		int why;

		if (!pte_present(val))
			continue;	/* counted as absent */
		if (c->forced >= 0)
			why = c->forced;
		else if (pte_special(val) || is_zone_device_page(pte_page(val)))
			why = SWAP_UNEVICTABLE;	/* zero page, DAX */
		else
			why = swap_refusal(c, pte_page(val), pte_young(val));
		if (why >= 0) {
			c->counts[why]++;
			continue;
		}
		ret = swap_approve(c, addr, addr + PAGE_SIZE);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A huge PMD (THP, or hugetlb counted by the caller): all or nothing,
 * under the PMD lock. A THP that two requested ranges both reach is
 * counted once, with the first.
 */
static int swap_huge(pmd_t *pmd, pmd_t val, unsigned long addr,
		     unsigned long end, void *arg)
{
	struct swap_check *c = arg;
	unsigned long haddr = addr & PMD_MASK;
	int why;

	if (c->last_huge == haddr + 1)
		return 0;
	/*
	 * The huge zero page and huge PFN maps are unevictable first, as
	 * special PTEs are (and pmd_page() may not be a page at all then).
	 */
	why = c->forced >= 0 ? c->forced :
	      etmem_pmd_not_own(c->vma, val) ? SWAP_UNEVICTABLE :
	      swap_refusal(c, pmd_page(val), pmd_young(val));
	if (why >= 0) {
		c->counts[why] += (end - addr) >> PAGE_SHIFT;
	} else {
		int ret = swap_approve(c, addr, end);

		if (ret)
			return ret;
	}
	c->last_huge = haddr + 1;
	return 0;
}

static const struct etmem_walk_ops swap_walk_ops = {
	.huge = swap_huge,
	.ptes = swap_ptes,
};

static int swap_pmd(pmd_t *pmd, unsigned long addr, unsigned long end, void *arg)
{
	struct swap_check *c = arg;
	int ret = etmem_pmd_walk_locked(c->mm, pmd, addr, end, &swap_walk_ops, c);

	return ret == -ENOSPC ? SWAP_FULL : ret;
}

/* How the pages of @vma count before looking at them one by one. */
static int swap_vma_refusal(struct vm_area_struct *vma)
{
	if (is_vm_hugetlb_page(vma))
		return SWAP_HUGETLB;
	if (vma->vm_flags & VM_LOCKED)
		return SWAP_LOCKED;
	if (vma->vm_flags & (VM_PFNMAP | VM_IO))
		return SWAP_UNEVICTABLE;
	return -1;
}

/*
 * Check [*addr, end) one VMA piece at a time under the mmap lock; moves
 * *addr on. Returns 0, SWAP_FULL or -errno.
 */
static int swap_check_step(struct swap_check *c, unsigned long *addr,
			   unsigned long end, bool swapflag_only)
{
	struct vm_area_struct *vma = find_vma(c->mm, *addr);
	unsigned long start, stop, ms, me;
	bool locked;
	int ret;

	if (!vma || vma->vm_start >= end) {
		*addr = end;	/* a hole: nothing mapped, nothing counted */
		return 0;
	}
	start = max(*addr, vma->vm_start);
	stop = min3(end, vma->vm_end, start + SWAP_STEP);
	c->forced = swap_vma_refusal(vma);
	if (c->forced < 0 && swapflag_only) {
		if (!etmem_marks_next(c->mm, start, stop, &ms, &me)) {
			c->forced = SWAP_UNMARKED;
		} else if (ms > start) {
			stop = ms;
			c->forced = SWAP_UNMARKED;
		} else {
			stop = me;
		}
	}
	c->vma = vma;
	locked = etmem_hugetlb_share_lock(vma);
	ret = etmem_walk_pmds(c->mm, start, stop, swap_pmd, c);
	etmem_hugetlb_share_unlock(vma, locked);
	if (ret == SWAP_FULL)
		stop = c->resume;
	/* Pages of the mapping that were looked at; absent = not counted. */
	c->nr_checked += (stop - start) >> PAGE_SHIFT;
	*addr = stop;
	return ret;
}

static int swap_check_ranges(struct swap_check *c, const struct etmem_urange *r,
			     unsigned int nr, bool swapflag_only)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < nr && !ret; i++) {
		unsigned long addr = r[i].start;

		while (addr < r[i].end && !ret) {
			/* An exec'd target's approvals would reach its new image. */
			ret = etmem_target_check(c->pid, c->mm, c->nr, c->extack);
			if (ret)
				return ret;
			if (mmap_read_lock_killable(c->mm))
				return -EINTR;
			ret = swap_check_step(c, &addr, r[i].end, swapflag_only);
			mmap_read_unlock(c->mm);
			cond_resched();
		}
	}
	return ret;
}

static int swap_reply(struct genl_info *info, const struct swap_check *c)
{
	u64 refused = 0;
	struct sk_buff *reply;
	unsigned int i;
	void *hdr;

	/* Approved ranges are 28-byte nests; counters 12 bytes each. */
	reply = genlmsg_new(c->nr_approved * 32 + 256, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &etmem_genl_family, 0, ETMEM_CMD_SWAP);
	if (!hdr)
		goto too_big;
	for (i = 0; i < SWAP_NR_COUNTS; i++) {
		refused += c->counts[i];
		if (nla_put_u64_64bit(reply, swap_count_attr[i], c->counts[i],
				      ETMEM_A_PAD))
			goto too_big;
	}
	if (nla_put_u64_64bit(reply, ETMEM_A_SWAP_NR_ABSENT,
			      c->nr_checked - refused, ETMEM_A_PAD))
		goto too_big;
	if (c->resume && nla_put_u64_64bit(reply, ETMEM_A_SWAP_RESUME_ADDR,
					   c->resume, ETMEM_A_PAD))
		goto too_big;
	for (i = 0; i < c->nr_approved; i++)
		if (etmem_put_range(reply, c->approved[i].start, c->approved[i].end))
			goto too_big;
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);

too_big:
	nlmsg_free(reply);
	return -EMSGSIZE;
}

/* A request resumed at @from: drop what lies before it. */
static void swap_skip_to(struct etmem_urange *ranges, unsigned int *nr,
			 u64 from)
{
	unsigned int i, n = 0;

	from = PAGE_ALIGN(from);
	for (i = 0; i < *nr; i++) {
		if (ranges[i].end <= from)
			continue;
		ranges[n] = ranges[i];
		ranges[n].start = max_t(u64, ranges[n].start, from);
		n++;
	}
	*nr = n;
}

/**
 * etmem_cmd_swap - ETMEM_CMD_SWAP: check ranges page by page before a page-out
 * @skb: the request
 * @info: its attributes and extack
 *
 * Return: 0 once the reply (approved ranges and counts) is sent, or
 * -errno with an extack message: -EPERM, -ESRCH, -EOWNERDEAD, -EINVAL,
 * -E2BIG, -ENOMEM, -EINTR.
 */
int etmem_cmd_swap(struct sk_buff *skb, struct genl_info *info)
{
	struct swap_check c = { .forced = -1 };
	struct etmem_target target;
	struct etmem_urange *ranges;
	unsigned int nr;
	u32 flags = 0;
	int ret;

	if (!etmem_admin_capable(skb, info->extack, "paging out a process's memory"))
		return -EPERM;
	/* Unknown bits were refused by the policy (NLA_POLICY_MASK). */
	if (info->attrs[ETMEM_A_SWAP_FLAGS])
		flags = nla_get_u32(info->attrs[ETMEM_A_SWAP_FLAGS]);
	ret = etmem_target_get(info->attrs, info->extack, &target);
	if (ret)
		return ret;
	ret = etmem_ranges_parse(info->nlhdr, target.mm, info->extack, &ranges, &nr);
	if (ret)
		goto put_target;
	c.mm = target.mm;
	c.pid = target.pid;
	c.nr = target.nr;
	c.extack = info->extack;
	c.swapcache_only = flags & ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY;
	c.approved = kvmalloc_array(ETMEM_MAX_RANGES, sizeof(*c.approved), GFP_KERNEL);
	if (!c.approved) {
		ret = -ENOMEM;
		goto free_ranges;
	}
	if (info->attrs[ETMEM_A_SWAP_RESUME_ADDR])
		swap_skip_to(ranges, &nr, nla_get_u64(info->attrs[ETMEM_A_SWAP_RESUME_ADDR]));
	ret = swap_check_ranges(&c, ranges, nr,
				flags & ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY);
	if (ret >= 0)
		ret = swap_reply(info, &c);
	kvfree(c.approved);
free_ranges:
	kvfree(ranges);
put_target:
	etmem_target_put(&target);
	return ret;
}
