// SPDX-License-Identifier: GPL-2.0
/*
 * etmem_swap.ko: swap requests and swapcache watermarks. It registers
 * nothing itself: its operations are added to the "etmem" family owned by
 * etmem_scan.ko (which it therefore requires).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "etmem_internal.h"
#include "etmem_swap.h"

static const struct etmem_swap_operations swap_ops = {
	.owner		= THIS_MODULE,
	.swap_check	= etmem_cmd_swap,
	.swapcache_set	= etmem_cmd_swapcache_set,
	.swapcache_get	= etmem_cmd_swapcache_get,
};

static int __init etmem_swap_init(void)
{
	int ret;

	etmem_swapcache_init();
	ret = etmem_register_swap_ops(&swap_ops);
	if (ret) {
		pr_err("cannot register with the etmem family: %d\n", ret);
		etmem_swapcache_exit();
	}
	return ret;
}

static void __exit etmem_swap_exit(void)
{
	/* First no new requests, then stop the watcher. */
	etmem_unregister_swap_ops(&swap_ops);
	etmem_swapcache_exit();
}

module_init(etmem_swap_init);
module_exit(etmem_swap_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("etmem: swap requests and swapcache watermarks");
