// SPDX-License-Identifier: GPL-2.0
/*
 * Scan history: what the last full visit of each PTE table of a scanned
 * process found (which of its 512 entries mapped a page), so that a later
 * pass can report a table that nothing was loaded through since without
 * reading its PTEs. scan_dump.c decides when that is allowed (the PMD
 * accessed-bit pre-check); this file only keeps the records.
 *
 * Memory: one record (struct etmem_table_rec, 1176 bytes) per PTE table a
 * scan read whole, i.e. about 590 KiB per GiB of mapped 4 KiB pages (the
 * page tables themselves take 2 MiB), and one xarray value per huge page
 * (THP or hugetlb) for its idle age. Records not refreshed for
 * HISTORY_PRUNE_PASSES passes (their memory was unmapped, or is no longer
 * scanned) are freed every HISTORY_PRUNE_PASSES passes, so an address
 * space that moves around does not accumulate them.
 *
 * Lifetime: the history of an mm hangs off it as an mmu_notifier (from
 * mmu_notifier_get_locked(), one per mm), and is found again through
 * @histories, a hash table keyed by the mm, without taking the mmap lock:
 * only the first scan of a process registers the notifier (under its mmap
 * lock taken for writing, killably). @refs counts the notifier's share
 * and each running scan's. The mm's teardown (->release, process context,
 * no scan inside a batch since mm_users is 0) or the module's exit
 * unhashes it, frees its records and puts the notifier; ->free_notifier
 * drops the notifier's share, and the last reference frees the rest.
 * A registered notifier also tells MGLRU (6.12 on) not to clear the
 * accessed bits of this mm's non-leaf PMDs, which the pre-check relies
 * on (see scan_dump.c); what else it costs is in docs/kernel.md.
 *
 * Locking: a process is scanned by one scan at a time (scan_claim()), and
 * only that scan reads or changes the pass count and the records, so
 * they need no lock of their own; @histories_lock guards the hash table
 * and the listed flags. The notifier's ->invalidate_range_end() runs
 * concurrently with scans: it only sets the HISTORY_CHANGED mark of
 * records (under the xarray's lock, never touching a record's memory)
 * and counts @invalidations.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "etmem_internal.h"

/* Records unrefreshed for this many passes are freed (and so often). */
#define HISTORY_PRUNE_PASSES	64

struct etmem_scan_history {
	struct mmu_notifier mn;
	struct mm_struct *mm;		/* the hash key */
	struct hlist_node node;		/* in histories while listed */
	bool listed;
	refcount_t refs;		/* the notifier's share, each scan's */
	u32 pass;			/* scans of this mm so far */
	/* invalidate_range_end() calls so far (etmem_history_read_done()) */
	atomic_t invalidations;
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

/*
 * On a record in @tables: the PTEs of its table changed without a walk
 * through it since it was read, so it must be read again.
 */
#define HISTORY_CHANGED		XA_MARK_1
/* Records marked per hold of the xarray lock when the caller may sleep. */
#define HISTORY_MARK_BATCH	64

static DEFINE_HASHTABLE(histories, 10);
static DEFINE_SPINLOCK(histories_lock);
static struct kmem_cache *rec_cache;	/* struct etmem_table_rec, accounted */

static struct mmu_notifier *history_alloc(struct mm_struct *mm)
{
	struct etmem_scan_history *h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);

	if (!h)
		return ERR_PTR(-ENOMEM);
	h->mm = mm;
	refcount_set(&h->refs, 1);
	xa_init(&h->tables);
	xa_init(&h->leaves);
	return &h->mn;
}

/* Free the records; no scan may be using them (see the top). */
static void history_clear(struct etmem_scan_history *h)
{
	struct etmem_table_rec *rec;
	unsigned long index;

	xa_for_each(&h->tables, index, rec) {
		kmem_cache_free(rec_cache, rec);
		cond_resched();
	}
	xa_destroy(&h->tables);
	xa_destroy(&h->leaves);
}

