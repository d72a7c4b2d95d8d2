/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-page access counts of one process over the scans of one cycle.
 *
 * The first scan pass fixes the layout (runs of pages as the kernel
 * streamed them); later passes add to the counts of pages found in that
 * layout. A page that was absent in any pass is never cold: there is
 * nothing resident to page out. Owned by one thread at a time.
 */
#ifndef ETMEMD_PAGECOUNT_H
#define ETMEMD_PAGECOUNT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "etmem_genl.h"

struct page_counts;

struct page_counts *page_counts_new(void);
void page_counts_free(struct page_counts *pc);
/* Start a new pass; pass 1 resets everything. */
void page_counts_begin_pass(struct page_counts *pc, unsigned int pass);
/* An etmem_scan_cb: arg is the struct page_counts. */
int page_counts_add_chunk(const struct etmem_chunk *chunk, void *arg);

/* Pages resident in the first pass. */
uint64_t page_counts_nr_pages(const struct page_counts *pc);
/*
 * Appends to ranges (GArray of struct etmem_range) every run of pages
 * present in all passes and accessed in fewer than threshold passes and,
 * when min_age is not 0, whose kernel idle age in the latest pass (scanned
 * with ETMEM_SCAN_FLAGS_IDLE_AGES) is at least min_age; a page the kernel
 * gave no age (a partly covered page table, the pre-check off) is judged by
 * its count alone. Returns the number of such pages (4 KiB units).
 */
uint64_t page_counts_cold_ranges(const struct page_counts *pc,
				 unsigned int threshold, unsigned int min_age,
				 GArray *ranges);

/*
 * Slide's budget mode: appends to ranges every run of pages present in all
 * passes whose idle age, in scans, is at least min_age: the kernel's age of
 * the latest pass (scanned with ETMEM_SCAN_FLAGS_IDLE_AGES) or, for a page
 * the kernel gave none, our own: the passes in a row it was idle in, kept
 * across cycles in *own_ages (address -> age; NULL at first; replaced by
 * a table of only this cycle's pages without a kernel age; the caller owns
 * it, g_hash_table_destroy). Our own age only grows by whole cycles, so it
 * lags the kernel's by at most one cycle. When probe_from is not 0, a page
 * younger than probe_from (the probed band) is taken only when
 * budget_probe_pick(address, probe_share) picks it; those are added to
 * *nr_band. Returns the number of pages appended (4 KiB units, the band's
 * included).
 */
uint64_t page_counts_aged_ranges(const struct page_counts *pc, unsigned int min_age,
				 unsigned int probe_from, unsigned int probe_share,
				 GHashTable **own_ages, GArray *ranges, uint64_t *nr_band);

/*
 * Every page present in all passes so far, in address order, with its
 * access count and its kernel idle age of the latest pass (-1 unknown).
 */
typedef void (*page_counts_fn)(uint64_t addr, unsigned int page_shift,
			       unsigned int count, int idle_age, void *arg);
void page_counts_foreach(const struct page_counts *pc, page_counts_fn fn, void *arg);

/*
 * Range sets: GArrays of struct etmem_range, sorted by address, not
 * overlapping, empty ranges never stored.
 *
 * ranges_subtract() removes from @from every byte that a range of @minus
 * covers (ranges split where needed). Returns the bytes removed.
 * ranges_merge() adds the ranges of @add to @into, joining ranges that
 * touch or overlap.
 */
uint64_t ranges_subtract(GArray *from, const GArray *minus);
void ranges_merge(GArray *into, const GArray *add);

struct proc_id;

/*
 * One scan pass of a process into @pc, on a worker: the body every engine's
 * scan job shares. @min_idle_age (with ETMEM_SCAN_FLAGS_IDLE_AGES; 0 for
 * none) caps the ages the kernel reports, as etmem_scan_min_age(): give
 * the smallest age the caller will ask page_counts_*_ranges() about, so
 * older pages run together. Flags and the cap that the loaded module is
 * too old to know are dropped (with one warning each). @pidfd is the
 * process's from proc_open_pidfd(), or -1 (then its /proc stat is read
 * to check it is still @id). Returns 0, -ESRCH when @cancel is set or the
 * process is gone, or the error with its reason in @errmsg.
 */
int page_counts_scan_pass(struct page_counts *pc, struct etmem_client *client,
			  int client_err, bool cancel, const struct proc_id *id, int pidfd,
			  uint32_t scan_flags, unsigned int min_idle_age, unsigned int pass,
			  char *errmsg, size_t errmsg_len);

/*
 * Forget which scan features an older module refused (they are
 * remembered for the life of the process): for tests.
 */
void page_counts_forget_refusals(void);

#endif /* ETMEMD_PAGECOUNT_H */
