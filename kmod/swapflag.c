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
 * Lookup: the marks are keyed by mm in a resizable hash table, so the
 * privileged scan and swap paths, which ask once per VMA step, cost one
 * RCU hash lookup however many processes hold marks; with none at all
 * they cost one atomic read.
 *
 * Limits: a process holds at most ETMEM_MAX_RANGES separate ranges; a
 * user without CAP_SYS_ADMIN may have marks in at most
 * ETMEM_MARKS_PER_USER processes at once (counted per uid of the caller
 * that created the marks, released when the process exits).
 *
 * Lifetime: each marks object is in the table, holding the one notifier
 * reference of this module; whoever takes it out (->release or module
 * exit) drops that reference. Lookups happen with an mmget() reference
 * on the mm, which keeps ->release from running meanwhile, and under RCU;
 * the object is freed by the notifier's free path after an SRCU grace
 * period, never under a reader.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/netlink.h>

#include "etmem_internal.h"

#define ETMEM_MARKS_PER_USER	1024

struct etmem_marks {
	struct mmu_notifier mn;
	struct mm_struct *key;		/* == mn.mm, the hash key */
	struct rhash_head node;		/* in marks_table while listed */
	bool listed;
	kuid_t uid;			/* counted against this user */
	struct mutex lock;		/* protects nr and ranges */
	unsigned int nr;
	struct etmem_urange *ranges;	/* sorted, disjoint, not adjacent */
	struct rcu_head rcu;		/* table readers may still see it */
};

static const struct rhashtable_params marks_params = {
	.key_len	= sizeof(struct mm_struct *),
	.key_offset	= offsetof(struct etmem_marks, key),
	.head_offset	= offsetof(struct etmem_marks, node),
	.automatic_shrinking = true,
};

static struct rhashtable marks_table;
static DEFINE_SPINLOCK(marks_lock);	/* listing and unlisting */
static atomic_t nr_listed = ATOMIC_INIT(0);
static DEFINE_XARRAY(per_user);		/* uid -> xa_mk_value(processes) */

static struct mmu_notifier *marks_alloc(struct mm_struct *mm)
{
	struct etmem_marks *m = kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return ERR_PTR(-ENOMEM);
	mutex_init(&m->lock);
	m->key = mm;
	return &m->mn;
}

/*
 * The notifier's free path, after an SRCU grace period. Lookups of other
 * mms may still be walking the hash bucket that held @m (under plain
 * RCU, which SRCU does not wait for): the object itself goes after an
 * RCU grace period. Its ranges are only read with an mmget() reference
 * on its own mm, which is gone by now.
 */
static void marks_free(struct mmu_notifier *mn)
{
	struct etmem_marks *m = container_of(mn, struct etmem_marks, mn);

	kvfree(m->ranges);
	m->ranges = NULL;
	kfree_rcu(m, rcu);
}

/* Add @delta to @uid's count; marks_lock held. */
static int user_count_add(kuid_t uid, int delta)
{
	unsigned long n = xa_to_value(xa_load(&per_user, __kuid_val(uid)) ?: xa_mk_value(0));

	n += delta;
	if (!n) {
		xa_erase(&per_user, __kuid_val(uid));
		return 0;
	}
	return xa_err(xa_store(&per_user, __kuid_val(uid), xa_mk_value(n), GFP_ATOMIC));
}

/* Take @m out of the table; true if the caller must drop the reference. */
static bool marks_unlist(struct etmem_marks *m)
{
	bool was_listed;

	spin_lock(&marks_lock);
	was_listed = m->listed;
	if (was_listed) {
		rhashtable_remove_fast(&marks_table, &m->node, marks_params);
		m->listed = false;
		atomic_dec(&nr_listed);
		user_count_add(m->uid, -1);
	}
	spin_unlock(&marks_lock);
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
	struct etmem_marks *m;

	if (!atomic_read(&nr_listed))
		return NULL;
	rcu_read_lock();
	m = rhashtable_lookup(&marks_table, &mm, marks_params);
	rcu_read_unlock();
	return m;
}