static void history_unref(struct etmem_scan_history *h)
{
	if (refcount_dec_and_test(&h->refs))
		kfree(h);
}

/* The notifier's last user is gone (an SRCU callback): its share only. */
static void history_free(struct mmu_notifier *mn)
{
	history_unref(container_of(mn, struct etmem_scan_history, mn));
}

/* Take @h out of the table; true if the caller must put the notifier. */
static bool history_unlist(struct etmem_scan_history *h)
{
	bool was_listed;

	spin_lock(&histories_lock);
	was_listed = h->listed;
	if (was_listed) {
		hash_del(&h->node);
		h->listed = false;
	}
	spin_unlock(&histories_lock);
	return was_listed;
}

static void history_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct etmem_scan_history *h =
		container_of(mn, struct etmem_scan_history, mn);

	if (history_unlist(h)) {
		history_clear(h);
		mmu_notifier_put(mn);
	}
}

/*
 * The PTEs of [range->start, range->end) changed: pages unmapped by
 * reclaim or MADV_PAGEOUT, zapped (MADV_DONTNEED, munmap), taken for
 * migration, merged by KSM, a THP split. None of that walks through the
 * tables, so their PMD accessed bits stay clear and the pre-check would
 * report them from records that no longer hold: pages gone would be
 * called idle, and asked for, every cycle, until the bound forces a read.
 * Mark the records there, so that the next pass reads those tables.
 *
 * Changes of protection alone (mprotect, NUMA balancing's hinting faults,
 * userfaultfd write-protect, write-protect for writeback, fork's COW
 * write-protect, soft-dirty clearing) leave every page where it was: a
 * PROT_NONE entry is still present to pte_present(), so records stay true
 * and are not marked (NUMA balancing would otherwise have every idle table
 * read again each of its scan periods).
 *
 * Called after the change, with no page-table lock held; sleeps (in
 * cond_resched()) only when the range is blockable, never for the OOM
 * reaper. Why a change is never missed: see etmem_history_read_done().
 */
static void history_invalidate_end(struct mmu_notifier *mn,
				   const struct mmu_notifier_range *range)
{
	struct etmem_scan_history *h =
		container_of(mn, struct etmem_scan_history, mn);
	XA_STATE(xas, &h->tables, range->start >> PMD_SHIFT);
	unsigned long last = (range->end - 1) >> PMD_SHIFT;
	unsigned int n = 0;
	void *rec;

	switch (range->event) {
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
		return;
	default:
		break;
	}
	/* Before the lock: its release publishes the count with the marks. */
	atomic_inc(&h->invalidations);
	xas_lock(&xas);
	xas_for_each(&xas, rec, last) {
		xas_set_mark(&xas, HISTORY_CHANGED);
		/* A large munmap: let go of the lock now and then. */
		if (++n % HISTORY_MARK_BATCH == 0 && mmu_notifier_range_blockable(range)) {
			xas_pause(&xas);
			xas_unlock(&xas);
			cond_resched();
			xas_lock(&xas);
		}
	}
	xas_unlock(&xas);
}

static const struct mmu_notifier_ops history_ops = {
	.release	= history_release,
	.invalidate_range_end = history_invalidate_end,
	.alloc_notifier	= history_alloc,
	.free_notifier	= history_free,
};

/* The listed history of @mm with a reference for the caller, or NULL. */
static struct etmem_scan_history *history_find(struct mm_struct *mm)
{
	struct etmem_scan_history *h, *found = NULL;

	spin_lock(&histories_lock);
	hash_for_each_possible(histories, h, node, (unsigned long)mm) {
		if (h->mm == mm && h->listed) {
			refcount_inc(&h->refs);
			found = h;
			break;
		}
	}
	spin_unlock(&histories_lock);
	return found;
}

