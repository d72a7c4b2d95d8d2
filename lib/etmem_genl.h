/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space client of the "etmem" generic netlink family (libnl-genl-3).
 *
 * Every function returns 0 or a negative errno. When the kernel attached an
 * extended-ack message to a rejection, etmem_client_errmsg() returns it
 * until the next call on the same client; otherwise it returns "".
 *
 * A client is one netlink socket and is not thread-safe: give each thread
 * its own (etmemd's workers each open one).
 */
#ifndef ETMEM_GENL_H
#define ETMEM_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/etmem.h>

struct etmem_client;

struct etmem_range {
	uint64_t start;	/* inclusive */
	uint64_t end;	/* exclusive */
};

/* One run of same-sized pages, as the scan command streams them. */
struct etmem_chunk {
	uint64_t addr;		/* address of the first page */
	unsigned int page_shift;	/* 12 or 21 */
	uint32_t nr_pages;
	const uint8_t *states;	/* 2 bits a page: enum etmem_page_state */
	/*
	 * With ETMEM_SCAN_FLAGS_IDLE_AGES, one byte a page: consecutive scans
	 * that found it mapped and idle (0 accessed or absent, at most
	 * ETMEM_IDLE_AGE_MAX, ETMEM_IDLE_AGE_UNKNOWN without history);
	 * NULL otherwise.
	 */
	const uint8_t *idle_ages;
	/*
	 * Only when the scan asked for ETMEM_SCAN_FLAGS_RUNS, and the module
	 * found the chunk shorter that way: its units as nr_runs runs (in
	 * address order, adding up to nr_pages), states and idle_ages NULL.
	 * Otherwise runs is NULL. etmem_chunk_next_run() reads either form.
	 */
	const struct etmem_scan_run *runs;
	uint32_t nr_runs;
	bool run_ages;		/* the runs' ages are real (the scan asked for them) */
};

/* Unit @i's state; only for a chunk with states (runs == NULL). */
static inline enum etmem_page_state
etmem_chunk_state(const struct etmem_chunk *chunk, uint32_t i)
{
	return (enum etmem_page_state)((chunk->states[i / 4] >> (2 * (i % 4))) & 3);
}

/*
 * Walking a chunk run by run, whichever form it came in: a run is
 * nr_units consecutive units (of 1 << page_shift bytes) from unit first,
 * all in one state with one idle age (ETMEM_IDLE_AGE_UNKNOWN when the
 * chunk has no ages). Start with a zeroed cursor; each call fills *run
 * and returns true, false after the last one.
 */
struct etmem_chunk_cursor {
	uint32_t next_unit;	/* the unit after the last run returned */
	uint32_t next_run;	/* for chunks that came as runs */
};
struct etmem_unit_run {
	uint32_t first, nr_units;
	enum etmem_page_state state;
	uint8_t idle_age;
};
bool etmem_chunk_next_run(const struct etmem_chunk *chunk,
			  struct etmem_chunk_cursor *cur, struct etmem_unit_run *run);

/*
 * Whether a unit counts as accessed in this scan: ACCESSED, or RECENT
 * (ETMEM_SCAN_FLAGS_SAMPLE_HOT: its table was found all accessed in its
 * last reads and left unread; counting it accessed can only keep it
 * resident, never page it out early).
 */
static inline int etmem_state_accessed(enum etmem_page_state state)
{
	return state == ETMEM_PAGE_STATE_ACCESSED || state == ETMEM_PAGE_STATE_RECENT;
}

/* Return 0 to go on, anything else to stop the scan and have it returned. */
typedef int (*etmem_scan_cb)(const struct etmem_chunk *chunk, void *arg);

struct etmem_swap_result {
	uint64_t nr_eligible;	/* pages the kernel approved */
	uint64_t nr_young;	/* skipped: accessed since the scan */
	uint64_t nr_locked;
	uint64_t nr_shared;
	uint64_t nr_hugetlb;
	uint64_t nr_unmarked;
	uint64_t nr_absent;	/* not resident: nothing to do */
	uint64_t nr_unevictable;
	uint64_t nr_not_swapcache;	/* skipped: not in the swapcache (SWAPCACHE_ONLY) */
	uint64_t bytes_advised;	/* what process_madvise(MADV_PAGEOUT) accepted */
	/*
	 * The outcome, read from /proc/PID/pagemap for the approved ranges
	 * right after process_madvise(): pages no longer present (swapped
	 * out, or clean file pages dropped), and pages still present, split
	 * into private anonymous ones (they need a free swap slot) and file
	 * or shared ones.
	 */
	uint64_t bytes_out;
	uint64_t nr_kept_anon;
	uint64_t nr_kept_file;
};

struct etmem_swapcache_state {
	uint32_t low_pct, high_pct;
	bool reclaim;
	pid_t owner_pid;		/* who set the watermarks; 0: nobody alive */
	uint64_t swapcache_bytes;
	uint64_t totalram_bytes;
};

struct etmem_swapcache_ntf {
	enum etmem_swapcache_event type;
	uint32_t low_pct, high_pct;
	uint64_t swapcache_bytes;
	uint64_t totalram_bytes;
};

int etmem_client_open(struct etmem_client **out);
void etmem_client_close(struct etmem_client *client);
/* With NULL: why this thread's last etmem_client_open() failed. */
const char *etmem_client_errmsg(const struct etmem_client *client);
/*
 * What to do when the family is missing, for a message: install the
 * modules, or, on a kernel that cannot load modules (no /proc/modules),
 * that they cannot run there. A static string.
 */
const char *etmem_modules_hint(void);

/* Which parts of the family are there. */
struct etmem_status {
	bool swap_loaded;		/* etmem_swap.ko attached its commands */
	uint32_t swapflag_nr_procs;	/* processes with swap-flag marks */
	uint64_t tlb_flush_rounds;	/* TLB flush rounds of scans since load */
	uint64_t scan_tables_read;	/* PTE tables scans read entry by entry */
	uint64_t scan_tables_skipped;	/* PTE tables reported from history */
	uint64_t scan_tables_hot_skipped; /* PTE tables left unread as hot (RECENT) */
};
int etmem_status(struct etmem_client *client, struct etmem_status *status);

/* Scan a process: nr_ranges == 0 means its whole address space. */
int etmem_scan(struct etmem_client *client, pid_t pid,
	       const struct etmem_range *ranges, size_t nr_ranges,
	       uint32_t scan_flags, etmem_scan_cb cb, void *arg);
/*
 * The same with ETMEM_A_SCAN_MIN_IDLE_AGE: @min_idle_age (1..254, needs
 * ETMEM_SCAN_FLAGS_IDLE_AGES; 0 leaves it out) makes the kernel report
 * every idle age at or above it as it ("idle for at least N scans"). The
 * kernel refuses 255 with -ERANGE and a cap without IDLE_AGES with
 * -EINVAL (above 255: -ERANGE here); an etmem_scan module older than the
 * attribute refuses it with -EINVAL as well.
 */
int etmem_scan_min_age(struct etmem_client *client, pid_t pid,
		       const struct etmem_range *ranges, size_t nr_ranges,
		       uint32_t scan_flags, unsigned int min_idle_age,
		       etmem_scan_cb cb, void *arg);

/*
 * Page out cold ranges of a process: the kernel re-checks every page and
 * approves the eligible ones, then process_madvise(MADV_PAGEOUT) reclaims
 * exactly those. nr_ranges == 0 means the whole address space. Ranges are
 * page aligned and sorted. @result may be NULL.
 *
 * What left RAM is counted from /proc/PID/pagemap (result->bytes_out), so
 * the caller must be able to open it: mode 0400 and the process's user's,
 * behind the ptrace read check (CAP_DAC_READ_SEARCH for another user's
 * process, CAP_SYS_PTRACE for one with capabilities the caller lacks).
 * When it cannot and the kernel approved pages, nothing is paged out:
 * -EACCES (or -EPERM) with the reason in the error message. The kernel's
 * own refusal (-EPERM without CAP_SYS_ADMIN for another process) comes
 * first. process_madvise() asks for CAP_SYS_NICE on top.
 */
int etmem_swap_out(struct etmem_client *client, pid_t pid,
		   const struct etmem_range *ranges, size_t nr_ranges,
		   uint32_t swap_flags, struct etmem_swap_result *result);

/*
 * The same for a process the caller holds as a pidfd (pidfd_open) of
 * @pid. Callers that identified the process earlier (by pid and start
 * time) open the pidfd, check the identity again, and pass it here: the
 * page-out then reaches that process or, if it has exited in between, none
 * (-ESRCH), never a process that was given the same pid since.
 */
int etmem_swap_out_pidfd(struct etmem_client *client, int pidfd, pid_t pid,
			 const struct etmem_range *ranges, size_t nr_ranges,
			 uint32_t swap_flags, struct etmem_swap_result *result);

/*
 * etmem_swap_out_pidfd() that also calls @approved (if not NULL) with each
 * range the kernel approved, in address order, before it is paged out;
 * the pages of @ranges it is not called with were refused (counted in
 * @result by reason: young, locked, shared, ...). A non-zero return from
 * @approved ends the page-out with that error.
 */
typedef int (*etmem_range_fn)(const struct etmem_range *range, void *arg);
int etmem_swap_out_pidfd_approved(struct etmem_client *client, int pidfd, pid_t pid,
				  const struct etmem_range *ranges, size_t nr_ranges,
				  uint32_t swap_flags, struct etmem_swap_result *result,
				  etmem_range_fn approved, void *arg);

/* Mark (or unmark) ranges of a process as swappable; pid 0 is the caller. */
int etmem_swapflag_set(struct etmem_client *client, pid_t pid,
		       const struct etmem_range *ranges, size_t nr_ranges,
		       bool mark);

/*
 * The marked ranges of a process (pid 0: the caller), sorted; at most
 * @max_ranges are stored, *nr_ranges says how many.
 */
int etmem_swapflag_get(struct etmem_client *client, pid_t pid,
		       struct etmem_range *ranges, size_t max_ranges,
		       size_t *nr_ranges);

/*
 * The stock-kernel replacement of openEuler's madvise(MADV_SWAPFLAG): mark
 * [addr, addr + len) of the calling process swappable (or not). Needs no
 * privilege. Returns 0 or -1 with errno set, like madvise().
 */
int etmem_madvise_swapflag(void *addr, size_t len, bool mark);

int etmem_swapcache_set(struct etmem_client *client, uint32_t low_pct,
			uint32_t high_pct, bool reclaim);
int etmem_swapcache_get(struct etmem_client *client,
			struct etmem_swapcache_state *state);


/* Event listening: a client that joined the swapcache multicast group. */
int etmem_events_open(struct etmem_client **out);
/*
 * Waits up to timeout_ms (-1: forever); -ETIMEDOUT when nothing came.
 * Returns 0 with *event filled, or ETMEM_EVENTS_FAMILY_GONE when the
 * etmem family went away (module unloaded), ETMEM_EVENTS_FAMILY_BACK when
 * it came back and the client joined its swapcache group again.
 */
#define ETMEM_EVENTS_FAMILY_GONE	1
#define ETMEM_EVENTS_FAMILY_BACK	2
int etmem_events_next(struct etmem_client *client,
		      struct etmem_swapcache_ntf *event, int timeout_ms);
/* Wake the module's swapcache poller (events_open does it once). */
void etmem_events_wake_poller(void);
/* The client's socket, for poll()/epoll in an event loop. */
int etmem_client_fd(const struct etmem_client *client);

#endif /* ETMEM_GENL_H */
