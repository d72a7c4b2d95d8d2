// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>

#include "budget.h"
#include "log.h"
#include "pagecount.h"
#include "procs.h"

#define COUNT_ABSENT	0x80	/* absent in some pass: never cold */
#define COUNT_MAX	0x7f

struct scan_segment {
	uint64_t addr;
	uint64_t end;
	unsigned int page_shift;
	uint32_t nr_pages;
	/*
	 * counts[nr_pages], then ages[nr_pages] (the idle ages of the latest
	 * pass, if it had them), in one buffer of 2 * cap bytes. NULL when
	 * every page was absent in the first pass: nothing of it can be cold,
	 * whatever later passes find, so nothing is stored. In steady state
	 * that is most of a process (its cold set swapped out).
	 */
	uint8_t *counts;
	uint8_t *ages;
	uint32_t cap;
};

/* A buffer of 2 * cap bytes, kept for the next cycle's first pass. */
struct spare_buf {
	uint8_t *buf;
	uint32_t cap;
};

struct page_counts {
	GArray *segs;		/* struct scan_segment, ascending addresses */
	/*
	 * Buffers of the cycle before, reused by this cycle's first pass:
	 * a page_counts kept across cycles (slide keeps one per process)
	 * allocates nothing in steady state, and glibc does not give the
	 * memory back only to fault it in again the next cycle (measured:
	 * a madvise and the page faults after it, every cycle). Spares a
	 * whole first pass left unused are freed at the next one, so at most
	 * two cycles' worth is held.
	 */
	GArray *spare;		/* struct spare_buf, in the last cycle's address order */
	guint spare_next;	/* spares before it are taken */
	unsigned int pass;
	guint cursor;		/* where the last lookup hit */
};

/* What a run's state makes of a page's count in the first pass. */
static uint8_t first_count(enum etmem_page_state st)
{
	return st == ETMEM_PAGE_STATE_ABSENT ? COUNT_ABSENT : etmem_state_accessed(st) ? 1 : 0;
}

struct page_counts *page_counts_new(void)
{
	struct page_counts *pc = g_new0(struct page_counts, 1);

	pc->segs = g_array_new(FALSE, FALSE, sizeof(struct scan_segment));
	pc->spare = g_array_new(FALSE, FALSE, sizeof(struct spare_buf));
	return pc;
}

/* Frees the spares not taken (those of the taken ones are in segments). */
static void free_spares(struct page_counts *pc)
{
	for (guint i = pc->spare_next; i < pc->spare->len; i++)
		free(g_array_index(pc->spare, struct spare_buf, i).buf);
	g_array_set_size(pc->spare, 0);
	pc->spare_next = 0;
}

void page_counts_free(struct page_counts *pc)
{
	if (!pc)
		return;
	free_spares(pc);
	for (guint i = 0; i < pc->segs->len; i++)
		free(g_array_index(pc->segs, struct scan_segment, i).counts);
	g_array_free(pc->segs, TRUE);
	g_array_free(pc->spare, TRUE);
	g_free(pc);
}

void page_counts_begin_pass(struct page_counts *pc, unsigned int pass)
{
	pc->pass = pass;
	pc->cursor = 0;
	if (pass > 1)
		return;
	free_spares(pc);
	for (guint i = 0; i < pc->segs->len; i++) {
		struct scan_segment *seg = &g_array_index(pc->segs, struct scan_segment, i);
		struct spare_buf spare = { seg->counts, seg->cap };

		if (seg->counts)
			g_array_append_val(pc->spare, spare);
	}
	g_array_set_size(pc->segs, 0);
}

/*
 * Counts and ages for @nr pages: a spare of the last cycle, or new. Spares
 * are taken in the order the last cycle used them, so that a chunk gets
 * the buffer it had (taking them in reverse order made slide's count of
 * per-page replies 3.5 times slower under QEMU's emulation, bench/countcost).
 */
static int take_buffer(struct page_counts *pc, struct scan_segment *seg, uint32_t nr)
{
	struct spare_buf *spares = (struct spare_buf *)pc->spare->data;

	for (guint i = pc->spare_next; i < pc->spare->len; i++) {
		struct spare_buf taken = spares[i];

		if (taken.cap < nr)
			continue;
		/* The one skipped over, if any, stays among those not taken. */
		spares[i] = spares[pc->spare_next];
		spares[pc->spare_next++] = taken;
		seg->counts = taken.buf;
		seg->cap = taken.cap;
		seg->ages = seg->counts + seg->cap;
		return 0;
	}
	/* Exactly: a chunk may be a single THP, or a few pages between gaps. */
	seg->cap = MAX(nr, 1);
	seg->counts = malloc(2 * (size_t)seg->cap);
	if (!seg->counts)
		return -1;
	seg->ages = seg->counts + seg->cap;
	return 0;
}

