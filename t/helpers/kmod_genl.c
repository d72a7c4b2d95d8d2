// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_genl: drive the etmem family from shell tests through lib/.
 *
 *   kmod_genl status
 *   kmod_genl scan PID [-f FLAGS] [-r START-END]... [-v]
 *   kmod_genl swap PID [-f FLAGS] [-r START-END]...
 *   kmod_genl swapflag-set PID 0|1 [-r START-END]...
 *   kmod_genl swapflag-get PID
 *   kmod_genl swapcache-set LOW HIGH 0|1
 *   kmod_genl swapcache-get
 *   kmod_genl raw CASE     (malformed requests: unknown-attr, wrong-type, flat-nest)
 *   kmod_genl events N TIMEOUT_MS
 *
 * Failures print "error: NAME (errno): extack" and exit 1, so tests can
 * match on the errno name and the kernel's message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "etmem_genl.h"

#define MAX_RANGES 64

static struct etmem_range ranges[MAX_RANGES];
static size_t nr_ranges;
static uint32_t flags;
static unsigned int min_age;	/* -a: ETMEM_A_SCAN_MIN_IDLE_AGE */
static int verbose;

/* The errno's symbolic name (EPERM, ...), as the tests grep for it. */
static const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "E?";
}

static int fail(struct etmem_client *c, int ret)
{
	printf("error: %s (%d): %s\n", errno_name(-ret), -ret,
	       etmem_client_errmsg(c));
	return 1;
}

static void parse_opts(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "a:f:r:v")) != -1) {
		switch (opt) {
		case 'a':
			min_age = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			flags = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			if (nr_ranges == MAX_RANGES ||
			    sscanf(optarg, "%" SCNx64 "-%" SCNx64,
				   &ranges[nr_ranges].start,
				   &ranges[nr_ranges].end) != 2) {
				fprintf(stderr, "bad range %s (want HEX-HEX)\n", optarg);
				exit(2);
			}
			nr_ranges++;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			exit(2);
		}
	}
}

struct scan_sum {
	uint64_t units[2][4];	/* [4K or 2M][state]: RECENT is 3 */
	uint64_t chunks;
	uint64_t run_chunks;	/* chunks that came as runs (ETMEM_SCAN_FLAGS_RUNS) */
};

static int print_chunk(const struct etmem_chunk *chunk, void *arg)
{
	struct scan_sum *sum = arg;
	struct etmem_chunk_cursor cur = { 0 };
	struct etmem_unit_run run;

	sum->chunks++;
	sum->run_chunks += chunk->runs != NULL;
	while (etmem_chunk_next_run(chunk, &cur, &run)) {
		sum->units[chunk->page_shift == 21][run.state] += run.nr_units;
		for (uint32_t i = run.first; verbose && i < run.first + run.nr_units; i++)
			printf("page %#" PRIx64 " %u %d\n",
			       chunk->addr + ((uint64_t)i << chunk->page_shift),
			       chunk->page_shift, run.state);
	}
	return 0;
}

static int cmd_scan(struct etmem_client *c, pid_t pid)
{
	struct scan_sum sum = { 0 };
	int ret = etmem_scan_min_age(c, pid, ranges, nr_ranges, flags, min_age, print_chunk, &sum);

	if (ret)
		return fail(c, ret);
	printf("chunks %" PRIu64 " 4k: absent %" PRIu64 " idle %" PRIu64
	       " accessed %" PRIu64 " 2m: absent %" PRIu64 " idle %" PRIu64
	       " accessed %" PRIu64 " recent: 4k %" PRIu64 " 2m %" PRIu64 " as runs %" PRIu64 "\n",
	       sum.chunks, sum.units[0][0], sum.units[0][1], sum.units[0][2],
	       sum.units[1][0], sum.units[1][1], sum.units[1][2],
	       sum.units[0][3], sum.units[1][3], sum.run_chunks);
	return 0;
}

