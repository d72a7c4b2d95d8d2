// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by every command: finding the target process, reading
 * address ranges, walking page tables down to PMD entries.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "etmem_internal.h"

/*
 * The mm of a thread group whose leader may have exited on its own
 * (pthread_exit() in main() while other threads go on): the leader's mm
 * is gone then, a live thread's is the process's memory.
 */
static struct mm_struct *thread_group_mm(struct task_struct *leader)
{
	struct task_struct *t;
	struct mm_struct *mm = NULL;

	rcu_read_lock();
	for_each_thread(leader, t) {
		mm = get_task_mm(t);
		if (mm)
			break;
	}
	rcu_read_unlock();
	return mm;
}

/**
 * etmem_target_get - resolve ETMEM_A_PID to a process with user memory
 * @attrs: parsed request attributes
 * @extack: for the reason of a rejection
 * @target: filled on success; release with etmem_target_put()
 *
 * Return: 0 or -EINVAL (missing pid; kernel thread), -ESRCH (no such
 * process), -EOWNERDEAD (the process has exited: a zombie, or every
 * thread is past releasing its memory).
 */
int etmem_target_get(struct nlattr **attrs, struct netlink_ext_ack *extack,
		     struct etmem_target *target)
{
	struct task_struct *task;

	memset(target, 0, sizeof(*target));
	if (!attrs[ETMEM_A_PID]) {
		NL_SET_ERR_MSG(extack, "missing pid (ETMEM_A_PID)");
		return -EINVAL;
	}
	target->nr = nla_get_u32(attrs[ETMEM_A_PID]);
	target->pid = find_get_pid(target->nr);
	task = target->pid ? get_pid_task(target->pid, PIDTYPE_PID) : NULL;
	if (!task) {
		etmem_errmsg(extack, "no process with pid %d", target->nr);
		put_pid(target->pid);
		return -ESRCH;
	}
	if (task->flags & PF_KTHREAD) {
		etmem_errmsg(extack, "pid %d is a kernel thread (no user memory)",
			     target->nr);
		put_task_struct(task);
		put_pid(target->pid);
		return -EINVAL;
	}
	target->mm = get_task_mm(task);
	if (!target->mm)
		target->mm = thread_group_mm(task);
	put_task_struct(task);
	if (!target->mm) {
		etmem_errmsg(extack, "process %d exited", target->nr);
		put_pid(target->pid);
		return -EOWNERDEAD;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(etmem_target_get);

/**
 * etmem_target_check - whether a target still runs the memory it had
 * @pid: the target's pid
 * @mm: the mm it was resolved to
 * @nr: its number, for the message
 * @extack: for the reason
 *
 * Return: 0 while some thread of the process still uses @mm,
 * -EOWNERDEAD once the process exited, -ESTALE once it exec'd (its
 * memory is another one now).
 */
int etmem_target_check(struct pid *pid, struct mm_struct *mm, pid_t nr,
		       struct netlink_ext_ack *extack)
{
	struct task_struct *leader, *t;
	bool exited = true, same = false;

	rcu_read_lock();
	leader = pid_task(pid, PIDTYPE_PID);
	if (leader) {
		for_each_thread(leader, t) {
			struct mm_struct *tmm = READ_ONCE(t->mm);

			if (!tmm || (t->flags & PF_EXITING))
				continue;
			exited = false;
			if (tmm == mm) {
				same = true;
				break;
			}
		}
	}
	rcu_read_unlock();
	if (same)
		return 0;
	if (exited) {
		etmem_errmsg(extack, "process %d exited", nr);
		return -EOWNERDEAD;
	}
	etmem_errmsg(extack, "process %d exec'd (its memory was replaced)", nr);
	return -ESTALE;
}
EXPORT_SYMBOL_GPL(etmem_target_check);

/**
 * etmem_target_put - release what etmem_target_get() took
 * @target: the target
 *
 * The last reference to a process's memory may be this one (the process
 * exited meanwhile): mmput_async() leaves its teardown to a worker, not
 * to the requesting thread.
 */
void etmem_target_put(struct etmem_target *target)
{
	if (target->mm)
		mmput_async(target->mm);
	put_pid(target->pid);
	target->mm = NULL;
	target->pid = NULL;
}
EXPORT_SYMBOL_GPL(etmem_target_put);

static int range_check(const struct nlattr *nest, struct mm_struct *mm,
		       struct netlink_ext_ack *extack, struct etmem_urange *r)
{
	struct nlattr *tb[ETMEM_A_RANGE_MAX + 1];
	u64 start, end;
	int ret;

	/* Already validated against the policy by the core: cannot fail. */
	ret = nla_parse_nested(tb, ETMEM_A_RANGE_MAX, nest, NULL, extack);
	if (ret)
		return ret;
	if (!tb[ETMEM_A_RANGE_START] || !tb[ETMEM_A_RANGE_END]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "a range needs a start and an end");
		return -EINVAL;
	}
	start = nla_get_u64(tb[ETMEM_A_RANGE_START]);
	end = nla_get_u64(tb[ETMEM_A_RANGE_END]);
	if (start >= end) {
		etmem_errmsg(extack, "range [0x%llx, 0x%llx) is empty or reversed",
			     start, end);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(end)) {
		etmem_errmsg(extack, "range [0x%llx, 0x%llx) is not page aligned",
			     start, end);
		return -EINVAL;
	}
	if (end > mm->task_size) {
		etmem_errmsg(extack, "range end 0x%llx is beyond the address space (0x%lx)",
			     end, mm->task_size);
		return -EINVAL;
	}
	r->start = start;
	r->end = end;
	return 0;
}

/**
 * etmem_ranges_parse - read the ETMEM_A_RANGE nests of a request
 * @nlh: the request
 * @mm: the target, for the size of its address space
 * @extack: for the reason of a rejection
 * @ranges: kvmalloc'ed array, to be kvfree'd
 * @nr: number of ranges; with none in the request, one covering it all
 *
 * Ranges must be page aligned, sorted and must not overlap.
 *
 * Return: 0, or -EINVAL / -E2BIG with an extack message, -ENOMEM.
 */
int etmem_ranges_parse(const struct nlmsghdr *nlh, struct mm_struct *mm,
		       struct netlink_ext_ack *extack,
		       struct etmem_urange **ranges, unsigned int *nr)
{
	const struct nlattr *attr;
	struct etmem_urange *arr;
	unsigned int count = 0, i = 0;
	int rem, ret;

