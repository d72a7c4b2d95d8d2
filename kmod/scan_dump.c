// SPDX-License-Identifier: GPL-2.0
/*
 * ETMEM_CMD_SCAN: stream the accessed/idle state of a process's pages and
 * clear the accessed bits, so that the next scan sees only new accesses.
 *
 * Locking and pacing: the mmap lock is taken for reading for at most
 * SCAN_BATCH_PMDS page-table entries (at most 256 MiB of 4 KiB pages) at a
 * time, then dropped; between batches the walk reschedules and checks
 * that the target still runs the same memory (exit and exec end the dump
 * with their own errno). Each PMD entry is looked at under its lock with
 * etmem_pmd_walk_locked() (access.c). The TLBs are flushed once per dump
 * call that cleared a bit, after the walk (see etmem_flush_tlbs()).
 *
 * Resuming: the walk position and the chunk being filled live in a state
 * allocated by .start and freed by .done. A chunk whose message does not
 * fit in the current skb stays pending and goes first into the next one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hugetlb.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "etmem_internal.h"

#define SCAN_CHUNK_PAGES	8192	/* states per message: 2 KiB */
#define SCAN_BATCH_PMDS		128	/* PMD entries per mmap-lock hold */

/* Why a walk step stopped early (positive, unlike errors). */
enum { SCAN_EMIT = 1, SCAN_YIELD };

struct scan_state {
	struct list_head busy;		/* in scans_running */
	struct mm_struct *mm;		/* mmgrab() reference */
	struct pid *pid;
	pid_t nr;
	u32 flags;
	struct etmem_urange *ranges;
	unsigned int nr_ranges, cur;	/* current range */
	unsigned long addr;		/* where the walk goes on */
	bool walk_done, chunk_full, finished;
	bool cleared;			/* accessed bits cleared, TLBs not flushed */
	unsigned long last_huge;	/* last huge page reported, + 1 (0: none) */
	int error;			/* deferred rejection, see scan_defer */
	char errmsg[96];
	/* the chunk being filled */
	unsigned long chunk_addr;
	unsigned int chunk_shift, chunk_nr;
	u8 states[SCAN_CHUNK_PAGES / 4];
};

/* One lock hold's worth of walking. */
struct scan_walk {
	struct scan_state *st;
	struct vm_area_struct *vma;
	unsigned int budget;
	bool cleared;			/* some accessed bit was cleared */
};

/* Processes being scanned: a second scan of the same mm gets EBUSY. */
static LIST_HEAD(scans_running);
static DEFINE_SPINLOCK(scans_lock);

static struct scan_state *scan_state(struct netlink_callback *cb)
{
	return *(struct scan_state **)cb->ctx;
}

static struct nlattr **scan_request_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/* ---- chunks -------------------------------------------------------- */

/* Whether @n units of 1 << @shift at @addr can extend the current chunk. */
static bool chunk_fits(struct scan_state *st, unsigned long addr,
		       unsigned int shift, unsigned int n)
{
	if (!st->chunk_nr)
		return true;
	return st->chunk_shift == shift &&
	       st->chunk_addr + ((unsigned long)st->chunk_nr << shift) == addr &&
	       st->chunk_nr + n <= SCAN_CHUNK_PAGES;
}

static void chunk_open(struct scan_state *st, unsigned long addr,
		       unsigned int shift)
{
	if (st->chunk_nr)
		return;
	st->chunk_addr = addr;
	st->chunk_shift = shift;
}

static inline void chunk_set(u8 *states, unsigned int i, unsigned int state)
{
	states[i / 4] |= state << (2 * (i % 4));
}

static int chunk_emit(struct sk_buff *skb, struct netlink_callback *cb,
		      struct scan_state *st)
{
	unsigned int len = DIV_ROUND_UP(st->chunk_nr, 4);
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &etmem_genl_family, NLM_F_MULTI, ETMEM_CMD_SCAN);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, ETMEM_A_CHUNK_ADDR, st->chunk_addr, ETMEM_A_PAD) ||
	    nla_put_u8(skb, ETMEM_A_CHUNK_PAGE_SHIFT, st->chunk_shift) ||
	    nla_put_u32(skb, ETMEM_A_CHUNK_NR_PAGES, st->chunk_nr) ||
	    nla_put(skb, ETMEM_A_CHUNK_STATES, len, st->states)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	memset(st->states, 0, len);
	st->chunk_nr = 0;
	st->chunk_full = false;
	return 0;
}

