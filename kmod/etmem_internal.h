/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What etmem_scan.ko shares with etmem_swap.ko, and between its own files.
 *
 * etmem_scan owns the generic netlink family "etmem" (every command, the
 * multicast group, the swap-flag marks and the page-table walking
 * helpers). etmem_swap attaches its command handlers with
 * etmem_swap_attach(); the symbol dependency makes it load after, and
 * unload before, etmem_scan.
 */
#ifndef ETMEM_INTERNAL_H
#define ETMEM_INTERNAL_H

#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/page_idle.h>
#include <linux/version.h>
#include <net/genetlink.h>
#include <linux/etmem.h>

#ifndef CONFIG_X86_64
#error "etmem tests and clears x86-64 accessed bits directly"
#endif

/* Flag bits each command knows; others are refused by its policy. */
#define ETMEM_SCAN_FLAGS_MASK	(ETMEM_SCAN_FLAGS_AS_HUGE | ETMEM_SCAN_FLAGS_ANON_ONLY | \
				 ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY | \
				 ETMEM_SCAN_FLAGS_HUGETLB_ONLY | ETMEM_SCAN_FLAGS_IDLE_AGES | \
				 ETMEM_SCAN_FLAGS_SAMPLE_HOT | ETMEM_SCAN_FLAGS_RUNS)
#define ETMEM_SWAP_FLAGS_MASK	(ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY | ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY)

/* ---- family and messages (scan_main.c) ---------------------------- */

extern struct genl_family etmem_genl_family;

/**
 * struct etmem_swap_operations - what etmem_swap.ko adds to the family
 * @owner: the module implementing them (THIS_MODULE), pinned per call
 * @swap_check: ETMEM_CMD_SWAP
 * @swapcache_set: ETMEM_CMD_SWAPCACHE_SET
 * @swapcache_get: ETMEM_CMD_SWAPCACHE_GET
 *
 * etmem_scan owns the family and forwards these commands to the
 * registered operations, taking a reference on @owner for each call: a
 * request never waits for an unload, and an unload never waits for a
 * request (it fails with EBUSY while one runs, like any busy module).
 */
struct etmem_swap_operations {
	struct module *owner;
	int (*swap_check)(struct sk_buff *skb, struct genl_info *info);
	int (*swapcache_set)(struct sk_buff *skb, struct genl_info *info);
	int (*swapcache_get)(struct sk_buff *skb, struct genl_info *info);
};

int etmem_register_swap_ops(const struct etmem_swap_operations *ops);
void etmem_unregister_swap_ops(const struct etmem_swap_operations *ops);

/* Multicast @skb (consumed) on the swapcache group, if anybody listens. */
int etmem_event_send(struct sk_buff *skb);
bool etmem_event_has_listeners(void);

/*
 * Extended-ack text with arguments. 6.1 lacks NL_SET_ERR_MSG_FMT (and the
 * buffer it prints into), so there the text goes to a small ring of static
 * buffers; a message is read right after the handler returns, long before
 * its slot comes round again.
 */
__printf(2, 3)
void etmem_errmsg(struct netlink_ext_ack *extack, const char *fmt, ...);

/* ---- targets and ranges (scan_target.c) --------------------------- */

struct etmem_urange {
	unsigned long start, end;	/* [start, end), page aligned */
};

/* A process whose memory a request works on; release with etmem_target_put. */
struct etmem_target {
	pid_t nr;
	struct pid *pid;
	struct mm_struct *mm;	/* mmget() reference */
};

int etmem_target_get(struct nlattr **attrs, struct netlink_ext_ack *extack,
		     struct etmem_target *target);
void etmem_target_put(struct etmem_target *target);
int etmem_target_check(struct pid *pid, struct mm_struct *mm, pid_t nr,
		       struct netlink_ext_ack *extack);

/*
 * Whether the requester may work on other processes' memory: CAP_SYS_ADMIN
 * of the socket's opener and the sender (netlink_capable()), as the kernel
 * asks for reading another process's page-level state. On refusal the
 * extack names @what and the capability.
 */
