// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel swap switch, etmem's stand-in for openEuler's
 * /sys/kernel/mm/swap/kernel_swap_enable.
 *
 * openEuler's knob makes the kernel's own reclaim skip anonymous pages
 * entirely while etmem's page-outs still swap. Stock kernels have no such
 * knob; the closest is vm.swappiness = 0, which makes kernel reclaim
 * (kswapd, direct reclaim, cgroup reclaim on v2) scan only file pages
 * unless file pages are nearly exhausted, while MADV_PAGEOUT (what etmem
 * uses) ignores swappiness. So "off" saves vm.swappiness and sets it to 0;
 * "on" and module unload restore the saved value. Differences from the
 * original: under severe memory pressure the kernel may still swap
 * anonymous pages, and a change to vm.swappiness made while the switch is
 * off is overwritten when it is switched back on.
 *
 * The switch is reachable through the family (ETMEM_CMD_KERNEL_SWAP_*) and
 * through /sys/kernel/mm/etmem/kernel_swap_enable (true/false, 1/0).
 * vm.swappiness is not exported to modules; it is read and written
 * through /proc/sys/vm/swappiness with kernel_read()/kernel_write().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "etmem_internal.h"
#include "etmem_swap.h"

#define SWAPPINESS_FILE	"/proc/sys/vm/swappiness"

static DEFINE_MUTEX(switch_lock);
static int saved_swappiness = -1;	/* >= 0: switched off, restore this */
static struct kobject *etmem_kobj;

static int swappiness_read(int *value)
{
	struct file *file = filp_open(SWAPPINESS_FILE, O_RDONLY, 0);
	char buf[16] = "";
	loff_t pos = 0;
	ssize_t n;

	if (IS_ERR(file))
		return PTR_ERR(file);
	n = kernel_read(file, buf, sizeof(buf) - 1, &pos);
	filp_close(file, NULL);
	if (n < 0)
		return n;
	return kstrtoint(strim(buf), 10, value);
}

static int swappiness_write(int value)
{
	struct file *file = filp_open(SWAPPINESS_FILE, O_WRONLY, 0);
	char buf[16];
	loff_t pos = 0;
	ssize_t n;

	if (IS_ERR(file))
		return PTR_ERR(file);
	n = kernel_write(file, buf, scnprintf(buf, sizeof(buf), "%d", value), &pos);
	filp_close(file, NULL);
	return n < 0 ? n : 0;
}

/* Turn the kernel's own anonymous reclaim on or off. */
static int kernel_swap_switch(bool enable)
{
	int ret = 0, cur;

	mutex_lock(&switch_lock);
	if (!enable && saved_swappiness < 0) {
		ret = swappiness_read(&cur);
		if (!ret)
			ret = swappiness_write(0);
		if (!ret)
			saved_swappiness = cur;
	} else if (enable && saved_swappiness >= 0) {
		ret = swappiness_write(saved_swappiness);
		if (!ret)
			saved_swappiness = -1;
	}
	mutex_unlock(&switch_lock);
	return ret;
}

static bool kernel_swap_enabled(void)
{
	bool on;

	mutex_lock(&switch_lock);
	on = saved_swappiness < 0;
	mutex_unlock(&switch_lock);
	return on;
}

int etmem_cmd_kernel_swap_set(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (!etmem_admin_capable(skb, info->extack, "the kernel swap switch"))
		return -EPERM;
	if (!info->attrs[ETMEM_A_KERNEL_SWAP_ENABLE]) {
		NL_SET_ERR_MSG(info->extack,
			       "missing ETMEM_A_KERNEL_SWAP_ENABLE (1 on, 0 off)");
		return -EINVAL;
	}
	ret = kernel_swap_switch(nla_get_u8(info->attrs[ETMEM_A_KERNEL_SWAP_ENABLE]));
	if (ret)
		etmem_errmsg(info->extack, "cannot change %s: error %d",
			     SWAPPINESS_FILE, ret);
	return ret;
}

int etmem_cmd_kernel_swap_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	void *hdr;

	reply = genlmsg_new(nla_total_size(sizeof(u8)), GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &etmem_genl_family, 0,
				ETMEM_CMD_KERNEL_SWAP_GET);
	if (!hdr || nla_put_u8(reply, ETMEM_A_KERNEL_SWAP_ENABLE,
			       kernel_swap_enabled())) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/* ---- /sys/kernel/mm/etmem/kernel_swap_enable ------------------------ */

static ssize_t kernel_swap_enable_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", kernel_swap_enabled() ? "true" : "false");
}

static ssize_t kernel_swap_enable_store(struct kobject *kobj,
					struct kobj_attribute *attr,
					const char *buf, size_t count)
{
	bool enable;
	int ret;

	if (sysfs_streq(buf, "true") || sysfs_streq(buf, "1"))
		enable = true;
	else if (sysfs_streq(buf, "false") || sysfs_streq(buf, "0"))
		enable = false;
	else
		return -EINVAL;
	ret = kernel_swap_switch(enable);
	return ret ? ret : count;
}

static struct kobj_attribute kernel_swap_enable_attr = __ATTR_RW(kernel_swap_enable);

/*
 * /sys/kernel/mm is mm_kobj, which 6.12 no longer exports: find it as the
 * "mm" directory under kernel_kobj (a kobject directory's kernfs node
 * points back to its kobject).
 */
static struct kobject *find_mm_kobj(void)
{
	struct kernfs_node *kn = kernfs_find_and_get(kernel_kobj->sd, "mm");
	struct kobject *kobj = NULL;

	if (kn) {
		if (kernfs_type(kn) == KERNFS_DIR)
			kobj = kn->priv;
		kernfs_put(kn);
	}
	return kobj ? kobj : kernel_kobj;
}

int etmem_kernel_swap_init(void)
{
	int ret;

	etmem_kobj = kobject_create_and_add("etmem", find_mm_kobj());
	if (!etmem_kobj)
		return -ENOMEM;
	ret = sysfs_create_file(etmem_kobj, &kernel_swap_enable_attr.attr);
	if (ret) {
		kobject_put(etmem_kobj);
		etmem_kobj = NULL;
	}
	return ret;
}

void etmem_kernel_swap_exit(void)
{
	if (etmem_kobj) {
		sysfs_remove_file(etmem_kobj, &kernel_swap_enable_attr.attr);
		kobject_put(etmem_kobj);
	}
	if (kernel_swap_switch(true))
		pr_warn("could not restore vm.swappiness to %d\n", saved_swappiness);
}
