// SPDX-License-Identifier: GPL-2.0
/*
 * Swap requests: the kernel (etmem_swap.ko) re-checks and approves pages,
 * then process_madvise(MADV_PAGEOUT) pages out exactly the approved ones.
 * A reply holds at most ETMEM_MAX_RANGES ranges (one process_madvise call);
 * a full reply names where checking stopped and the next round goes on
 * from there.
 *
 * What the kernel approved and process_madvise() accepted is not yet what
 * left RAM: without a free swap slot an anonymous page stays, and reclaim
 * may refuse a page that was accessed again or is pinned. So after each
 * round the approved ranges are looked up in /proc/PID/pagemap (8 bytes a
 * page, read in one pread() per 512 pages): a page no longer present left
 * RAM; one still present is counted as kept, anonymous or file-backed.
 */
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
	struct iovec approved[ETMEM_MAX_RANGES];	/* the same, kept intact */
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

#define PM_PRESENT	(1ULL << 63)
#define PM_FILE_OR_SHARED	(1ULL << 61)
#define PM_BATCH	512

/*
 * Where the approved pages are now. A pagemap that reads short means the
 * process lost its memory (exited): -ESRCH, nothing counted.
 */
static int count_outcome(struct etmem_client *client, int pagemap_fd,
			 const struct iovec *iov, size_t nr_iov,
			 struct etmem_swap_result *total)
{
	uint64_t entries[PM_BATCH];
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (pagemap_fd < 0 && nr_iov) {
		etmem_set_errmsg(client, "cannot read the process's pagemap to verify the page-out");
		return -ESRCH;
	}
	for (size_t i = 0; i < nr_iov; i++) {
		uint64_t first = (uintptr_t)iov[i].iov_base / page;
		uint64_t end = ((uintptr_t)iov[i].iov_base + iov[i].iov_len + page - 1) / page;

		while (first < end) {
			size_t n = end - first < PM_BATCH ? end - first : PM_BATCH;
			ssize_t got = pread(pagemap_fd, entries, n * sizeof(entries[0]),
					    (off_t)(first * sizeof(entries[0])));

			if (got < 0 || (size_t)got != n * sizeof(entries[0])) {
				etmem_set_errmsg(client, "reading /proc/PID/pagemap: %s",
						 got < 0 ? strerror(errno) : "short read");
				return got < 0 && errno != ESRCH ? -errno : -ESRCH;
			}
			for (size_t k = 0; k < n; k++) {
				if (!(entries[k] & PM_PRESENT))
					total->bytes_out += page;
				else if (entries[k] & PM_FILE_OR_SHARED)
					total->nr_kept_file++;
				else
					total->nr_kept_anon++;
			}
			first += n;
		}
	}
	return 0;
}

/*
 * One round: ask the kernel to check ranges[0..nr) starting at @from
 * and page out what it approves. Sets *resume when the reply filled up.
 */
static int swap_round(struct etmem_client *client, int pidfd, int pagemap_fd, pid_t pid,
		      const struct etmem_range *ranges, size_t nr,
		      uint64_t from, uint32_t swap_flags, struct swap_reply *reply,
		      struct etmem_swap_result *total, etmem_range_fn approved, void *arg)
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
	if (reply->nr_iov && pagemap_fd < 0) {
		/*
		 * What would leave RAM could not be counted, so nothing is
		 * paged out (it once was, and was counted as 0 bytes).
		 * /proc/PID/pagemap is 0400 and the process's user's, and its
		 * open passes the ptrace read check.
		 */
		if (pagemap_fd == -ESRCH)
			/*
			 * 7.x's pagemap_open() finds no mm when the main
			 * thread exited; the kernel's check found the memory
			 * through a live thread.
			 */
			etmem_set_errmsg(client,
					 "cannot open /proc/%d/pagemap to count the page-out: %s (its main thread exited: the process's memory is reachable only through live threads, and neither the pagemap nor process_madvise() uses them)",
					 (int)pid, strerror(ESRCH));
		else if (pagemap_fd == -EACCES || pagemap_fd == -EPERM)
			etmem_set_errmsg(client,
					 "cannot open /proc/%d/pagemap to count the page-out: %s (another user's process needs CAP_DAC_READ_SEARCH; one with capabilities the caller lacks, or not dumpable, needs CAP_SYS_PTRACE)",
					 (int)pid, strerror(-pagemap_fd));
		else
			etmem_set_errmsg(client, "cannot open /proc/%d/pagemap to count the page-out: %s",
					 (int)pid, strerror(-pagemap_fd));
		return pagemap_fd == -ENOENT ? -ESRCH : pagemap_fd;
	}
	for (size_t i = 0; approved && i < reply->nr_iov; i++) {
		struct etmem_range r = {
			.start = (uintptr_t)reply->iov[i].iov_base,
			.end = (uintptr_t)reply->iov[i].iov_base + reply->iov[i].iov_len,
		};

		ret = approved(&r, arg);
		if (ret)
			return ret;
	}
	memcpy(reply->approved, reply->iov, reply->nr_iov * sizeof(reply->iov[0]));
	advised = pageout_approved(client, pidfd, reply->iov, reply->nr_iov);
	if (advised < 0)
		return (int)advised;
	total->bytes_advised += (uint64_t)advised;
	return count_outcome(client, pagemap_fd, reply->approved, reply->nr_iov, total);
}

