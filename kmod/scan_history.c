// SPDX-License-Identifier: GPL-2.0
/*
 * Scan history: what the last full visit of each PTE table of a scanned
 * process found (which of its 512 entries mapped a page), so that a later
 * pass can report a table that nothing was loaded through since without
 * reading its PTEs. scan_dump.c decides when that is allowed (the PMD
 * accessed-bit pre-check); this file only keeps the records.
 *
 * Memory: one record (struct etmem_table_rec, 656 bytes) per PTE table a
 * scan read whole, i.e. about 330 KiB per GiB of mapped 4 KiB pages (the
 * page tables themselves take 2 MiB), and one xarray value per huge page
 * (THP or hugetlb) for its idle age. Records not refreshed for
 * HISTORY_PRUNE_PASSES passes (their memory was unmapped, or is no longer
 * scanned) are freed every HISTORY_PRUNE_PASSES passes, so an address
 * space that moves around does not accumulate them.
 *
 * Lifetime: the history of an mm hangs off it as an mmu_notifier (from
 * mmu_notifier_get(), one per mm), listed in @histories with one
 * reference; each scan holds another while it runs. The mm's teardown
 * (->release) or the module's exit unlists it and drops the listed
 * reference; the records go with the last reference (->free_notifier).
 * A registered notifier also tells MGLRU (6.12 on) not to clear the
 * accessed bits of this mm's non-leaf PMDs, which the pre-check relies
 * on (see scan_dump.c).
 *
 * Locking: a process is scanned by one scan at a time (scan_claim()), and
 * only that scan reads or changes the pass count and the records, so
 * they need no lock of their own; @histories_lock guards the list.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "etmem_internal.h"

/* Records unrefreshed for this many passes are freed (and so often). */
#define HISTORY_PRUNE_PASSES	64

struct etmem_scan_history {
	struct mmu_notifier mn;
	struct list_head node;		/* in histories while listed */
	bool listed;
	u32 pass;			/* scans of this mm so far */
	struct xarray tables;		/* addr >> PMD_SHIFT -> record */
	struct xarray leaves;		/* addr >> PMD_SHIFT -> leaf value */
};

/*
 * A huge page's (THP or hugetlb PMD) entry in @leaves, an xarray value:
 * its pfn, the low 8 bits of the pass that last read it (for pruning)
 * and its idle age. pfns are below 2^40 on x86-64 (52-bit physical
 * addresses), so the value fits the 63 bits an xarray value holds.
 */
#define LEAF_PFN(v)		((v) >> 16)
#define LEAF_PASS(v)		(((v) >> 8) & 0xff)
#define LEAF_AGE(v)		((v) & 0xff)
#define LEAF_VALUE(pfn, pass, age) \
	(((unsigned long)(pfn) << 16) | (((pass) & 0xff) << 8) | (age))

static LIST_HEAD(histories);
static DEFINE_SPINLOCK(histories_lock);

static struct mmu_notifier *history_alloc(struct mm_struct *mm)
{
	struct etmem_scan_history *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&h->node);
	xa_init(&h->tables);
	xa_init(&h->leaves);
	return &h->mn;
}

/* After the last reference and an SRCU grace period: nobody reads it. */
static void history_free(struct mmu_notifier *mn)
{
	struct etmem_scan_history *h =
		container_of(mn, struct etmem_scan_history, mn);
	struct etmem_table_rec *rec;
	unsigned long index;

	xa_for_each(&h->tables, index, rec)
		kfree(rec);
	xa_destroy(&h->tables);
	xa_destroy(&h->leaves);
	kfree(h);
}

/* Take @h off the list; true if the caller must drop the listed reference. */
static bool history_unlist(struct etmem_scan_history *h)
{
	bool was_listed;

	spin_lock(&histories_lock);
	was_listed = h->listed;
	if (was_listed) {
		list_del_init(&h->node);
		h->listed = false;
	}
	spin_unlock(&histories_lock);
	return was_listed;
}

static void history_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct etmem_scan_history *h =
		container_of(mn, struct etmem_scan_history, mn);

	if (history_unlist(h))
		mmu_notifier_put(mn);
}

static const struct mmu_notifier_ops history_ops = {
	.release	= history_release,
	.alloc_notifier	= history_alloc,
	.free_notifier	= history_free,
};

/**
 * etmem_history_get - the scan history of @mm, for one scan
 * @mm: the address space, with an mmget() reference held
 *
 * Creates the history on the first scan of @mm (registering an
 * mmu_notifier, which takes @mm's mmap lock for writing). The caller must
 * be the only scan of @mm (scan_claim()).
 *
 * Return: the history with a reference for the caller (drop it with
 * etmem_history_put()), or an ERR_PTR (-ENOMEM, -EINTR).
 */
struct etmem_scan_history *etmem_history_get(struct mm_struct *mm)
{
	struct etmem_scan_history *h;
	struct mmu_notifier *mn;

	mn = mmu_notifier_get(&history_ops, mm);
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	h = container_of(mn, struct etmem_scan_history, mn);
	if (!READ_ONCE(h->listed)) {
		/* A second reference, for the list, until ->release. */
		mn = mmu_notifier_get(&history_ops, mm);
		if (IS_ERR(mn)) {
			mmu_notifier_put(&h->mn);
			return ERR_CAST(mn);
		}
		spin_lock(&histories_lock);
		list_add(&h->node, &histories);
		h->listed = true;
		spin_unlock(&histories_lock);
	}
	return h;
}