/* ---- page tables ---------------------------------------------------- */

/*
 * The PTEs of [addr, end), one table, under the PMD and PTE locks (see
 * access.c). With AS_HUGE a whole 2 MiB table folds into one unit.
 */
static int scan_ptes(pte_t *pte, unsigned long addr, unsigned long end,
		     void *arg)
{
	struct scan_walk *w = arg;
	struct scan_state *st = w->st;
	unsigned int n = (end - addr) >> PAGE_SHIFT, i;
	bool as_huge = (st->flags & ETMEM_SCAN_FLAGS_AS_HUGE) &&
		       end - addr == PMD_SIZE;
	bool any_present = false, any_young = false;

	if (is_vm_hugetlb_page(w->vma))
		return 0;
	if (!chunk_fits(st, addr, as_huge ? PMD_SHIFT : PAGE_SHIFT,
			as_huge ? 1 : n)) {
		st->addr = addr;
		return SCAN_EMIT;
	}
	chunk_open(st, addr, as_huge ? PMD_SHIFT : PAGE_SHIFT);
	for (i = 0; i < n; i++, pte++) {
		pte_t val = ptep_get(pte);
		bool young;

		if (!pte_present(val))
			continue;	/* none, swapped out or migrating: absent */
		young = etmem_ptep_test_clear_young(pte, val);
		w->cleared |= young;
		any_present = true;
		any_young |= young;
		if (!as_huge)
			chunk_set(st->states, st->chunk_nr + i,
				  young ? ETMEM_PAGE_STATE_ACCESSED :
				  ETMEM_PAGE_STATE_IDLE);
	}
	if (as_huge) {
		chunk_set(st->states, st->chunk_nr,
			  any_young ? ETMEM_PAGE_STATE_ACCESSED :
			  any_present ? ETMEM_PAGE_STATE_IDLE :
			  ETMEM_PAGE_STATE_ABSENT);
		n = 1;
	}
	st->chunk_nr += n;
	return 0;
}

/*
 * A THP or hugetlb PMD: one 2 MiB unit, under the PMD lock. A huge page
 * that two requested ranges both reach is reported once, for the first.
 */
static int scan_huge(pmd_t *pmd, pmd_t val, unsigned long addr,
		     unsigned long end, void *arg)
{
	struct scan_walk *w = arg;
	struct scan_state *st = w->st;
	unsigned long haddr = addr & PMD_MASK;
	unsigned int state = ETMEM_PAGE_STATE_IDLE;

	if (st->last_huge == haddr + 1)
		return 0;
	if (!chunk_fits(st, haddr, PMD_SHIFT, 1)) {
		st->addr = addr;
		return SCAN_EMIT;
	}
	if (etmem_pmdp_test_clear_young(pmd, val)) {
		state = ETMEM_PAGE_STATE_ACCESSED;
		w->cleared = true;
	}
	chunk_open(st, haddr, PMD_SHIFT);
	chunk_set(st->states, st->chunk_nr++, state);
	st->last_huge = haddr + 1;
	return 0;
}

static const struct etmem_walk_ops scan_walk_ops = {
	.huge = scan_huge,
	.ptes = scan_ptes,
};

static int scan_pmd(pmd_t *pmd, unsigned long addr, unsigned long end, void *arg)
{
	struct scan_walk *w = arg;

	if (!w->budget--) {
		w->st->addr = addr;
		return SCAN_YIELD;
	}
	return etmem_pmd_walk_locked(w->st->mm, pmd, addr, end, &scan_walk_ops, w);
}

/*
 * MAP_ANONYMOUS | MAP_HUGETLB memory is backed by a file on the kernel's
 * internal hugetlbfs mount, made with alloc_file_pseudo(): its dentry is
 * never hashed (and is its own parent, so d_unlinked() says no). For users
 * it is anonymous memory (cslide's anon_only relies on that), so only
 * files reachable by name count as file-backed.
 */
static bool vma_is_anon_memory(const struct vm_area_struct *vma)
{
	if (!vma->vm_file)
		return true;
	return is_vm_hugetlb_page((struct vm_area_struct *)vma) &&
	       d_unhashed(vma->vm_file->f_path.dentry);
}

