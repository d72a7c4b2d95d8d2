// SPDX-License-Identifier: GPL-2.0
/*
 * etmem_scan.ko: owns the generic netlink family "etmem".
 *
 * All commands of the UAPI header are registered here, so that the family
 * looks the same whether or not etmem_swap.ko is loaded; the commands that
 * etmem_swap implements are forwarded to the handlers it attaches, and fail
 * with EOPNOTSUPP while it is not loaded.
 *
 * Every policy is strict (resv_start_op is 0): unknown attributes, wrong
 * types and flat nests are rejected by the netlink core with an extack
 * message. Every command needs CAP_NET_ADMIN (GENL_ADMIN_PERM) except the
 * swap-flag commands: a process may mark its own memory without privilege,
 * and those handlers check CAP_SYS_ADMIN themselves for another process.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/threads.h>

#include "etmem_internal.h"

/* ---- extack messages with arguments ------------------------------- */

#ifndef NL_SET_ERR_MSG_FMT
/*
 * 6.1 has no buffer in struct netlink_ext_ack: the text must outlive the
 * handler until netlink_ack() copies it, which happens right after the
 * handler returns, in the same task (for a dump, in the same
 * netlink_dump() call). So each requesting task gets a buffer of its own:
 * a task's next message reuses its buffer (its previous request was
 * answered by then), and a new task takes the buffer used longest ago.
 * Two requests share a buffer only if ETMEM_ERRMSG_TASKS other tasks set
 * messages between one handler's return and its ack, a few microseconds.
 */
#define ETMEM_ERRMSG_TASKS	256
#define ETMEM_ERRMSG_LEN	128

struct errmsg_slot {
	const struct task_struct *task;	/* compared, never dereferenced */
	u64 used;			/* errmsg_clock when last written */
	char text[ETMEM_ERRMSG_LEN];
};

static struct errmsg_slot errmsg_slots[ETMEM_ERRMSG_TASKS];
static u64 errmsg_clock;
static DEFINE_SPINLOCK(errmsg_lock);

/* The slot of the current task, or the one used longest ago. */
static struct errmsg_slot *errmsg_slot(void)
{
	struct errmsg_slot *s, *oldest = &errmsg_slots[0];

	for (s = errmsg_slots; s < errmsg_slots + ETMEM_ERRMSG_TASKS; s++) {
		if (s->task == current)
			return s;
		if (s->used < oldest->used)
			oldest = s;
	}
	oldest->task = current;
	return oldest;
}
#endif

/**
 * etmem_errmsg - set a formatted extended-ack message
 * @extack: the request's extack, may be NULL
 * @fmt: printf format
 *
 * 6.1 lacks NL_SET_ERR_MSG_FMT (and the buffer it prints into): there the
 * text goes to a buffer of the requesting task's own (see errmsg_slot()).
 */
void etmem_errmsg(struct netlink_ext_ack *extack, const char *fmt, ...)
{
	va_list ap;
#ifdef NL_SET_ERR_MSG_FMT
	if (!extack)
		return;
	va_start(ap, fmt);
	vscnprintf(extack->_msg_buf, sizeof(extack->_msg_buf), fmt, ap);
	va_end(ap);
	extack->_msg = extack->_msg_buf;
#else
	struct errmsg_slot *slot;

	if (!extack)
		return;
	spin_lock(&errmsg_lock);
	slot = errmsg_slot();
	slot->used = ++errmsg_clock;
	va_start(ap, fmt);
	vscnprintf(slot->text, sizeof(slot->text), fmt, ap);
	va_end(ap);
	spin_unlock(&errmsg_lock);
	extack->_msg = slot->text;
#endif
}
EXPORT_SYMBOL_GPL(etmem_errmsg);

