// SPDX-License-Identifier: GPL-2.0
/*
 * User-space client of the "etmem" generic netlink family over libnl-genl-3.
 *
 * Every request asks for an ack, so each transaction ends with an ack, an
 * error (NLMSG_ERROR) or, for dumps, NLMSG_DONE (which may carry an error
 * too). NETLINK_EXT_ACK is switched on so that rejections come with the
 * kernel's explanation, which is kept in the client until the next call.
 *
 * Replies are parsed tolerantly: attributes this library does not know (a
 * newer kernel module) are ignored.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "etmem_genl.h"
#include "etmem_genl_priv.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* State of one transaction, shared by the libnl callbacks. */
struct etmem_txn {
	struct etmem_client *client;
	etmem_parse_fn parse;
	void *arg;
	int error;		/* first -errno seen */
	int stopped;		/* non-zero: parse asked to stop */
	bool done;
	const struct nlmsghdr *req;	/* the request, for extack offsets */
};

/* Why the last etmem_client_open() of this thread failed. */
__thread char etmem_open_errmsg[256];

const char *etmem_client_errmsg(const struct etmem_client *client)
{
	return client ? client->errmsg : etmem_open_errmsg;
}

void etmem_set_errmsg(struct etmem_client *client, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(client->errmsg, sizeof(client->errmsg), fmt, ap);
	va_end(ap);
}

/**
 * etmem_modules_hint() - what to do about a missing etmem family
 *
 * Return: a static string for a message: install the modules (etmem-dkms,
 * or make modules_install), or, where the kernel cannot load modules at
 * all (no /proc/modules: CONFIG_MODULES=n), that they cannot run there and
 * which engines need none.
 */
const char *etmem_modules_hint(void)
{
	if (access("/proc/modules", F_OK))
		return "no module support in this kernel (no /proc/modules): the etmem modules "
		       "cannot run here; engines damon and psi need none";
	return "is etmem_scan loaded? install the etmem-dkms package, or run make modules_install";
}

