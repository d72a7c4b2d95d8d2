// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>

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
	uint8_t *counts;
	uint8_t *ages;		/* idle ages of the latest pass, if it had them */
};

struct page_counts {
	GArray *segs;		/* struct scan_segment, ascending addresses */
	unsigned int pass;
	guint cursor;		/* where the last lookup hit */
};

static void segment_clear(gpointer data)
{
	free(((struct scan_segment *)data)->counts);
	free(((struct scan_segment *)data)->ages);
}

/* The idle age a chunk gives page @i, ETMEM_IDLE_AGE_UNKNOWN without one. */
static uint8_t chunk_age(const struct etmem_chunk *chunk, uint32_t i)
{
	return chunk->idle_ages ? chunk->idle_ages[i] : ETMEM_IDLE_AGE_UNKNOWN;
}

struct page_counts *page_counts_new(void)
{
	struct page_counts *pc = g_new0(struct page_counts, 1);

	pc->segs = g_array_new(FALSE, FALSE, sizeof(struct scan_segment));
	g_array_set_clear_func(pc->segs, segment_clear);
	return pc;
}

void page_counts_free(struct page_counts *pc)
{
	if (!pc)
		return;
	g_array_free(pc->segs, TRUE);
	g_free(pc);
}

void page_counts_begin_pass(struct page_counts *pc, unsigned int pass)
{
	pc->pass = pass;
	pc->cursor = 0;
	if (pass <= 1)
		g_array_set_size(pc->segs, 0);
}