/**
 * etmem_admin_capable - whether a request may act on other processes' memory
 * @skb: the request
 * @extack: for the reason of a refusal
 * @what: what was asked, for the message
 *
 * GENL_ADMIN_PERM only asks for CAP_NET_ADMIN, which network daemons and
 * containers commonly hold. Reading another process's page-level access
 * pattern, clearing its accessed bits and paging its memory out is power
 * over that process's memory, for which the kernel asks CAP_SYS_ADMIN
 * elsewhere (/proc/kpageflags, page_idle). netlink_capable() checks the
 * sender and the opener of the socket in the initial user namespace.
 *
 * Return: true if allowed.
 */
bool etmem_admin_capable(const struct sk_buff *skb,
			 struct netlink_ext_ack *extack, const char *what)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return true;
	etmem_errmsg(extack, "%s needs CAP_SYS_ADMIN", what);
	return false;
}
EXPORT_SYMBOL_GPL(etmem_admin_capable);

/* ---- etmem_swap's operations --------------------------------------- */

/*
 * The registered operations; written under swap_ops_lock, read under RCU.
 * A forwarded call pins the owner with try_module_get() under RCU, so the
 * operations stay valid for the call after the read section ends: the
 * owner's exit (which unregisters) cannot start while it is pinned.
 */
static const struct etmem_swap_operations __rcu *swap_ops;
static DEFINE_MUTEX(swap_ops_lock);

/**
 * etmem_register_swap_ops - add etmem_swap's commands to the family
 * @ops: the operations; must stay valid until unregistered
 *
 * Return: 0, or -EBUSY when operations are registered already.
 */