bool etmem_admin_capable(const struct sk_buff *skb,
			 struct netlink_ext_ack *extack, const char *what);

/*
 * Collect the ETMEM_A_RANGE nests of a request (they repeat, so the raw
 * message is walked) into a kvmalloc'ed array; none means [0, task_size).
 */
int etmem_ranges_parse(const struct nlmsghdr *nlh, struct mm_struct *mm,
		       struct netlink_ext_ack *extack,
		       struct etmem_urange **ranges, unsigned int *nr);
int etmem_put_range(struct sk_buff *skb, unsigned long start, unsigned long end);

/* ---- page tables (scan_target.c) ---------------------------------- */

/*
 * Call @fn for each populated PMD entry of [addr, end) (mmap lock held);
 * empty upper levels are skipped. @fn gets the part of [addr, end) that
 * the entry covers. A non-zero return stops the walk and is returned.
 */
typedef int (*etmem_pmd_fn)(pmd_t *pmd, unsigned long addr, unsigned long end,
			    void *arg);
int etmem_walk_pmds(struct mm_struct *mm, unsigned long addr, unsigned long end,
		    etmem_pmd_fn fn, void *arg);

/*
 * Shared hugetlb page tables (PMD sharing, on in both Debian kernels): a
 * process mapping the same file can unshare the table we are walking
 * without our mmap lock, but only with the file's i_mmap_rwsem held for
 * writing. Holding it for reading around the walk of such a VMA keeps the
 * table in place (order: mmap lock, i_mmap_rwsem, page-table locks, as in
 * mm/rmap.c). Returns whether it was taken.
 */
static inline bool etmem_hugetlb_share_lock(struct vm_area_struct *vma)
{
	if (!is_vm_hugetlb_page(vma) || !(vma->vm_flags & VM_MAYSHARE) ||
	    !vma->vm_file)
		return false;
	i_mmap_lock_read(vma->vm_file->f_mapping);
	return true;
}

static inline void etmem_hugetlb_share_unlock(struct vm_area_struct *vma,
					      bool locked)
{
	if (locked)
		i_mmap_unlock_read(vma->vm_file->f_mapping);
}

/* Whether a PMD entry points to a page table that holds PTEs. */
static inline bool etmem_pmd_is_table(pmd_t pmd)
{
	return pmd_present(pmd) && !pmd_leaf(pmd) && !pmd_bad(pmd);
}

/*
 * Whether a huge PMD leaf of @vma maps no memory of the process's own: a
 * special PMD (6.12+: a huge PFN map, whose pfn may have no struct page;
 * on 7.2 also the huge zero page), or the huge zero page of a read fault
 * on THP memory, which in an anonymous mapping is the only huge page that
 * is not anonymous (the kernel's is_huge_zero_pmd() reads a symbol modules
 * cannot reach). Checked before pmd_page() is used for anything else.
 */
static inline bool etmem_pmd_not_own(struct vm_area_struct *vma, pmd_t val)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	if (pmd_special(val))
		return true;
#endif
	return vma_is_anonymous(vma) && !PageAnon(pmd_page(val));
}

/* Whether a page is mapped by more than one process (an estimate for THP). */
static inline bool etmem_page_shared(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return folio_maybe_mapped_shared(page_folio(page));
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	return folio_likely_mapped_shared(page_folio(page));
#else
	return page_mapcount(page) > 1;
#endif
}

/* ---- accessed bits and the locked PMD walk (access.c) ------------- */

/*
 * Tell reclaim about a reference whose accessed bit a scan cleared (see
 * access.c). @pfn comes from a present entry read under its page-table
 * lock (a PTE that is not special, or a huge PMD), so the lock keeps
 * whatever it maps from being freed or split meanwhile. pfn_valid() makes
 * sure there is a memmap to look at before pfn_folio() (the entry may map
 * memory the kernel has no struct page for only in VMAs the scan leaves
 * out, but a scan must never read a bad memmap address). ZONE_DEVICE
 * folios (DAX, P2PDMA, device-coherent memory; on 7.x DAX maps them with
 * normal entries) are not on the LRU and keep their flags across reuse,
 * so nothing is set there. Without CONFIG_PAGE_IDLE_FLAG (Debian 6.1)
 * there is no flag to set and nothing is looked up.
 */