/*
 * The first pass: a chunk becomes a segment. The chunk is read run by run
 * (etmem_chunk_next_run()), so a chunk the kernel sent as runs costs one
 * memset a run here, not a decode a page.
 */
static int append_segment(struct page_counts *pc, const struct etmem_chunk *chunk)
{
	struct scan_segment seg = {
		.addr = chunk->addr,
		.page_shift = chunk->page_shift,
		.nr_pages = chunk->nr_pages,
		.end = chunk->addr + ((uint64_t)chunk->nr_pages << chunk->page_shift),
	};
	struct etmem_chunk_cursor cur = { 0 };
	struct etmem_unit_run run;
	bool first = etmem_chunk_next_run(chunk, &cur, &run);

	/* All absent (or empty): a segment without counts. */
	if (!first || (run.state == ETMEM_PAGE_STATE_ABSENT && run.nr_units == chunk->nr_pages)) {
		g_array_append_val(pc->segs, seg);
		return 0;
	}
	if (take_buffer(pc, &seg, chunk->nr_pages))
		return -1;
	do {
		memset(seg.counts + run.first, first_count(run.state), run.nr_units);
		memset(seg.ages + run.first, run.idle_age, run.nr_units);
	} while (etmem_chunk_next_run(chunk, &cur, &run));
	g_array_append_val(pc->segs, seg);
	return 0;
}

/* Index of the segment holding addr, or -1; chunks come in address order. */
static int find_segment(struct page_counts *pc, uint64_t addr)
{
	struct scan_segment *segs = (struct scan_segment *)pc->segs->data;
	guint lo = 0, hi = pc->segs->len;

	while (pc->cursor < pc->segs->len && segs[pc->cursor].end <= addr)
		pc->cursor++;
	if (pc->cursor < pc->segs->len && segs[pc->cursor].addr <= addr)
		return pc->cursor;
	/* Out of order: binary search, then continue from there. */
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (segs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pc->segs->len && segs[lo].addr <= addr) {
		pc->cursor = lo;
		return lo;
	}
	return -1;
}