static int client_connect(struct etmem_client *client)
{
	int one = 1, family;

	client->sk = nl_socket_alloc();
	if (!client->sk)
		return -ENOMEM;
	if (genl_connect(client->sk) < 0) {
		etmem_set_errmsg(client, "cannot open a generic netlink socket");
		return -EIO;
	}
	/* Replies can be large (swap replies, scan chunks): size by peeking. */
	nl_socket_enable_msg_peek(client->sk);
	setsockopt(nl_socket_get_fd(client->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(client->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	family = genl_ctrl_resolve(client->sk, ETMEM_FAMILY_NAME);
	if (family < 0) {
		etmem_set_errmsg(client, "generic netlink family \"%s\" not found (%s)",
				 ETMEM_FAMILY_NAME, etmem_modules_hint());
		return -ENOENT;
	}
	client->family = family;
	return 0;
}

static void client_disconnect(struct etmem_client *client)
{
	if (client->sk)
		nl_socket_free(client->sk);
	client->sk = NULL;
}

int etmem_client_open(struct etmem_client **out)
{
	struct etmem_client *client;
	int ret;

	*out = NULL;
	client = calloc(1, sizeof(*client));
	if (!client)
		return -ENOMEM;
	ret = client_connect(client);
	if (ret) {
		memcpy(etmem_open_errmsg, client->errmsg, sizeof(etmem_open_errmsg));
		client_disconnect(client);
		free(client);
		errno = -ret;
		return ret;
	}
	*out = client;
	return 0;
}

void etmem_client_close(struct etmem_client *client)
{
	if (!client)
		return;
	client_disconnect(client);
	free(client);
}

/*
 * A dump abandoned half-way leaves messages queued on the socket; the
 * simplest safe recovery is a fresh socket (closing the old one also ends
 * the dump in the kernel).
 */
static int client_reconnect(struct etmem_client *client)
{
	char keep[sizeof(client->errmsg)];
	int ret;

	memcpy(keep, client->errmsg, sizeof(keep));
	client_disconnect(client);
	ret = client_connect(client);
	memcpy(client->errmsg, keep, sizeof(keep));
	return ret;
}

/* Names of the request attributes the kernel may point at in an extack. */
static const char *const attr_names[ETMEM_A_MAX + 1] = {
	[ETMEM_A_PID]			= "pid",
	[ETMEM_A_RANGE]			= "range",
	[ETMEM_A_SCAN_FLAGS]		= "scan-flags",
	[ETMEM_A_SCAN_MIN_IDLE_AGE]	= "scan-min-idle-age",
	[ETMEM_A_SWAP_FLAGS]		= "swap-flags",
	[ETMEM_A_SWAPFLAG_MARK]		= "swapflag-mark",
	[ETMEM_A_SWAPCACHE_LOW]		= "swapcache-low",
	[ETMEM_A_SWAPCACHE_HIGH]	= "swapcache-high",
	[ETMEM_A_SWAPCACHE_RECLAIM]	= "swapcache-reclaim",
	[ETMEM_A_SWAP_RESUME_ADDR]	= "swap-resume-addr",
};

/*
 * What an extack's policy nest (NLMSGERR_ATTR_POLICY) allows, appended
 * to @buf: "allowed 1..4194304" or "allowed bits 0xf".
 */
static void append_policy(char *buf, size_t size, struct nlattr *pol)
{
	struct nlattr *a;
	uint64_t min = 0, max = 0, mask = 0;
	bool has_min = false, has_max = false, has_mask = false;
	size_t len = strlen(buf);
	int rem;

	nla_for_each_nested(a, pol, rem) {
		switch (nla_type(a)) {
		case NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
			min = etmem_attr_u64(a);
			has_min = true;
			break;
		case NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
			max = etmem_attr_u64(a);
			has_max = true;
			break;
		case NL_POLICY_TYPE_ATTR_MASK:
			mask = etmem_attr_u64(a);
			has_mask = true;
			break;
		}
	}
	if (has_mask)
		snprintf(buf + len, size - len, ", allowed bits 0x%" PRIx64, mask);
	else if (has_min && has_max)
		snprintf(buf + len, size - len, ", allowed %" PRIu64 "..%" PRIu64,
			 min, max);
}

/*
 * Extended-ack TLVs follow the error (and the echoed request, if any):
 * the message, and where the policy rejected an attribute, its offset in
 * @req and the policy, which name the attribute and what it allows.
 */
static void read_extack(struct etmem_client *client, const struct nlmsghdr *nlh,
			size_t offset, const struct nlmsghdr *req)
{
	struct nlattr *tlv, *pol = NULL;
	const char *name = NULL;
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= offset)
		return;
	tlv = (struct nlattr *)((char *)nlh + offset);
	rem = nlh->nlmsg_len - offset;
	for (; nla_ok(tlv, rem); tlv = nla_next(tlv, &rem)) {
		if (nla_type(tlv) == NLMSGERR_ATTR_MSG && nla_len(tlv) > 0) {
			snprintf(client->errmsg, sizeof(client->errmsg), "%.*s",
				 nla_len(tlv), (const char *)nla_data(tlv));
			/* The kernel's messages end without a newline; keep it so. */
			client->errmsg[strcspn(client->errmsg, "\n")] = '\0';
		} else if (nla_type(tlv) == NLMSGERR_ATTR_OFFS &&
			   nla_len(tlv) >= (int)sizeof(uint32_t) && req) {
			uint32_t offs = nla_get_u32(tlv);

			if (offs >= NLMSG_HDRLEN + GENL_HDRLEN &&
			    offs + NLA_HDRLEN <= req->nlmsg_len) {
				const struct nlattr *bad =
					(const struct nlattr *)((const char *)req + offs);
				int type = nla_type(bad);

				if (type > 0 && type <= ETMEM_A_MAX)
					name = attr_names[type];
			}
		} else if (nla_type(tlv) == NLMSGERR_ATTR_POLICY) {
			pol = tlv;
		}
	}
	if (name) {
		size_t len = strlen(client->errmsg);

		snprintf(client->errmsg + len, sizeof(client->errmsg) - len,
			 "%sattribute %s", len ? ": " : "", name);
		if (pol)
			append_policy(client->errmsg, sizeof(client->errmsg), pol);
	}
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *err, void *arg)
{
	struct etmem_txn *txn = arg;
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	size_t offset = NLMSG_HDRLEN + sizeof(*err);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += NLMSG_ALIGN(err->msg.nlmsg_len - NLMSG_HDRLEN);
	read_extack(txn->client, nlh, offset, txn->req);
	if (!txn->error)
		txn->error = err->error;
	txn->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct etmem_txn *txn = arg;

	txn->done = true;
	return NL_STOP;
}

/* NLMSG_DONE of a dump carries the dump's final status (and extack). */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct etmem_txn *txn = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int status = 0;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
		memcpy(&status, nlmsg_data(nlh), sizeof(int));
	if (status < 0) {
		read_extack(txn->client, nlh, NLMSG_HDRLEN + sizeof(int), txn->req);
		if (!txn->error)
			txn->error = status;
	}
	txn->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct etmem_txn *txn = arg;
	struct nlattr *tb[ETMEM_A_MAX + 1];
	int ret;

	if (txn->stopped || !txn->parse)
		return NL_OK;
	/* No policy: unknown attributes of a newer module are skipped. */
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETMEM_A_MAX, NULL) < 0) {
		if (!txn->error)
			txn->error = -EBADMSG;
		return NL_OK;
	}
	ret = txn->parse(tb, nlmsg_hdr(msg), txn->arg);
	if (ret) {
		txn->stopped = ret;
		return NL_STOP;
	}
	return NL_OK;
}