/**
 * etmem_history_get - the scan history of @mm, for one scan
 * @mm: the address space, with an mmget() reference held
 *
 * Found without locking @mm; created by its first scan, which registers
 * an mmu_notifier under @mm's mmap lock taken for writing (killably). The
 * caller must be the only scan of @mm (scan_claim()).
 *
 * Return: the history with a reference for the caller (drop it with
 * etmem_history_put()), or an ERR_PTR (-ENOMEM, -EINTR).
 */
struct etmem_scan_history *etmem_history_get(struct mm_struct *mm)
{
	struct etmem_scan_history *h = history_find(mm);
	struct mmu_notifier *mn;

	if (h)
		return h;
	if (mmap_write_lock_killable(mm))
		return ERR_PTR(-EINTR);
	mn = mmu_notifier_get_locked(&history_ops, mm);
	mmap_write_unlock(mm);
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	h = container_of(mn, struct etmem_scan_history, mn);
	spin_lock(&histories_lock);
	if (h->listed) {
		/* Listed meanwhile (cannot happen under scan_claim()). */
		spin_unlock(&histories_lock);
		mmu_notifier_put(mn);
		spin_lock(&histories_lock);
	} else {
		/* The notifier reference is the listed one, until ->release. */
		hash_add(histories, &h->node, (unsigned long)mm);
		h->listed = true;
	}
	refcount_inc(&h->refs);
	spin_unlock(&histories_lock);
	return h;
}

/**
 * etmem_history_put - drop a scan's reference on a history
 * @h: from etmem_history_get()
 */
void etmem_history_put(struct etmem_scan_history *h)
{
	history_unref(h);
}

/**
 * etmem_history_rec_alloc - a record to fill, from the accounted cache
 *
 * Does not sleep (the caller holds the target's mmap lock, and maybe a
 * hugetlb file's i_mmap_rwsem): without memory the table gets no record.
 *
 * Return: the record, or NULL.
 */
struct etmem_table_rec *etmem_history_rec_alloc(void)
{
	return kmem_cache_alloc(rec_cache, GFP_NOWAIT | __GFP_NOWARN);
}

/**
 * etmem_history_rec_free - free a record that was never stored
 * @rec: from etmem_history_rec_alloc(), or NULL
 */
void etmem_history_rec_free(struct etmem_table_rec *rec)
{
	if (rec)
		kmem_cache_free(rec_cache, rec);
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
			kmem_cache_free(rec_cache, rec);
		}
		cond_resched();
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
 * Does not sleep, like etmem_history_rec_alloc().
 *
 * Return: 0, or -ENOMEM (the caller keeps @rec).
 */
int etmem_history_store(struct etmem_scan_history *h, unsigned long addr,
			struct etmem_table_rec *rec)
{
	struct etmem_table_rec *old;

	old = xa_store(&h->tables, addr >> PMD_SHIFT, rec, GFP_NOWAIT | __GFP_NOWARN);
	if (xa_is_err(old))
		return xa_err(old);
	etmem_history_rec_free(old);
	return 0;
}

/**
 * etmem_history_changed - whether a table's PTEs changed without a walk
 * @h: the history, held by the one running scan
 * @addr: an address in the table's 2 MiB
 *
 * Lockless; may be called under the table's locks.
 *
 * Return: true when the record of the table mapping @addr must not be
 * reported from: the mmu notifier saw its PTEs change since its last full
 * read (or during it).
 */
bool etmem_history_changed(struct etmem_scan_history *h, unsigned long addr)
{
	return xa_get_mark(&h->tables, addr >> PMD_SHIFT, HISTORY_CHANGED);
}

/**
 * etmem_history_invalidations - the count etmem_history_read_done() needs
 * @h: the history
 *
 * Return: how many invalidations of the mm's PTEs the notifier has seen,
 * to be read before a table is read in full (wraps; compare for equality).
 */
