// SPDX-License-Identifier: GPL-2.0
/* Swapcache events: a client that joined the "swapcache" multicast group. */
#include <poll.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "etmem_genl.h"
#include "etmem_genl_priv.h"

int etmem_events_open(struct etmem_client **out)
{
	struct etmem_client *client;
	int ret, group;

	ret = etmem_client_open(&client);
	if (ret)
		return ret;
	group = genl_ctrl_resolve_grp(client->sk, ETMEM_FAMILY_NAME,
				      ETMEM_MCGRP_SWAPCACHE);
	if (group < 0 || nl_socket_add_membership(client->sk, group) < 0) {
		snprintf(etmem_open_errmsg, sizeof(etmem_open_errmsg),
			 "cannot join multicast group \"%s\"", ETMEM_MCGRP_SWAPCACHE);
		etmem_client_close(client);
		return -ENOENT;
	}
	/* Events are not answers to requests: no sequence numbers. */
	nl_socket_disable_seq_check(client->sk);
	client->events = true;
	*out = client;
	etmem_events_wake_poller();
	return 0;
}

/*
 * The module polls the swapcache only while somebody listens, and 6.1
 * cannot tell it that somebody joined: a swapcache-get wakes the poller.
 * Sent on a client of its own (the listener's socket takes no answers);
 * without etmem_swap there is nothing to wake, which is fine.
 */
void etmem_events_wake_poller(void)
{
	struct etmem_swapcache_state st;
	struct etmem_client *kick;

	if (etmem_client_open(&kick))
		return;
	etmem_swapcache_get(kick, &st);
	etmem_client_close(kick);
}

int etmem_client_fd(const struct etmem_client *client)
{
	return nl_socket_get_fd(client->sk);
}

struct event_ctx {
	struct etmem_swapcache_ntf *event;
	bool got;
};

static int accept_any_seq(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct event_ctx *ctx = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *ghdr = nlmsg_data(nlh);
	struct nlattr *tb[ETMEM_A_MAX + 1];
	struct etmem_swapcache_ntf *ev = ctx->event;

	if (ghdr->cmd != ETMEM_CMD_SWAPCACHE_NTF ||
	    genlmsg_parse(nlh, 0, tb, ETMEM_A_MAX, NULL) < 0 ||
	    !tb[ETMEM_A_SWAPCACHE_EVENT])
		return NL_SKIP;
	ev->type = nla_get_u32(tb[ETMEM_A_SWAPCACHE_EVENT]);
	ev->low_pct = tb[ETMEM_A_SWAPCACHE_LOW] ?
		      nla_get_u32(tb[ETMEM_A_SWAPCACHE_LOW]) : 0;
	ev->high_pct = tb[ETMEM_A_SWAPCACHE_HIGH] ?
		       nla_get_u32(tb[ETMEM_A_SWAPCACHE_HIGH]) : 0;
	ev->swapcache_bytes = etmem_attr_u64(tb[ETMEM_A_SWAPCACHE_BYTES]);
	ev->totalram_bytes = etmem_attr_u64(tb[ETMEM_A_TOTALRAM_BYTES]);
	ctx->got = true;
	return NL_STOP;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int etmem_events_next(struct etmem_client *client,
		      struct etmem_swapcache_ntf *event, int timeout_ms)
{
	struct event_ctx ctx = { .event = event };
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd pfd;
	struct nl_cb *cb;
	int ret = 0;

	if (!client->events)
		return -EINVAL;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &ctx);
	/* Events are not answers to requests: no sequence numbers. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, accept_any_seq, NULL);
	pfd.fd = nl_socket_get_fd(client->sk);
	pfd.events = POLLIN;
	while (!ctx.got) {
		int wait = -1;

		if (timeout_ms >= 0) {
			wait = (int)(deadline - now_ms());
			if (wait < 0)
				wait = 0;
		}
		ret = poll(&pfd, 1, wait);
		if (ret < 0 && errno == EINTR) {
			ret = -EINTR;
			break;
		}
		if (ret == 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = nl_recvmsgs(client->sk, cb);
		if (ret < 0 && !ctx.got) {
			etmem_set_errmsg(client, "netlink receive failed: %s",
				   nl_geterror(ret));
			ret = -EIO;
			break;
		}
		ret = 0;
	}
	nl_cb_put(cb);
	return ctx.got ? 0 : ret;
}
