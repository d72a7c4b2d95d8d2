// SPDX-License-Identifier: GPL-2.0
/*
 * ETMEM_CMD_SCAN: stream the accessed/idle state of a process's pages and
 * clear the accessed bits, so that the next scan sees only new accesses.
 *
 * Locking and pacing: the mmap lock is taken for reading for at most
 * SCAN_BATCH_PMDS page-table entries (at most 256 MiB of 4 KiB pages) at a
 * time, then dropped; between batches the walk reschedules and checks
 * that the target still runs the same memory (exit and exec end the dump
 * with their own errno). Each PMD entry is looked at under its lock with
 * etmem_pmd_walk_locked() (access.c). The TLBs are flushed once per dump
 * call that cleared a bit, after the walk (see etmem_flush_tlbs()).
 *
 * The PMD accessed-bit pre-check. x86 sets the accessed bit of a PMD
 * entry that points to a PTE table whenever the MMU walks through it to
 * load a translation, and never clears it; pmd_populate() creates the
 * entry with the bit set. So when a scan reads a whole table, it clears
 * the table's PMD bit (before its PTEs; the one TLB flush of the dump call
 * also drops the CPUs' paging-structure caches, through which a walk could
 * otherwise skip the PMD) and records which entries mapped a page
 * (scan_history.c). On a later pass, a clear PMD bit means that no
 * translation was loaded through the table since: none of its pages was
 * accessed, and none was faulted in by the process (the fault's retry
 * walks the table). The table is then reported from the record (mapped
 * entries idle, the others absent) without reading its 512 PTEs.
 * PTEs changed without a walk (pages unmapped by reclaim or MADV_PAGEOUT,
 * zapped by MADV_DONTNEED or munmap, taken for migration, merged by KSM, a
 * THP split) leave the PMD bit clear too; the history's mmu notifier marks
 * the records of the tables they were in (->invalidate_range_end), and a
 * marked table is read, neither reported from its record nor left unread
 * as hot, so a page gone is never reported idle from a record
 * (scan_history.c says how a change during a read is caught).
 * What the record can miss, and why that is harmless or bounded:
 *  - pages mapped by the kernel for someone else (get_user_pages() of
 *    another process faulting them in, userfaultfd copies) or put back
 *    after a migration (remove_migration_ptes() invalidates nothing) are
 *    reported absent until the process touches them: never called idle;
 *  - an access between the read of its PTE and the dump call's flush
 *    (the rest of that call's walk: milliseconds, more if the walk has to
 *    wait for the mmap lock), through a paging-structure cache, sets the
 *    PTE bit but not the PMD bit: that page is called idle until its
 *    2 MiB is walked again or the next full read.
 * A full read happens at least every pmd_skip_max_passes (at most 32)
 * passes of a table with mapped pages, every SCAN_EMPTY_SKIP_FACTOR times
 * that (at most 32) of a table whose last read found none, and whenever the PMD
 * points to another table than the record's. An empty table (swapped out,
 * or never touched) can only miss pages of the second kind above, which
 * are reported absent, never idle: the longer bound costs no wrong answer,
 * only such pages' late discovery, and spares the steady state most of
 * its full reads (a swapped-out cold set is most of the tables).
 * Where the pre-check does not hold it is off: Xen PV (the hypervisor
 * owns the page tables; arch_has_hw_nonleaf_pmd_young() says so), and
 * before 6.12 for tables with pages mapped, where MGLRU may clear PMD
 * bits of a process with notifiers too (and leave PTE bits set); a table
 * without mapped pages is safe there as well, since a page it may have
 * gained is only ever reported absent. Only tables a request covers whole
 * take part (a partial read must not clear the PMD bit for the rest), and
 * tables VMAs share, below.
 *
 * Tables shared by VMAs. A table whose 2 MiB several VMAs share (a
 * program and its libraries, small mappings, a stack's guard) is walked a
 * share (a VMA's part) at a time. When the request covers every VMA in it
 * in one range (scan_table_groupable()), the first share the pass comes
 * to, if it is the first VMA the request scans there, reports the whole
 * span from that VMA's start to the end of the last one, holes included
 * (absent), in one step under the table's locks, as for a whole table:
 * from the record, RECENT, or read whole (all 512 entries recorded); the
 * walk then passes the other shares by. So such a table is read at most
 * once a pass, is skipped by the pre-check like any other, and no share
 * has its bits cleared without being reported in that same step. The
 * record keeps a hash of the VMAs there (layout_mix()): munmap and mremap
 * change them without a walk through the table, so a table whose VMAs
 * changed is read, never reported from the record. The
 * record is stored before the read (a blank one, table_pfn 0: no page
 * table has pfn 0, x86 reserves the first page), so that a failed store
 * cannot leave a read unrecorded. When the walk lets go of the mmap lock
 * before the step (a chunk to send first), the decision is taken again;
 * when the first share finds no table under the lock, or the walk passed
 * a share by without a table, the other shares are read on their own and
 * the record is dropped.
 *
 * Hot sampling (ETMEM_SCAN_FLAGS_SAMPLE_HOT, asked by the caller). A
 * table whose last HOT_READS_MIN full reads each found every mapped page
 * accessed is read again only every hot_skip_max_passes + 1 passes; in
 * between its mapped pages are reported ETMEM_PAGE_STATE_RECENT (age 0)
 * and nothing is cleared. Its accessed bits then cover every pass since
 * the last read, so the next read sees an access in any of them, unless
 * something else cleared the bit meanwhile (the kernel's reclaim or MGLRU
 * aging, DAMON, KSM): a page found not accessed there is therefore given
 * idle age 1, as if only that read had found it idle, never the passes
 * since its last read (which would make a page whose access was hidden
 * that way look older than it is). The cost is bounded staleness in one
 * direction only: a table that cools down is reported RECENT for at most
 * hot_skip_max_passes more passes, never idle or aged too early.
 *
 * Resuming: the walk position and the chunk being filled live in a state
 * taken by .start and given back by .done (scan_state_new()). A chunk
 * whose message does not fit in the current skb stays pending and goes
 * first into the next one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hugetlb.h>
#include <linux/jhash.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "etmem_internal.h"

#define SCAN_CHUNK_PAGES	8192	/* states per message: 2 KiB */
/*
 * With idle ages a unit takes a byte more: 2048 units make a 2.5 KiB
 * message, which fits the smallest skb a dump falls back to
 * (NLMSG_GOODSIZE) when a larger one cannot be had.
 */
#define SCAN_CHUNK_PAGES_AGES	2048
/*
 * Runs (ETMEM_SCAN_FLAGS_RUNS) replace the states and ages of a chunk only
 * when smaller: at most the 2.5 KiB of a chunk with ages, 4 bytes a run.
 */
#define SCAN_RUNS_MAX		((SCAN_CHUNK_PAGES_AGES / 4 + SCAN_CHUNK_PAGES_AGES) / \
				 sizeof(struct etmem_scan_run))
/*
 * The most passes a table is reported from its record, empty or not: well
 * below HISTORY_PRUNE_PASSES, so a record is never pruned before its due.
 */
