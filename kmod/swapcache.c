// SPDX-License-Identifier: GPL-2.0
/*
 * Swapcache watermarks: a delayed work polls the global NR_SWAPCACHE
 * counter every SWAPCACHE_POLL_MS and multicasts ETMEM_CMD_SWAPCACHE_NTF
 * on the "swapcache" group when the swapcache rises above the high mark
 * (event HIGH) and when it falls back below the low mark (event LOW);
 * between the two nothing is sent (hysteresis).
 *
 * Mechanism here, policy in etmemd. The module reclaims nothing itself:
 * no exported function frees chosen swapcache pages, and the one blunt
 * tool a module could reach (the root cgroup's memory.reclaim) takes page
 * cache and other anonymous memory as readily as the swapcache. The owner
 * of the watermarks (etmemd) reclaims on a HIGH event, by paging out the
 * swapcache pages that the processes it manages map (ETMEM_CMD_SWAP with
 * ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY), and says how much of the swapcache no
 * managed process maps: that part stays until the kernel's reclaim or the
 * pages' owners free it. ETMEM_A_SWAPCACHE_RECLAIM records the owner's
 * choice for the reports.
 *
 * Owner: the watermarks belong to the process that set them until it
 * exits; a set from another process fails with EBUSY naming the owner,
 * so two daemons (or two projects' settings) never silently override
 * each other.
 *
 * Polling runs only while somebody listens on the group or reclaim is on.
 * 6.1's generic netlink cannot tell a module that a listener joined, so a
 * SWAPCACHE_GET (which lib's event listener sends when it joins) and a
 * SWAPCACHE_SET wake the poller; without listeners and reclaim it stops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "etmem_internal.h"
#include "etmem_swap.h"

#define SWAPCACHE_POLL_MS	200

static DEFINE_MUTEX(watch_lock);	/* protects everything below */
static u32 low_pct, high_pct;		/* 0: not configured */
static bool above_high;			/* HIGH sent, LOW not yet */
static bool reclaim_on;			/* the owner's declared choice */
static struct pid *owner;		/* tgid of the setter, or NULL */
static bool stopping;
static struct delayed_work watch_work;

static u64 swapcache_bytes(void)
{
	return (u64)global_node_page_state(NR_SWAPCACHE) << PAGE_SHIFT;
}

static u64 totalram_bytes(void)
{
	return (u64)totalram_pages() << PAGE_SHIFT;
}

/* Whether the owner still lives (a zombie counts until reaped); watch_lock held. */
static bool owner_alive(void)
{
	return owner && pid_has_task(owner, PIDTYPE_TGID);
}

/*
 * Forget an owner that exited, and what it asked for: nobody reclaims
 * for it any more. watch_lock held.
 */
static void owner_reap(void)
{
	if (!owner || owner_alive())
		return;
	put_pid(owner);
	owner = NULL;
	reclaim_on = false;
}

/* The owner's pid as the caller sees it (0: none, or not visible). */
static pid_t owner_nr(void)
{
	return owner_alive() ? pid_vnr(owner) : 0;
}

static int put_state(struct sk_buff *skb, u64 bytes)
{
	if (nla_put_u32(skb, ETMEM_A_SWAPCACHE_LOW, low_pct) ||
	    nla_put_u32(skb, ETMEM_A_SWAPCACHE_HIGH, high_pct) ||
	    nla_put_u64_64bit(skb, ETMEM_A_SWAPCACHE_BYTES, bytes, ETMEM_A_PAD) ||
	    nla_put_u64_64bit(skb, ETMEM_A_TOTALRAM_BYTES, totalram_bytes(),
			      ETMEM_A_PAD) ||
	    nla_put_u32(skb, ETMEM_A_SWAPCACHE_OWNER_PID, owner_nr()))
		return -EMSGSIZE;
	return 0;
}

static void send_event(enum etmem_swapcache_event event, u64 bytes)
{
	struct sk_buff *skb;
	void *hdr;

	if (!etmem_event_has_listeners())
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &etmem_genl_family, 0,
			  ETMEM_CMD_SWAPCACHE_NTF);
	if (!hdr || nla_put_u32(skb, ETMEM_A_SWAPCACHE_EVENT, event) ||
	    put_state(skb, bytes)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	etmem_event_send(skb);
}

