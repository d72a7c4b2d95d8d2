// SPDX-License-Identifier: GPL-2.0
/* Task figures, failures and the per-cycle log line; see report.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "etmem_out.h"
#include "log.h"
#include "report.h"

static const char *const kept_names[] = {
	[TASK_KEPT_YOUNG] = "accessed_again",
	[TASK_KEPT_LOCKED] = "locked",
	[TASK_KEPT_SHARED] = "shared",
	[TASK_KEPT_HUGETLB] = "hugetlb",
	[TASK_KEPT_UNMARKED] = "unmarked",
	[TASK_KEPT_UNEVICTABLE] = "unevictable",
	[TASK_KEPT_NO_SWAP] = "no_swap",
	[TASK_KEPT_SWAP_FULL] = "swap_full",
	[TASK_KEPT_REFUSED] = "reclaim_refused",
};

_Static_assert(G_N_ELEMENTS(kept_names) == __TASK_KEPT_CNT, "one name per kept reason");

const char *task_kept_name(enum task_kept kept)
{
	return kept_names[kept];
}

void task_report_reset(struct task *task)
{
	memset(&task->stats, 0, sizeof(task->stats));
}

void task_fail(struct task *task, const struct log_ctx *ctx, const char *error)
{
	task->stats.failing = true;
	task->stats.nr_errors++;
	snprintf(task->stats.error, sizeof(task->stats.error), "%s", error);
	log_warn_limited("failure", ctx, "%s/%s: %s", task->engine->project->params.name,
			 task->name, error);
}

void task_counts_add(struct task_counts *sum, const struct task_counts *c)
{
	sum->pages_scanned += c->pages_scanned;
	sum->pages_cold += c->pages_cold;
	sum->pages_cold_held += c->pages_cold_held;
	sum->bytes_paged_out += c->bytes_paged_out;
	sum->bytes_gone += c->bytes_gone;
	for (int i = 0; i < __TASK_KEPT_CNT; i++)
		sum->bytes_kept[i] += c->bytes_kept[i];
}

void task_counts_add_swap(struct task_counts *counts, const struct etmem_swap_result *r,
			  uint64_t swap_total, uint64_t swap_free)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t *kept = counts->bytes_kept;
	uint64_t anon = r->nr_kept_anon * page;

	counts->bytes_paged_out += r->bytes_out;
	counts->bytes_gone += r->nr_absent * page;
	kept[TASK_KEPT_YOUNG] += r->nr_young * page;
	kept[TASK_KEPT_LOCKED] += r->nr_locked * page;
	kept[TASK_KEPT_SHARED] += r->nr_shared * page;
	kept[TASK_KEPT_HUGETLB] += r->nr_hugetlb * page;
	kept[TASK_KEPT_UNMARKED] += r->nr_unmarked * page;
	kept[TASK_KEPT_UNEVICTABLE] += r->nr_unevictable * page;
	kept[TASK_KEPT_REFUSED] += r->nr_kept_file * page;
	if (!swap_total)
		kept[TASK_KEPT_NO_SWAP] += anon;
	else if (swap_free < swap_total / 16)
		kept[TASK_KEPT_SWAP_FULL] += anon;
	else
		kept[TASK_KEPT_REFUSED] += anon;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t task_duration_median(const struct task_stats *st)
{
	uint32_t sorted[TASK_DURATIONS];
	uint64_t n = MIN(st->nr_cycles, (uint64_t)TASK_DURATIONS);

	if (!n)
		return 0;
	memcpy(sorted, st->duration_ms, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_u32);
	return n % 2 ? sorted[n / 2] : ((uint64_t)sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void kept_text(const struct task_counts *c, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < __TASK_KEPT_CNT && len < size; i++) {
		char *sz;

		if (!c->bytes_kept[i])
			continue;
		sz = etmem_out_format_size(c->bytes_kept[i]);
		len += snprintf(buf + len, size - len, "%s%s %s", len ? ", " : "", sz,
				kept_names[i]);
		g_free(sz);
	}
	if (!len)
		snprintf(buf, size, "nothing");
}

void task_cycle_end(struct task *task, const struct log_ctx *ctx,
		    const struct task_counts *cycle, uint64_t duration_ms, bool had_errors)
{
	struct task_stats *st = &task->stats;
	char kept[256], gone[64] = "", *out;

	st->duration_ms[st->nr_cycles % TASK_DURATIONS] = (uint32_t)MIN(duration_ms, UINT32_MAX);
	st->duration_ms_max = MAX(st->duration_ms_max, duration_ms);
	st->nr_cycles++;
	st->last = *cycle;
	task_counts_add(&st->total, cycle);
	st->pages_scanned = cycle->pages_scanned;
	st->pages_cold = cycle->pages_cold;
	st->bytes_paged_out_last = cycle->bytes_paged_out;
	st->bytes_paged_out = st->total.bytes_paged_out;
	st->last_cycle_end = time(NULL);
	if (!had_errors) {
		st->failing = false;
		st->error[0] = '\0';
	}
	kept_text(cycle, kept, sizeof(kept));
	if (cycle->bytes_gone) {
		char *sz = etmem_out_format_size(cycle->bytes_gone);

		snprintf(gone, sizeof(gone), " (%s already gone from RAM)", sz);
		g_free(sz);
	}
	out = etmem_out_format_size(cycle->bytes_paged_out);
	log_ctx_msg(LOG_LEVEL_INFO, ctx, "%s/%s: cycle %" PRIu64 ": %u process(es), %" PRIu64
		    " pages scanned, %" PRIu64 " cold (%" PRIu64 " held back), %s paged out%s, kept: %s; %"
		    PRIu64 " ms",
		    task->engine->project->params.name, task->name, st->nr_cycles, st->nr_procs,
		    cycle->pages_scanned, cycle->pages_cold, cycle->pages_cold_held, out, gone, kept,
		    duration_ms);
	g_free(out);
}

const char *task_state_text(const struct task *task)
{
	/* Failing too: a task whose start failed while its project runs. */
	if (task->stats.failing && (task->started || task->engine->project->started))
		return "failing";
	return task->engine->ops->task_state(task);
}
