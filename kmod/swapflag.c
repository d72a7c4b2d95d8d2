// SPDX-License-Identifier: GPL-2.0
/*
 * Swap flags: the stock-kernel stand-in for openEuler's
 * madvise(MADV_SWAPFLAG). A process marks ranges of its memory as
 * swappable; scans and swap requests with the swap-flag filter then only
 * look at marked ranges.
 *
 * The marks of a process hang off its mm through an mmu_notifier taken
 * with mmu_notifier_get(): when the mm is torn down, ->release drops them,
 * so marks never outlive the process (and never leak onto a new process
 * that reuses the mm_struct's memory). Marks are kept per address, as a
 * sorted list of disjoint ranges; unmapping memory does not unmark it.
 *
 * Lifetime: each marks object is on all_marks, holding the one notifier
 * reference of this module; whoever takes it off the list (->release or
 * module exit) drops that reference. Lookups happen with an mmget()
 * reference on the mm, which keeps ->release from running meanwhile.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/sched.h>
#include <net/netlink.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "etmem_internal.h"

struct etmem_marks {
	struct mmu_notifier mn;
	struct list_head node;		/* on all_marks while listed */
	bool listed;
	struct mutex lock;		/* protects nr and ranges */
	unsigned int nr;
	struct etmem_urange *ranges;	/* sorted, disjoint, not adjacent */
};

static LIST_HEAD(all_marks);
static DEFINE_SPINLOCK(all_marks_lock);

static struct mmu_notifier *marks_alloc(struct mm_struct *mm)
{
	struct etmem_marks *m = kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return ERR_PTR(-ENOMEM);
	mutex_init(&m->lock);
	INIT_LIST_HEAD(&m->node);
	return &m->mn;
}

static void marks_free(struct mmu_notifier *mn)
{
	struct etmem_marks *m = container_of(mn, struct etmem_marks, mn);

	kvfree(m->ranges);
	kfree(m);
}

/* Take @m off all_marks; true if the caller must drop the reference. */
static bool marks_unlist(struct etmem_marks *m)
{
	bool was_listed;

	spin_lock(&all_marks_lock);
	was_listed = m->listed;
	if (was_listed) {
		list_del_init(&m->node);
		m->listed = false;
	}
	spin_unlock(&all_marks_lock);
	return was_listed;
}

static void marks_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct etmem_marks *m = container_of(mn, struct etmem_marks, mn);

	mutex_lock(&m->lock);
	m->nr = 0;
	mutex_unlock(&m->lock);
	if (marks_unlist(m))
		mmu_notifier_put(mn);
}

static const struct mmu_notifier_ops marks_ops = {
	.release	= marks_release,
	.alloc_notifier	= marks_alloc,
	.free_notifier	= marks_free,
};

/* The marks of @mm, or NULL; the caller holds an mmget() reference. */
static struct etmem_marks *marks_lookup(struct mm_struct *mm)
{
	struct etmem_marks *m, *found = NULL;

	spin_lock(&all_marks_lock);
	list_for_each_entry(m, &all_marks, node) {
		if (m->mn.mm == mm) {
			found = m;
			break;
		}
	}
	spin_unlock(&all_marks_lock);
	return found;
}

static struct etmem_marks *marks_lookup_or_create(struct mm_struct *mm)
{
	struct mmu_notifier *mn;
	struct etmem_marks *m = marks_lookup(mm);

	if (m)
		return m;
	mn = mmu_notifier_get(&marks_ops, mm);
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	m = container_of(mn, struct etmem_marks, mn);
	spin_lock(&all_marks_lock);
	if (m->listed) {
		/* A concurrent request listed it first: keep one reference. */
		spin_unlock(&all_marks_lock);
		mmu_notifier_put(mn);
		return m;
	}
	list_add(&m->node, &all_marks);
	m->listed = true;
	spin_unlock(&all_marks_lock);
	return m;
}

