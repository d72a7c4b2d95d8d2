// SPDX-License-Identifier: GPL-2.0
/* Slide's budget mode: the age controller and its cost meter; see budget.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "procs.h"

/* ---- the controller ---- */

static unsigned int clamp_age(const struct budget_ctl *ctl, unsigned int age)
{
	return MIN(MAX(age, ctl->floor), ctl->ceiling);
}

void budget_ctl_init(struct budget_ctl *ctl, uint64_t stall_budget_us,
		     uint64_t majflt_budget, unsigned int floor, unsigned int ceiling)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->stall_budget_us = stall_budget_us;
	ctl->majflt_budget = majflt_budget;
	ctl->floor = MAX(floor, 1u);
	ctl->ceiling = MAX(ceiling, ctl->floor);
	ctl->age = clamp_age(ctl, BUDGET_AGE_START);
	ctl->verdict = BUDGET_NO_DATA;
}

/*
 * The cost as a share of the budget, in percent: the larger of the two
 * budgets' shares. Rates are kept for show: stall in us/s, faults in
 * thousandths per second.
 */
static uint64_t cost_pct(struct budget_ctl *ctl, uint64_t stall_us, uint64_t majflt,
			 uint64_t window_us)
{
	uint64_t pct = 0;

	ctl->stall_us_per_s = stall_us * 1000000 / window_us;
	ctl->majflt_milli_per_s = majflt * 1000000000 / window_us;
	if (ctl->stall_budget_us)
		pct = MAX(pct, ctl->stall_us_per_s * 100 / ctl->stall_budget_us);
	if (ctl->majflt_budget)
		pct = MAX(pct, ctl->majflt_milli_per_s / 10 / ctl->majflt_budget);
	return pct;
}

/* The youngest age in force in the last BUDGET_LAG cycles, this one included. */
static unsigned int recent_min(const struct budget_ctl *ctl)
{
	unsigned int n = MIN(ctl->nr_cycles, (unsigned int)BUDGET_LAG), min = ctl->age;

	for (unsigned int i = 0; i < n; i++)
		min = MIN(min, ctl->recent[i]);
	return min;
}

bool budget_ctl_update(struct budget_ctl *ctl, uint64_t stall_us, uint64_t majflt,
		       uint64_t window_us)
{
	unsigned int old = ctl->age, lowest;
	uint64_t pct;

	/* The age the last cycle paged out with, for the lag window. */
	ctl->recent[ctl->nr_cycles++ % BUDGET_LAG] = ctl->age;
	ctl->dwell++;
	if (!window_us) {
		ctl->verdict = BUDGET_NO_DATA;
		return false;
	}
	pct = cost_pct(ctl, stall_us, majflt, window_us);
	if (pct > 100) {
		ctl->verdict = BUDGET_OVER;
		/* The cost comes from pages taken at one of the recent ages. */
		ctl->too_young = MAX(ctl->too_young, recent_min(ctl));
		ctl->age = clamp_age(ctl, MAX(ctl->age * 2, ctl->age + 1));
	} else if (pct < BUDGET_ROOM_PCT) {
		ctl->verdict = BUDGET_ROOM;
		lowest = MAX(ctl->floor, ctl->too_young + 1);
		if (ctl->dwell >= BUDGET_DWELL && ctl->age > lowest)
			ctl->age = MAX(lowest, ctl->age - MAX(ctl->age / 4, 1u));
	} else {
		ctl->verdict = BUDGET_WITHIN;
	}
	if (ctl->age == old)
		return false;
	ctl->dwell = 0;
	return true;
}

void budget_ctl_forget(struct budget_ctl *ctl)
{
	ctl->too_young = 0;
}

const char *budget_verdict_name(enum budget_verdict v)
{
	switch (v) {
	case BUDGET_ROOM:
		return "room";
	case BUDGET_WITHIN:
		return "within";
	case BUDGET_OVER:
		return "over";
	default:
		return "no_data";
	}
}

const char *budget_verdict_text(enum budget_verdict v)
{
	switch (v) {
	case BUDGET_ROOM:
		return "under half the budget";
	case BUDGET_WITHIN:
		return "within the budget";
	case BUDGET_OVER:
		return "over the budget";
	default:
		return "not measured yet";
	}
}