unsigned int etmem_history_invalidations(struct etmem_scan_history *h)
{
	return atomic_read(&h->invalidations);
}

/**
 * etmem_history_read_done - a table's record was filled by a full read
 * @h: the history, held by the one running scan
 * @addr: an address in the table's 2 MiB
 * @since: etmem_history_invalidations() from before the read
 * @was_changed: etmem_history_changed() from before the read
 *
 * Clears the table's mark if it was set before the read (one set during
 * the read stays: the table is read again, which is never wrong); sets
 * it if any invalidation came since @since (a new record is stored only
 * after the read, and one that came in between had nothing to mark).
 * Takes the xarray lock only to change the mark: not under the table's
 * locks.
 *
 * Why no change after the read is missed. @since was read before the
 * table's PTE lock was taken for the read, and a change takes that lock
 * too: a change the read did not see comes after it, and counts after
 * @since was read. Its notifier increments the count, then takes the
 * xarray lock to mark. The scan stored the new record (xa_store()) or
 * cleared the mark (xa_clear_mark()) under that same lock before reading
 * the count here. If the notifier's locked section came after the scan's,
 * it finds the record and marks it, after the clear; if before, its
 * unlock published the increment to the scan's lock, and the count read
 * here differs from @since. A record refilled in place, unmarked, needs
 * neither: the notifier marks it whenever it comes, and only a scan
 * clears marks.
 */
void etmem_history_read_done(struct etmem_scan_history *h, unsigned long addr,
			     unsigned int since, bool was_changed)
{
	unsigned long index = addr >> PMD_SHIFT;

	if (was_changed)
		xa_clear_mark(&h->tables, index, HISTORY_CHANGED);
	if (atomic_read(&h->invalidations) != since)
		xa_set_mark(&h->tables, index, HISTORY_CHANGED);
}

/**
 * etmem_history_drop - forget the record of the PTE table mapping @addr
 * @h: the history, held by the one running scan
 * @addr: an address in the table's 2 MiB
 *
 * For a table read only in part: its accessed bits are cleared without
 * the record learning of it, which would then overstate idle ages.
 */
void etmem_history_drop(struct etmem_scan_history *h, unsigned long addr)
{
	/*
	 * Looked up first: a table read in parts every pass (one that VMAs
	 * share which the request does not cover whole) has no record, and
	 * xa_erase() takes the lock.
	 */
	if (xa_load(&h->tables, addr >> PMD_SHIFT))
		etmem_history_rec_free(xa_erase(&h->tables, addr >> PMD_SHIFT));
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
 * etmem_history_init - set up the record cache
 *
 * Return: 0 or -ENOMEM.
 */
int etmem_history_init(void)
{
	rec_cache = KMEM_CACHE(etmem_table_rec, SLAB_ACCOUNT);
	return rec_cache ? 0 : -ENOMEM;
}

/**
 * etmem_history_exit - drop every process's scan history (module exit)
 *
 * Called after the family is unregistered, so no scan runs any more.
 */
void etmem_history_exit(void)
{
	struct etmem_scan_history *h;
	struct hlist_node *tmp;
	int bkt;

	for (;;) {
		h = NULL;
		spin_lock(&histories_lock);
		hash_for_each_safe(histories, bkt, tmp, h, node) {
			hash_del(&h->node);
			h->listed = false;
			break;
		}
		spin_unlock(&histories_lock);
		if (!h)
			break;
		/* Unlisted here, so ->release will not clear or put it. */
		history_clear(h);
		mmu_notifier_put(&h->mn);
	}
	/*
	 * Twice: a ->release running now (its process exiting) unlisted its
	 * history before the loop above and puts the notifier only when it
	 * returns; the first wait lets it finish, the second waits for the
	 * free that put queued, which calls history_free() in this module.
	 */
	mmu_notifier_synchronize();
	mmu_notifier_synchronize();
	kmem_cache_destroy(rec_cache);
}