static bool scan_wants_vma(const struct scan_state *st,
			   struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_PFNMAP | VM_IO))
		return false;
	if ((st->flags & ETMEM_SCAN_FLAGS_ANON_ONLY) && !vma_is_anon_memory(vma))
		return false;
	if ((st->flags & ETMEM_SCAN_FLAGS_HUGETLB_ONLY) && !is_vm_hugetlb_page(vma))
		return false;
	return true;
}

/*
 * Walk on from st->addr with the mmap lock held, until the budget is spent
 * (SCAN_YIELD), the chunk must be sent (SCAN_EMIT) or all is done (0).
 */
static int scan_some(struct scan_state *st, struct scan_walk *w)
{
	struct mm_struct *mm = st->mm;
	unsigned long start, end;
	bool locked;
	int ret;

	while (st->cur < st->nr_ranges) {
		const struct etmem_urange *r = &st->ranges[st->cur];
		struct vm_area_struct *vma;

		if (!w->budget--)
			return SCAN_YIELD;
		st->addr = max(st->addr, r->start);
		vma = st->addr < r->end ? find_vma(mm, st->addr) : NULL;
		if (!vma || vma->vm_start >= r->end) {
			st->cur++;
			continue;
		}
		start = max(st->addr, vma->vm_start);
		end = min(r->end, vma->vm_end);
		if (!scan_wants_vma(st, vma)) {
			st->addr = end;
			continue;
		}
		if ((st->flags & ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY) &&
		    !etmem_marks_next(mm, start, end, &start, &end)) {
			st->addr = min(r->end, vma->vm_end);
			continue;
		}
		w->vma = vma;
		locked = etmem_hugetlb_share_lock(vma);
		ret = etmem_walk_pmds(mm, start, end, scan_pmd, w);
		etmem_hugetlb_share_unlock(vma, locked);
		if (ret)
			return ret;
		st->addr = end;
	}
	return 0;
}

/* ---- the dump ------------------------------------------------------- */

/* One batch under the mmap lock; false when the walk must stop with *err. */
static bool scan_batch(struct netlink_callback *cb, struct scan_state *st,
		       int *err)
{
	struct scan_walk w = { .st = st, .budget = SCAN_BATCH_PMDS };
	int ret;

	if (mmap_read_lock_killable(st->mm)) {
		*err = -EINTR;
		return false;
	}
	ret = scan_some(st, &w);
	st->cleared |= w.cleared;
	mmap_read_unlock(st->mm);
	if (ret == 0)
		st->walk_done = true;
	else if (ret == SCAN_EMIT)
		st->chunk_full = true;
	cond_resched();
	if (fatal_signal_pending(current)) {
		*err = -EINTR;
		return false;
	}
	*err = etmem_target_check(st->pid, st->mm, st->nr, cb->extack);
	return !*err;
}

/**
 * etmem_scan_dumpit - one round of ETMEM_CMD_SCAN's dump
 * @skb: the message buffer to fill with chunks
 * @cb: the dump, with the walk state that etmem_scan_start() set up
 *
 * Return: skb->len while there is more, 0 when the walk is done, or
 * -errno: -EOWNERDEAD (the target exited), -ESTALE (it exec'd), -EINTR.
 */
int etmem_scan_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct scan_state *st = scan_state(cb);
	int err = 0;

	if (st->finished)
		return 0;
	if (st->error) {
		if (cb->extack)
			cb->extack->_msg = st->errmsg;
		st->finished = true;
		return st->error;
	}
	err = etmem_target_check(st->pid, st->mm, st->nr, cb->extack);
	if (err)
		return err;
	if (!mmget_not_zero(st->mm)) {
		etmem_errmsg(cb->extack, "process %d exited", st->nr);
		return -EOWNERDEAD;
	}
	for (;;) {
		if (st->chunk_full || (st->walk_done && st->chunk_nr)) {
			if (chunk_emit(skb, cb, st))
				break;	/* skb full: the chunk goes first next time */
		}
		if (st->walk_done) {
			st->finished = true;
			break;
		}
		if (!scan_batch(cb, st, &err))
			break;
	}
	/*
	 * One TLB flush per dump call, after the walk and before the pages'
	 * states leave: an access from then on sets the bit again.
	 */
	if (st->cleared) {
		etmem_flush_tlbs(st->mm);
		st->cleared = false;
	}
	mmput_async(st->mm);
	if (err)
		return err;
	return skb->len;
}

