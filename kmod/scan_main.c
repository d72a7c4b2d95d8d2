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
#include <linux/rwsem.h>
#include <linux/spinlock.h>

#include "etmem_internal.h"

/* ---- extack messages with arguments ------------------------------- */

#ifndef NL_SET_ERR_MSG_FMT
#define ETMEM_ERRMSG_SLOTS	64
#define ETMEM_ERRMSG_LEN	96
static char errmsg_ring[ETMEM_ERRMSG_SLOTS][ETMEM_ERRMSG_LEN];
static unsigned int errmsg_next;
static DEFINE_SPINLOCK(errmsg_lock);
#endif

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
	char *slot;

	if (!extack)
		return;
	spin_lock(&errmsg_lock);
	slot = errmsg_ring[errmsg_next++ % ETMEM_ERRMSG_SLOTS];
	va_start(ap, fmt);
	vscnprintf(slot, ETMEM_ERRMSG_LEN, fmt, ap);
	va_end(ap);
	spin_unlock(&errmsg_lock);
	extack->_msg = slot;
#endif
}
EXPORT_SYMBOL_GPL(etmem_errmsg);

/* ---- etmem_swap's handlers ----------------------------------------- */

/*
 * Readers are running handlers; detach takes it for writing, so it returns
 * only once no etmem_swap code runs any more.
 */
static DECLARE_RWSEM(swap_ops_rwsem);
static const struct etmem_swap_ops *swap_ops;

/**
 * etmem_swap_attach - plug etmem_swap's command handlers into the family
 * @ops: handlers indexed by command; must stay valid until detach
 *
 * Return: 0, or -EBUSY when handlers are attached already.
 */
int etmem_swap_attach(const struct etmem_swap_ops *ops)
{
	int ret = 0;

	down_write(&swap_ops_rwsem);
	if (swap_ops)
		ret = -EBUSY;
	else
		swap_ops = ops;
	up_write(&swap_ops_rwsem);
	return ret;
}
EXPORT_SYMBOL_GPL(etmem_swap_attach);

/**
 * etmem_swap_detach - unplug etmem_swap's handlers, waiting for running ones
 */
void etmem_swap_detach(void)
{
	down_write(&swap_ops_rwsem);
	swap_ops = NULL;
	up_write(&swap_ops_rwsem);
}
EXPORT_SYMBOL_GPL(etmem_swap_detach);

static int etmem_swap_forward(struct sk_buff *skb, struct genl_info *info)
{
	u8 cmd = info->genlhdr->cmd;
	int ret;

	down_read(&swap_ops_rwsem);
	if (!swap_ops || !swap_ops->doit[cmd]) {
		up_read(&swap_ops_rwsem);
		NL_SET_ERR_MSG(info->extack, "etmem_swap module is not loaded");
		return -EOPNOTSUPP;
	}
	ret = swap_ops->doit[cmd](skb, info);
	up_read(&swap_ops_rwsem);
	return ret;
}

static int etmem_cmd_status(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	void *hdr;
	bool loaded;

	down_read(&swap_ops_rwsem);
	loaded = swap_ops != NULL;
	up_read(&swap_ops_rwsem);

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &etmem_genl_family, 0,
				ETMEM_CMD_STATUS);
	if (!hdr || nla_put_u8(reply, ETMEM_A_SWAP_MODULE_LOADED, loaded) ||
	    nla_put_u32(reply, ETMEM_A_SWAPFLAG_NR_PROCS, etmem_marks_nr_procs())) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/* ---- policies ------------------------------------------------------ */

static const struct nla_policy etmem_range_policy[ETMEM_A_RANGE_MAX + 1] = {
	[ETMEM_A_RANGE_START]	= { .type = NLA_U64 },
	[ETMEM_A_RANGE_END]	= { .type = NLA_U64 },
};

static const struct nla_policy etmem_scan_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= { .type = NLA_U32 },
	[ETMEM_A_RANGE]		= NLA_POLICY_NESTED(etmem_range_policy),
	[ETMEM_A_SCAN_FLAGS]	= { .type = NLA_U32 },
};

static const struct nla_policy etmem_swapflag_set_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= { .type = NLA_U32 },
	[ETMEM_A_RANGE]		= NLA_POLICY_NESTED(etmem_range_policy),
	[ETMEM_A_SWAPFLAG_MARK]	= NLA_POLICY_MAX(NLA_U8, 1),
};

static const struct nla_policy etmem_pid_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= { .type = NLA_U32 },
};

static const struct nla_policy etmem_swap_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]		= { .type = NLA_U32 },
	[ETMEM_A_RANGE]		= NLA_POLICY_NESTED(etmem_range_policy),
	[ETMEM_A_SWAP_FLAGS]	= { .type = NLA_U32 },
	[ETMEM_A_SWAP_RESUME_ADDR] = { .type = NLA_U64 },
};

static const struct nla_policy etmem_swapcache_set_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_SWAPCACHE_LOW]		= { .type = NLA_U32 },
	[ETMEM_A_SWAPCACHE_HIGH]	= { .type = NLA_U32 },
	[ETMEM_A_SWAPCACHE_RECLAIM]	= NLA_POLICY_MAX(NLA_U8, 1),
};

static const struct nla_policy etmem_kernel_swap_set_policy[ETMEM_A_MAX + 1] = {
	[ETMEM_A_KERNEL_SWAP_ENABLE]	= NLA_POLICY_MAX(NLA_U8, 1),
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
	ETMEM_DOIT(ETMEM_CMD_KERNEL_SWAP_SET, etmem_swap_forward,
		   etmem_kernel_swap_set_policy, GENL_ADMIN_PERM),
	ETMEM_DOIT(ETMEM_CMD_KERNEL_SWAP_GET, etmem_swap_forward,
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
	.netnsok	= false,
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
	int ret = genl_register_family(&etmem_genl_family);

	if (ret)
		pr_err("cannot register the generic netlink family: %d\n", ret);
	return ret;
}

static void __exit etmem_scan_exit(void)
{
	genl_unregister_family(&etmem_genl_family);
	etmem_marks_exit();
}

module_init(etmem_scan_init);
module_exit(etmem_scan_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(ETMEM_VERSION);
MODULE_DESCRIPTION("etmem: page-access scanning and swap flags over generic netlink");
MODULE_ALIAS_GENL_FAMILY(ETMEM_FAMILY_NAME);
