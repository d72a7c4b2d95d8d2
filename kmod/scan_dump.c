// SPDX-License-Identifier: GPL-2.0
/*
 * ETMEM_CMD_SCAN: stream the accessed/idle state of a process's pages and
 * clear the accessed bits, so that the next scan sees only new accesses.
 *
 * Locking and pacing: the mmap lock is taken for reading for at most
 * SCAN_BATCH_PMDS page-table entries (at most 256 MiB of 4 KiB pages) at a
 * time, then dropped; between batches the walk reschedules and checks
 * that the target still lives. PTE tables are never mapped here: their
 * entries are visited with etmem_apply_ptes() (which takes the
 * PTE lock), huge PMDs (THP, hugetlb) are handled under pmd_lock().
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
#define SCAN_KNOWN_FLAGS	(ETMEM_SCAN_FLAGS_AS_HUGE | ETMEM_SCAN_FLAGS_ANON_ONLY | \
				 ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY | \
				 ETMEM_SCAN_FLAGS_HUGETLB_ONLY)

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

struct pte_ctx {
	u8 *states;
	unsigned int first;		/* index of the range's first page */
	unsigned long base;		/* address of that page */
	bool summarize;			/* AS_HUGE: fold into one unit */
	bool any_present, any_young;
	bool cleared;
};

/* Called under the PTE lock for each non-empty PTE. */
static int scan_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct pte_ctx *ctx = data;
	pte_t val = ptep_get(pte);
	bool young;

	if (!pte_present(val))
		return 0;	/* swapped out or migrating: absent */
	/* Test first: clearing an already clear bit would dirty the line. */
	young = pte_young(val) &&
		test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)&pte->pte);
	ctx->cleared |= young;
	if (ctx->summarize) {
		ctx->any_present = true;
		ctx->any_young |= young;
		return 0;
	}
	chunk_set(ctx->states, ctx->first + ((addr - ctx->base) >> PAGE_SHIFT),
		  young ? ETMEM_PAGE_STATE_ACCESSED : ETMEM_PAGE_STATE_IDLE);
	return 0;
}

static int scan_ptes(struct scan_walk *w, unsigned long addr, unsigned long end)
{
	struct scan_state *st = w->st;
	unsigned int n = (end - addr) >> PAGE_SHIFT;
	bool as_huge = (st->flags & ETMEM_SCAN_FLAGS_AS_HUGE) &&
		       end - addr == PMD_SIZE;
	unsigned int shift = as_huge ? PMD_SHIFT : PAGE_SHIFT;
	struct pte_ctx ctx = {
		.states = st->states, .first = st->chunk_nr, .base = addr,
		.summarize = as_huge,
	};

	if (!chunk_fits(st, addr, shift, as_huge ? 1 : n)) {
		st->addr = addr;
		return SCAN_EMIT;
	}
	chunk_open(st, addr, shift);
	/* Errors leave pages absent: only a page table vanishing races here. */
	etmem_apply_ptes(st->mm, addr, end - addr, scan_pte, &ctx);
	w->cleared |= ctx.cleared;
	if (as_huge) {
		chunk_set(st->states, st->chunk_nr,
			  ctx.any_young ? ETMEM_PAGE_STATE_ACCESSED :
			  ctx.any_present ? ETMEM_PAGE_STATE_IDLE :
			  ETMEM_PAGE_STATE_ABSENT);
		n = 1;
	}
	st->chunk_nr += n;
	return 0;
}

/* A THP or hugetlb PMD: one 2 MiB unit, tested and cleared under its lock. */
static int scan_huge_pmd(struct scan_walk *w, pmd_t *pmd, unsigned long addr,
			 unsigned long end)
{
	struct scan_state *st = w->st;
	unsigned long haddr = addr & PMD_MASK;
	unsigned int state = ETMEM_PAGE_STATE_IDLE;
	spinlock_t *ptl;
	pmd_t val;

	if (!chunk_fits(st, haddr, PMD_SHIFT, 1)) {
		st->addr = addr;
		return SCAN_EMIT;
	}
	ptl = pmd_lock(st->mm, pmd);
	val = *pmd;
	if (!pmd_present(val) || !pmd_leaf(val)) {
		spin_unlock(ptl);
		/* Split meanwhile: its PTEs are scanned like any others. */
		if (etmem_pmd_is_table(val) && !is_vm_hugetlb_page(w->vma))
			return scan_ptes(w, addr, end);
		return 0;
	}
	if (pmd_young(val) &&
	    test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmd)) {
		state = ETMEM_PAGE_STATE_ACCESSED;
		w->cleared = true;
	}
	spin_unlock(ptl);
	chunk_open(st, haddr, PMD_SHIFT);
	chunk_set(st->states, st->chunk_nr++, state);
	return 0;
}

static int scan_pmd(pmd_t *pmd, unsigned long addr, unsigned long end, void *arg)
{
	struct scan_walk *w = arg;
	pmd_t val = READ_ONCE(*pmd);

	if (!w->budget--) {
		w->st->addr = addr;
		return SCAN_YIELD;
	}
	if (!pmd_present(val))
		return 0;	/* a migrating or swapped THP: absent */
	if (pmd_leaf(val))
		return scan_huge_pmd(w, pmd, addr, end);
	if (pmd_bad(val) || is_vm_hugetlb_page(w->vma))
		return 0;
	return scan_ptes(w, addr, end);
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
		ret = etmem_walk_pmds(mm, start, end, scan_pmd, w);
		if (ret)
			return ret;
		st->addr = end;
	}
	return 0;
}

/* ---- the dump ------------------------------------------------------- */

static bool scan_target_alive(struct scan_state *st)
{
	struct task_struct *task;
	bool alive;

	rcu_read_lock();
	task = pid_task(st->pid, PIDTYPE_PID);
	alive = task && !(task->flags & PF_EXITING);
	rcu_read_unlock();
	return alive;
}

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
	if (w.cleared)
		etmem_flush_tlbs(st->mm);
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
	if (!scan_target_alive(st)) {
		etmem_errmsg(cb->extack, "process %d exited during the scan", st->nr);
		*err = -ESRCH;
		return false;
	}
	return true;
}

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
	if (!scan_target_alive(st) || !mmget_not_zero(st->mm)) {
		etmem_errmsg(cb->extack, "process %d exited during the scan", st->nr);
		return -ESRCH;
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
	mmput(st->mm);
	if (err)
		return err;
	return skb->len;
}

static int scan_check_flags(struct nlattr **attrs, struct netlink_ext_ack *extack,
			    u32 *flags)
{
	*flags = attrs[ETMEM_A_SCAN_FLAGS] ? nla_get_u32(attrs[ETMEM_A_SCAN_FLAGS]) : 0;
	if (*flags & ~SCAN_KNOWN_FLAGS) {
		etmem_errmsg(extack, "unknown scan flags 0x%x (known: 0x%x)",
			     *flags & ~SCAN_KNOWN_FLAGS, SCAN_KNOWN_FLAGS);
		return -EINVAL;
	}
	return 0;
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

	ret = scan_check_flags(attrs, extack, &flags);
	if (ret)
		return ret;
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

int etmem_scan_start(struct netlink_callback *cb)
{
	struct netlink_ext_ack local = {};
	int ret;

	if (cb->extack)
		return scan_start(cb, cb->extack);
	ret = scan_start(cb, &local);
	return ret ? scan_defer(cb, ret, &local) : 0;
}

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