#define SCAN_SKIP_PASSES_MAX	32
/* An empty table's bound, in units of pmd_skip_max_passes (see the top). */
#define SCAN_EMPTY_SKIP_FACTOR	4
#define SCAN_BATCH_PMDS		128	/* PMD entries per mmap-lock hold */
/* Full reads finding a table all accessed before hot sampling may skip it. */
#define HOT_READS_MIN		4
/* The most passes in a row a hot table is left unread. */
#define HOT_SKIP_PASSES_MAX	8

static unsigned int pmd_skip_max_passes = 8;
module_param(pmd_skip_max_passes, uint, 0644);
MODULE_PARM_DESC(pmd_skip_max_passes,
		 "most passes a PTE table with pages mapped whose PMD accessed bit stays clear is reported from its last full read, at most 32; 4 times that, at most 32, for a table without (0: read every table every pass, but for hot sampling)");

static unsigned int hot_skip_max_passes = 1;
module_param(hot_skip_max_passes, uint, 0644);
MODULE_PARM_DESC(hot_skip_max_passes,
		 "with the sample-hot scan flag, most passes in a row a PTE table found all accessed in its last 4 reads is left unread, at most 8 (0: read every such table)");

/*
 * Before 6.12, MGLRU's page-table walk clears non-leaf PMD accessed bits
 * even of processes with mmu notifiers, leaving set the PTE bits of
 * folios it does not age: only tables without mapped pages may be
 * reported from their record there (see the comment at the top).
 */
#define SCAN_SKIP_MAPPED_TABLES	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0))

/*
 * Whether the PMD accessed bit can be trusted here (see the top): not
 * under Xen PV, and not where the flush cannot drop user-PCID
 * paging-structure caches (6.19 on, page-table isolation without
 * INVPCID: see flush_local_tlb() in access.c).
 */
static bool scan_history_usable(void)
{
	if (!arch_has_hw_nonleaf_pmd_young())
		return false;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	if (boot_cpu_has(X86_FEATURE_PTI) && !boot_cpu_has(X86_FEATURE_INVPCID))
		return false;
#endif
	return true;
}

static atomic64_t tables_read = ATOMIC64_INIT(0);
static atomic64_t tables_skipped = ATOMIC64_INIT(0);
static atomic64_t tables_hot_skipped = ATOMIC64_INIT(0);

/* Why a walk step stopped early (positive, unlike errors). */
enum { SCAN_EMIT = 1, SCAN_YIELD };

/* Where a pass is with a PTE table that several VMAs share. */
enum scan_group_mode {
	GROUP_PARTIAL,		/* each share read on its own, no record */
	GROUP_PENDING,		/* a record is ready; the first share reports all */
	GROUP_DONE,		/* every share reported: the walk passes them by */
};

struct scan_state {
	struct list_head busy;		/* in scans_running */
	struct mm_struct *mm;		/* mmgrab() reference */
	struct pid *pid;
	pid_t nr;
	u32 flags;
	struct etmem_urange *ranges;
	unsigned int nr_ranges, cur;	/* current range */
	unsigned long addr;		/* where the walk goes on */
	bool walk_done, chunk_full, finished;
	bool cleared;			/* accessed bits cleared, TLBs not flushed */
	struct etmem_scan_history *history; /* NULL: no pre-check */
	u32 pass;			/* this scan's pass in @history */
	u32 skip_passes;		/* pmd_skip_max_passes at the start */
	u32 hot_skip;			/* passes a hot table may stay unread (0: none) */
	struct etmem_table_rec *spare;	/* a record to fill, not stored yet */
	unsigned long last_huge;	/* last huge page reported, + 1 (0: none) */
	int error;			/* deferred rejection, see scan_defer */
	char errmsg[96];
	u8 min_idle_age;		/* ETMEM_A_SCAN_MIN_IDLE_AGE, 0 without */
	/*
	 * The PTE table shared by several VMAs that this pass last came to
	 * (see "Tables shared by VMAs" at the top), the span from the start
	 * of its first VMA the request scans to the end of its last, and
	 * where the pass is with it. All of the span is reported in one
	 * locked step, so that no share's bits are cleared unreported.
	 */
	unsigned long group_table;	/* table address; ~0UL: none yet */
	unsigned long group_start, group_end;
	u32 group_layout;		/* its VMAs (struct etmem_table_rec) */
	enum scan_group_mode group_mode;
	/* the chunk being filled */
	unsigned long chunk_addr;
	unsigned int chunk_shift, chunk_nr;
	/*
	 * From here on, not cleared when a spare state is reused (see
	 * scan_state_new()): states and ages are all zero between chunks
	 * (ages are written only with ETMEM_SCAN_FLAGS_IDLE_AGES).
	 */
	u8 states[SCAN_CHUNK_PAGES / 4];
	u8 ages[SCAN_CHUNK_PAGES] __aligned(4);
	struct etmem_scan_run runs[SCAN_RUNS_MAX]; /* the chunk as runs */
};

/*
 * One walk state kept between scans. At 12 KiB it is above the largest
 * kmalloc cache, so each scan would take order-2 pages from the page
 * allocator and zero them (init_on_alloc is on in Debian's kernels): a
 * daemon that scans a process every second pays that at every scan (a
 * few percent of etmemd's CPU in a quiet cycle, perf under QEMU, 6.12).
 * Taken with xchg() and given back with cmpxchg(): of scans running at
 * once, one reuses it and the others allocate their own.
 */
static struct scan_state *spare_state;

static struct scan_state *scan_state_new(void)
{
	struct scan_state *st = xchg(&spare_state, NULL);

	if (!st)
		return kvzalloc(sizeof(*st), GFP_KERNEL);
	memset(st, 0, offsetof(struct scan_state, states));
	return st;
}

static void scan_state_free(struct scan_state *st)
{
	/* What the last chunk, not sent, left set. */
	memset(st->states, 0, DIV_ROUND_UP(st->chunk_nr, 4));
	if (st->flags & ETMEM_SCAN_FLAGS_IDLE_AGES)
		memset(st->ages, 0, st->chunk_nr);
	if (cmpxchg(&spare_state, NULL, st))
		kvfree(st);
}

/**
 * etmem_scan_dump_exit - free the walk state kept between scans
 *
 * Called at module exit, when no dump can run (a dump holds a reference
 * to the module).
 */
void etmem_scan_dump_exit(void)
{
	kvfree(xchg(&spare_state, NULL));
}

/* One lock hold's worth of walking. */
struct scan_walk {
	struct scan_state *st;
	struct vm_area_struct *vma;
	unsigned int budget;
	bool cleared;			/* some accessed bit was cleared */
	/* the PMD entry being walked: a whole table, or a shared one's first share */
	struct etmem_table_rec *rec;	/* its record, or NULL */
	bool whole_table;
	bool grouped;			/* the first share of a shared table */
	bool store_spare;		/* st->spare now describes it */
	bool changed;			/* its PTEs changed without a walk: read it */
	bool read_whole;		/* its record was filled by a full read */
	unsigned int since;		/* etmem_history_invalidations() before */
	bool store_leaf;		/* a huge page's age to keep: */
	unsigned long leaf_value;	/* etmem_history_leaf_age()'s value */
};

/* Processes being scanned: a second scan of the same mm gets EBUSY. */
static LIST_HEAD(scans_running);
static DEFINE_SPINLOCK(scans_lock);