int etmem_swap_out_pidfd(struct etmem_client *client, int pidfd, pid_t pid,
			 const struct etmem_range *ranges, size_t nr_ranges,
			 uint32_t swap_flags, struct etmem_swap_result *result)
{
	return etmem_swap_out_pidfd_approved(client, pidfd, pid, ranges, nr_ranges, swap_flags,
					     result, NULL, NULL);
}

int etmem_swap_out_pidfd_approved(struct etmem_client *client, int pidfd, pid_t pid,
				  const struct etmem_range *ranges, size_t nr_ranges,
				  uint32_t swap_flags, struct etmem_swap_result *result,
				  etmem_range_fn approved, void *arg)
{
	struct etmem_swap_result total = { 0 };
	struct etmem_range batch[ETMEM_MAX_RANGES];
	struct swap_reply *reply;
	size_t idx = 0, nr;
	uint64_t cut = 0;	/* where checking resumes inside ranges[idx] */
	char path[64];
	int pagemap_fd, ret = 0;

	client->errmsg[0] = '\0';
	if (pid <= 0) {
		etmem_set_errmsg(client, "swap needs a process id > 0");
		return -EINVAL;
	}
	if (pidfd < 0) {
		etmem_set_errmsg(client, "swap needs a pidfd of process %d", (int)pid);
		return -EBADF;
	}
	/*
	 * The pagemap opened under the pid is this process's only if the
	 * process is still alive afterwards (a live process keeps its pid).
	 */
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	/*
	 * Without a pagemap, pagemap_fd holds -errno: swap_round() lets the
	 * kernel's check run first (its refusal, e.g. EPERM for another
	 * process without CAP_SYS_ADMIN, is the authoritative answer) and
	 * pages nothing out that it could not count. A zombie, or a process
	 * whose main thread exited, has no pagemap either: the kernel's check
	 * says why nothing can be paged out.
	 */
	if (pagemap_fd < 0)
		pagemap_fd = -errno;
	/*
	 * EPERM: the process exists, but etmemd may not signal it (a process
	 * of another user; etmemd.service's bounding set has no CAP_KILL).
	 */
	if (pagemap_fd >= 0 && pidfd_send_signal(pidfd, 0, NULL, 0) && errno != EPERM) {
		ret = -errno;
		etmem_set_errmsg(client, "process %d: %s", (int)pid, strerror(errno));
		close(pagemap_fd);
		return ret;
	}
	reply = malloc(sizeof(*reply));
	if (!reply) {
		if (pagemap_fd >= 0)
			close(pagemap_fd);
		return -ENOMEM;
	}
	/* No ranges: the whole address space, resumed by address. */
	while (nr_ranges == 0) {
		ret = swap_round(client, pidfd, pagemap_fd, pid, NULL, 0, cut, swap_flags,
				 reply, &total, approved, arg);
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
		ret = swap_round(client, pidfd, pagemap_fd, pid, batch, nr, 0, swap_flags,
				 reply, &total, approved, arg);
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
	if (pagemap_fd >= 0)
		close(pagemap_fd);
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