	nlmsg_for_each_attr(attr, nlh, GENL_HDRLEN, rem)
		if (nla_type(attr) == ETMEM_A_RANGE)
			count++;
	if (count > ETMEM_MAX_RANGES) {
		etmem_errmsg(extack, "%u ranges, at most %u allowed", count,
			     ETMEM_MAX_RANGES);
		return -E2BIG;
	}
	arr = kvmalloc_array(max(count, 1U), sizeof(*arr), GFP_KERNEL);
	if (!arr)
		return -ENOMEM;
	if (!count) {
		arr[0].start = 0;
		arr[0].end = mm->task_size;
		count = 1;
		goto out;
	}
	nlmsg_for_each_attr(attr, nlh, GENL_HDRLEN, rem) {
		if (nla_type(attr) != ETMEM_A_RANGE)
			continue;
		ret = range_check(attr, mm, extack, &arr[i]);
		if (!ret && i > 0 && arr[i].start < arr[i - 1].end) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "ranges must be sorted and must not overlap");
			ret = -EINVAL;
		}
		if (ret) {
			kvfree(arr);
			return ret;
		}
		i++;
	}
out:
	*ranges = arr;
	*nr = count;
	return 0;
}
EXPORT_SYMBOL_GPL(etmem_ranges_parse);

/**
 * etmem_put_range - add one ETMEM_A_RANGE nest to a message
 * @skb: the message
 * @start: start address
 * @end: end address
 *
 * Return: 0 or -EMSGSIZE.
 */
int etmem_put_range(struct sk_buff *skb, unsigned long start, unsigned long end)
{
	struct nlattr *nest = nla_nest_start(skb, ETMEM_A_RANGE);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, ETMEM_A_RANGE_START, start, ETMEM_A_PAD) ||
	    nla_put_u64_64bit(skb, ETMEM_A_RANGE_END, end, ETMEM_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}
EXPORT_SYMBOL_GPL(etmem_put_range);

/* ---- page tables --------------------------------------------------- */

static int walk_pmd_level(pud_t *pud, unsigned long addr, unsigned long end,
			  etmem_pmd_fn fn, void *arg)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	unsigned long next;
	int ret;

	do {
		next = pmd_addr_end(addr, end);
		if (pmd_none(READ_ONCE(*pmd)))
			continue;
		ret = fn(pmd, addr, next, arg);
		if (ret)
			return ret;
	} while (pmd++, addr = next, addr != end);
	return 0;
}

static int walk_pud_level(p4d_t *p4d, unsigned long addr, unsigned long end,
			  etmem_pmd_fn fn, void *arg)
{
	pud_t *pud = pud_offset(p4d, addr);
	unsigned long next;
	int ret;

	do {
		pud_t val = READ_ONCE(*pud);

		next = pud_addr_end(addr, end);
		/* 1 GiB pages are not reported (not used by etmem's engines). */
		if (pud_none(val) || !pud_present(val) || pud_leaf(val) || pud_bad(val))
			continue;
		ret = walk_pmd_level(pud, addr, next, fn, arg);
		if (ret)
			return ret;
	} while (pud++, addr = next, addr != end);
	return 0;
}

/**
 * etmem_walk_pmds - visit the populated PMD entries of a range
 * @mm: address space, mmap lock held (read is enough)
 * @addr: start, page aligned
 * @end: end, page aligned
 * @fn: called per populated PMD entry with the sub-range it covers
 * @arg: passed to @fn
 *
 * Return: 0 when the whole range was walked, else what @fn returned.
 */
int etmem_walk_pmds(struct mm_struct *mm, unsigned long addr, unsigned long end,
		    etmem_pmd_fn fn, void *arg)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	unsigned long next, p4d_next;
	int ret;

	do {
		p4d_t *p4d;

		next = pgd_addr_end(addr, end);
		if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd)))
			continue;
		p4d = p4d_offset(pgd, addr);
		do {
			p4d_next = p4d_addr_end(addr, next);
			if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d)))
				continue;
			ret = walk_pud_level(p4d, addr, p4d_next, fn, arg);
			if (ret)
				return ret;
		} while (p4d++, addr = p4d_next, addr != next);
	} while (pgd++, addr = next, addr != end);
	return 0;
}
EXPORT_SYMBOL_GPL(etmem_walk_pmds);
