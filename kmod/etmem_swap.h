/* SPDX-License-Identifier: GPL-2.0 */
/* Parts of etmem_swap.ko. */
#ifndef ETMEM_SWAP_H
#define ETMEM_SWAP_H

#include <net/genetlink.h>

int etmem_cmd_swap(struct sk_buff *skb, struct genl_info *info);

void etmem_swapcache_init(void);
void etmem_swapcache_exit(void);
int etmem_cmd_swapcache_set(struct sk_buff *skb, struct genl_info *info);
int etmem_cmd_swapcache_get(struct sk_buff *skb, struct genl_info *info);

#endif /* ETMEM_SWAP_H */