/* ---- the meter ---- */

int budget_psi_some_total(const char *text, uint64_t *total_us)
{
	const char *p = strstr(text, "some ");
	char *end;

	p = p ? strstr(p, "total=") : NULL;
	if (!p)
		return -EINVAL;
	errno = 0;
	*total_us = strtoull(p + 6, &end, 10);
	return end == p + 6 || errno ? -EINVAL : 0;
}

int budget_cgroup_dir(pid_t pid, char *buf, size_t len)
{
	char path[64], line[PATH_MAX];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The cgroup v2 line is "0::/path". */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line + 3, "/"))
			snprintf(buf, len, "%s", "");
		else
			snprintf(buf, len, "/sys/fs/cgroup%s", line + 3);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return 0;
}

/* A cgroup's PSI some total; "" is the root cgroup, read system-wide. */
static int read_stall(const char *dir, uint64_t *total_us)
{
	char path[PATH_MAX], buf[512];
	int ret;

	if (*dir)
		snprintf(path, sizeof(path), "%s/memory.pressure", dir);
	else
		snprintf(path, sizeof(path), "/proc/pressure/memory");
	ret = read_file(path, buf, sizeof(buf));
	return ret ? ret : budget_psi_some_total(buf, total_us);
}

void budget_meter_init(struct budget_meter *m)
{
	memset(m, 0, sizeof(*m));
	m->cgroups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	m->procs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void budget_meter_free(struct budget_meter *m)
{
	if (m->cgroups)
		g_hash_table_destroy(m->cgroups);
	if (m->procs)
		g_hash_table_destroy(m->procs);
	m->cgroups = m->procs = NULL;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

/* Moves @key's value from @old to @new, setting it to @value; returns the old one. */
static bool rekey(GHashTable *old, GHashTable *new, const char *key, uint64_t value,
		  uint64_t *prev)
{
	gpointer k, v;
	bool had = g_hash_table_lookup_extended(old, key, &k, &v);
	uint64_t *val = g_new(uint64_t, 1);

	if (had)
		*prev = *(uint64_t *)v;
	*val = value;
	g_hash_table_insert(new, g_strdup(key), val);
	return had;
}

uint64_t budget_meter_sample(struct budget_meter *m, const pid_t *pids, unsigned int nr_pids,
			     uint64_t *stall_us, uint64_t *majflt)
{
	GHashTable *cgroups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTable *procs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	uint64_t t = now_us(), window = m->last_us ? t - m->last_us : 0;
	unsigned int nr_known = 0;

	*stall_us = *majflt = 0;
	m->source[0] = '\0';
	for (unsigned int i = 0; i < nr_pids; i++) {
		char dir[PATH_MAX - 32], key[64];
		struct proc_stat st;
		uint64_t total, prev = 0;

		if (proc_read_stat(pids[i], &st))
			continue;
		snprintf(key, sizeof(key), "%d:%" PRIu64, (int)pids[i], st.start_time);
		if (!g_hash_table_contains(procs, key) &&
		    rekey(m->procs, procs, key, st.majflt, &prev)) {
			nr_known++;
			if (st.majflt > prev)
				*majflt += st.majflt - prev;
		}
		if (budget_cgroup_dir(pids[i], dir, sizeof(dir)) || g_hash_table_contains(cgroups, dir) ||
		    read_stall(dir, &total))
			continue;
		if (!m->source[0])
			g_strlcpy(m->source, *dir ? dir : "/proc/pressure/memory (root cgroup: the whole system)",
				  sizeof(m->source));
		if (rekey(m->cgroups, cgroups, dir, total, &prev) && total > prev)
			*stall_us = MAX(*stall_us, total - prev);
	}
	m->replaced = !nr_known && g_hash_table_size(m->procs) && g_hash_table_size(procs);
	g_hash_table_destroy(m->cgroups);
	g_hash_table_destroy(m->procs);
	m->cgroups = cgroups;
	m->procs = procs;
	m->last_us = t;
	return window;
}