static int cmd_swap(struct etmem_client *c, pid_t pid)
{
	struct etmem_swap_result r;
	int ret = etmem_swap_out(c, pid, ranges, nr_ranges, flags, &r);

	if (ret)
		return fail(c, ret);
	printf("eligible %" PRIu64 " young %" PRIu64 " locked %" PRIu64
	       " shared %" PRIu64 " hugetlb %" PRIu64 " unmarked %" PRIu64
	       " absent %" PRIu64 " unevictable %" PRIu64 " not_swapcache %" PRIu64
	       " advised %" PRIu64 "\n",
	       r.nr_eligible, r.nr_young, r.nr_locked, r.nr_shared, r.nr_hugetlb,
	       r.nr_unmarked, r.nr_absent, r.nr_unevictable, r.nr_not_swapcache,
	       r.bytes_advised);
	return 0;
}

static int cmd_swapflag_get(struct etmem_client *c, pid_t pid)
{
	struct etmem_range got[ETMEM_MAX_RANGES];
	size_t n, i;
	int ret = etmem_swapflag_get(c, pid, got, ETMEM_MAX_RANGES, &n);

	if (ret)
		return fail(c, ret);
	printf("marked %zu\n", n);
	for (i = 0; i < n; i++)
		printf("range %#" PRIx64 "-%#" PRIx64 "\n", got[i].start, got[i].end);
	return 0;
}

static void put_attr(char *buf, size_t *len, int type, const void *data,
		     size_t size)
{
	struct nlattr *nla = (struct nlattr *)(buf + *len);

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + size;
	memcpy((char *)nla + NLA_HDRLEN, data, size);
	*len += NLA_ALIGN(nla->nla_len);
}

/* Print the errno and extack of the NLMSG_ERROR answering a raw request. */
static int print_raw_answer(const char *which, const char *buf, ssize_t n)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	const char *msg = "";
	size_t off;
	int rem;

	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*err)) || nlh->nlmsg_type != NLMSG_ERROR) {
		printf("raw %s: unexpected answer\n", which);
		return 1;
	}
	off = NLMSG_HDRLEN + sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(err->msg.nlmsg_len - NLMSG_HDRLEN);
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		const struct nlattr *a = (const void *)(buf + off);

		for (rem = nlh->nlmsg_len - off; rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
		     rem -= NLA_ALIGN(a->nla_len),
		     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))
			if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
				msg = (const char *)a + NLA_HDRLEN;
	}
	if (!err->error) {
		printf("raw %s: accepted\n", which);
		return 0;
	}
	printf("error: %s (%d): %s\n", errno_name(-err->error), -err->error, msg);
	return 1;
}

/* Requests the library would never send, over a bare netlink socket. */
static int cmd_raw(const char *which)
{
	char buf[8192] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct nl_sock *sk = nl_socket_alloc();
	uint32_t pid = getpid(), one = 1;
	uint8_t byte = 1;
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	int family, fd;
	ssize_t n;

	if (genl_connect(sk) || (family = genl_ctrl_resolve(sk, ETMEM_FAMILY_NAME)) < 0) {
		printf("error: ENOENT (2): family not found\n");
		return 1;
	}
	nl_socket_free(sk);
	g->cmd = ETMEM_CMD_SWAPFLAG_GET;
	g->version = ETMEM_FAMILY_VERSION;
	if (!strcmp(which, "unknown-attr")) {
		put_attr(buf, &len, ETMEM_A_PID, &pid, 4);
		put_attr(buf, &len, 200, &one, 4);
	} else if (!strcmp(which, "wrong-type")) {
		put_attr(buf, &len, ETMEM_A_PID, &byte, 1);
	} else if (!strcmp(which, "unsupported-attr")) {
		put_attr(buf, &len, ETMEM_A_PID, &pid, 4);
		put_attr(buf, &len, ETMEM_A_SWAPCACHE_LOW, &one, 4);
	} else if (!strcmp(which, "no-pid")) {
		/* nothing: the pid is missing */
	} else if (!strcmp(which, "flat-nest")) {
		uint64_t v = 0;

		g->cmd = ETMEM_CMD_SWAPFLAG_SET;
		put_attr(buf, &len, ETMEM_A_PID, &pid, 4);
		put_attr(buf, &len, ETMEM_A_SWAPFLAG_MARK, &byte, 1);
		put_attr(buf, &len, ETMEM_A_RANGE, &v, 8);	/* no NLA_F_NESTED */
	} else {
		fprintf(stderr, "unknown raw case %s\n", which);
		return 2;
	}
	nlh->nlmsg_len = len;
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	setsockopt(fd, 270 /* SOL_NETLINK */, NETLINK_EXT_ACK, &one, sizeof(one));
	if (send(fd, buf, len, 0) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		perror("raw netlink");
		return 1;
	}
	close(fd);
	return print_raw_answer(which, buf, n);
}

