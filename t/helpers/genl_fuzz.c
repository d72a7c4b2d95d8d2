// SPDX-License-Identifier: GPL-2.0
/*
 * genl_fuzz SECONDS SEED PID...: send random requests to the etmem
 * generic netlink family for SECONDS: every command number (known ones,
 * 0 and a few past the end), with and without NLM_F_DUMP, carrying random
 * sets of attributes of every type (and a few unknown ones), of the right
 * size or of random sizes, nested ranges with random, real or reversed
 * addresses, pids among the given ones (and random ones). Each request
 * asks for an ack; every answer is read. Prints what was sent and the
 * answers by errno; exits 1 if the family stops answering or a request
 * gets no answer within 10 s.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/etmem.h>

#define NR_CMDS		(ETMEM_CMD_MAX + 3)
#define NR_ERRNOS	140

static uint32_t *pids;
static int nr_pids;
static uint64_t counts[NR_CMDS][NR_ERRNOS + 1];	/* [cmd][errno], last: other */
static uint64_t sent, timeouts;

static uint64_t rnd64(void)
{
	return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^ (uint64_t)random();
}

static uint64_t pick_addr(void)
{
	static const uint64_t interesting[] = {
		0, 1, 4095, 4096, 0x400000, 0x7fffffffe000ull, 0x7ffffffff000ull,
		0x800000000000ull, ~0ull, ~0ull - 4095, 1ull << 63, 0x200000, 0x1fffff,
	};

	switch (random() % 4) {
	case 0:
		return interesting[random() % (sizeof(interesting) / sizeof(interesting[0]))];
	case 1:
		return rnd64();
	default:
		/* Where user mappings live. */
		return (0x550000000000ull + (rnd64() % 0x2b0000000000ull)) & ~0xfffull;
	}
}

/* The size an attribute's policy wants, 0 for binary or nested. */
static int attr_size(int type)
{
	switch (type) {
	case ETMEM_A_CHUNK_PAGE_SHIFT: case ETMEM_A_SWAPFLAG_MARK:
	case ETMEM_A_SWAPCACHE_RECLAIM: case ETMEM_A_KERNEL_SWAP_ENABLE:
	case ETMEM_A_SWAP_MODULE_LOADED:
		return 1;
	case ETMEM_A_PID: case ETMEM_A_SCAN_FLAGS: case ETMEM_A_CHUNK_NR_PAGES:
	case ETMEM_A_SWAP_FLAGS: case ETMEM_A_SWAPCACHE_LOW: case ETMEM_A_SWAPCACHE_HIGH:
	case ETMEM_A_SWAPCACHE_EVENT: case ETMEM_A_SWAPFLAG_NR_PROCS:
		return 4;
	case ETMEM_A_RANGE: case ETMEM_A_CHUNK_STATES: case ETMEM_A_PAD:
		return 0;
	default:
		return 8;
	}
}

static void put_range(struct nl_msg *msg)
{
	struct nlattr *nest = nla_nest_start(msg, ETMEM_A_RANGE);
	uint64_t start = pick_addr(), end = pick_addr();
	int n = random() % 4;

	if (!nest)
		return;
	if (random() % 3 == 0 && start > end) {
		uint64_t t = start;

		start = end;
		end = t;
	}
	if (n != 1)
		nla_put_u64(msg, ETMEM_A_RANGE_START, start);
	if (n != 2)
		nla_put_u64(msg, ETMEM_A_RANGE_END, end);
	if (n == 3) {	/* a stray attribute of random type and size in the nest */
		char junk[16];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = random();
		nla_put(msg, random() % 5, random() % 17, junk);
	}
	nla_nest_end(msg, nest);
}