/*
 * Room for a request carrying ETMEM_MAX_RANGES range nests (a nest header
 * and two u64 attributes, 28 bytes each) with headers to spare: libnl's
 * default of one page holds only about 140 ranges, and a fragmented cold
 * set (a redis heap) easily needs more.
 */
#define ETMEM_REQ_SIZE	(ETMEM_MAX_RANGES * 32 + 1024)

struct nl_msg *etmem_req_new(struct etmem_client *client, uint8_t cmd,
				  int flags)
{
	struct nl_msg *msg = nlmsg_alloc_size(ETMEM_REQ_SIZE);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, client->family, 0,
			 flags, cmd, ETMEM_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Send @msg (consumed) and read until its ack, error or NLMSG_DONE.
 * @parse sees each reply message; a non-zero return stops the transaction
 * and is returned as is.
 */
int etmem_req_run(struct etmem_client *client, struct nl_msg *msg,
		  etmem_parse_fn parse, void *arg)
{
	struct etmem_txn txn = { .client = client, .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int ret;

	client->errmsg[0] = '\0';
	ret = nl_send_auto(client->sk, msg);
	/* Kept until the answer: an extack may point into the request. */
	txn.req = nlmsg_hdr(msg);
	if (ret < 0) {
		nlmsg_free(msg);
		etmem_set_errmsg(client, "netlink send failed: %s", nl_geterror(ret));
		return -EIO;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &txn);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &txn);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &txn);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &txn);
	while (!txn.done && !txn.stopped) {
		ret = nl_recvmsgs(client->sk, cb);
		if (ret < 0 && !txn.done && !txn.stopped) {
			if (!txn.error) {
				etmem_set_errmsg(client, "netlink receive failed: %s",
					   nl_geterror(ret));
				txn.error = -EIO;
			}
			break;
		}
	}
	nl_cb_put(cb);
	nlmsg_free(msg);
	if (txn.stopped) {
		if (!txn.done)
			client_reconnect(client);
		return txn.stopped;
	}
	return txn.error;
}