static int cmd_events(int n, int timeout_ms)
{
	struct etmem_client *c;
	struct etmem_swapcache_ntf ev;
	int ret, i;

	ret = etmem_events_open(&c);
	if (ret)
		return fail(NULL, ret);
	printf("listening\n");
	fflush(stdout);
	for (i = 0; i < n; i++) {
		ret = etmem_events_next(c, &ev, timeout_ms);
		if (ret)
			return fail(c, ret);
		printf("event %s low %u high %u bytes %" PRIu64 " total %" PRIu64 "\n",
		       ev.type == ETMEM_SWAPCACHE_EVENT_HIGH ? "high" : "low",
		       ev.low_pct, ev.high_pct, ev.swapcache_bytes, ev.totalram_bytes);
		fflush(stdout);
	}
	etmem_client_close(c);
	return 0;
}

static int run(struct etmem_client *c, const char *cmd, int argc, char **argv)
{
	pid_t pid = argc > 1 ? atoi(argv[1]) : 0;
	struct etmem_swapcache_state st;
	struct etmem_status status;
	int ret;

	if (!strcmp(cmd, "status")) {
		ret = etmem_status(c, &status);
		if (!ret)
			printf("swap_loaded %d swapflag_procs %u tlb_flush_rounds %" PRIu64
			       " scan_tables_read %" PRIu64 " scan_tables_skipped %" PRIu64
			       " scan_tables_hot_skipped %" PRIu64 "\n",
			       status.swap_loaded, status.swapflag_nr_procs,
			       status.tlb_flush_rounds, status.scan_tables_read,
			       status.scan_tables_skipped, status.scan_tables_hot_skipped);
	} else if (!strcmp(cmd, "scan") && argc > 1) {
		parse_opts(argc - 1, argv + 1);
		return cmd_scan(c, pid);
	} else if (!strcmp(cmd, "swap") && argc > 1) {
		parse_opts(argc - 1, argv + 1);
		return cmd_swap(c, pid);
	} else if (!strcmp(cmd, "swapflag-set") && argc > 2) {
		parse_opts(argc - 2, argv + 2);
		ret = etmem_swapflag_set(c, pid, ranges, nr_ranges, atoi(argv[2]));
	} else if (!strcmp(cmd, "swapflag-get") && argc > 1) {
		return cmd_swapflag_get(c, pid);
	} else if (!strcmp(cmd, "swapcache-set") && argc > 3) {
		ret = etmem_swapcache_set(c, atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
	} else if (!strcmp(cmd, "swapcache-get")) {
		ret = etmem_swapcache_get(c, &st);
		if (!ret)
			printf("low %u high %u reclaim %d bytes %" PRIu64 " total %" PRIu64
			       " owner %d\n", st.low_pct, st.high_pct, st.reclaim,
			       st.swapcache_bytes, st.totalram_bytes, (int)st.owner_pid);
	} else {
		fprintf(stderr, "unknown command %s (see the source)\n", cmd);
		return 2;
	}
	if (ret)
		return fail(c, ret);
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct etmem_client *c;
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: kmod_genl COMMAND ARGS (see the source)\n");
		return 2;
	}
	if (!strcmp(argv[1], "raw") && argc > 2)
		return cmd_raw(argv[2]);
	if (!strcmp(argv[1], "events") && argc > 3)
		return cmd_events(atoi(argv[2]), atoi(argv[3]));
	ret = etmem_client_open(&c);
	if (ret)
		return fail(NULL, ret);
	ret = run(c, argv[1], argc - 1, argv + 1);
	etmem_client_close(c);
	return ret;
}