static void put_attr(struct nl_msg *msg)
{
	int type = random() % (ETMEM_A_MAX + 4);
	int size = attr_size(type);
	unsigned char buf[64];
	uint64_t v;

	if (type == ETMEM_A_RANGE && random() % 4) {
		put_range(msg);
		return;
	}
	if (type == ETMEM_A_PID && random() % 4) {
		uint32_t pid = random() % 8 ? pids[random() % nr_pids] : (uint32_t)random();

		nla_put_u32(msg, type, pid);
		return;
	}
	v = random() % 3 ? (uint64_t)(random() % 130) : rnd64();
	if (size && random() % 5) {
		memcpy(buf, &v, size);
		nla_put(msg, type, size, buf);
		return;
	}
	size = random() % 3 ? random() % 9 : random() % (int)sizeof(buf);
	for (int i = 0; i < size; i++)
		buf[i] = random();
	nla_put(msg, type, size, buf);
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	*(int *)arg = err->error;
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	*(int *)arg = 0;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

int main(int argc, char **argv)
{
	struct timeval tv = { .tv_sec = 10 };
	struct nl_sock *sk;
	struct nl_cb *cb;
	time_t end;
	int family, answer;

	if (argc < 4) {
		fprintf(stderr, "usage: genl_fuzz SECONDS SEED PID...\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[1]);
	srandom(strtoul(argv[2], NULL, 0));
	nr_pids = argc - 3;
	pids = calloc(nr_pids, sizeof(*pids));
	for (int i = 0; i < nr_pids; i++)
		pids[i] = strtoul(argv[3 + i], NULL, 0);

	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk)) {
		fprintf(stderr, "genl_fuzz: cannot open a generic netlink socket\n");
		return 1;
	}
	family = genl_ctrl_resolve(sk, ETMEM_FAMILY_NAME);
	if (family < 0) {
		fprintf(stderr, "genl_fuzz: family %s not found\n", ETMEM_FAMILY_NAME);
		return 1;
	}
	nl_socket_set_buffer_size(sk, 1 << 20, 1 << 20);
	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &answer);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_finish, &answer);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &answer);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, NULL);

	while (time(NULL) < end) {
		struct nl_msg *msg = nlmsg_alloc_size(65536);
		int cmd = random() % NR_CMDS;
		int flags = NLM_F_ACK | (random() % 4 == 0 ? NLM_F_DUMP : 0);
		int nattrs = random() % 6 == 0 ? random() % 300 : random() % 8;
		int ret, e;

		if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
					 random() % 8 ? ETMEM_FAMILY_VERSION : random() % 256)) {
			fprintf(stderr, "genl_fuzz: cannot build a message\n");
			return 1;
		}
		for (int i = 0; i < nattrs; i++)
			put_attr(msg);
		answer = 1;
		ret = nl_send_auto(sk, msg);
		nlmsg_free(msg);
		if (ret < 0) {
			counts[cmd][NR_ERRNOS]++;
			continue;
		}
		sent++;
		/* Read until the ack, the error or the end of a dump. */
		while (answer == 1) {
			ret = nl_recvmsgs(sk, cb);
			if (ret == -NLE_AGAIN) {
				timeouts++;
				fprintf(stderr, "genl_fuzz: no answer to command %d in 10 s\n", cmd);
				break;
			}
			if (ret < 0) {
				if (answer == 1)	/* not the kernel's error: a libnl one */
					answer = -NR_ERRNOS;
				break;
			}
		}
		e = answer < 0 ? -answer : 0;
		counts[cmd][e < NR_ERRNOS ? e : NR_ERRNOS]++;
	}

	printf("sent %" PRIu64 " requests, %" PRIu64 " without an answer\n", sent, timeouts);
	for (int cmd = 0; cmd < NR_CMDS; cmd++) {
		printf("cmd %d:", cmd);
		for (int e = 0; e <= NR_ERRNOS; e++)
			if (counts[cmd][e])
				printf(" %s=%" PRIu64, e == NR_ERRNOS ? "other" : e ? strerror(e) : "ok",
				       counts[cmd][e]);
		printf("\n");
	}
	/* The family still answers a plain request (EPERM for a non-root caller). */
	{
		struct nl_msg *msg = nlmsg_alloc();
		int ret = 0;

		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_ACK, ETMEM_CMD_STATUS,
			    ETMEM_FAMILY_VERSION);
		answer = 1;
		if (nl_send_auto(sk, msg) < 0)
			answer = -NR_ERRNOS;
		while (answer == 1 && (ret = nl_recvmsgs(sk, cb)) >= 0)
			;
		nlmsg_free(msg);
		if (answer != 0 && answer != -EPERM) {
			printf("the family does not answer STATUS afterwards (%d, %d)\n", answer, ret);
			return 1;
		}
	}
	printf("STATUS still answered (%s)\n", answer ? strerror(-answer) : "ok");
	nl_cb_put(cb);
	nl_socket_free(sk);
	return timeouts ? 1 : 0;
}