/* Register @st as the one scan of its mm, or fail with EBUSY. */
static int scan_claim(struct scan_state *st, struct netlink_ext_ack *extack)
{
	struct scan_state *other;
	int ret = 0;

	spin_lock(&scans_lock);
	list_for_each_entry(other, &scans_running, busy) {
		if (other->mm == st->mm) {
			ret = -EBUSY;
			break;
		}
	}
	if (!ret)
		list_add(&st->busy, &scans_running);
	spin_unlock(&scans_lock);
	if (ret)
		etmem_errmsg(extack, "concurrent scan of pid %d", st->nr);
	return ret;
}

static int scan_start(struct netlink_callback *cb, struct netlink_ext_ack *extack)
{
	struct nlattr **attrs = scan_request_attrs(cb);
	struct etmem_target target;
	struct scan_state *st;
	u32 flags;
	int ret;

	if (!etmem_admin_capable(cb->skb, extack,
				 "scanning a process's page accesses"))
		return -EPERM;
	/* Unknown bits were refused by the policy (NLA_POLICY_MASK). */
	flags = attrs[ETMEM_A_SCAN_FLAGS] ? nla_get_u32(attrs[ETMEM_A_SCAN_FLAGS]) : 0;
	ret = etmem_target_get(attrs, extack, &target);
	if (ret)
		return ret;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		ret = -ENOMEM;
		goto put_target;
	}
	INIT_LIST_HEAD(&st->busy);
	st->flags = flags;
	st->nr = target.nr;
	ret = etmem_ranges_parse(cb->nlh, target.mm, extack, &st->ranges,
				 &st->nr_ranges);
	if (ret)
		goto free_state;
	st->mm = target.mm;
	ret = scan_claim(st, extack);
	if (ret)
		goto free_ranges;
	/* Between dump calls only the mm_struct is pinned, not the memory. */
	mmgrab(st->mm);
	st->pid = get_pid(target.pid);
	etmem_target_put(&target);
	*(struct scan_state **)cb->ctx = st;
	return 0;

free_ranges:
	kvfree(st->ranges);
free_state:
	kfree(st);
put_target:
	etmem_target_put(&target);
	return ret;
}

/*
 * Kernels before 6.2 do not hand .start an extack, so a rejection there
 * would reach the caller without its message. There the rejection is
 * deferred: .start succeeds with a state that only carries the error,
 * and the first dump call fails with it (dump calls do have an extack).
 */
static int scan_defer(struct netlink_callback *cb, int error,
		      const struct netlink_ext_ack *local)
{
	struct scan_state *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return error;
	INIT_LIST_HEAD(&st->busy);
	st->error = error;
	strscpy(st->errmsg, local->_msg ? local->_msg : "", sizeof(st->errmsg));
	*(struct scan_state **)cb->ctx = st;
	return 0;
}

/**
 * etmem_scan_start - .start of ETMEM_CMD_SCAN: check the request, pin the target
 * @cb: the dump
 *
 * Return: 0, or -errno with an extack message: -EPERM (no CAP_SYS_ADMIN),
 * -ESRCH, -EOWNERDEAD, -EINVAL (ranges), -EBUSY (a scan of that process
 * runs already), -ENOMEM. Before 6.2 the error is carried to the first
 * dump round instead (see scan_defer()).
 */
int etmem_scan_start(struct netlink_callback *cb)
{
	struct netlink_ext_ack local = {};
	int ret;

	if (cb->extack)
		return scan_start(cb, cb->extack);
	ret = scan_start(cb, &local);
	return ret ? scan_defer(cb, ret, &local) : 0;
}

/**
 * etmem_scan_done - .done of ETMEM_CMD_SCAN: release the walk state
 * @cb: the dump
 *
 * Return: 0.
 */
int etmem_scan_done(struct netlink_callback *cb)
{
	struct scan_state *st = scan_state(cb);

	if (!st)
		return 0;
	spin_lock(&scans_lock);
	list_del(&st->busy);
	spin_unlock(&scans_lock);
	if (st->mm)
		mmdrop(st->mm);
	put_pid(st->pid);
	kvfree(st->ranges);
	kfree(st);
	return 0;
}
