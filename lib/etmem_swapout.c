// SPDX-License-Identifier: GPL-2.0
/*
 * Swap requests: the kernel (etmem_swap.ko) re-checks and approves pages,
 * then process_madvise(MADV_PAGEOUT) pages out exactly the approved ones.
 * A reply holds at most ETMEM_MAX_RANGES ranges (one process_madvise call);
 * a full reply names where checking stopped and the next round goes on
 * from there.
 */
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "etmem_genl.h"
#include "etmem_genl_priv.h"

struct swap_reply {
	struct etmem_swap_result counts;
	struct iovec iov[ETMEM_MAX_RANGES];	/* approved ranges */
	size_t nr_iov;
	uint64_t resume_addr;			/* 0: request checked fully */
};

static int add_approved(const struct etmem_range *r, void *arg)
{
	struct swap_reply *reply = arg;

	if (reply->nr_iov == ETMEM_MAX_RANGES || r->end <= r->start)
		return -EBADMSG;
	reply->iov[reply->nr_iov].iov_base = (void *)(uintptr_t)r->start;
	reply->iov[reply->nr_iov].iov_len = r->end - r->start;
	reply->nr_iov++;
	return 0;
}

static int parse_swap_reply(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct swap_reply *reply = arg;
	struct etmem_swap_result *c = &reply->counts;

	c->nr_eligible += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_ELIGIBLE]);
	c->nr_young += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_YOUNG]);
	c->nr_locked += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_LOCKED]);
	c->nr_shared += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_SHARED]);
	c->nr_hugetlb += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_HUGETLB]);
	c->nr_unmarked += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_UNMARKED]);
	c->nr_absent += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_ABSENT]);
	c->nr_unevictable += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_UNEVICTABLE]);
	c->nr_not_swapcache += etmem_attr_u64(tb[ETMEM_A_SWAP_NR_NOT_SWAPCACHE]);
	reply->resume_addr = etmem_attr_u64(tb[ETMEM_A_SWAP_RESUME_ADDR]);
	return etmem_for_each_range(nlh, add_approved, reply);
}

/* Page out exactly the approved ranges; returns bytes advised or -errno. */
static int64_t pageout_approved(struct etmem_client *client, int pidfd,
				struct iovec *iov, size_t nr_iov)
{
	int64_t total = 0;