int etmem_register_swap_ops(const struct etmem_swap_operations *ops)
{
	int ret = 0;

	mutex_lock(&swap_ops_lock);
	if (rcu_access_pointer(swap_ops))
		ret = -EBUSY;
	else
		rcu_assign_pointer(swap_ops, ops);
	mutex_unlock(&swap_ops_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(etmem_register_swap_ops);

/**
 * etmem_unregister_swap_ops - remove etmem_swap's commands
 * @ops: what etmem_register_swap_ops() registered
 *
 * Called from the owner's exit, when no call can hold a reference on it
 * any more; new calls fail with EOPNOTSUPP from here on.
 */
void etmem_unregister_swap_ops(const struct etmem_swap_operations *ops)
{
	mutex_lock(&swap_ops_lock);
	if (rcu_access_pointer(swap_ops) == ops)
		RCU_INIT_POINTER(swap_ops, NULL);
	mutex_unlock(&swap_ops_lock);
	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(etmem_unregister_swap_ops);

/* The registered operations with their owner pinned, or NULL. */
static const struct etmem_swap_operations *swap_ops_get(void)
{
	const struct etmem_swap_operations *ops;

	rcu_read_lock();
	ops = rcu_dereference(swap_ops);
	if (ops && !try_module_get(ops->owner))
		ops = NULL;
	rcu_read_unlock();
	return ops;
}

static int etmem_swap_forward(struct sk_buff *skb, struct genl_info *info)
{
	const struct etmem_swap_operations *ops = swap_ops_get();
	int ret;

	if (!ops) {
		NL_SET_ERR_MSG(info->extack, "etmem_swap module is not loaded");
		return -EOPNOTSUPP;
	}
	switch (info->genlhdr->cmd) {
	case ETMEM_CMD_SWAP:
		ret = ops->swap_check(skb, info);
		break;
	case ETMEM_CMD_SWAPCACHE_SET:
		ret = ops->swapcache_set(skb, info);
		break;
	case ETMEM_CMD_SWAPCACHE_GET:
		ret = ops->swapcache_get(skb, info);
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	module_put(ops->owner);
	return ret;
}

static int etmem_cmd_status(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	u64 tables_read, tables_skipped, tables_hot_skipped;
	void *hdr;
	bool loaded;

	etmem_scan_table_counts(&tables_read, &tables_skipped, &tables_hot_skipped);
	rcu_read_lock();
	loaded = !!rcu_access_pointer(swap_ops);
	rcu_read_unlock();

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &etmem_genl_family, 0,
				ETMEM_CMD_STATUS);
	if (!hdr || nla_put_u8(reply, ETMEM_A_SWAP_MODULE_LOADED, loaded) ||
	    nla_put_u32(reply, ETMEM_A_SWAPFLAG_NR_PROCS, etmem_marks_nr_procs()) ||
	    nla_put_u64_64bit(reply, ETMEM_A_TLB_FLUSH_ROUNDS, etmem_flush_rounds(),
			      ETMEM_A_PAD) ||
	    nla_put_u64_64bit(reply, ETMEM_A_SCAN_TABLES_READ, tables_read,
			      ETMEM_A_PAD) ||
	    nla_put_u64_64bit(reply, ETMEM_A_SCAN_TABLES_SKIPPED, tables_skipped,
			      ETMEM_A_PAD) ||
	    nla_put_u64_64bit(reply, ETMEM_A_SCAN_TABLES_HOT_SKIPPED,
			      tables_hot_skipped, ETMEM_A_PAD)) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/* ---- policies ------------------------------------------------------ */

/* Pids as the kernel numbers them: 1..PID_MAX_LIMIT. */
/* Not const: 6.1's struct nla_policy takes a plain pointer. */
static struct netlink_range_validation etmem_pid_range __ro_after_init = {
	.min = 1, .max = PID_MAX_LIMIT,
};

#define ETMEM_PID_POLICY	NLA_POLICY_FULL_RANGE(NLA_U32, &etmem_pid_range)

static const struct nla_policy etmem_range_policy[ETMEM_A_RANGE_MAX + 1] = {
	[ETMEM_A_RANGE_START]	= { .type = NLA_U64 },
	[ETMEM_A_RANGE_END]	= { .type = NLA_U64 },
};

static const struct nla_policy etmem_scan_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= ETMEM_PID_POLICY,
	[ETMEM_A_RANGE]		= NLA_POLICY_NESTED(etmem_range_policy),
	[ETMEM_A_SCAN_FLAGS]	= NLA_POLICY_MASK(NLA_U32, ETMEM_SCAN_FLAGS_MASK),
	[ETMEM_A_SCAN_MIN_IDLE_AGE] = NLA_POLICY_RANGE(NLA_U8, 1, ETMEM_IDLE_AGE_MAX),
};

static const struct nla_policy etmem_swapflag_set_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= ETMEM_PID_POLICY,
	[ETMEM_A_RANGE]		= NLA_POLICY_NESTED(etmem_range_policy),
	[ETMEM_A_SWAPFLAG_MARK]	= NLA_POLICY_MAX(NLA_U8, 1),
};

static const struct nla_policy etmem_pid_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= ETMEM_PID_POLICY,
};

static const struct nla_policy etmem_swap_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= ETMEM_PID_POLICY,
	[ETMEM_A_RANGE]		= NLA_POLICY_NESTED(etmem_range_policy),
	[ETMEM_A_SWAP_FLAGS]	= NLA_POLICY_MASK(NLA_U32, ETMEM_SWAP_FLAGS_MASK),
	[ETMEM_A_SWAP_RESUME_ADDR] = { .type = NLA_U64 },
};

static const struct nla_policy etmem_swapcache_set_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_SWAPCACHE_LOW]		= NLA_POLICY_RANGE(NLA_U32, 1, 100),
	[ETMEM_A_SWAPCACHE_HIGH]	= NLA_POLICY_RANGE(NLA_U32, 1, 100),
	[ETMEM_A_SWAPCACHE_RECLAIM]	= NLA_POLICY_MAX(NLA_U8, 1),
};

/* Commands without attributes: a policy that accepts none. */
static const struct nla_policy etmem_empty_policy[ETMEM_A_MAX + 1] = {};

#define ETMEM_DOIT(_cmd, _doit, _policy, _flags) {		\
	.cmd = (_cmd), .doit = (_doit), .policy = (_policy),	\
	.maxattr = ETMEM_A_MAX, .flags = (_flags) }