static int append_segment(struct page_counts *pc, const struct etmem_chunk *chunk)
{
	struct scan_segment seg = {
		.addr = chunk->addr,
		.page_shift = chunk->page_shift,
		.nr_pages = chunk->nr_pages,
		.end = chunk->addr + ((uint64_t)chunk->nr_pages << chunk->page_shift),
	};

	seg.counts = malloc(chunk->nr_pages ? chunk->nr_pages : 1);
	seg.ages = malloc(chunk->nr_pages ? chunk->nr_pages : 1);
	if (!seg.counts || !seg.ages) {
		free(seg.counts);
		free(seg.ages);
		return -1;
	}
	for (uint32_t i = 0; i < chunk->nr_pages; i++) {
		enum etmem_page_state st = etmem_chunk_state(chunk, i);

		seg.counts[i] = st == ETMEM_PAGE_STATE_ABSENT ? COUNT_ABSENT :
				etmem_state_accessed(st) ? 1 : 0;
		seg.ages[i] = chunk_age(chunk, i);
	}
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

int page_counts_add_chunk(const struct etmem_chunk *chunk, void *arg)
{
	struct page_counts *pc = arg;

	if (pc->pass <= 1)
		return append_segment(pc, chunk);
	for (uint32_t i = 0; i < chunk->nr_pages; i++) {
		uint64_t addr = chunk->addr + ((uint64_t)i << chunk->page_shift);
		int idx = find_segment(pc, addr);
		struct scan_segment *seg;
		uint8_t *count;

		if (idx < 0)
			continue;	/* mapped after the first pass */
		seg = &g_array_index(pc->segs, struct scan_segment, idx);
		if (seg->page_shift != chunk->page_shift) {
			/* A huge page split or formed: no stable history. */
			count = &seg->counts[(addr - seg->addr) >> seg->page_shift];
			*count |= COUNT_ABSENT;
			continue;
		}
		count = &seg->counts[(addr - seg->addr) >> seg->page_shift];
		seg->ages[(addr - seg->addr) >> seg->page_shift] = chunk_age(chunk, i);
		switch (etmem_chunk_state(chunk, i)) {
		case ETMEM_PAGE_STATE_ABSENT:
			*count |= COUNT_ABSENT;
			break;
		case ETMEM_PAGE_STATE_ACCESSED:
		case ETMEM_PAGE_STATE_RECENT:	/* a hot table left unread */
			if ((*count & COUNT_MAX) < COUNT_MAX)
				(*count)++;
			break;
		default:
			break;
		}
	}
	return 0;
}

uint64_t page_counts_nr_pages(const struct page_counts *pc)
{
	uint64_t nr = 0;

	for (guint s = 0; s < pc->segs->len; s++) {
		const struct scan_segment *seg = &g_array_index(pc->segs, struct scan_segment, s);

		for (uint32_t i = 0; i < seg->nr_pages; i++)
			if (!(seg->counts[i] & COUNT_ABSENT))
				nr += 1ull << (seg->page_shift - 12);
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

		for (uint32_t i = 0; i < seg->nr_pages; i++) {
			uint64_t addr = seg->addr + ((uint64_t)i << seg->page_shift);
			uint64_t size = 1ull << seg->page_shift;

			if ((seg->counts[i] & COUNT_ABSENT) || seg->counts[i] >= threshold)
				continue;
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
				 GHashTable **own_ages, GArray *ranges)
{
	/* Page numbers to ages, only for pages idle a while: absent is 0. */
	GHashTable *now = g_hash_table_new(g_direct_hash, g_direct_equal);
	struct etmem_range run = { 0, 0 };
	uint64_t nr_cold = 0;

	for (guint s = 0; s < pc->segs->len; s++) {
		const struct scan_segment *seg = &g_array_index(pc->segs, struct scan_segment, s);

		for (uint32_t i = 0; i < seg->nr_pages; i++) {
			uint64_t addr = seg->addr + ((uint64_t)i << seg->page_shift);
			unsigned int age = seg->ages[i];

			if (seg->counts[i] & COUNT_ABSENT)
				continue;
			if (age == ETMEM_IDLE_AGE_UNKNOWN) {
				gpointer key = GSIZE_TO_POINTER(addr >> 12);

				/* Our own count: idle in every pass, or back to 0. */
				age = *own_ages ? GPOINTER_TO_UINT(g_hash_table_lookup(*own_ages, key)) : 0;
				age = seg->counts[i] ? 0 : MIN(age + pc->pass, ETMEM_IDLE_AGE_MAX);
				if (age)
					g_hash_table_insert(now, key, GUINT_TO_POINTER(age));
			}
			if (age < min_age)
				continue;
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

		for (uint32_t i = 0; i < seg->nr_pages; i++)
			if (!(seg->counts[i] & COUNT_ABSENT))
				fn(seg->addr + ((uint64_t)i << seg->page_shift),
				   seg->page_shift, seg->counts[i],
				   seg->ages[i] == ETMEM_IDLE_AGE_UNKNOWN ? -1 : seg->ages[i], arg);
	}
}

/* The loaded module refused ETMEM_SCAN_FLAGS_SAMPLE_HOT once (it is older). */
static atomic_bool sample_hot_refused;

int page_counts_scan_pass(struct page_counts *pc, struct etmem_client *client,
			  int client_err, bool cancel, const struct proc_id *id,
			  uint32_t scan_flags, unsigned int pass,
			  char *errmsg, size_t errmsg_len)
{
	int ret;

	if (!client) {
		snprintf(errmsg, errmsg_len,
			 "cannot open the etmem netlink family; is etmem_scan installed? (package etmem-dkms, or make modules_install)");
		return client_err;
	}
	if (cancel || !proc_alive(id))
		return -ESRCH;
	if (atomic_load(&sample_hot_refused))
		scan_flags &= ~ETMEM_SCAN_FLAGS_SAMPLE_HOT;
	page_counts_begin_pass(pc, pass);
	ret = etmem_scan(client, id->pid, NULL, 0, scan_flags, page_counts_add_chunk, pc);
	if (ret == -EINVAL && (scan_flags & ETMEM_SCAN_FLAGS_SAMPLE_HOT)) {
		/*
		 * A module older than this etmemd (loaded before an upgrade,
		 * until it is reloaded) refuses the flag by its policy: scan
		 * without hot sampling from now on, as before. Nothing of the
		 * refused request was applied, so the pass starts again.
		 */
		page_counts_begin_pass(pc, pass);
		ret = etmem_scan(client, id->pid, NULL, 0,
				 scan_flags & ~ETMEM_SCAN_FLAGS_SAMPLE_HOT,
				 page_counts_add_chunk, pc);
		if (!ret && !atomic_exchange(&sample_hot_refused, true))
			log_warn("the loaded etmem_scan module does not know hot sampling (an older version?): scanning every hot page table every pass until it is reloaded");
	}
	if (ret)
		snprintf(errmsg, errmsg_len, "%s", etmem_client_errmsg(client));
	return ret;
}