int etmem_put_ranges(struct nl_msg *msg, const struct etmem_range *ranges,
		      size_t nr_ranges)
{
	size_t i;

	for (i = 0; i < nr_ranges; i++) {
		struct nlattr *nest = nla_nest_start(msg, ETMEM_A_RANGE | NLA_F_NESTED);

		if (!nest ||
		    nla_put_u64(msg, ETMEM_A_RANGE_START, ranges[i].start) ||
		    nla_put_u64(msg, ETMEM_A_RANGE_END, ranges[i].end))
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
	}
	return 0;
}

static int parse_range(struct nlattr *nest, struct etmem_range *range)
{
	struct nlattr *rb[ETMEM_A_RANGE_MAX + 1];

	if (nla_parse_nested(rb, ETMEM_A_RANGE_MAX, nest, NULL) < 0 ||
	    !rb[ETMEM_A_RANGE_START] || !rb[ETMEM_A_RANGE_END])
		return -EBADMSG;
	range->start = nla_get_u64(rb[ETMEM_A_RANGE_START]);
	range->end = nla_get_u64(rb[ETMEM_A_RANGE_END]);
	return 0;
}

/* ---- scan ---------------------------------------------------------- */

struct scan_ctx {
	etmem_scan_cb cb;
	void *arg;
	uint32_t scan_flags;
	int bad;
};

/*
 * ETMEM_A_CHUNK_RUNS into @chunk: whole runs, each at least one unit of a
 * known state, adding up to the chunk's units; -EBADMSG otherwise.
 */
static int parse_chunk_runs(struct nlattr *attr, struct etmem_chunk *chunk)
{
	const struct etmem_scan_run *runs = nla_data(attr);
	size_t len = (size_t)nla_len(attr);
	uint64_t units = 0;

	if (!len || len % sizeof(*runs))
		return -EBADMSG;
	chunk->nr_runs = len / sizeof(*runs);
	for (uint32_t i = 0; i < chunk->nr_runs; i++) {
		if (!runs[i].nr_units || runs[i].state > ETMEM_PAGE_STATE_RECENT)
			return -EBADMSG;
		units += runs[i].nr_units;
	}
	if (units != chunk->nr_pages)
		return -EBADMSG;
	chunk->runs = runs;
	return 0;
}

bool etmem_chunk_next_run(const struct etmem_chunk *chunk,
			  struct etmem_chunk_cursor *cur, struct etmem_unit_run *run)
{
	uint32_t i = cur->next_unit, j;

	if (i >= chunk->nr_pages || (chunk->runs && cur->next_run >= chunk->nr_runs))
		return false;
	run->first = i;
	if (chunk->runs) {
		const struct etmem_scan_run *r = &chunk->runs[cur->next_run++];

		run->nr_units = r->nr_units;
		run->state = (enum etmem_page_state)r->state;
		run->idle_age = chunk->run_ages ? r->idle_age : ETMEM_IDLE_AGE_UNKNOWN;
		cur->next_unit = i + r->nr_units;
		return true;
	}
	run->state = etmem_chunk_state(chunk, i);
	run->idle_age = chunk->idle_ages ? chunk->idle_ages[i] : ETMEM_IDLE_AGE_UNKNOWN;
	for (j = i + 1; j < chunk->nr_pages; j++) {
		/* Without ages, four units of the run at a time. */
		if (!chunk->idle_ages && !(j % 4) && j + 4 <= chunk->nr_pages &&
		    chunk->states[j / 4] == run->state * 0x55) {
			j += 3;
			continue;
		}
		if (etmem_chunk_state(chunk, j) != run->state ||
		    (chunk->idle_ages && chunk->idle_ages[j] != run->idle_age))
			break;
	}
	run->nr_units = j - i;
	cur->next_unit = j;
	return true;
}