/**
 * etmem_history_put - drop a scan's reference on a history
 * @h: from etmem_history_get()
 */
void etmem_history_put(struct etmem_scan_history *h)
{
	mmu_notifier_put(&h->mn);
}

/**
 * etmem_history_begin_pass - count a new scan of the history's mm
 * @h: the history, held by the one running scan
 *
 * Every HISTORY_PRUNE_PASSES passes, records not refreshed for that many
 * passes are freed.
 *
 * Return: the new pass number (wraps at 2^32; compare by difference).
 */
u32 etmem_history_begin_pass(struct etmem_scan_history *h)
{
	struct etmem_table_rec *rec;
	unsigned long index;
	void *entry;

	h->pass++;
	if (h->pass % HISTORY_PRUNE_PASSES)
		return h->pass;
	xa_for_each(&h->tables, index, rec) {
		if (h->pass - rec->pass >= HISTORY_PRUNE_PASSES) {
			xa_erase(&h->tables, index);
			kfree(rec);
		}
	}
	/*
	 * Only 8 bits of a leaf's pass are kept: one unread for 256 passes
	 * or more may look recent at one pruning, not at every one.
	 */
	xa_for_each(&h->leaves, index, entry) {
		if ((u8)(h->pass - LEAF_PASS(xa_to_value(entry))) >= HISTORY_PRUNE_PASSES)
			xa_erase(&h->leaves, index);
	}
	return h->pass;
}

/**
 * etmem_history_lookup - the record of the PTE table mapping @addr
 * @h: the history, held by the one running scan
 * @addr: an address in the table's 2 MiB
 *
 * Return: the record, or NULL. It stays valid while the caller's scan
 * holds @h and does not store over it.
 */
struct etmem_table_rec *etmem_history_lookup(struct etmem_scan_history *h,
					     unsigned long addr)
{
	return xa_load(&h->tables, addr >> PMD_SHIFT);
}

/**
 * etmem_history_store - keep a new record for the PTE table mapping @addr
 * @h: the history, held by the one running scan
 * @addr: an address in the table's 2 MiB
 * @rec: a kmalloc'ed record; on success @h owns it
 *
 * Return: 0, or -ENOMEM (the caller keeps @rec).
 */
int etmem_history_store(struct etmem_scan_history *h, unsigned long addr,
			struct etmem_table_rec *rec)
{
	struct etmem_table_rec *old;

	old = xa_store(&h->tables, addr >> PMD_SHIFT, rec, GFP_KERNEL);
	if (xa_is_err(old))
		return xa_err(old);
	kfree(old);
	return 0;
}

/**
 * etmem_history_leaf_age - the idle age of a huge page read in this pass
 * @h: the history, held by the one running scan (any lock may be held)
 * @addr: the huge page's address (PMD aligned)
 * @pfn: its first pfn
 * @young: whether its accessed bit was set
 * @value: set to what etmem_history_leaf_store() must keep for it
 *
 * A huge page keeps an age of its own, counted in the passes that read it:
 * 0 when accessed, one more than last time when it is the same page and
 * idle, 1 when idle in its first read.
 *
 * Return: the age, 0..ETMEM_IDLE_AGE_MAX.
 */
u8 etmem_history_leaf_age(struct etmem_scan_history *h, unsigned long addr,
			  unsigned long pfn, bool young, unsigned long *value)
{
	void *entry = xa_load(&h->leaves, addr >> PMD_SHIFT);
	unsigned long old = xa_is_value(entry) ? xa_to_value(entry) : 0;
	u8 age;

	if (young)
		age = 0;
	else if (entry && LEAF_PFN(old) == pfn)
		age = min_t(unsigned int, LEAF_AGE(old) + 1, ETMEM_IDLE_AGE_MAX);
	else
		age = 1;
	*value = LEAF_VALUE(pfn, h->pass, age);
	return age;
}

/**
 * etmem_history_leaf_store - keep a huge page's age
 * @h: the history, held by the one running scan
 * @addr: the huge page's address (PMD aligned)
 * @value: from etmem_history_leaf_age()
 *
 * Does not sleep: the caller may hold a hugetlb file's i_mmap_rwsem,
 * under which reclaim must not be entered. A failure to allocate only
 * costs the page its age (it counts from 1 again).
 */
void etmem_history_leaf_store(struct etmem_scan_history *h, unsigned long addr,
			      unsigned long value)
{
	xa_store(&h->leaves, addr >> PMD_SHIFT, xa_mk_value(value),
		 GFP_NOWAIT | __GFP_NOWARN);
}

/**
 * etmem_history_exit - drop every process's scan history (module exit)
 *
 * Called after the family is unregistered, so no scan runs any more.
 */
void etmem_history_exit(void)
{
	struct etmem_scan_history *h;

	for (;;) {
		spin_lock(&histories_lock);
		h = list_first_entry_or_null(&histories,
					     struct etmem_scan_history, node);
		if (h) {
			list_del_init(&h->node);
			h->listed = false;
		}
		spin_unlock(&histories_lock);
		if (!h)
			break;
		/* Unlisted here, so ->release will not put it again. */
		mmu_notifier_put(&h->mn);
	}
	/* Wait for the notifiers' frees, which run history_free(). */
	mmu_notifier_synchronize();
}