static struct scan_state *scan_state(struct netlink_callback *cb)
{
	return *(struct scan_state **)cb->ctx;
}

static struct nlattr **scan_request_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/* ---- chunks -------------------------------------------------------- */

/* Whether @n units of 1 << @shift at @addr can extend the current chunk. */
static bool chunk_fits(struct scan_state *st, unsigned long addr,
		       unsigned int shift, unsigned int n)
{
	if (!st->chunk_nr)
		return true;
	return st->chunk_shift == shift &&
	       st->chunk_addr + ((unsigned long)st->chunk_nr << shift) == addr &&
	       st->chunk_nr + n <= (st->flags & ETMEM_SCAN_FLAGS_IDLE_AGES ?
				    SCAN_CHUNK_PAGES_AGES : SCAN_CHUNK_PAGES);
}

static void chunk_open(struct scan_state *st, unsigned long addr,
		       unsigned int shift)
{
	if (st->chunk_nr)
		return;
	st->chunk_addr = addr;
	st->chunk_shift = shift;
}

static inline void chunk_set(u8 *states, unsigned int i, unsigned int state)
{
	states[i / 4] |= state << (2 * (i % 4));
}

static inline unsigned int state_at(const u8 *states, unsigned int i)
{
	return (states[i / 4] >> (2 * (i % 4))) & 3;
}

/* Overwrite (not OR) page @i's state in a record. */
static inline void rec_set_state(u8 *states, unsigned int i, unsigned int state)
{
	states[i / 4] &= ~(3 << (2 * (i % 4)));
	states[i / 4] |= state << (2 * (i % 4));
}

static inline bool want_ages(const struct scan_state *st)
{
	return st->flags & ETMEM_SCAN_FLAGS_IDLE_AGES;
}

/*
 * Mix VMA @v's share [@vs, @ve) of a table into @hash (the record's
 * layout): what a change of the VMAs there, made without a walk through
 * the table, changes.
 */
static u32 layout_mix(u32 hash, const struct vm_area_struct *v,
		      unsigned long vs, unsigned long ve)
{
	const void *backing = v->vm_file ? (const void *)v->vm_file :
			      (const void *)v->anon_vma;
	unsigned long words[5] = { vs, ve, v->vm_pgoff, v->vm_flags,
				   (unsigned long)backing };

	return jhash(words, sizeof(words), hash);
}

/* A recorded age @elapsed passes later, with no access meanwhile. */
static inline u8 age_after(u8 age, u32 elapsed)
{
	return min_t(u32, (u32)age + elapsed, ETMEM_IDLE_AGE_MAX);
}

/*
 * Open or extend the chunk for @n pages at @addr (one 2 MiB unit if
 * @as_huge); false, with the walk to resume at @addr, when the chunk
 * must be sent first.
 */
static bool chunk_make_room(struct scan_state *st, unsigned long addr,
			    bool as_huge, unsigned int n)
{
	unsigned int shift = as_huge ? PMD_SHIFT : PAGE_SHIFT;

	if (!chunk_fits(st, addr, shift, as_huge ? 1 : n)) {
		st->addr = addr;
		return false;
	}
	chunk_open(st, addr, shift);
	return true;
}

/*
 * ETMEM_A_SCAN_MIN_IDLE_AGE: every known age at or above it becomes it
 * ("idle for at least N scans"). Idempotent, so a chunk that did not fit
 * in this skb may go through it again.
 */
static void chunk_cap_ages(struct scan_state *st)
{
	unsigned int i;

	if (!st->min_idle_age)
		return;
	for (i = 0; i < st->chunk_nr; i++)
		if (st->ages[i] > st->min_idle_age &&
		    st->ages[i] != ETMEM_IDLE_AGE_UNKNOWN)
			st->ages[i] = st->min_idle_age;
}

/*
 * The chunk as runs of units with one state and age, into st->runs.
 * Return: the number of runs, or 0 when there would be more than @limit
 * (the chunk then goes as states and ages).
 */
static unsigned int chunk_runs(struct scan_state *st, unsigned int limit)
{
	bool ages = want_ages(st);
	unsigned int i = 0, n = 0;

	BUILD_BUG_ON(SCAN_CHUNK_PAGES > U16_MAX);
	while (i < st->chunk_nr) {
		unsigned int state = state_at(st->states, i), j = i + 1;
		u8 age = ages ? st->ages[i] : 0;

		while (j < st->chunk_nr) {
			/*
			 * Four units of the run at a time: most of a steady
			 * process is long runs (swapped out, or idle).
			 */
			if (!(j % 4) && j + 4 <= st->chunk_nr &&
			    st->states[j / 4] == state * 0x55 &&
			    (!ages || *(const u32 *)&st->ages[j] == age * 0x01010101u)) {
				j += 4;
				continue;
			}
			if (state_at(st->states, j) != state ||
			    (ages && st->ages[j] != age))
				break;
			j++;
		}
		if (n == limit)
			return 0;
		st->runs[n].nr_units = j - i;
		st->runs[n].state = state;
		st->runs[n].idle_age = age;
		n++;
		i = j;
	}
	return n;
}

/* The chunk's units: as runs when asked for and smaller, else states (and ages). */
static int chunk_put_units(struct sk_buff *skb, struct scan_state *st)
{
	unsigned int len = DIV_ROUND_UP(st->chunk_nr, 4);
	unsigned int bytes = len + (want_ages(st) ? st->chunk_nr : 0);
	unsigned int nr_runs = 0;

	chunk_cap_ages(st);
	if (st->flags & ETMEM_SCAN_FLAGS_RUNS)
		nr_runs = chunk_runs(st, min_t(unsigned int, SCAN_RUNS_MAX,
					       (bytes - 1) / sizeof(struct etmem_scan_run)));
	if (nr_runs)
		return nla_put(skb, ETMEM_A_CHUNK_RUNS,
			       nr_runs * sizeof(struct etmem_scan_run), st->runs);
	if (nla_put(skb, ETMEM_A_CHUNK_STATES, len, st->states))
		return -EMSGSIZE;
	if (want_ages(st))
		return nla_put(skb, ETMEM_A_CHUNK_IDLE_AGES, st->chunk_nr, st->ages);
	return 0;
}

static int chunk_emit(struct sk_buff *skb, struct netlink_callback *cb,
		      struct scan_state *st)
{
	unsigned int len = DIV_ROUND_UP(st->chunk_nr, 4);
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &etmem_genl_family, NLM_F_MULTI, ETMEM_CMD_SCAN);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, ETMEM_A_CHUNK_ADDR, st->chunk_addr, ETMEM_A_PAD) ||
	    nla_put_u8(skb, ETMEM_A_CHUNK_PAGE_SHIFT, st->chunk_shift) ||
	    nla_put_u32(skb, ETMEM_A_CHUNK_NR_PAGES, st->chunk_nr) ||
	    chunk_put_units(skb, st)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	memset(st->states, 0, len);
	/* Absent units stay 0; without ages they are not read at all. */
	if (want_ages(st))
		memset(st->ages, 0, st->chunk_nr);
	st->chunk_nr = 0;
	st->chunk_full = false;
	return 0;
}

/* ---- page tables ---------------------------------------------------- */