static inline void etmem_folio_keep_reference(unsigned long pfn)
{
	struct folio *folio;

	if (!IS_ENABLED(CONFIG_PAGE_IDLE_FLAG) || !pfn_valid(pfn))
		return;
	folio = pfn_folio(pfn);
	if (folio_is_zone_device(folio))
		return;
	/*
	 * Tested first: a hot page is found accessed at every scan, and
	 * reclaim has seldom taken its young flag meanwhile.
	 */
	if (!folio_test_young(folio))
		folio_set_young(folio);
}

/**
 * etmem_ptep_test_clear_young - test and clear the accessed bit of a PTE
 * @pte: the entry, PTE lock held
 * @val: its value as read under that lock, present
 *
 * Test first: clearing a clear bit would still dirty the cache line. When
 * the bit was set and the entry is not special, the page's folio is marked
 * young for reclaim (with CONFIG_PAGE_IDLE_FLAG, for a page with a memmap
 * outside ZONE_DEVICE: etmem_folio_keep_reference()). Inline: the scan
 * calls it for every present PTE it reads.
 *
 * Return: whether the bit was set.
 */
static inline bool etmem_ptep_test_clear_young(pte_t *pte, pte_t val)
{
	if (!pte_young(val) ||
	    !test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)&pte->pte))
		return false;
	if (!pte_special(val))
		etmem_folio_keep_reference(pte_pfn(val));
	return true;
}

bool etmem_pmdp_test_clear_young(pmd_t *pmd, pmd_t val);

/*
 * What etmem_pmd_walk_locked() does with the entry it locked. @huge gets
 * a leaf PMD (THP, hugetlb) under the PMD lock; @ptes gets the PTEs of
 * [addr, end), all in one table, under the PMD lock and the PTE lock,
 * @pte pointing at the entry of @addr, with the PMD entry @pmd and its
 * value @val as read under the lock. @table, if set, sees a PTE table's
 * entry first, under the PMD lock only: when it returns ETMEM_WALK_DONE
 * the table is not handed to @ptes. Other non-zero returns are passed on.
 */
struct etmem_walk_ops {
	int (*huge)(pmd_t *pmd, pmd_t val, unsigned long addr,
		    unsigned long end, void *arg);
	int (*ptes)(pmd_t *pmd, pmd_t val, pte_t *pte, unsigned long addr,
		    unsigned long end, void *arg);
	int (*table)(pmd_t *pmd, pmd_t val, unsigned long addr,
		     unsigned long end, void *arg);
};

/* From etmem_walk_ops.table: the table was dealt with, skip its PTEs. */
#define ETMEM_WALK_DONE	INT_MAX

int etmem_pmd_walk_locked(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
			  unsigned long end, const struct etmem_walk_ops *ops,
			  void *arg);

/* Make CPUs that run or ran @mm drop stale TLB entries (see access.c). */
void etmem_flush_tlbs(struct mm_struct *mm);
u64 etmem_flush_rounds(void);

/* ---- swap-flag marks (swapflag.c) --------------------------------- */

/*
 * The next marked part of [addr, end) of @mm: true and [*mstart, *mend)
 * when there is one.
 */
bool etmem_marks_next(struct mm_struct *mm, unsigned long addr,
		      unsigned long end, unsigned long *mstart,
		      unsigned long *mend);
int etmem_cmd_swapflag_set(struct sk_buff *skb, struct genl_info *info);
int etmem_cmd_swapflag_get(struct sk_buff *skb, struct genl_info *info);
int etmem_marks_init(void);
void etmem_marks_exit(void);
u32 etmem_marks_nr_procs(void);

/* ---- scan history (scan_history.c) -------------------------------- */