	while (nr_iov > 0) {
		ssize_t n = process_madvise(pidfd, iov, nr_iov, MADV_PAGEOUT, 0);

		if (n < 0) {
			int err = errno;

			/*
			 * The kernel's check just found the memory through a
			 * live thread; process_madvise() resolves it through
			 * the thread-group leader only, which has none once
			 * main() called pthread_exit().
			 */
			if (err == ESRCH)
				etmem_set_errmsg(client,
						 "process_madvise(MADV_PAGEOUT): %s (a process whose main thread exited cannot be paged out: process_madvise() reaches memory through the main thread)",
						 strerror(err));
			else
				etmem_set_errmsg(client, "process_madvise(MADV_PAGEOUT): %s",
						 strerror(err));
			return total ? total : -err;
		}
		if (n == 0)
			break;
		total += n;
		/* A partial result: skip what was done and go on. */
		while (nr_iov > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			nr_iov--;
		}
		if (nr_iov > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return total;
}

/*
 * One round: ask the kernel to check ranges[0..nr) starting at @from
 * and page out what it approves. Sets *resume when the reply filled up.
 */
static int swap_round(struct etmem_client *client, int pidfd, pid_t pid,
		      const struct etmem_range *ranges, size_t nr,
		      uint64_t from, uint32_t swap_flags, struct swap_reply *reply,
		      struct etmem_swap_result *total)
{
	struct nl_msg *msg;
	int64_t advised;
	int ret;

	msg = etmem_req_new(client, ETMEM_CMD_SWAP, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, ETMEM_A_PID, (uint32_t)pid) ||
	    etmem_put_ranges(msg, ranges, nr) ||
	    (from && nla_put_u64(msg, ETMEM_A_SWAP_RESUME_ADDR, from)) ||
	    nla_put_u32(msg, ETMEM_A_SWAP_FLAGS, swap_flags)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	memset(&reply->counts, 0, sizeof(reply->counts));
	reply->nr_iov = 0;
	reply->resume_addr = 0;
	ret = etmem_req_run(client, msg, parse_swap_reply, reply);
	if (ret)
		return ret;
	total->nr_eligible += reply->counts.nr_eligible;
	total->nr_young += reply->counts.nr_young;
	total->nr_locked += reply->counts.nr_locked;
	total->nr_shared += reply->counts.nr_shared;
	total->nr_hugetlb += reply->counts.nr_hugetlb;
	total->nr_unmarked += reply->counts.nr_unmarked;
	total->nr_absent += reply->counts.nr_absent;
	total->nr_unevictable += reply->counts.nr_unevictable;
	total->nr_not_swapcache += reply->counts.nr_not_swapcache;
	advised = pageout_approved(client, pidfd, reply->iov, reply->nr_iov);
	if (advised < 0)
		return (int)advised;
	total->bytes_advised += (uint64_t)advised;
	return 0;
}

int etmem_swap_out_pidfd(struct etmem_client *client, int pidfd, pid_t pid,
			 const struct etmem_range *ranges, size_t nr_ranges,
			 uint32_t swap_flags, struct etmem_swap_result *result)
{
	struct etmem_swap_result total = { 0 };
	struct etmem_range batch[ETMEM_MAX_RANGES];
	struct swap_reply *reply;
	size_t idx = 0, nr;
	uint64_t cut = 0;	/* where checking resumes inside ranges[idx] */
	int ret = 0;

	client->errmsg[0] = '\0';
	if (pid <= 0) {
		etmem_set_errmsg(client, "swap needs a process id > 0");
		return -EINVAL;
	}
	if (pidfd < 0) {
		etmem_set_errmsg(client, "swap needs a pidfd of process %d", (int)pid);
		return -EBADF;
	}
	reply = malloc(sizeof(*reply));
	if (!reply)
		return -ENOMEM;
	/* No ranges: the whole address space, resumed by address. */
	while (nr_ranges == 0) {
		ret = swap_round(client, pidfd, pid, NULL, 0, cut, swap_flags,
				 reply, &total);
		if (ret || !reply->resume_addr)
			break;
		if (reply->resume_addr <= cut) {
			etmem_set_errmsg(client, "swap reply made no progress");
			ret = -EPROTO;
			break;
		}
		cut = reply->resume_addr;
	}
	while (idx < nr_ranges) {
		nr = nr_ranges - idx;
		if (nr > ETMEM_MAX_RANGES)
			nr = ETMEM_MAX_RANGES;
		memcpy(batch, ranges + idx, nr * sizeof(*batch));
		if (cut > batch[0].start)
			batch[0].start = cut;
		ret = swap_round(client, pidfd, pid, batch, nr, 0, swap_flags,
				 reply, &total);
		if (ret)
			break;
		if (!reply->resume_addr) {
			idx += nr;
			cut = 0;
			continue;
		}
		/* The reply filled up: go on from where the kernel stopped. */
		if (reply->resume_addr <= batch[0].start) {
			etmem_set_errmsg(client, "swap reply made no progress");
			ret = -EPROTO;
			break;
		}
		while (idx < nr_ranges && ranges[idx].end <= reply->resume_addr)
			idx++;
		cut = reply->resume_addr;
	}
	free(reply);
	if (result)
		*result = total;
	return ret;
}

int etmem_swap_out(struct etmem_client *client, pid_t pid,
		   const struct etmem_range *ranges, size_t nr_ranges,
		   uint32_t swap_flags, struct etmem_swap_result *result)
{
	int pidfd, ret;

	client->errmsg[0] = '\0';
	if (pid <= 0) {
		etmem_set_errmsg(client, "swap needs a process id > 0");
		return -EINVAL;
	}
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		ret = -errno;
		etmem_set_errmsg(client, "pidfd_open(%d): %s", (int)pid, strerror(errno));
		return ret;
	}
	ret = etmem_swap_out_pidfd(client, pidfd, pid, ranges, nr_ranges,
				   swap_flags, result);
	close(pidfd);
	return ret;
}