/* Report a table from its record: mapped pages idle, the others absent. */
static void scan_table_from_record(struct scan_state *st,
				   const struct etmem_table_rec *rec, bool as_huge)
{
	unsigned int i;
	/* After a hot skip: idle for the last pass only (see hot sampling). */
	u32 elapsed = rec->hot_skipped ? 1 : st->pass - rec->aged_pass;

	if (as_huge) {
		u8 youngest = ETMEM_IDLE_AGE_MAX;

		if (want_ages(st)) {
			for (i = 0; i < PTRS_PER_PTE; i++)
				if (state_at(rec->idle_states, i))
					youngest = min(youngest, rec->ages[i]);
			st->ages[st->chunk_nr] = rec->nr_present ?
						 age_after(youngest, elapsed) : 0;
		}
		chunk_set(st->states, st->chunk_nr++,
			  rec->nr_present ? ETMEM_PAGE_STATE_IDLE :
			  ETMEM_PAGE_STATE_ABSENT);
		return;
	}
	/* An empty table's ages are the chunk's zeroes already. */
	if (want_ages(st) && rec->nr_present) {
		for (i = 0; i < PTRS_PER_PTE; i++)
			st->ages[st->chunk_nr + i] =
				state_at(rec->idle_states, i) ?
				age_after(rec->ages[i], elapsed) : 0;
	}
	/* All absent needs nothing: the chunk's states are zero already. */
	if (rec->nr_present && !(st->chunk_nr % 4)) {
		memcpy(st->states + st->chunk_nr / 4, rec->idle_states,
		       sizeof(rec->idle_states));
	} else if (rec->nr_present) {
		for (i = 0; i < PTRS_PER_PTE; i++)
			chunk_set(st->states, st->chunk_nr + i,
				  state_at(rec->idle_states, i));
	}
	st->chunk_nr += PTRS_PER_PTE;
}

/* Report a hot table from its record: mapped pages RECENT, age 0. */
static void scan_table_hot(struct scan_state *st,
			   const struct etmem_table_rec *rec, bool as_huge)
{
	unsigned int i;

	/* Ages: the chunk's are 0 already. */
	if (as_huge) {
		chunk_set(st->states, st->chunk_nr++, ETMEM_PAGE_STATE_RECENT);
		return;
	}
	/*
	 * A record holds 01 (IDLE) for a mapped page and 00 for the others:
	 * or-ing each byte with itself shifted left by one makes every 01
	 * a 11 (RECENT) without touching the next page's bits.
	 */
	if (!(st->chunk_nr % 4)) {
		u8 *dst = st->states + st->chunk_nr / 4;

		for (i = 0; i < sizeof(rec->idle_states); i++)
			dst[i] = rec->idle_states[i] | (rec->idle_states[i] << 1);
	} else {
		for (i = 0; i < PTRS_PER_PTE; i++)
			if (state_at(rec->idle_states, i))
				chunk_set(st->states, st->chunk_nr + i,
					  ETMEM_PAGE_STATE_RECENT);
	}
	st->chunk_nr += PTRS_PER_PTE;
}

/*
 * Entries [@first, @first + @n) of a shared table (see "Tables shared by
 * VMAs" at the top) from its record: mapped pages idle, aged by the passes
 * since the record was made; the others (holes too) absent.
 */
static void scan_span_from_record(struct scan_state *st,
				  const struct etmem_table_rec *rec,
				  unsigned int first, unsigned int n)
{
	u32 elapsed = rec->hot_skipped ? 1 : st->pass - rec->aged_pass;
	unsigned int i;

	for (i = 0; i < n; i++) {
		/* Absent: the chunk's state and age are zero already. */
		if (!state_at(rec->idle_states, first + i))
			continue;
		chunk_set(st->states, st->chunk_nr + i, ETMEM_PAGE_STATE_IDLE);
		if (want_ages(st))
			st->ages[st->chunk_nr + i] =
				age_after(rec->ages[first + i], elapsed);
	}
	st->chunk_nr += n;
}

/* The same for a hot shared table: mapped pages RECENT, age 0. */
static void scan_span_hot(struct scan_state *st, const struct etmem_table_rec *rec,
			  unsigned int first, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (state_at(rec->idle_states, first + i))
			chunk_set(st->states, st->chunk_nr + i, ETMEM_PAGE_STATE_RECENT);
	st->chunk_nr += n;
}

/*
 * Whether the table under @pmdval may be left unread as hot (see hot
 * sampling at the top): the caller asked for it, the record is of this
 * table, its last reads found it all accessed, it was read at most
 * hot_skip_max_passes passes ago, and its PMD accessed bit is set (clear,
 * nothing was loaded through it since: read it, it may be idle now).
 */
static bool scan_table_still_hot(const struct scan_state *st,
				 const struct etmem_table_rec *rec, pmd_t pmdval)
{
	return st->hot_skip && rec && pmd_young(pmdval) &&
	       rec->table_pfn == pmd_pfn(pmdval) &&
	       rec->hot_reads >= HOT_READS_MIN && rec->nr_present &&
	       st->pass - rec->aged_pass <= st->hot_skip;
}

/*
 * Whether the table under @pmdval may be reported from @rec, without
 * reading its PTEs (see the comment at the top).
 */
static bool scan_table_unchanged(const struct scan_state *st,
				 const struct etmem_table_rec *rec, pmd_t pmdval)
{
	u32 bound = rec && !rec->nr_present ?
		    min_t(u32, st->skip_passes * SCAN_EMPTY_SKIP_FACTOR, SCAN_SKIP_PASSES_MAX) :
		    st->skip_passes;

	if (!rec || pmd_young(pmdval) || rec->table_pfn != pmd_pfn(pmdval))
		return false;
	if (!bound || st->pass - rec->pass >= bound)
		return false;
	return rec->nr_present == 0 || SCAN_SKIP_MAPPED_TABLES;
}

/*
 * The first share of a table that several VMAs share, under the PMD lock
 * only (see "Tables shared by VMAs" at the top): the whole span is
 * reported now, as a whole table would be, from the record, RECENT, or
 * read whole (scan_ptes(); ETMEM_WALK_DONE not returned).
 */
static int scan_table_span(struct scan_walk *w, pmd_t pmdval)
{
	struct scan_state *st = w->st;
	struct etmem_table_rec *rec = w->rec;
	unsigned int first = (st->group_start & ~PMD_MASK) >> PAGE_SHIFT;
	unsigned int n = (st->group_end - st->group_start) >> PAGE_SHIFT;

	if (!chunk_make_room(st, st->group_start, false, n))
		return SCAN_EMIT;
	/* Its VMAs changed since the record (munmap, mremap): read it. */
	if (rec->layout != st->group_layout)
		return 0;
	if (!w->changed && scan_table_unchanged(st, rec, pmdval)) {
		scan_span_from_record(st, rec, first, n);
		atomic64_inc(&tables_skipped);
	} else if (!w->changed && scan_table_still_hot(st, rec, pmdval)) {
		scan_span_hot(st, rec, first, n);
		rec->hot_skipped = 1;
		atomic64_inc(&tables_hot_skipped);
	} else {
		return 0;	/* scan_ptes() reads it whole */
	}
	st->group_mode = GROUP_DONE;
	return ETMEM_WALK_DONE;
}