/**
 * struct etmem_table_rec - what the last full read of a PTE table found
 * @table_pfn: the page table read (another table at the same address,
 *	after munmap or a THP split, is not described by this record)
 * @pass: the pass of that read (etmem_history_begin_pass())
 * @nr_present: how many of its entries mapped a page
 * @aged_pass: the pass @ages were computed in, the pass of the last
 *	full read (@pass may be dated back)
 * @hot_reads: consecutive full reads, ending with the last, that found
 *	pages mapped and every one of them accessed (at most 255)
 * @hot_skipped: a pass left the table unread as hot since the last read:
 *	the next one credits a page it finds idle with one pass, not all
 * @idle_states: the table as a scan chunk reports it once nothing was
 *	loaded through it since: 2 bits a page (enum etmem_page_state),
 *	IDLE where a page was mapped, ABSENT elsewhere; copied whole into
 *	a chunk that is 4-page aligned there
 * @ages: each mapped page's idle age at @aged_pass (consecutive passes
 *	found mapped and not accessed, at most ETMEM_IDLE_AGE_MAX); a pass
 *	that reports the table from this record adds the passes since
 * @layout: a hash of the VMAs in the table's 2 MiB at the last read (their
 *	bounds there, offsets, flags, file or anon_vma): the VMAs that share
 *	a table can change without a walk through it (munmap, mremap into a
 *	hole), and a shared table whose VMAs differ is read, not reported
 *	from this record
 * @pfn_tags: the low byte of each mapped page's pfn at the last read. A
 *	table can be freed and its page reused for the next table at the
 *	same address (same @table_pfn), and a page can be unmapped and
 *	another mapped in its place, between two reads: a page whose tag
 *	differs is another page, and its age and the table's @hot_reads
 *	start again (a match by chance, 1 in 256, keeps the old age)
 */
struct etmem_table_rec {
	unsigned long table_pfn;
	u32 pass;
	u32 aged_pass;
	u16 nr_present;
	u8 hot_reads;
	u8 hot_skipped;
	u32 layout;
	u8 idle_states[PTRS_PER_PTE / 4];
	u8 ages[PTRS_PER_PTE];
	u8 pfn_tags[PTRS_PER_PTE];
};

struct etmem_scan_history;

struct etmem_scan_history *etmem_history_get(struct mm_struct *mm);
void etmem_history_put(struct etmem_scan_history *h);
u32 etmem_history_begin_pass(struct etmem_scan_history *h);
struct etmem_table_rec *etmem_history_lookup(struct etmem_scan_history *h,
					     unsigned long addr);
int etmem_history_store(struct etmem_scan_history *h, unsigned long addr,
			struct etmem_table_rec *rec);
void etmem_history_drop(struct etmem_scan_history *h, unsigned long addr);
bool etmem_history_changed(struct etmem_scan_history *h, unsigned long addr);
unsigned int etmem_history_invalidations(struct etmem_scan_history *h);
void etmem_history_read_done(struct etmem_scan_history *h, unsigned long addr,
			     unsigned int since, bool was_changed);
struct etmem_table_rec *etmem_history_rec_alloc(void);
void etmem_history_rec_free(struct etmem_table_rec *rec);
int etmem_history_init(void);
u8 etmem_history_leaf_age(struct etmem_scan_history *h, unsigned long addr,
			  unsigned long pfn, bool young, unsigned long *value);
void etmem_history_leaf_store(struct etmem_scan_history *h, unsigned long addr,
			      unsigned long value);
void etmem_history_exit(void);

/* ---- scan (scan_dump.c) ------------------------------------------- */

/*
 * PTE tables scans read entry by entry, reported from their history (PMD
 * bit clear), and left unread as hot (ETMEM_SCAN_FLAGS_SAMPLE_HOT).
 */
void etmem_scan_table_counts(u64 *read, u64 *skipped, u64 *hot_skipped);

int etmem_scan_start(struct netlink_callback *cb);
int etmem_scan_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int etmem_scan_done(struct netlink_callback *cb);
void etmem_scan_dump_exit(void);

#endif /* ETMEM_INTERNAL_H */