static int parse_scan_chunk(struct nlattr **tb, struct nlmsghdr *nlh,
			    void *arg)
{
	struct scan_ctx *ctx = arg;
	struct etmem_chunk chunk;

	if (!tb[ETMEM_A_CHUNK_ADDR] || !tb[ETMEM_A_CHUNK_PAGE_SHIFT] ||
	    !tb[ETMEM_A_CHUNK_NR_PAGES] ||
	    (!tb[ETMEM_A_CHUNK_STATES] && !tb[ETMEM_A_CHUNK_RUNS]))
		return 0;	/* not a chunk: nothing we understand */
	chunk.addr = nla_get_u64(tb[ETMEM_A_CHUNK_ADDR]);
	chunk.page_shift = nla_get_u8(tb[ETMEM_A_CHUNK_PAGE_SHIFT]);
	chunk.nr_pages = nla_get_u32(tb[ETMEM_A_CHUNK_NR_PAGES]);
	chunk.runs = NULL;
	chunk.nr_runs = 0;
	if (!tb[ETMEM_A_CHUNK_STATES]) {
		if (parse_chunk_runs(tb[ETMEM_A_CHUNK_RUNS], &chunk)) {
			ctx->bad = 1;
			return -EBADMSG;
		}
		chunk.states = NULL;
		chunk.idle_ages = NULL;
		chunk.run_ages = ctx->scan_flags & ETMEM_SCAN_FLAGS_IDLE_AGES;
		return ctx->cb(&chunk, ctx->arg);
	}
	chunk.states = nla_data(tb[ETMEM_A_CHUNK_STATES]);
	if ((uint64_t)nla_len(tb[ETMEM_A_CHUNK_STATES]) * 4 < chunk.nr_pages) {
		ctx->bad = 1;
		return -EBADMSG;
	}
	chunk.idle_ages = NULL;
	if (tb[ETMEM_A_CHUNK_IDLE_AGES]) {
		if ((uint64_t)nla_len(tb[ETMEM_A_CHUNK_IDLE_AGES]) < chunk.nr_pages) {
			ctx->bad = 1;
			return -EBADMSG;
		}
		chunk.idle_ages = nla_data(tb[ETMEM_A_CHUNK_IDLE_AGES]);
	}
	return ctx->cb(&chunk, ctx->arg);
}

int etmem_scan(struct etmem_client *client, pid_t pid,
	       const struct etmem_range *ranges, size_t nr_ranges,
	       uint32_t scan_flags, etmem_scan_cb cb, void *arg)
{
	return etmem_scan_min_age(client, pid, ranges, nr_ranges, scan_flags, 0, cb, arg);
}

int etmem_scan_min_age(struct etmem_client *client, pid_t pid,
		       const struct etmem_range *ranges, size_t nr_ranges,
		       uint32_t scan_flags, unsigned int min_idle_age,
		       etmem_scan_cb cb, void *arg)
{
	struct scan_ctx ctx = { .cb = cb, .arg = arg, .scan_flags = scan_flags };
	struct nl_msg *msg;
	int ret;

	if (nr_ranges > ETMEM_MAX_RANGES) {
		etmem_set_errmsg(client, "at most %d ranges per scan", ETMEM_MAX_RANGES);
		return -E2BIG;
	}
	/* A u8 on the wire: larger would wrap; 255 and 0 the kernel judges. */
	if (min_idle_age > 255) {
		etmem_set_errmsg(client, "minimum idle age %u out of range: allowed 1..%d",
				 min_idle_age, ETMEM_IDLE_AGE_MAX);
		return -ERANGE;
	}
	msg = etmem_req_new(client, ETMEM_CMD_SCAN, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, ETMEM_A_PID, (uint32_t)pid) ||
	    etmem_put_ranges(msg, ranges, nr_ranges) ||
	    nla_put_u32(msg, ETMEM_A_SCAN_FLAGS, scan_flags) ||
	    (min_idle_age &&
	     nla_put_u8(msg, ETMEM_A_SCAN_MIN_IDLE_AGE, (uint8_t)min_idle_age))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = etmem_req_run(client, msg, parse_scan_chunk, &ctx);
	if (ctx.bad)
		etmem_set_errmsg(client, "malformed scan chunk from the kernel");
	return ret;
}