/*
 * A PTE table, under the PMD lock only: one requested whole whose PMD
 * accessed bit is clear is reported idle from its record, and one still
 * hot under hot sampling is reported RECENT from it (both
 * ETMEM_WALK_DONE); any other goes on to scan_ptes().
 */
static int scan_table(pmd_t *pmd, pmd_t pmdval, unsigned long addr,
		      unsigned long end, void *arg)
{
	struct scan_walk *w = arg;
	struct scan_state *st = w->st;
	bool as_huge = st->flags & ETMEM_SCAN_FLAGS_AS_HUGE;

	if (w->grouped)
		return scan_table_span(w, pmdval);
	if (!w->whole_table || is_vm_hugetlb_page(w->vma))
		return 0;
	/* Idle from the record first: a clear PMD bit is the stronger fact. */
	if (!w->changed && scan_table_unchanged(st, w->rec, pmdval)) {
		if (!chunk_make_room(st, addr, as_huge, PTRS_PER_PTE))
			return SCAN_EMIT;
		scan_table_from_record(st, w->rec, as_huge);
		atomic64_inc(&tables_skipped);
		return ETMEM_WALK_DONE;
	}
	if (!w->changed && scan_table_still_hot(st, w->rec, pmdval)) {
		if (!chunk_make_room(st, addr, as_huge, PTRS_PER_PTE))
			return SCAN_EMIT;
		scan_table_hot(st, w->rec, as_huge);
		w->rec->hot_skipped = 1;
		atomic64_inc(&tables_hot_skipped);
		return ETMEM_WALK_DONE;
	}
	return 0;
}

/*
 * The PTEs of [addr, end), one table, under the PMD and PTE locks (see
 * access.c). With AS_HUGE a whole 2 MiB table folds into one unit. A
 * table requested whole is recorded for the PMD accessed-bit pre-check;
 * the first share of a shared table reads all 512 entries into its
 * record and reports its span (see the top).
 */
static int scan_ptes(pmd_t *pmd, pmd_t pmdval, pte_t *pte, unsigned long addr,
		     unsigned long end, void *arg)
{
	struct scan_walk *w = arg;
	struct scan_state *st = w->st;
	unsigned int n = (end - addr) >> PAGE_SHIFT, i;
	bool as_huge = (st->flags & ETMEM_SCAN_FLAGS_AS_HUGE) &&
		       end - addr == PMD_SIZE;
	bool any_present = false, any_young = false;
	unsigned int nr_young = 0;
	struct etmem_table_rec *rec = NULL;
	u8 youngest = ETMEM_IDLE_AGE_UNKNOWN;
	bool known = false;		/* the record held ages of this table */
	bool replaced = false;		/* a page it recorded is another now */
	u32 elapsed = 0;
	/*
	 * The entries read, from @base, and those reported, from @first:
	 * [addr, end), or all of a shared table's and its span.
	 */
	unsigned int first = 0, nr_entries = n;
	pte_t *base = pte;
	unsigned int nr_present = 0, at;
	u8 *chunk_states, *chunk_ages;
	u8 old_states = 0, new_states = 0;
	bool report_pages;

	if (is_vm_hugetlb_page(w->vma))
		return 0;
	if (w->grouped) {
		/* @addr is the span's start (scan_pmd()). */
		first = (addr & ~PMD_MASK) >> PAGE_SHIFT;
		base = pte - first;
		nr_entries = PTRS_PER_PTE;
		n = (st->group_end - addr) >> PAGE_SHIFT;
	}
	if (!chunk_make_room(st, addr, as_huge, n))
		return SCAN_EMIT;
	if (w->whole_table || w->grouped) {
		/*
		 * Cleared before the PTEs are read: a walk from now on sets
		 * it again (the dump call's flush covers cached PMDs).
		 */
		if (pmd_young(pmdval) &&
		    test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmd))
			w->cleared = true;
		rec = w->rec ?: st->spare;
		known = w->rec && w->rec->table_pfn == pmd_pfn(pmdval);
		/*
		 * A first record relies on the bit too: flush even if it was
		 * clear already (cleared by others, without a flush).
		 */
		if (!known)
			w->cleared = true;
		/* After a hot skip: idle for this pass only (see the top). */
		if (known)
			elapsed = rec->hot_skipped ? 1 : st->pass - rec->aged_pass;
	}
	/*
	 * The loop runs for every PTE a scan reads, so what it touches is
	 * kept in locals: the kernel is built with -fno-strict-aliasing, and
	 * each byte stored would otherwise make the compiler load the
	 * counters and pointers behind @st, @rec and @w again. A record's
	 * states are read and written a byte (4 entries) at a time; a record
	 * covers all PTRS_PER_PTE entries (whole or grouped table), a
	 * multiple of 4.
	 */
	BUILD_BUG_ON(PTRS_PER_PTE % 4);
	if (WARN_ON_ONCE(rec && nr_entries != PTRS_PER_PTE))
		return 0;
	chunk_states = st->states;
	chunk_ages = want_ages(st) && !as_huge ? st->ages : NULL;
	at = st->chunk_nr - first;	/* entry i goes to unit at + i */
	report_pages = !as_huge;
	for (i = 0; i < nr_entries; i++) {
		unsigned int shift = 2 * (i % 4);
		pte_t val = ptep_get(base + i);
		bool young, was_present;
		u8 age, tag;

		if (rec && !shift) {
			old_states = rec->idle_states[i / 4];
			new_states = 0;
		}
		/*
		 * None, swapped out or migrating; or special: the zero page
		 * of a read fault, a PFN map. No page of the process's own
		 * is there, to page out or to move, so it is absent: called
		 * idle, it would be asked for every cycle and refused.
		 */
		if (!pte_present(val) || pte_special(val)) {
			if (rec)
				rec->ages[i] = 0;	/* state ABSENT: 0 */
			goto next;
		}
		young = etmem_ptep_test_clear_young(base + i, val);
		nr_present++;
		nr_young += young;
		/*
		 * Idle age: one more than recorded if the page was mapped
		 * and idle at the last read of this table; 1 for a page
		 * idle in its first read; 0 once accessed. The same page:
		 * its pfn tag too (see struct etmem_table_rec).
		 */
		tag = (u8)pte_pfn(val);
		was_present = known && ((old_states >> shift) & 3);
		if (was_present && rec->pfn_tags[i] != tag) {
			was_present = false;
			replaced = true;
		}
		age = young ? 0 : was_present ? age_after(rec->ages[i], elapsed) :
		      rec ? 1 : ETMEM_IDLE_AGE_UNKNOWN;
		if (rec) {
			new_states |= ETMEM_PAGE_STATE_IDLE << shift;
			rec->ages[i] = age;
			rec->pfn_tags[i] = tag;
		}
		youngest = min(youngest, age);
		if (report_pages && i - first < n) {
			chunk_set(chunk_states, at + i,
				  young ? ETMEM_PAGE_STATE_ACCESSED :
				  ETMEM_PAGE_STATE_IDLE);
			if (chunk_ages)
				chunk_ages[at + i] = age;
		}
next:
		if (rec && shift == 6)
			rec->idle_states[i / 4] = new_states;
	}
	any_present = nr_present;
	any_young = nr_young;
	if (nr_young)
		w->cleared = true;
	if (rec)
		rec->nr_present = nr_present;
	if (rec) {
		/*
		 * Only a whole table read in full counts (rec is set then),
		 * and only with the same pages as the last read.
		 */
		rec->hot_reads = !any_present || nr_young < rec->nr_present ? 0 :
				 known && !replaced ?
				 min_t(u32, rec->hot_reads + 1, U8_MAX) : 1;
		rec->hot_skipped = 0;
		rec->table_pfn = pmd_pfn(pmdval);
		/*
		 * Dated back by (pass + table index) % skip_passes: a table
		 * first read at pass p falls due at a pass where that is 0,
		 * and from then on every skip_passes passes, so the forced
		 * re-reads of a large idle range spread evenly over the
		 * passes (the bound only gets shorter, once).
		 */
		rec->pass = st->pass - (st->skip_passes ?
			    (st->pass + (addr >> PMD_SHIFT)) % st->skip_passes : 0);
		rec->aged_pass = st->pass;
		rec->layout = w->grouped ? st->group_layout :
			      layout_mix(0, w->vma, addr, addr + PMD_SIZE);
		w->store_spare = rec == st->spare;
		w->read_whole = true;
	}
	if (w->grouped)
		st->group_mode = GROUP_DONE;
	if (as_huge) {
		chunk_set(st->states, st->chunk_nr,
			  any_young ? ETMEM_PAGE_STATE_ACCESSED :
			  any_present ? ETMEM_PAGE_STATE_IDLE :
			  ETMEM_PAGE_STATE_ABSENT);
		if (want_ages(st))
			st->ages[st->chunk_nr] = any_present ? youngest : 0;
		n = 1;
	}
	st->chunk_nr += n;
	atomic64_inc(&tables_read);
	return 0;
}

