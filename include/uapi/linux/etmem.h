/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * The "etmem" generic netlink family: page-access scanning, swap requests,
 * swap flags and swapcache watermark events.
 *
 * This header is the single source of truth shared by kmod/, lib/, etmemd/
 * and etmem/. genl-spec/etmem.yaml describes the same family for the
 * kernel's ynl tools; t/host/spec_matches_header.py checks that the two
 * agree. Never renumber anything: add new constants at the end of their
 * enum, just above the __*_MAX / __*_CNT marker.
 */
#ifndef _UAPI_LINUX_ETMEM_H
#define _UAPI_LINUX_ETMEM_H

#include <linux/types.h>

#define ETMEM_FAMILY_NAME	"etmem"
#define ETMEM_FAMILY_VERSION	1

/* The one multicast group: swapcache watermark crossings. */
#define ETMEM_MCGRP_SWAPCACHE	"swapcache"

/*
 * State of one page in a scan chunk, packed four to a byte (two bits a
 * page, page i in bits 2*(i%4)..2*(i%4)+1 of byte i/4).
 */
enum etmem_page_state {
	ETMEM_PAGE_STATE_ABSENT,	/* no page of its own there (hole, swapped out, zero page) */
	ETMEM_PAGE_STATE_IDLE,		/* mapped, not accessed since the last scan */
	ETMEM_PAGE_STATE_ACCESSED,	/* mapped and accessed since the last scan */
	/*
	 * Only with ETMEM_SCAN_FLAGS_SAMPLE_HOT: mapped and accessed at the
	 * last read of its PTE table, which found every mapped page there
	 * accessed several reads in a row; not read in this scan.
	 */
	ETMEM_PAGE_STATE_RECENT,
};

/* Flags of the scan command (ETMEM_A_SCAN_FLAGS). */
enum etmem_scan_flags {
	ETMEM_SCAN_FLAGS_AS_HUGE = 1,		/* report PTE-mapped 2 MiB blocks as one unit */
	ETMEM_SCAN_FLAGS_ANON_ONLY = 2,		/* skip file-backed mappings */
	ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY = 4,	/* only ranges marked with a swap flag */
	ETMEM_SCAN_FLAGS_HUGETLB_ONLY = 8,	/* only hugetlb mappings (vm_flags=ht) */
	ETMEM_SCAN_FLAGS_IDLE_AGES = 16,	/* add ETMEM_A_CHUNK_IDLE_AGES to each chunk */
	ETMEM_SCAN_FLAGS_SAMPLE_HOT = 32,	/* hot PTE tables may be left unread (RECENT) */
	ETMEM_SCAN_FLAGS_RUNS = 64,		/* chunks may come as runs (ETMEM_A_CHUNK_RUNS) */
};

/*
 * With ETMEM_SCAN_FLAGS_RUNS, a chunk whose units form few runs carries
 * them as an array of these (ETMEM_A_CHUNK_RUNS), in address order from
 * ETMEM_A_CHUNK_ADDR and adding up to ETMEM_A_CHUNK_NR_PAGES, instead of
 * ETMEM_A_CHUNK_STATES and ETMEM_A_CHUNK_IDLE_AGES; the module picks the
 * smaller of the two forms for each chunk, so a caller must read both.
 */
struct etmem_scan_run {
	__u16 nr_units;	/* consecutive units with this state and age, >= 1 */
	__u8 state;	/* enum etmem_page_state */
	__u8 idle_age;	/* as in ETMEM_A_CHUNK_IDLE_AGES; 0 without that flag */
};

/*
 * A unit's idle age (ETMEM_A_CHUNK_IDLE_AGES): the number of consecutive
 * scans of the process, ending with this one, that found it mapped and
 * not accessed, at most ETMEM_IDLE_AGE_MAX; 0 for a unit accessed in
 * this scan, RECENT or absent (after a pass that left its table unread
 * as RECENT, a unit found idle has age 1). ETMEM_IDLE_AGE_UNKNOWN for an
 * idle unit without history (PTE tables requested partly, or the
 * pre-check switched off).
 * A scan request may carry ETMEM_A_SCAN_MIN_IDLE_AGE (with IDLE_AGES):
 * every age at or above it is then reported as it, so "idle for at least
 * N scans" is one value and such units run together (ETMEM_SCAN_FLAGS_RUNS).
 */
#define ETMEM_IDLE_AGE_MAX	254
#define ETMEM_IDLE_AGE_UNKNOWN	255

/* Flags of the swap command (ETMEM_A_SWAP_FLAGS). */
enum etmem_swap_flags {
	ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY = 1,	/* refuse pages outside swap-flag marks */
	ETMEM_SWAP_FLAGS_SWAPCACHE_ONLY = 2,	/* approve only pages in the swapcache */
};

/* What a swapcache event reports (ETMEM_A_SWAPCACHE_EVENT). */
enum etmem_swapcache_event {
	ETMEM_SWAPCACHE_EVENT_HIGH = 1,	/* rose above the high watermark */
	ETMEM_SWAPCACHE_EVENT_LOW,	/* fell back below the low watermark */
};

/* One address range, [start, end), inside the ETMEM_A_RANGE nest. */
enum {
	ETMEM_A_RANGE_START = 1,	/* u64 */
	ETMEM_A_RANGE_END,		/* u64 */

	/* add new constants above here */
	__ETMEM_A_RANGE_MAX,
	ETMEM_A_RANGE_MAX = (__ETMEM_A_RANGE_MAX - 1)
};