static void watch_swapcache(struct work_struct *work)
{
	u64 bytes, total, low_b, high_b;

	mutex_lock(&watch_lock);
	if (stopping || !high_pct) {
		mutex_unlock(&watch_lock);
		return;
	}
	owner_reap();
	bytes = swapcache_bytes();
	total = totalram_bytes();
	low_b = div_u64(total * low_pct, 100);
	high_b = div_u64(total * high_pct, 100);
	if (!above_high && bytes > high_b) {
		above_high = true;
		send_event(ETMEM_SWAPCACHE_EVENT_HIGH, bytes);
	} else if (above_high && bytes < low_b) {
		above_high = false;
		send_event(ETMEM_SWAPCACHE_EVENT_LOW, bytes);
	}
	/*
	 * Nobody to tell and nothing to do: sleep until a get or set. The
	 * crossing state starts afresh then, so that a listener that comes
	 * later hears HIGH if the swapcache is high.
	 */
	if (reclaim_on || etmem_event_has_listeners())
		queue_delayed_work(system_unbound_wq, &watch_work,
				   msecs_to_jiffies(SWAPCACHE_POLL_MS));
	else
		above_high = false;
	mutex_unlock(&watch_lock);
}

static int swapcache_check(struct genl_info *info, u32 low, u32 high)
{
	if (low < 1 || low > 100 || high < 1 || high > 100) {
		etmem_errmsg(info->extack,
			     "watermarks are percent of RAM, 1..100 (got low %u, high %u)",
			     low, high);
		return -EINVAL;
	}
	if (low >= high) {
		etmem_errmsg(info->extack,
			     "low watermark (%u%%) must be below high watermark (%u%%)",
			     low, high);
		return -EINVAL;
	}
	return 0;
}

/**
 * etmem_cmd_swapcache_set - ETMEM_CMD_SWAPCACHE_SET: watermarks and reclaim
 * @skb: the request
 * @info: its attributes and extack
 *
 * Return: 0, or -errno with an extack message (-EPERM, -EINVAL, -EBUSY
 * while the watermarks belong to another living process).
 */
int etmem_cmd_swapcache_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	u32 low, high;
	pid_t nr;
	int ret;

	if (!etmem_admin_capable(skb, info->extack, "setting swapcache watermarks"))
		return -EPERM;
	if (!attrs[ETMEM_A_SWAPCACHE_LOW] || !attrs[ETMEM_A_SWAPCACHE_HIGH]) {
		NL_SET_ERR_MSG(info->extack,
			       "both watermarks are needed (ETMEM_A_SWAPCACHE_LOW and _HIGH)");
		return -EINVAL;
	}
	low = nla_get_u32(attrs[ETMEM_A_SWAPCACHE_LOW]);
	high = nla_get_u32(attrs[ETMEM_A_SWAPCACHE_HIGH]);
	ret = swapcache_check(info, low, high);
	if (ret)
		return ret;
	mutex_lock(&watch_lock);
	owner_reap();
	if (owner && owner != task_tgid(current)) {
		nr = owner_nr();
		if (nr)
			etmem_errmsg(info->extack,
				     "the swapcache watermarks belong to process %d until it exits",
				     nr);
		else
			NL_SET_ERR_MSG(info->extack,
				       "the swapcache watermarks belong to a process outside this pid namespace");
		ret = -EBUSY;
	} else {
		put_pid(owner);
		owner = get_pid(task_tgid(current));
		reclaim_on = attrs[ETMEM_A_SWAPCACHE_RECLAIM] &&
			     nla_get_u8(attrs[ETMEM_A_SWAPCACHE_RECLAIM]);
		low_pct = low;
		high_pct = high;
		/* A new setting: the next poll reports a high swapcache anew. */
		above_high = false;
		mod_delayed_work(system_unbound_wq, &watch_work, 0);
	}
	mutex_unlock(&watch_lock);
	return ret;
}

/**
 * etmem_cmd_swapcache_get - ETMEM_CMD_SWAPCACHE_GET: watermarks, reclaim, size
 * @skb: the request
 * @info: its attributes and extack
 *
 * Return: 0 once the reply is sent, -ENOMEM or -EMSGSIZE.
 */
int etmem_cmd_swapcache_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	void *hdr;
	int ret;

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &etmem_genl_family, 0,
				ETMEM_CMD_SWAPCACHE_GET);
	mutex_lock(&watch_lock);
	ret = !hdr || put_state(reply, swapcache_bytes()) ||
	      nla_put_u8(reply, ETMEM_A_SWAPCACHE_RECLAIM, reclaim_on);
	/* A listener that just joined asks once: wake the poller for it. */
	if (high_pct && !stopping)
		mod_delayed_work(system_unbound_wq, &watch_work, 0);
	mutex_unlock(&watch_lock);
	if (ret) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/**
 * etmem_swapcache_init - set up the watermark poller (not started)
 */
void etmem_swapcache_init(void)
{
	INIT_DELAYED_WORK(&watch_work, watch_swapcache);
}

/**
 * etmem_swapcache_exit - stop the poller, forget the owner
 */
void etmem_swapcache_exit(void)
{
	mutex_lock(&watch_lock);
	stopping = true;
	mutex_unlock(&watch_lock);
	cancel_delayed_work_sync(&watch_work);
	put_pid(owner);
	owner = NULL;
}