/*
 * A THP or hugetlb PMD: one 2 MiB unit, under the PMD lock. A huge page
 * that two requested ranges both reach is reported once, for the first.
 */
static int scan_huge(pmd_t *pmd, pmd_t val, unsigned long addr,
		     unsigned long end, void *arg)
{
	struct scan_walk *w = arg;
	struct scan_state *st = w->st;
	unsigned long haddr = addr & PMD_MASK;
	unsigned int state = ETMEM_PAGE_STATE_IDLE;
	u8 age;

	if (st->last_huge == haddr + 1)
		return 0;
	if (!chunk_fits(st, haddr, PMD_SHIFT, 1)) {
		st->addr = addr;
		return SCAN_EMIT;
	}
	if (etmem_pmd_not_own(w->vma, val)) {
		/* No memory of its own, like the zero page: absent (zero). */
		chunk_open(st, haddr, PMD_SHIFT);
		st->chunk_nr++;
		st->last_huge = haddr + 1;
		return 0;
	}
	if (etmem_pmdp_test_clear_young(pmd, val)) {
		state = ETMEM_PAGE_STATE_ACCESSED;
		w->cleared = true;
	}
	chunk_open(st, haddr, PMD_SHIFT);
	if (st->history) {
		/* Kept once the locks are dropped (scan_pmd()). */
		age = etmem_history_leaf_age(st->history, haddr, pmd_pfn(val),
					     state == ETMEM_PAGE_STATE_ACCESSED,
					     &w->leaf_value);
		w->store_leaf = true;
	} else {
		age = state == ETMEM_PAGE_STATE_IDLE ? ETMEM_IDLE_AGE_UNKNOWN : 0;
	}
	if (want_ages(st))
		st->ages[st->chunk_nr] = age;
	chunk_set(st->states, st->chunk_nr++, state);
	st->last_huge = haddr + 1;
	return 0;
}

static const struct etmem_walk_ops scan_walk_ops = {
	.huge = scan_huge,
	.table = scan_table,
	.ptes = scan_ptes,
};

static bool scan_wants_vma(const struct scan_state *st,
			   struct vm_area_struct *vma);

/*
 * Whether the PTE table at @table, which several VMAs share, may be read
 * whole for them (see "Tables shared by VMAs" at the top): every VMA in
 * its 2 MiB is one this request scans, within the current range, or a
 * PFN map that cannot be written privately (its entries are all special,
 * which a read never clears, and reports absent in a span: the vDSO's
 * data pages next to ld.so, say). If so, *@start and *@end span the VMAs it scans there,
 * and *@layout is their hash (see struct etmem_table_rec). Called with the
 * mmap lock held.
 */
static bool scan_table_groupable(struct scan_state *st, unsigned long table,
				 unsigned long *start, unsigned long *end, u32 *layout)
{
	const struct etmem_urange *r = &st->ranges[st->cur];
	unsigned long tend = table + PMD_SIZE, a = table;
	struct vm_area_struct *v;

	/* That walk reaches only marked parts of its VMAs. */
	if (st->flags & ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY)
		return false;
	*start = tend;
	*end = table;
	*layout = 0;
	while (a < tend && (v = find_vma(st->mm, a)) && v->vm_start < tend) {
		unsigned long vs = max(v->vm_start, table), ve = min(v->vm_end, tend);

		a = v->vm_end;
		if ((v->vm_flags & VM_PFNMAP) && !is_cow_mapping(v->vm_flags))
			continue;
		if (is_vm_hugetlb_page(v) || !scan_wants_vma(st, v) ||
		    vs < r->start || ve > r->end)
			return false;
		*start = min(*start, vs);
		*end = ve;
		*layout = layout_mix(*layout, v, vs, ve);
	}
	return *start < *end;
}

/*
 * The record a shared table is read into, stored before the walk: the
 * span is reported in one step under the table's locks, which a failed
 * store after the read could not undo. Blank (table_pfn 0, which no page
 * table has: x86 reserves the first page), it is no history of any table.
 */
static bool scan_group_record(struct scan_state *st, unsigned long table)
{
	struct etmem_table_rec *rec = etmem_history_lookup(st->history, table);

	if (rec)
		return true;
	rec = etmem_history_rec_alloc();
	if (!rec)
		return false;
	rec->table_pfn = 0;
	rec->nr_present = 0;
	rec->hot_reads = 0;
	rec->hot_skipped = 0;
	rec->pass = st->pass;
	rec->aged_pass = st->pass;
	if (etmem_history_store(st->history, table, rec)) {
		etmem_history_rec_free(rec);
		return false;
	}
	return true;
}