enum {
	ETMEM_A_PAD = 1,		/* pad for 64-bit attributes */
	ETMEM_A_PID,			/* u32, target process in the caller's pid namespace */
	ETMEM_A_RANGE,			/* nest of ETMEM_A_RANGE_*, may repeat */
	ETMEM_A_SCAN_FLAGS,		/* u32, enum etmem_scan_flags */
	ETMEM_A_CHUNK_ADDR,		/* u64, address of the chunk's first page */
	ETMEM_A_CHUNK_PAGE_SHIFT,	/* u8, 12 (4 KiB) or 21 (2 MiB) */
	ETMEM_A_CHUNK_NR_PAGES,		/* u32, pages in the chunk */
	ETMEM_A_CHUNK_STATES,		/* binary, 2 bits a page (enum etmem_page_state) */
	ETMEM_A_SWAP_FLAGS,		/* u32, enum etmem_swap_flags */
	ETMEM_A_SWAP_NR_ELIGIBLE,	/* u64, pages approved for page-out */
	ETMEM_A_SWAP_NR_YOUNG,		/* u64, skipped: accessed since the scan */
	ETMEM_A_SWAP_NR_LOCKED,		/* u64, skipped: mlocked mapping */
	ETMEM_A_SWAP_NR_SHARED,		/* u64, skipped: mapped by several processes */
	ETMEM_A_SWAP_NR_HUGETLB,	/* u64, skipped: hugetlb mapping */
	ETMEM_A_SWAP_NR_UNMARKED,	/* u64, skipped: no swap flag (SWAPFLAG_ONLY) */
	ETMEM_A_SWAP_NR_ABSENT,		/* u64, not resident (hole or already swapped) */
	ETMEM_A_SWAP_NR_UNEVICTABLE,	/* u64, skipped: special, zero page or unevictable */
	ETMEM_A_SWAPFLAG_MARK,		/* u8, 1 to mark ranges swappable, 0 to unmark */
	ETMEM_A_SWAPCACHE_LOW,		/* u32, low watermark, percent of RAM */
	ETMEM_A_SWAPCACHE_HIGH,		/* u32, high watermark, percent of RAM */
	ETMEM_A_SWAPCACHE_RECLAIM,	/* u8, swapcache reclaim on (1) or off (0) */
	ETMEM_A_SWAPCACHE_BYTES,	/* u64, current swapcache size */
	ETMEM_A_SWAPCACHE_EVENT,	/* u32, enum etmem_swapcache_event */
	ETMEM_A_TOTALRAM_BYTES,		/* u64, RAM the percentages refer to */
	ETMEM_A_KERNEL_SWAP_ENABLE,	/* retired (switch is in user space now) */
	ETMEM_A_SWAP_MODULE_LOADED,	/* u8, whether etmem_swap has attached */
	ETMEM_A_SWAP_RESUME_ADDR,	/* u64, swap reply full: check again from here */
	ETMEM_A_SWAPFLAG_NR_PROCS,	/* u32, processes that have swap-flag marks */
	ETMEM_A_TLB_FLUSH_ROUNDS,	/* u64, TLB flush rounds of scans since load */
	ETMEM_A_SWAP_NR_NOT_SWAPCACHE,	/* u64, skipped: not in the swapcache (SWAPCACHE_ONLY) */
	ETMEM_A_SWAPCACHE_OWNER_PID,	/* u32, process that set the watermarks (0: none) */
	ETMEM_A_SCAN_TABLES_READ,	/* u64, PTE tables scans read entry by entry since load */
	ETMEM_A_SCAN_TABLES_SKIPPED,	/* u64, PTE tables reported from history (PMD bit clear) */
	ETMEM_A_CHUNK_IDLE_AGES,	/* binary, 1 byte a unit: idle age (see above) */
	ETMEM_A_SCAN_TABLES_HOT_SKIPPED, /* u64, PTE tables reported RECENT, unread */
	ETMEM_A_CHUNK_RUNS,		/* binary, struct etmem_scan_run[] (see above) */
	ETMEM_A_SCAN_MIN_IDLE_AGE,	/* u8, 1..254: report older idle ages as this */

	/* add new constants above here */
	__ETMEM_A_MAX,
	ETMEM_A_MAX = (__ETMEM_A_MAX - 1)
};

enum {
	ETMEM_CMD_SCAN = 1,		/* dump: page states of a process */
	ETMEM_CMD_SWAPFLAG_SET,		/* do: mark or unmark ranges as swappable */
	ETMEM_CMD_SWAPFLAG_GET,		/* do: the marked ranges of a process */
	ETMEM_CMD_SWAP,			/* do: check cold ranges before page-out */
	ETMEM_CMD_SWAPCACHE_SET,	/* do: watermarks and reclaim switch */
	ETMEM_CMD_SWAPCACHE_GET,	/* do: watermarks, reclaim switch, size */
	ETMEM_CMD_KERNEL_SWAP_SET,	/* retired: not registered (EOPNOTSUPP) */
	ETMEM_CMD_KERNEL_SWAP_GET,	/* retired: not registered (EOPNOTSUPP) */
	ETMEM_CMD_STATUS,		/* do: which parts of the family are loaded */
	ETMEM_CMD_SWAPCACHE_NTF,	/* event on ETMEM_MCGRP_SWAPCACHE */

	/* add new constants above here */
	__ETMEM_CMD_MAX,
	ETMEM_CMD_MAX = (__ETMEM_CMD_MAX - 1)
};

/*
 * Most address ranges one scan or swap request may carry, and most
 * approved ranges one swap reply carries (process_madvise() takes at most
 * 1024 iovecs, UIO_MAXIOV). A swap reply that fills up stops checking and
 * names ETMEM_A_SWAP_RESUME_ADDR; the caller asks again from there.
 */
#define ETMEM_MAX_RANGES	1024

#endif /* _UAPI_LINUX_ETMEM_H */