/* Call @fn on each ETMEM_A_RANGE nest of a reply (they repeat). */
int etmem_for_each_range(struct nlmsghdr *nlh,
				int (*fn)(const struct etmem_range *r, void *arg),
				void *arg)
{
	struct genlmsghdr *ghdr = nlmsg_data(nlh);
	struct etmem_range range;
	struct nlattr *attr;
	int rem, ret;

	nla_for_each_attr(attr, genlmsg_attrdata(ghdr, 0),
			  genlmsg_attrlen(ghdr, 0), rem) {
		if (nla_type(attr) != ETMEM_A_RANGE)
			continue;
		if (parse_range(attr, &range))
			return -EBADMSG;
		ret = fn(&range, arg);
		if (ret)
			return ret;
	}
	return 0;
}

uint64_t etmem_attr_u64(struct nlattr *attr)
{
	return attr ? nla_get_u64(attr) : 0;
}

/* ---- swap flags ---------------------------------------------------- */

int etmem_swapflag_set(struct etmem_client *client, pid_t pid,
		       const struct etmem_range *ranges, size_t nr_ranges,
		       bool mark)
{
	struct nl_msg *msg;

	if (nr_ranges > ETMEM_MAX_RANGES) {
		etmem_set_errmsg(client, "at most %d ranges per request", ETMEM_MAX_RANGES);
		return -E2BIG;
	}
	msg = etmem_req_new(client, ETMEM_CMD_SWAPFLAG_SET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, ETMEM_A_PID, (uint32_t)(pid ? pid : getpid())) ||
	    etmem_put_ranges(msg, ranges, nr_ranges) ||
	    nla_put_u8(msg, ETMEM_A_SWAPFLAG_MARK, mark)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return etmem_req_run(client, msg, NULL, NULL);
}

struct swapflag_list {
	struct etmem_range *ranges;
	size_t nr, cap;
};

static int add_marked(const struct etmem_range *r, void *arg)
{
	struct swapflag_list *list = arg;

	if (list->nr == list->cap)
		return 0;	/* caller's array is full: count stops */
	list->ranges[list->nr++] = *r;
	return 0;
}

static int parse_swapflag_get(struct nlattr **tb, struct nlmsghdr *nlh,
			      void *arg)
{
	return etmem_for_each_range(nlh, add_marked, arg);
}

int etmem_swapflag_get(struct etmem_client *client, pid_t pid,
		       struct etmem_range *ranges, size_t max_ranges,
		       size_t *nr_ranges)
{
	struct swapflag_list list = { .ranges = ranges, .cap = max_ranges };
	struct nl_msg *msg;
	int ret;

	msg = etmem_req_new(client, ETMEM_CMD_SWAPFLAG_GET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, ETMEM_A_PID, (uint32_t)(pid ? pid : getpid()))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = etmem_req_run(client, msg, parse_swapflag_get, &list);
	*nr_ranges = list.nr;
	return ret;
}