static int scan_pmd(pmd_t *pmd, unsigned long addr, unsigned long end, void *arg)
{
	struct scan_walk *w = arg;
	struct scan_state *st = w->st;
	unsigned long table = addr & PMD_MASK;
	/* Not hugetlb: no PTE tables, and its i_mmap_rwsem may be held. */
	bool tables = st->history && !is_vm_hugetlb_page(w->vma);
	int ret;

	if (!w->budget--) {
		st->addr = addr;
		return SCAN_YIELD;
	}
	w->whole_table = tables && addr == table && end - addr == PMD_SIZE;
	w->grouped = false;
	w->store_spare = false;
	w->store_leaf = false;
	w->changed = false;
	w->read_whole = false;
	w->rec = NULL;
	if (tables && !w->whole_table) {
		unsigned long start, end_span;
		u32 layout;

		/* A share of a table: all of them were reported already? */
		if (st->group_table == table && st->group_mode == GROUP_DONE &&
		    addr < st->group_end) {
			if (end <= st->group_end)
				return 0;
			/*
			 * Grown past the span while the walk let go of the
			 * mmap lock: the rest is read on its own.
			 */
			addr = st->group_end;
			st->group_mode = GROUP_PARTIAL;
		}
		/*
		 * The first share the walk comes to reports them all, if it
		 * is the first the request scans: had the walk passed one
		 * by, without a table then, its pages would be cleared now
		 * unreported. Decided again after the walk let go of the
		 * mmap lock (a chunk to send first), as the VMAs may have
		 * changed meanwhile.
		 */
		if (st->group_table != table) {
			st->group_table = table;
			st->group_mode = GROUP_PARTIAL;
			if (scan_table_groupable(st, table, &start, &end_span, &layout) &&
			    addr == start && scan_group_record(st, table)) {
				st->group_mode = GROUP_PENDING;
				st->group_start = start;
				st->group_end = end_span;
				st->group_layout = layout;
			}
		}
		if (st->group_mode == GROUP_PENDING && addr == st->group_start)
			w->rec = etmem_history_lookup(st->history, table);
		w->grouped = !!w->rec;
		if (!w->grouped) {
			/* Read in part, its bits cleared: the record would lie. */
			st->group_mode = GROUP_PARTIAL;
			etmem_history_drop(st->history, addr);
		}
	} else if (w->whole_table) {
		w->rec = etmem_history_lookup(st->history, addr);
		/* Allocated here: the walk below holds spinlocks. */
		if (!w->rec && !st->spare)
			st->spare = etmem_history_rec_alloc();
		if (!w->rec && !st->spare)
			w->whole_table = false;	/* no memory: no pre-check */
	}
	/*
	 * Read before the table's PTEs: see etmem_history_read_done(). A
	 * table the notifier marked is read, not reported from its record.
	 */
	if (w->rec || w->whole_table) {
		w->changed = w->rec && etmem_history_changed(st->history, table);
		w->since = etmem_history_invalidations(st->history);
	}
	ret = etmem_pmd_walk_locked(st->mm, pmd, addr, end, &scan_walk_ops, w);
	if (w->grouped && st->group_mode == GROUP_PENDING) {
		/*
		 * Nothing reported: a chunk to send first (decide again
		 * then), or no table under the lock after all (then the
		 * other shares are read on their own).
		 */
		if (ret == SCAN_EMIT)
			st->group_table = ~0UL;
		else
			st->group_mode = GROUP_PARTIAL;
	}
	if (w->store_spare && !etmem_history_store(st->history, addr, st->spare))
		st->spare = NULL;
	if (w->read_whole)
		etmem_history_read_done(st->history, table, w->since, w->changed);
	if (w->store_leaf) {
		etmem_history_leaf_store(st->history, addr & PMD_MASK, w->leaf_value);
		/*
		 * A huge page maps these 2 MiB now: a record of the table it
		 * replaced is void (a split may bring the same table back,
		 * with ages that no longer hold).
		 */
		if (w->rec)
			etmem_history_drop(st->history, addr);
	}
	return ret;
}

/*
 * MAP_ANONYMOUS | MAP_HUGETLB memory is backed by a file on the kernel's
 * internal hugetlbfs mount, made with alloc_file_pseudo(): its dentry is
 * never hashed (and is its own parent, so d_unlinked() says no). For users
 * it is anonymous memory (cslide's anon_only relies on that), so only
 * files reachable by name count as file-backed.
 */
static bool vma_is_anon_memory(const struct vm_area_struct *vma)
{
	if (!vma->vm_file)
		return true;
	return is_vm_hugetlb_page((struct vm_area_struct *)vma) &&
	       d_unhashed(vma->vm_file->f_path.dentry);
}

static bool scan_wants_vma(const struct scan_state *st,
			   struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_PFNMAP | VM_IO))
		return false;
	if ((st->flags & ETMEM_SCAN_FLAGS_ANON_ONLY) && !vma_is_anon_memory(vma))
		return false;
	if ((st->flags & ETMEM_SCAN_FLAGS_HUGETLB_ONLY) && !is_vm_hugetlb_page(vma))
		return false;
	return true;
}

/*
 * Walk on from st->addr with the mmap lock held, until the budget is spent
 * (SCAN_YIELD), the chunk must be sent (SCAN_EMIT) or all is done (0).
 */
static int scan_some(struct scan_state *st, struct scan_walk *w)
{
	struct mm_struct *mm = st->mm;
	unsigned long start, end;
	bool locked;
	int ret;

	while (st->cur < st->nr_ranges) {
		const struct etmem_urange *r = &st->ranges[st->cur];
		struct vm_area_struct *vma;

		if (!w->budget--)
			return SCAN_YIELD;
		st->addr = max(st->addr, r->start);
		vma = st->addr < r->end ? find_vma(mm, st->addr) : NULL;
		if (!vma || vma->vm_start >= r->end) {
			st->cur++;
			continue;
		}
		start = max(st->addr, vma->vm_start);
		end = min(r->end, vma->vm_end);
		if (!scan_wants_vma(st, vma)) {
			st->addr = end;
			continue;
		}
		if ((st->flags & ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY) &&
		    !etmem_marks_next(mm, start, end, &start, &end)) {
			st->addr = min(r->end, vma->vm_end);
			continue;
		}
		w->vma = vma;
		locked = etmem_hugetlb_share_lock(vma);
		ret = etmem_walk_pmds(mm, start, end, scan_pmd, w);
		etmem_hugetlb_share_unlock(vma, locked);
		if (ret)
			return ret;
		st->addr = end;
	}
	return 0;
}

/* ---- the dump ------------------------------------------------------- */

/**
 * etmem_scan_table_counts - PTE tables scans looked at since the module loaded
 * @read: set to the tables whose PTEs were read (and accessed bits cleared)
 * @skipped: set to the tables reported idle from their last full read
 * @hot_skipped: set to the tables left unread as hot and reported RECENT
 */
void etmem_scan_table_counts(u64 *read, u64 *skipped, u64 *hot_skipped)
{
	*read = atomic64_read(&tables_read);
	*skipped = atomic64_read(&tables_skipped);
	*hot_skipped = atomic64_read(&tables_hot_skipped);
}

/* One batch under the mmap lock; false when the walk must stop with *err. */
static bool scan_batch(struct netlink_callback *cb, struct scan_state *st,
		       int *err)
{
	struct scan_walk w = { .st = st, .budget = SCAN_BATCH_PMDS };
	int ret;

	if (mmap_read_lock_killable(st->mm)) {
		*err = -EINTR;
		return false;
	}
	ret = scan_some(st, &w);
	st->cleared |= w.cleared;
	mmap_read_unlock(st->mm);
	if (ret == 0)
		st->walk_done = true;
	else if (ret == SCAN_EMIT)
		st->chunk_full = true;
	cond_resched();
	if (fatal_signal_pending(current)) {
		*err = -EINTR;
		return false;
	}
	*err = etmem_target_check(st->pid, st->mm, st->nr, cb->extack);
	return !*err;
}