/* Replace the ranges of @m by @src with [s, e) marked or unmarked. */
static int marks_update(struct etmem_marks *m, unsigned long s,
			unsigned long e, bool mark)
{
	struct etmem_urange *out;
	unsigned int i, n = 0;

	out = kvmalloc_array(m->nr + 2, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < m->nr; i++) {
		struct etmem_urange r = m->ranges[i];

		if (r.end < s || r.start > e || (!mark && (r.end == s || r.start == e))) {
			out[n++] = r;	/* untouched */
			continue;
		}
		if (mark) {		/* overlapping or adjacent: absorb */
			s = min(s, r.start);
			e = max(e, r.end);
			continue;
		}
		if (r.start < s)
			out[n++] = (struct etmem_urange){ r.start, s };
		if (r.end > e)
			out[n++] = (struct etmem_urange){ e, r.end };
	}
	if (mark) {
		/* Insert [s, e) in order. */
		for (i = n; i > 0 && out[i - 1].start > s; i--)
			out[i] = out[i - 1];
		out[i] = (struct etmem_urange){ s, e };
		n++;
	}
	if (n > ETMEM_MAX_RANGES) {
		kvfree(out);
		return -ENOSPC;
	}
	kvfree(m->ranges);
	m->ranges = out;
	m->nr = n;
	return 0;
}

/**
 * etmem_marks_next - the next marked part of a range
 * @mm: the address space (mmget() or mmap lock held)
 * @addr: start of the range
 * @end: end of the range
 * @mstart: start of the marked part found
 * @mend: end of the marked part found
 *
 * Return: true when part of [addr, end) is marked.
 */
bool etmem_marks_next(struct mm_struct *mm, unsigned long addr,
		      unsigned long end, unsigned long *mstart,
		      unsigned long *mend)
{
	struct etmem_marks *m = marks_lookup(mm);
	bool found = false;
	unsigned int i;

	if (!m)
		return false;
	mutex_lock(&m->lock);
	for (i = 0; i < m->nr; i++) {
		if (m->ranges[i].end <= addr)
			continue;
		if (m->ranges[i].start < end) {
			*mstart = max(addr, m->ranges[i].start);
			*mend = min(end, m->ranges[i].end);
			found = true;
		}
		break;
	}
	mutex_unlock(&m->lock);
	return found;
}
EXPORT_SYMBOL_GPL(etmem_marks_next);

/* How many processes have marks (for ETMEM_CMD_STATUS). */
u32 etmem_marks_nr_procs(void)
{
	struct etmem_marks *m;
	u32 n = 0;

	spin_lock(&all_marks_lock);
	list_for_each_entry(m, &all_marks, node)
		n++;
	spin_unlock(&all_marks_lock);
	return n;
}

/*
 * Own memory needs no privilege; another process's needs CAP_SYS_ADMIN.
 * An unprivileged request for any pid but the caller's own is refused
 * before the pid is looked up, so the answer is the same whether or not
 * that pid exists (no way to probe for processes one cannot see).
 */
static int swapflag_target(struct sk_buff *skb, struct genl_info *info,
			   struct etmem_target *target)
{
	int ret;

	memset(target, 0, sizeof(*target));
	if (!info->attrs[ETMEM_A_PID]) {
		NL_SET_ERR_MSG(info->extack, "missing pid (ETMEM_A_PID)");
		return -EINVAL;
	}
	if (!netlink_capable(skb, CAP_SYS_ADMIN) &&
	    nla_get_u32(info->attrs[ETMEM_A_PID]) != task_tgid_vnr(current)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ETMEM_A_PID],
				    "not your process: swap flags of another process need CAP_SYS_ADMIN");
		return -EPERM;
	}
	ret = etmem_target_get(info->attrs, info->extack, target);
	if (ret)
		return ret;
	if (target->mm != current->mm && !netlink_capable(skb, CAP_SYS_ADMIN)) {
		/* Own pid, other memory: a vfork child or an exec race. */
		NL_SET_ERR_MSG(info->extack,
			       "not your process: swap flags of another process need CAP_SYS_ADMIN");
		etmem_target_put(target);
		return -EPERM;
	}
	return 0;
}

