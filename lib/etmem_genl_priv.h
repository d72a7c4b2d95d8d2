/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals shared by the files of the etmem client library (lib/etmem_*.c);
 * not part of its API.
 */
#ifndef ETMEM_GENL_PRIV_H
#define ETMEM_GENL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/netlink.h>

#include "etmem_genl.h"

struct etmem_client {
	struct nl_sock *sk;
	int family;
	bool events;		/* joined the swapcache group */
	char errmsg[256];
};

/* Why the last etmem_client_open() of this thread failed. */
extern __thread char etmem_open_errmsg[256];

/* Called per reply message; non-zero stops the transaction. */
typedef int (*etmem_parse_fn)(struct nlattr **tb, struct nlmsghdr *nlh,
			      void *arg);

void etmem_set_errmsg(struct etmem_client *client, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct nl_msg *etmem_req_new(struct etmem_client *client, uint8_t cmd, int flags);
/* Send @msg (consumed), read to its ack, error or NLMSG_DONE. */
int etmem_req_run(struct etmem_client *client, struct nl_msg *msg,
		  etmem_parse_fn parse, void *arg);
int etmem_put_ranges(struct nl_msg *msg, const struct etmem_range *ranges,
		     size_t nr_ranges);
/* Call @fn on each ETMEM_A_RANGE nest of a reply (they repeat). */
int etmem_for_each_range(struct nlmsghdr *nlh,
			 int (*fn)(const struct etmem_range *r, void *arg),
			 void *arg);
uint64_t etmem_attr_u64(struct nlattr *attr);

#endif /* ETMEM_GENL_PRIV_H */