/**
 * etmem_scan_dumpit - one round of ETMEM_CMD_SCAN's dump
 * @skb: the message buffer to fill with chunks
 * @cb: the dump, with the walk state that etmem_scan_start() set up
 *
 * Return: skb->len while there is more, 0 when the walk is done, or
 * -errno: -EOWNERDEAD (the target exited), -ESTALE (it exec'd), -EINTR.
 */
int etmem_scan_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct scan_state *st = scan_state(cb);
	int err = 0;

	if (st->finished)
		return 0;
	if (st->error) {
		if (cb->extack)
			cb->extack->_msg = st->errmsg;
		st->finished = true;
		return st->error;
	}
	err = etmem_target_check(st->pid, st->mm, st->nr, cb->extack);
	if (err)
		return err;
	if (!mmget_not_zero(st->mm)) {
		etmem_errmsg(cb->extack, "process %d exited", st->nr);
		return -EOWNERDEAD;
	}
	for (;;) {
		if (st->chunk_full || (st->walk_done && st->chunk_nr)) {
			if (chunk_emit(skb, cb, st)) {
				/* Never fits: end with an error, not a short dump. */
				if (!skb->len)
					err = -EMSGSIZE;
				break;	/* skb full: the chunk goes first next time */
			}
		}
		if (st->walk_done) {
			st->finished = true;
			break;
		}
		if (!scan_batch(cb, st, &err))
			break;
	}
	/*
	 * One TLB flush per dump call, after the walk and before the pages'
	 * states leave: an access from then on sets the bit again.
	 */
	if (st->cleared) {
		etmem_flush_tlbs(st->mm);
		st->cleared = false;
	}
	mmput_async(st->mm);
	if (err)
		return err;
	return skb->len;
}

/* Register @st as the one scan of its mm, or fail with EBUSY. */
static int scan_claim(struct scan_state *st, struct netlink_ext_ack *extack)
{
	struct scan_state *other;
	int ret = 0;

	spin_lock(&scans_lock);
	list_for_each_entry(other, &scans_running, busy) {
		if (other->mm == st->mm) {
			ret = -EBUSY;
			break;
		}
	}
	if (!ret)
		list_add(&st->busy, &scans_running);
	spin_unlock(&scans_lock);
	if (ret)
		etmem_errmsg(extack, "concurrent scan of pid %d", st->nr);
	return ret;
}

static int scan_start(struct netlink_callback *cb, struct netlink_ext_ack *extack)
{
	struct nlattr **attrs = scan_request_attrs(cb);
	struct etmem_target target;
	struct scan_state *st;
	u32 flags;
	int ret;

	if (!etmem_admin_capable(cb->skb, extack,
				 "scanning a process's page accesses"))
		return -EPERM;
	/* Unknown bits were refused by the policy (NLA_POLICY_MASK). */
	flags = attrs[ETMEM_A_SCAN_FLAGS] ? nla_get_u32(attrs[ETMEM_A_SCAN_FLAGS]) : 0;
	if (attrs[ETMEM_A_SCAN_MIN_IDLE_AGE] && !(flags & ETMEM_SCAN_FLAGS_IDLE_AGES)) {
		NL_SET_BAD_ATTR(extack, attrs[ETMEM_A_SCAN_MIN_IDLE_AGE]);
		etmem_errmsg(extack, "scan-min-idle-age needs the idle-ages scan flag");
		return -EINVAL;
	}
	ret = etmem_target_get(attrs, extack, &target);
	if (ret)
		return ret;
	st = scan_state_new();
	if (!st) {
		ret = -ENOMEM;
		goto put_target;
	}
	INIT_LIST_HEAD(&st->busy);
	st->group_table = ~0UL;
	st->flags = flags;
	if (attrs[ETMEM_A_SCAN_MIN_IDLE_AGE])
		st->min_idle_age = nla_get_u8(attrs[ETMEM_A_SCAN_MIN_IDLE_AGE]);
	st->nr = target.nr;
	ret = etmem_ranges_parse(cb->nlh, target.mm, extack, &st->ranges,
				 &st->nr_ranges);
	if (ret)
		goto free_state;
	st->mm = target.mm;
	ret = scan_claim(st, extack);
	if (ret)
		goto free_ranges;
	st->skip_passes = min_t(u32, READ_ONCE(pmd_skip_max_passes), SCAN_SKIP_PASSES_MAX);
	if (flags & ETMEM_SCAN_FLAGS_SAMPLE_HOT)
		st->hot_skip = min_t(u32, READ_ONCE(hot_skip_max_passes),
				     HOT_SKIP_PASSES_MAX);
	if (scan_history_usable()) {
		struct etmem_scan_history *h = etmem_history_get(st->mm);

		/* Without a history the scan reads every table: no error. */
		if (!IS_ERR(h)) {
			st->history = h;
			st->pass = etmem_history_begin_pass(h);
		}
	}
	/* Between dump calls only the mm_struct is pinned, not the memory. */
	mmgrab(st->mm);
	st->pid = get_pid(target.pid);
	etmem_target_put(&target);
	*(struct scan_state **)cb->ctx = st;
	return 0;

free_ranges:
	kvfree(st->ranges);
free_state:
	scan_state_free(st);
put_target:
	etmem_target_put(&target);
	return ret;
}

/*
 * Kernels before 6.2 do not hand .start an extack, so a rejection there
 * would reach the caller without its message. There the rejection is
 * deferred: .start succeeds with a state that only carries the error,
 * and the first dump call fails with it (dump calls do have an extack).
 */
static int scan_defer(struct netlink_callback *cb, int error,
		      const struct netlink_ext_ack *local)
{
	struct scan_state *st = scan_state_new();

	if (!st)
		return error;
	INIT_LIST_HEAD(&st->busy);
	st->error = error;
	strscpy(st->errmsg, local->_msg ? local->_msg : "", sizeof(st->errmsg));
	*(struct scan_state **)cb->ctx = st;
	return 0;
}

/**
 * etmem_scan_start - .start of ETMEM_CMD_SCAN: check the request, pin the target
 * @cb: the dump
 *
 * Return: 0, or -errno with an extack message: -EPERM (no CAP_SYS_ADMIN),
 * -ESRCH, -EOWNERDEAD, -EINVAL (ranges), -EBUSY (a scan of that process
 * runs already), -ENOMEM. Before 6.2 the error is carried to the first
 * dump round instead (see scan_defer()).
 */
int etmem_scan_start(struct netlink_callback *cb)
{
	struct netlink_ext_ack local = {};
	int ret;

	if (cb->extack)
		return scan_start(cb, cb->extack);
	ret = scan_start(cb, &local);
	return ret ? scan_defer(cb, ret, &local) : 0;
}

/**
 * etmem_scan_done - .done of ETMEM_CMD_SCAN: release the walk state
 * @cb: the dump
 *
 * Return: 0.
 */
int etmem_scan_done(struct netlink_callback *cb)
{
	struct scan_state *st = scan_state(cb);

	if (!st)
		return 0;
	spin_lock(&scans_lock);
	list_del(&st->busy);
	spin_unlock(&scans_lock);
	if (st->history)
		etmem_history_put(st->history);
	etmem_history_rec_free(st->spare);
	if (st->mm)
		mmdrop(st->mm);
	put_pid(st->pid);
	kvfree(st->ranges);
	scan_state_free(st);
	return 0;
}