static struct etmem_marks *marks_lookup_or_create(struct mm_struct *mm,
						  bool privileged,
						  struct netlink_ext_ack *extack)
{
	struct etmem_marks *m = marks_lookup(mm);
	struct mmu_notifier *mn;
	kuid_t uid = current_uid();
	unsigned long n;
	int ret = 0;

	if (m)
		return m;
	mn = mmu_notifier_get(&marks_ops, mm);
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	m = container_of(mn, struct etmem_marks, mn);
	spin_lock(&marks_lock);
	if (m->listed) {
		/* A concurrent request listed it first: keep one reference. */
		spin_unlock(&marks_lock);
		mmu_notifier_put(mn);
		return m;
	}
	n = xa_to_value(xa_load(&per_user, __kuid_val(uid)) ?: xa_mk_value(0));
	if (!privileged && n >= ETMEM_MARKS_PER_USER) {
		etmem_errmsg(extack,
			     "uid %u marks %lu processes already (at most %d without CAP_SYS_ADMIN)",
			     from_kuid(&init_user_ns, uid), n, ETMEM_MARKS_PER_USER);
		ret = -EDQUOT;
	}
	if (!ret)
		ret = user_count_add(uid, 1);
	if (!ret) {
		ret = rhashtable_insert_fast(&marks_table, &m->node, marks_params);
		if (ret)
			user_count_add(uid, -1);
	}
	if (!ret) {
		m->uid = uid;
		m->listed = true;
		atomic_inc(&nr_listed);
	}
	spin_unlock(&marks_lock);
	if (ret) {
		mmu_notifier_put(mn);
		return ERR_PTR(ret);
	}
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

/**
 * etmem_marks_nr_procs - how many processes have swap-flag marks
 *
 * Return: the count (for ETMEM_CMD_STATUS).
 */
u32 etmem_marks_nr_procs(void)
{
	return atomic_read(&nr_listed);
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

/**
 * etmem_cmd_swapflag_set - ETMEM_CMD_SWAPFLAG_SET: mark or unmark ranges
 * @skb: the request
 * @info: its attributes and extack
 *
 * Return: 0, or -errno with an extack message: -EPERM (another process
 * without CAP_SYS_ADMIN), -ESRCH, -EOWNERDEAD, -EINVAL, -ENOSPC (too many
 * separate ranges), -EDQUOT (too many marked processes for the user).
 */
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
	m = mark ? marks_lookup_or_create(target.mm, netlink_capable(skb, CAP_SYS_ADMIN),
					  info->extack) :
		   marks_lookup(target.mm);
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

/**
 * etmem_cmd_swapflag_get - ETMEM_CMD_SWAPFLAG_GET: the marked ranges
 * @skb: the request
 * @info: its attributes and extack
 *
 * Return: 0 once the reply is sent, or -errno as for swapflag-set.
 */
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

/**
 * etmem_marks_init - set up the table of marks
 *
 * Return: 0 or -ENOMEM.
 */
int etmem_marks_init(void)
{
	return rhashtable_init(&marks_table, &marks_params);
}

/**
 * etmem_marks_exit - drop every process's marks (module exit or failed init)
 */
void etmem_marks_exit(void)
{
	struct rhashtable_iter iter;
	struct etmem_marks *m;

	for (;;) {
		bool put = false;

		rhashtable_walk_enter(&marks_table, &iter);
		rhashtable_walk_start(&iter);
		do {
			m = rhashtable_walk_next(&iter);
		} while (IS_ERR(m) && PTR_ERR(m) == -EAGAIN);
		/*
		 * Unlisted inside the RCU section: a process exiting right now
		 * unlists it in ->release otherwise, and @m may then be freed
		 * as soon as the section ends. Whoever unlists it owns the
		 * reference; the object lives until that reference is put.
		 */
		if (!IS_ERR_OR_NULL(m))
			put = marks_unlist(m);
		rhashtable_walk_stop(&iter);
		rhashtable_walk_exit(&iter);
		if (IS_ERR_OR_NULL(m))
			break;
		if (put)
			mmu_notifier_put(&m->mn);
	}
	/* Wait for the notifiers' frees, which run our marks_free(). */
	mmu_notifier_synchronize();
	rcu_barrier();	/* and for the kfree_rcu() they queued */
	rhashtable_destroy(&marks_table);
	xa_destroy(&per_user);
}
