// SPDX-License-Identifier: GPL-2.0
/*
 * etmem_swap.ko: swap requests, swapcache watermarks and the kernel swap
 * switch. It registers nothing itself: its handlers are attached to the
 * "etmem" family owned by etmem_scan.ko (which it therefore requires).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "etmem_internal.h"
#include "etmem_swap.h"

static const struct etmem_swap_ops swap_ops = {
	.doit = {
		[ETMEM_CMD_SWAP]		= etmem_cmd_swap,
		[ETMEM_CMD_SWAPCACHE_SET]	= etmem_cmd_swapcache_set,
		[ETMEM_CMD_SWAPCACHE_GET]	= etmem_cmd_swapcache_get,
		[ETMEM_CMD_KERNEL_SWAP_SET]	= etmem_cmd_kernel_swap_set,
		[ETMEM_CMD_KERNEL_SWAP_GET]	= etmem_cmd_kernel_swap_get,
	},
};

static int __init etmem_swap_init(void)
{
	int ret;

	ret = etmem_kernel_swap_init();
	if (ret)
		return ret;
	etmem_swapcache_init();
	ret = etmem_swap_attach(&swap_ops);
	if (ret) {
		pr_err("cannot attach to the etmem family: %d\n", ret);
		etmem_swapcache_exit();
		etmem_kernel_swap_exit();
	}
	return ret;
}

static void __exit etmem_swap_exit(void)
{
	/* First no new requests, then stop the watcher, then restore. */
	etmem_swap_detach();
	etmem_swapcache_exit();
	etmem_kernel_swap_exit();
}

module_init(etmem_swap_init);
module_exit(etmem_swap_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(ETMEM_VERSION);
MODULE_DESCRIPTION("etmem: swap requests, swapcache watermarks, kernel swap switch");