/* Where the first segment above @addr starts (UINT64_MAX: none). */
static uint64_t next_segment_addr(const struct page_counts *pc, uint64_t addr)
{
	const struct scan_segment *segs = (const struct scan_segment *)pc->segs->data;
	guint lo = 0, hi = pc->segs->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (segs[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pc->segs->len ? segs[lo].addr : UINT64_MAX;
}

/*
 * A later pass: @n units of one run from @addr, all in segment @seg (of the
 * same page size), added to the counts of the first pass's layout.
 */
static void apply_run(struct scan_segment *seg, uint64_t addr, uint32_t n,
		      const struct etmem_unit_run *run)
{
	uint32_t first = (addr - seg->addr) >> seg->page_shift;
	uint8_t *count = seg->counts + first;

	memset(seg->ages + first, run->idle_age, n);
	switch (run->state) {
	case ETMEM_PAGE_STATE_ABSENT:
		for (uint32_t i = 0; i < n; i++)
			count[i] |= COUNT_ABSENT;
		break;
	case ETMEM_PAGE_STATE_ACCESSED:
	case ETMEM_PAGE_STATE_RECENT:	/* a hot table left unread */
		for (uint32_t i = 0; i < n; i++)
			if ((count[i] & COUNT_MAX) < COUNT_MAX)
				count[i]++;
		break;
	default:
		break;
	}
}

int page_counts_add_chunk(const struct etmem_chunk *chunk, void *arg)
{
	struct page_counts *pc = arg;
	struct etmem_chunk_cursor cur = { 0 };
	struct etmem_unit_run run;
	unsigned int shift = chunk->page_shift;

	if (pc->pass <= 1)
		return append_segment(pc, chunk);
	while (etmem_chunk_next_run(chunk, &cur, &run)) {
		uint64_t addr = chunk->addr + ((uint64_t)run.first << shift);
		uint64_t end = addr + ((uint64_t)run.nr_units << shift);

		/* Segment by segment: one lookup per piece, not per page. */
		while (addr < end) {
			int idx = find_segment(pc, addr);
			struct scan_segment *seg;
			uint64_t piece_end;

			if (idx < 0) {
				/* Mapped after the first pass: on to the next segment. */
				addr = MIN(end, next_segment_addr(pc, addr));
				continue;
			}
			seg = &g_array_index(pc->segs, struct scan_segment, idx);
			piece_end = MIN(end, seg->end);
			if (!seg->counts) {
				/* Absent in the first pass: never cold, whatever now. */
				addr = piece_end;
				continue;
			}
			if (seg->page_shift != shift) {
				/* A huge page split or formed: no stable history. */
				uint64_t a = addr & ~((1ull << seg->page_shift) - 1);

				for (; a < piece_end; a += 1ull << seg->page_shift)
					seg->counts[(a - seg->addr) >> seg->page_shift] |= COUNT_ABSENT;
				addr = piece_end;
				continue;
			}
			apply_run(seg, addr, (piece_end - addr) >> shift, &run);
			addr = piece_end;
		}
	}
	return 0;
}

/*
 * The first index at or after @i whose page was present in every pass.
 * Eight counts at a time: in steady state most of a process is swapped
 * out or unmapped (COUNT_ABSENT), and the per-cycle loops below are the
 * largest share of etmemd's user time (measured with perf, 6.12).
 */
static uint32_t skip_absent(const struct scan_segment *seg, uint32_t i)
{
	const uint64_t all_absent = 0x0101010101010101ull * COUNT_ABSENT;

	if (!seg->counts)
		return seg->nr_pages;
	while (i + 8 <= seg->nr_pages) {
		uint64_t word;

		memcpy(&word, seg->counts + i, sizeof(word));
		if ((word & all_absent) != all_absent)
			break;
		i += 8;
	}
	while (i < seg->nr_pages && (seg->counts[i] & COUNT_ABSENT))
		i++;
	return i;
}

/*
 * The first index at or after @i whose page was present in every pass and
 * whose count is below @threshold (a cold page). Eight counts at a time,
 * with the test for "a byte below n" of Hacker's Delight (6-1), exact
 * for n <= 128: an absent page's count has its top bit set, so it is
 * never below a threshold the counts can reach. A hot set is long
 * stretches of counts at or above the threshold, skipped a word at a
 * time like the absent ones.
 */
static uint32_t next_cold(const struct scan_segment *seg, uint32_t i, unsigned int threshold)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80;

	/* Counts stop at COUNT_MAX: every present page is below. */
	if (threshold > COUNT_MAX)
		return skip_absent(seg, i);
	if (!seg->counts || !threshold)
		return seg->nr_pages;
	while (i + 8 <= seg->nr_pages) {
		uint64_t word;

		memcpy(&word, seg->counts + i, sizeof(word));
		if ((word - ones * threshold) & ~word & highs)
			break;
		i += 8;
	}
	while (i < seg->nr_pages && seg->counts[i] >= threshold)
		i++;
	return i;
}

uint64_t page_counts_nr_pages(const struct page_counts *pc)
{
	const uint64_t highs = 0x8080808080808080ull;
	uint64_t nr = 0;

	for (guint s = 0; s < pc->segs->len; s++) {
		const struct scan_segment *seg = &g_array_index(pc->segs, struct scan_segment, s);
		uint32_t absent = 0, i = 0;

		if (!seg->counts)
			continue;
		/* The absent bits, eight counts at a time. */
		for (; i + 8 <= seg->nr_pages; i += 8) {
			uint64_t word;

			memcpy(&word, seg->counts + i, sizeof(word));
			absent += __builtin_popcountll(word & highs);
		}
		for (; i < seg->nr_pages; i++)
			absent += !!(seg->counts[i] & COUNT_ABSENT);
		nr += (uint64_t)(seg->nr_pages - absent) << (seg->page_shift - 12);
	}
	return nr;
}

/* Appends [addr, addr + size) to the runs being built in ranges. */
static void range_append(GArray *ranges, struct etmem_range *run, uint64_t addr, uint64_t size)
{
	if (run->end == addr) {
		run->end += size;
		return;
	}
	if (run->end)
		g_array_append_val(ranges, *run);
	run->start = addr;
	run->end = addr + size;
}

uint64_t page_counts_cold_ranges(const struct page_counts *pc,
				 unsigned int threshold, unsigned int min_age,
				 GArray *ranges)
{
	struct etmem_range run = { 0, 0 };
	uint64_t nr_cold = 0;

	for (guint s = 0; s < pc->segs->len; s++) {
		const struct scan_segment *seg = &g_array_index(pc->segs, struct scan_segment, s);

		for (uint32_t i = next_cold(seg, 0, threshold); i < seg->nr_pages;
		     i = next_cold(seg, i + 1, threshold)) {
			uint64_t addr = seg->addr + ((uint64_t)i << seg->page_shift);
			uint64_t size = 1ull << seg->page_shift;

			/* Without a kernel age the count alone decides. */
			if (min_age && seg->ages[i] != ETMEM_IDLE_AGE_UNKNOWN &&
			    seg->ages[i] < min_age)
				continue;
			nr_cold += size >> 12;
			range_append(ranges, &run, addr, size);
		}
	}
	if (run.end)
		g_array_append_val(ranges, run);
	return nr_cold;
}

uint64_t page_counts_aged_ranges(const struct page_counts *pc, unsigned int min_age,
				 unsigned int probe_from, unsigned int probe_share,
				 GHashTable **own_ages, GArray *ranges, uint64_t *nr_band)
{
	/* Page numbers to ages, only for pages idle a while: absent is 0. */
	GHashTable *now = g_hash_table_new(g_direct_hash, g_direct_equal);
	struct etmem_range run = { 0, 0 };
	uint64_t nr_cold = 0;

	for (guint s = 0; s < pc->segs->len; s++) {
		const struct scan_segment *seg = &g_array_index(pc->segs, struct scan_segment, s);

		for (uint32_t i = skip_absent(seg, 0); i < seg->nr_pages; i = skip_absent(seg, i + 1)) {
			uint64_t addr = seg->addr + ((uint64_t)i << seg->page_shift);
			unsigned int age = seg->ages[i];

			if (age == ETMEM_IDLE_AGE_UNKNOWN) {
				gpointer key = GSIZE_TO_POINTER(addr >> 12);

				/* Our own count: idle in every pass, or back to 0. */
				age = *own_ages ? GPOINTER_TO_UINT(g_hash_table_lookup(*own_ages, key)) : 0;
				age = seg->counts[i] ? 0 : MIN(age + pc->pass, ETMEM_IDLE_AGE_MAX);
				if (age)
					g_hash_table_insert(now, key, GUINT_TO_POINTER(age));
			}
			if (age < min_age ||
			    (age < probe_from && !budget_probe_pick(addr, probe_share)))
				continue;
			if (age < probe_from)
				*nr_band += 1ull << (seg->page_shift - 12);
			nr_cold += 1ull << (seg->page_shift - 12);
			range_append(ranges, &run, addr, 1ull << seg->page_shift);
		}
	}
	if (run.end)
		g_array_append_val(ranges, run);
	/* Only pages still without a kernel age keep an entry. */
	if (*own_ages)
		g_hash_table_destroy(*own_ages);
	*own_ages = now;
	return nr_cold;
}

void page_counts_foreach(const struct page_counts *pc, page_counts_fn fn, void *arg)
{
	for (guint s = 0; s < pc->segs->len; s++) {
		const struct scan_segment *seg = &g_array_index(pc->segs, struct scan_segment, s);

		for (uint32_t i = skip_absent(seg, 0); i < seg->nr_pages; i = skip_absent(seg, i + 1))
			fn(seg->addr + ((uint64_t)i << seg->page_shift), seg->page_shift,
			   seg->counts[i],
			   seg->ages[i] == ETMEM_IDLE_AGE_UNKNOWN ? -1 : seg->ages[i], arg);
	}
}

uint64_t ranges_subtract(GArray *from, const GArray *minus)
{
	const struct etmem_range *m = (const struct etmem_range *)minus->data;
	GArray *out;
	guint j = 0;
	uint64_t removed = 0;

	if (!from->len || !minus->len)
		return 0;
	out = g_array_sized_new(FALSE, FALSE, sizeof(struct etmem_range), from->len);
	for (guint i = 0; i < from->len; i++) {
		struct etmem_range r = g_array_index(from, struct etmem_range, i);

		/* Ranges of @minus wholly below r cannot touch it or later ones. */
		while (j < minus->len && m[j].end <= r.start)
			j++;
		for (guint k = j; k < minus->len && m[k].start < r.end; k++) {
			if (m[k].start > r.start) {
				struct etmem_range keep = { r.start, m[k].start };

				g_array_append_val(out, keep);
			}
			removed += MIN(r.end, m[k].end) - MAX(r.start, m[k].start);
			r.start = MAX(r.start, m[k].end);
			if (r.start >= r.end)
				break;
		}
		if (r.start < r.end)
			g_array_append_val(out, r);
	}
	g_array_set_size(from, 0);
	g_array_append_vals(from, out->data, out->len);
	g_array_free(out, TRUE);
	return removed;
}

void ranges_merge(GArray *into, const GArray *add)
{
	GArray *out;
	guint i = 0, j = 0;

	if (!add->len)
		return;
	out = g_array_sized_new(FALSE, FALSE, sizeof(struct etmem_range), into->len + add->len);
	while (i < into->len || j < add->len) {
		const struct etmem_range *a = i < into->len ?
			&g_array_index(into, struct etmem_range, i) : NULL;
		const struct etmem_range *b = j < add->len ?
			&g_array_index(add, struct etmem_range, j) : NULL;
		const struct etmem_range *next = !b || (a && a->start <= b->start) ? a : b;
		struct etmem_range *last = out->len ?
			&g_array_index(out, struct etmem_range, out->len - 1) : NULL;

		if (next == a)
			i++;
		else
			j++;
		if (last && next->start <= last->end)
			last->end = MAX(last->end, next->end);
		else
			g_array_append_val(out, *next);
	}
	g_array_set_size(into, 0);
	g_array_append_vals(into, out->data, out->len);
	g_array_free(out, TRUE);
}

/*
 * What a module older than this etmemd lacks (loaded before an upgrade,
 * until it is reloaded): its policy refuses the flag or attribute with
 * EINVAL, before anything of the request is applied. Newest first; each
 * is dropped once, for good, with one warning.
 */
static const struct scan_feature {
	uint32_t flags;
	bool min_age;		/* ETMEM_A_SCAN_MIN_IDLE_AGE goes with it */
	const char *warning;
} scan_features[] = {
	{ ETMEM_SCAN_FLAGS_RUNS, true,
	  "the loaded etmem_scan module does not know run-length replies (an older version?): "
	  "reading every page's state until etmemd restarts (reload the module first)" },
	{ ETMEM_SCAN_FLAGS_SAMPLE_HOT, false,
	  "the loaded etmem_scan module does not know hot sampling (an older version?): "
	  "scanning every hot page table every pass until etmemd restarts (reload the module first)" },
};
static atomic_uint features_refused;	/* bit i: scan_features[i] */

void page_counts_forget_refusals(void)
{
	atomic_store(&features_refused, 0);
}

int page_counts_scan_pass(struct page_counts *pc, struct etmem_client *client,
			  int client_err, bool cancel, const struct proc_id *id, int pidfd,
			  uint32_t scan_flags, unsigned int min_idle_age, unsigned int pass,
			  char *errmsg, size_t errmsg_len)
{
	unsigned int refused = atomic_load(&features_refused), dropped = 0;
	int ret;

	if (!client) {
		snprintf(errmsg, errmsg_len, "cannot open the etmem netlink family (%s)",
			 etmem_modules_hint());
		return client_err;
	}
	if (cancel || !proc_alive_pidfd(id, pidfd))
		return -ESRCH;
	if (!(scan_flags & ETMEM_SCAN_FLAGS_IDLE_AGES))
		min_idle_age = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(scan_features); i++) {
		if (!(refused & (1u << i)))
			continue;
		scan_flags &= ~scan_features[i].flags;
		if (scan_features[i].min_age)
			min_idle_age = 0;
	}
	page_counts_begin_pass(pc, pass);
	ret = etmem_scan_min_age(client, id->pid, NULL, 0, scan_flags, min_idle_age,
				 page_counts_add_chunk, pc);
	/*
	 * Modules only ever gain features: one that refuses an older feature
	 * knows none of the newer ones either, so everything dropped on the
	 * way to an accepted request stays dropped.
	 */
	for (size_t i = 0; ret == -EINVAL && i < G_N_ELEMENTS(scan_features); i++) {
		const struct scan_feature *f = &scan_features[i];

		/* The cap came with runs: it goes with them, even if asked alone. */
		if (!(scan_flags & f->flags) && !(f->min_age && min_idle_age))
			continue;
		/* Nothing of the refused request was applied: the pass starts again. */
		scan_flags &= ~f->flags;
		if (f->min_age)
			min_idle_age = 0;
		dropped |= 1u << i;
		page_counts_begin_pass(pc, pass);
		ret = etmem_scan_min_age(client, id->pid, NULL, 0, scan_flags, min_idle_age,
					 page_counts_add_chunk, pc);
	}
	if (!ret && dropped) {
		unsigned int before = atomic_fetch_or(&features_refused, dropped);

		for (size_t i = 0; i < G_N_ELEMENTS(scan_features); i++)
			if ((dropped & ~before) & (1u << i))
				log_warn("%s", scan_features[i].warning);
	}
	if (ret)
		snprintf(errmsg, errmsg_len, "%s", etmem_client_errmsg(client));
	return ret;
}