int etmem_cmd_swapflag_set(struct sk_buff *skb, struct genl_info *info)
{
	struct etmem_target target;
	struct etmem_urange *ranges;
	struct etmem_marks *m;
	unsigned int nr, i;
	bool mark;
	int ret;

	if (!info->attrs[ETMEM_A_SWAPFLAG_MARK]) {
		NL_SET_ERR_MSG(info->extack, "missing ETMEM_A_SWAPFLAG_MARK (1 mark, 0 unmark)");
		return -EINVAL;
	}
	mark = nla_get_u8(info->attrs[ETMEM_A_SWAPFLAG_MARK]);
	ret = swapflag_target(skb, info, &target);
	if (ret)
		return ret;
	ret = etmem_ranges_parse(info->nlhdr, target.mm, info->extack, &ranges, &nr);
	if (ret)
		goto put_target;
	m = mark ? marks_lookup_or_create(target.mm) : marks_lookup(target.mm);
	if (IS_ERR_OR_NULL(m)) {
		ret = PTR_ERR_OR_ZERO(m);	/* unmarking nothing is fine */
		goto free_ranges;
	}
	mutex_lock(&m->lock);
	for (i = 0; i < nr && !ret; i++)
		ret = marks_update(m, ranges[i].start, ranges[i].end, mark);
	mutex_unlock(&m->lock);
	if (ret == -ENOSPC)
		etmem_errmsg(info->extack, "more than %u separate marked ranges in pid %d",
			     ETMEM_MAX_RANGES, target.nr);
free_ranges:
	kvfree(ranges);
put_target:
	etmem_target_put(&target);
	return ret;
}

static int swapflag_put_marks(struct sk_buff *reply, struct etmem_marks *m)
{
	unsigned int i;
	int ret = 0;

	if (!m)
		return 0;
	mutex_lock(&m->lock);
	for (i = 0; i < m->nr && !ret; i++)
		ret = etmem_put_range(reply, m->ranges[i].start, m->ranges[i].end);
	mutex_unlock(&m->lock);
	return ret;
}

int etmem_cmd_swapflag_get(struct sk_buff *skb, struct genl_info *info)
{
	struct etmem_target target;
	struct sk_buff *reply;
	void *hdr;
	int ret;

	ret = swapflag_target(skb, info, &target);
	if (ret)
		return ret;
	/* A nest of two u64 is 28 bytes; at most ETMEM_MAX_RANGES of them. */
	reply = genlmsg_new(ETMEM_MAX_RANGES * 32 + 64, GFP_KERNEL);
	if (!reply) {
		ret = -ENOMEM;
		goto put_target;
	}
	hdr = genlmsg_put_reply(reply, info, &etmem_genl_family, 0,
				ETMEM_CMD_SWAPFLAG_GET);
	if (!hdr || nla_put_u32(reply, ETMEM_A_PID, target.nr) ||
	    swapflag_put_marks(reply, marks_lookup(target.mm))) {
		nlmsg_free(reply);
		ret = -EMSGSIZE;
		goto put_target;
	}
	genlmsg_end(reply, hdr);
	ret = genlmsg_reply(reply, info);
put_target:
	etmem_target_put(&target);
	return ret;
}

/* Module exit, after the family is gone: drop every mm's marks. */
void etmem_marks_exit(void)
{
	struct etmem_marks *m;

	for (;;) {
		spin_lock(&all_marks_lock);
		m = list_first_entry_or_null(&all_marks, struct etmem_marks, node);
		if (m) {
			list_del_init(&m->node);
			m->listed = false;
		}
		spin_unlock(&all_marks_lock);
		if (!m)
			break;
		mmu_notifier_put(&m->mn);
	}
	/* Wait for the notifiers' frees, which run our marks_free(). */
	mmu_notifier_synchronize();
}
