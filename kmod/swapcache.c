// SPDX-License-Identifier: GPL-2.0
/*
 * Swapcache watermarks: a delayed work polls the global NR_SWAPCACHE
 * counter every SWAPCACHE_POLL_MS and multicasts ETMEM_CMD_SWAPCACHE_NTF
 * on the "swapcache" group when the swapcache rises above the high mark
 * (event HIGH) and when it falls back below the low mark (event LOW);
 * between the two nothing is sent (hysteresis).
 *
 * Reclaim: no exported function frees swapcache pages selectively. What
 * is exported and legitimate is writing to cgroup v2's memory.reclaim of
 * the root cgroup (kernel_write on /sys/fs/cgroup/memory.reclaim), which
 * asks the kernel's own LRU reclaim for a number of bytes. Clean swapcache
 * pages are the cheapest thing it can free (their data already sits in
 * swap), but it may take page cache and other anonymous memory too: it is
 * blunt. With reclaim on and the swapcache above high, each poll asks for
 * (swapcache - low mark) bytes until the swapcache is below low. Without
 * cgroup v2 mounted at /sys/fs/cgroup, enabling reclaim fails with
 * EOPNOTSUPP and says why.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "etmem_internal.h"
#include "etmem_swap.h"

#define SWAPCACHE_POLL_MS	200
#define RECLAIM_FILE		"/sys/fs/cgroup/memory.reclaim"

static DEFINE_MUTEX(watch_lock);	/* protects everything below */
static u32 low_pct, high_pct;		/* 0: not configured */
static bool above_high;			/* HIGH sent, LOW not yet */
static struct file *reclaim_file;	/* non-NULL: reclaim on */
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

static int put_state(struct sk_buff *skb, u64 bytes)
{
	if (nla_put_u32(skb, ETMEM_A_SWAPCACHE_LOW, low_pct) ||
	    nla_put_u32(skb, ETMEM_A_SWAPCACHE_HIGH, high_pct) ||
	    nla_put_u64_64bit(skb, ETMEM_A_SWAPCACHE_BYTES, bytes, ETMEM_A_PAD) ||
	    nla_put_u64_64bit(skb, ETMEM_A_TOTALRAM_BYTES, totalram_bytes(),
			      ETMEM_A_PAD))
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

/* Ask the root cgroup's reclaim for @bytes; called with watch_lock held. */
static void reclaim_bytes(u64 bytes)
{
	char buf[32];
	loff_t pos = 0;
	int len = scnprintf(buf, sizeof(buf), "%llu", bytes);

	/* -EAGAIN (could not reclaim it all) is retried at the next poll. */
	kernel_write(reclaim_file, buf, len, &pos);
}

static void watch_swapcache(struct work_struct *work)
{
	u64 bytes, total, low_b, high_b;

	mutex_lock(&watch_lock);
	if (stopping || !high_pct) {
		mutex_unlock(&watch_lock);
		return;
	}
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
	if (above_high && reclaim_file)
		reclaim_bytes(bytes - min(bytes, low_b));
	queue_delayed_work(system_unbound_wq, &watch_work,
			   msecs_to_jiffies(SWAPCACHE_POLL_MS));
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

/* Open or close memory.reclaim; watch_lock held. */
static int reclaim_switch(struct genl_info *info, bool on)
{
	struct file *file;

	if (!on || reclaim_file) {
		if (!on && reclaim_file) {
			filp_close(reclaim_file, NULL);
			reclaim_file = NULL;
		}
		return 0;
	}
	file = filp_open(RECLAIM_FILE, O_WRONLY, 0);
	if (IS_ERR(file)) {
		etmem_errmsg(info->extack,
			     "swapcache reclaim needs cgroup v2 at /sys/fs/cgroup (memory.reclaim: error %ld)",
			     PTR_ERR(file));
		return -EOPNOTSUPP;
	}
	reclaim_file = file;
	return 0;
}

/**
 * etmem_cmd_swapcache_set - ETMEM_CMD_SWAPCACHE_SET: watermarks and reclaim
 * @skb: the request
 * @info: its attributes and extack
 *
 * Return: 0, or -errno with an extack message (-EPERM, -EINVAL,
 * -EOPNOTSUPP when reclaim cannot be had).
 */
int etmem_cmd_swapcache_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	u32 low, high;
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
	if (attrs[ETMEM_A_SWAPCACHE_RECLAIM])
		ret = reclaim_switch(info, nla_get_u8(attrs[ETMEM_A_SWAPCACHE_RECLAIM]));
	if (!ret) {
		low_pct = low;
		high_pct = high;
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
	      nla_put_u8(reply, ETMEM_A_SWAPCACHE_RECLAIM, !!reclaim_file);
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
 * etmem_swapcache_exit - stop the poller and close what reclaim opened
 */
void etmem_swapcache_exit(void)
{
	mutex_lock(&watch_lock);
	stopping = true;
	mutex_unlock(&watch_lock);
	cancel_delayed_work_sync(&watch_work);
	if (reclaim_file)
		filp_close(reclaim_file, NULL);
	reclaim_file = NULL;
}