int etmem_madvise_swapflag(void *addr, size_t len, bool mark)
{
	struct etmem_client *client;
	struct etmem_range range;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	range.start = (uintptr_t)addr;
	if (range.start % page || len == 0 || range.start + len < range.start) {
		errno = EINVAL;
		return -1;
	}
	range.end = (range.start + len + page - 1) & ~((uint64_t)page - 1);
	ret = etmem_client_open(&client);
	if (ret) {
		errno = -ret;
		return -1;
	}
	ret = etmem_swapflag_set(client, 0, &range, 1, mark);
	etmem_client_close(client);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/* ---- swapcache watermarks and the kernel swap switch ---------------- */

int etmem_swapcache_set(struct etmem_client *client, uint32_t low_pct,
			uint32_t high_pct, bool reclaim)
{
	struct nl_msg *msg = etmem_req_new(client, ETMEM_CMD_SWAPCACHE_SET, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, ETMEM_A_SWAPCACHE_LOW, low_pct) ||
	    nla_put_u32(msg, ETMEM_A_SWAPCACHE_HIGH, high_pct) ||
	    nla_put_u8(msg, ETMEM_A_SWAPCACHE_RECLAIM, reclaim)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return etmem_req_run(client, msg, NULL, NULL);
}

static int parse_swapcache_state(struct nlattr **tb, struct nlmsghdr *nlh,
				 void *arg)
{
	struct etmem_swapcache_state *state = arg;

	if (tb[ETMEM_A_SWAPCACHE_LOW])
		state->low_pct = nla_get_u32(tb[ETMEM_A_SWAPCACHE_LOW]);
	if (tb[ETMEM_A_SWAPCACHE_HIGH])
		state->high_pct = nla_get_u32(tb[ETMEM_A_SWAPCACHE_HIGH]);
	if (tb[ETMEM_A_SWAPCACHE_RECLAIM])
		state->reclaim = nla_get_u8(tb[ETMEM_A_SWAPCACHE_RECLAIM]);
	state->swapcache_bytes = etmem_attr_u64(tb[ETMEM_A_SWAPCACHE_BYTES]);
	state->totalram_bytes = etmem_attr_u64(tb[ETMEM_A_TOTALRAM_BYTES]);
	if (tb[ETMEM_A_SWAPCACHE_OWNER_PID])
		state->owner_pid = nla_get_u32(tb[ETMEM_A_SWAPCACHE_OWNER_PID]);
	return 0;
}

int etmem_swapcache_get(struct etmem_client *client,
			struct etmem_swapcache_state *state)
{
	struct nl_msg *msg = etmem_req_new(client, ETMEM_CMD_SWAPCACHE_GET, 0);

	memset(state, 0, sizeof(*state));
	if (!msg)
		return -ENOMEM;
	return etmem_req_run(client, msg, parse_swapcache_state, state);
}

static int parse_status(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct etmem_status *st = arg;

	if (tb[ETMEM_A_SWAP_MODULE_LOADED])
		st->swap_loaded = nla_get_u8(tb[ETMEM_A_SWAP_MODULE_LOADED]);
	if (tb[ETMEM_A_SWAPFLAG_NR_PROCS])
		st->swapflag_nr_procs = nla_get_u32(tb[ETMEM_A_SWAPFLAG_NR_PROCS]);
	if (tb[ETMEM_A_TLB_FLUSH_ROUNDS])
		st->tlb_flush_rounds = nla_get_u64(tb[ETMEM_A_TLB_FLUSH_ROUNDS]);
	if (tb[ETMEM_A_SCAN_TABLES_READ])
		st->scan_tables_read = nla_get_u64(tb[ETMEM_A_SCAN_TABLES_READ]);
	if (tb[ETMEM_A_SCAN_TABLES_SKIPPED])
		st->scan_tables_skipped = nla_get_u64(tb[ETMEM_A_SCAN_TABLES_SKIPPED]);
	if (tb[ETMEM_A_SCAN_TABLES_HOT_SKIPPED])
		st->scan_tables_hot_skipped = nla_get_u64(tb[ETMEM_A_SCAN_TABLES_HOT_SKIPPED]);
	return 0;
}

int etmem_status(struct etmem_client *client, struct etmem_status *status)
{
	struct nl_msg *msg = etmem_req_new(client, ETMEM_CMD_STATUS, 0);

	memset(status, 0, sizeof(*status));
	if (!msg)
		return -ENOMEM;
	return etmem_req_run(client, msg, parse_status, status);
}