static const struct genl_ops etmem_genl_ops[] = {
	{
		.cmd	= ETMEM_CMD_SCAN,
		.start	= etmem_scan_start,
		.dumpit	= etmem_scan_dumpit,
		.done	= etmem_scan_done,
		.policy	= etmem_scan_policy,
		.maxattr = ETMEM_A_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	ETMEM_DOIT(ETMEM_CMD_SWAPFLAG_SET, etmem_cmd_swapflag_set,
		   etmem_swapflag_set_policy, 0),
	ETMEM_DOIT(ETMEM_CMD_SWAPFLAG_GET, etmem_cmd_swapflag_get,
		   etmem_pid_policy, 0),
	ETMEM_DOIT(ETMEM_CMD_SWAP, etmem_swap_forward, etmem_swap_policy,
		   GENL_ADMIN_PERM),
	ETMEM_DOIT(ETMEM_CMD_SWAPCACHE_SET, etmem_swap_forward,
		   etmem_swapcache_set_policy, GENL_ADMIN_PERM),
	ETMEM_DOIT(ETMEM_CMD_SWAPCACHE_GET, etmem_swap_forward,
		   etmem_empty_policy, GENL_ADMIN_PERM),
	ETMEM_DOIT(ETMEM_CMD_STATUS, etmem_cmd_status, etmem_empty_policy,
		   GENL_ADMIN_PERM),
};

enum etmem_mcgrp { ETMEM_MCGRP_SWAPCACHE_IDX };

static const struct genl_multicast_group etmem_mcgrps[] = {
	[ETMEM_MCGRP_SWAPCACHE_IDX] = { .name = ETMEM_MCGRP_SWAPCACHE },
};

struct genl_family etmem_genl_family = {
	.name		= ETMEM_FAMILY_NAME,
	.version	= ETMEM_FAMILY_VERSION,
	.maxattr	= ETMEM_A_MAX,
	/*
	 * Every network namespace: a service in its own (a container) may
	 * mark its own memory. What needs privilege is checked against the
	 * initial user namespace (netlink_capable()); swapcache events go to
	 * listeners in the initial network namespace only.
	 */
	.netnsok	= true,
	/* Scans of different processes run side by side; state is ours. */
	.parallel_ops	= true,
	.ops		= etmem_genl_ops,
	.n_ops		= ARRAY_SIZE(etmem_genl_ops),
	.mcgrps		= etmem_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(etmem_mcgrps),
	.module		= THIS_MODULE,
};
EXPORT_SYMBOL_GPL(etmem_genl_family);

/**
 * etmem_event_has_listeners - whether anybody joined the swapcache group
 *
 * Return: true if somebody in the initial network namespace listens.
 */
bool etmem_event_has_listeners(void)
{
	return genl_has_listeners(&etmem_genl_family, &init_net,
				  ETMEM_MCGRP_SWAPCACHE_IDX);
}
EXPORT_SYMBOL_GPL(etmem_event_has_listeners);

/**
 * etmem_event_send - multicast a finished event message
 * @skb: the message, consumed
 *
 * Return: 0, or -errno (-ESRCH only means that nobody listened).
 */
int etmem_event_send(struct sk_buff *skb)
{
	return genlmsg_multicast(&etmem_genl_family, skb, 0,
				 ETMEM_MCGRP_SWAPCACHE_IDX, GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(etmem_event_send);

static int __init etmem_scan_init(void)
{
	int ret = etmem_marks_init();

	if (ret)
		return ret;
	ret = etmem_history_init();
	if (ret) {
		etmem_marks_exit();
		return ret;
	}
	ret = genl_register_family(&etmem_genl_family);
	if (ret) {
		pr_err("cannot register the generic netlink family: %d\n", ret);
		etmem_history_exit();
		etmem_marks_exit();
	}
	return ret;
}

static void __exit etmem_scan_exit(void)
{
	genl_unregister_family(&etmem_genl_family);
	etmem_scan_dump_exit();
	etmem_history_exit();
	etmem_marks_exit();
}

module_init(etmem_scan_init);
module_exit(etmem_scan_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(ETMEM_VERSION);
MODULE_DESCRIPTION("etmem: page-access scanning and swap flags over generic netlink");
MODULE_ALIAS_GENL_FAMILY(ETMEM_FAMILY_NAME);
