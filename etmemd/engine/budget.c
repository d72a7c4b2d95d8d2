// SPDX-License-Identifier: GPL-2.0
/* Slide's budget mode: the age controller and its cost meter; see budget.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
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
	ctl->probe_share = BUDGET_PROBE_ALL;
	ctl->verdict = BUDGET_NO_DATA;
	ctl->forget_after = BUDGET_FORGET;
	ctl->explore_after = BUDGET_EXPLORE;
	/* No cost over budget yet: nothing to wait for. */
	ctl->since_over = BUDGET_LAG;
}

/*
 * A cost as a share of the budget, in percent: the larger of the two
 * budgets' shares; the stall in us/s, the faults in thousandths per second.
 */
static uint64_t share_pct(const struct budget_ctl *ctl, uint64_t stall_us_per_s,
			  uint64_t majflt_milli_per_s)
{
	uint64_t pct = 0;

	if (ctl->stall_budget_us)
		pct = MAX(pct, stall_us_per_s * 100 / ctl->stall_budget_us);
	if (ctl->majflt_budget)
		pct = MAX(pct, majflt_milli_per_s / 10 / ctl->majflt_budget);
	return pct;
}

/* The window's cost as a share of the budget; its rates are kept for show. */
static uint64_t cost_pct(struct budget_ctl *ctl, uint64_t stall_us, uint64_t majflt,
			 uint64_t window_us)
{
	ctl->measured = true;
	ctl->stall_us_per_s = stall_us * 1000000 / window_us;
	ctl->majflt_milli_per_s = majflt * 1000000000 / window_us;
	return share_pct(ctl, ctl->stall_us_per_s, ctl->majflt_milli_per_s);
}

/* The youngest age in force in the last BUDGET_LAG cycles, this one included. */
static unsigned int recent_min(const struct budget_ctl *ctl)
{
	unsigned int n = MIN(ctl->nr_cycles, (unsigned int)BUDGET_LAG), min = ctl->age;

	for (unsigned int i = 0; i < n; i++)
		min = MIN(min, ctl->recent[i]);
	return min;
}

/* The youngest age from which every page went, in the last BUDGET_LAG cycles. */
static unsigned int recent_full_min(const struct budget_ctl *ctl)
{
	unsigned int n = MIN(ctl->nr_cycles, (unsigned int)BUDGET_LAG);
	unsigned int min = budget_scan_age(ctl);

	for (unsigned int i = 0; i < n; i++)
		min = MIN(min, ctl->recent_full[i]);
	return min;
}

/*
 * Do the faults the probed bands cannot explain cost more than the budget?
 * A page taken faults back once per page-out, so the bands' pages asked
 * out in the last BUDGET_LAG cycles bound the faults they cause; the stall
 * is shared in proportion to the faults.
 */
static bool beyond_bands(const struct budget_ctl *ctl, uint64_t stall_us, uint64_t majflt,
			 uint64_t window_us)
{
	unsigned int n = MIN(ctl->nr_cycles, (unsigned int)BUDGET_LAG);
	uint64_t band = 0, out, stall_out;

	for (unsigned int i = 0; i < n; i++)
		band += ctl->recent_band[i];
	if (majflt <= band)
		return false;
	out = majflt - band;
	stall_out = (uint64_t)((double)stall_us * out / majflt);
	return share_pct(ctl, stall_out * 1000000 / window_us,
			 out * 1000000000 / window_us) > 100;
}

/*
 * The cycle-to-cycle noise of the cost: the spread of the measured cycles
 * of each setting around that setting's own mean (past its first
 * BUDGET_LAG cycles, whose cost may still be the last change's), pooled
 * over the settings that had at least 2 such cycles, a setting's weight
 * multiplied by BUDGET_NOISE_DECAY for each newer one. Pooled when a
 * setting ends, so the step being judged does not count its own onset as
 * noise; the cycles of
 * a step undone, or ended over budget while being judged, are not pooled
 * at all (their rise is the step's cost). Cycles over budget are not in
 * it (they end the setting first).
 */
static void pool_noise(struct budget_ctl *ctl)
{
	double ss;

	if (ctl->late_n < 2)
		return;
	ss = (double)ctl->late_sq - (double)ctl->late_sum * ctl->late_sum / ctl->late_n;
	ctl->noise_ss = ctl->noise_ss * BUDGET_NOISE_DECAY + MAX(ss, 0.0);
	ctl->noise_df = ctl->noise_df * BUDGET_NOISE_DECAY + (ctl->late_n - 1);
}

double budget_noise_sd(const struct budget_ctl *ctl)
{
	return ctl->noise_df >= 1 ? sqrt(ctl->noise_ss / ctl->noise_df) : 0;
}

/* Rounded up to a whole percent, BUDGET_FLAT_PCT at least, BUDGET_NOISE_MAX_PCT at most. */
static uint64_t noise_pct(double pct)
{
	if (pct <= BUDGET_FLAT_PCT)
		return BUDGET_FLAT_PCT;
	return MIN((uint64_t)ceil(pct), (uint64_t)BUDGET_NOISE_MAX_PCT);
}

uint64_t budget_flat_margin(double sd, unsigned int n_before, unsigned int n_step)
{
	if (!n_before || !n_step)
		return BUDGET_FLAT_PCT;
	return noise_pct(2 * sd * sqrt(1.0 / n_before + 1.0 / n_step));
}

uint64_t budget_headroom(const struct budget_ctl *ctl)
{
	return noise_pct(BUDGET_HEADROOM_SD * budget_noise_sd(ctl));
}

/* Back to the setting before a step tried within the budget. */
static void undo_step(struct budget_ctl *ctl)
{
	ctl->age = ctl->undo_age;
	ctl->probe_from = ctl->undo_probe_from;
	ctl->probe_share = ctl->undo_share;
	ctl->pending = false;
	/*
	 * A band completed together with the next one's start: which of the
	 * two cost is not known, so the band's rest goes alone next time.
	 */
	/* Kept until the band ends: a later undone try must not clear it. */
	ctl->no_chain |= ctl->chained;
	ctl->chained = false;
	ctl->explore_after = MIN(ctl->explore_after * 2, BUDGET_EXPLORE_MAX);
	/* Its refaults still to come are its own, not new evidence. */
	ctl->undone_lag = BUDGET_LAG;
}

/*
 * The next share of a probe after a flat step: as much more as the step's
 * own cost, extrapolated in proportion to the share, says adds at most
 * half of BUDGET_FLAT_PCT and fits under the budget with budget_headroom()
 * to spare; four times the share at most (1/8,
 * 1/2, all: a band whose share cost nothing is taken in two judged
 * steps). The share itself when nothing more fits: no step.
 */
static unsigned int flat_share(const struct budget_ctl *ctl)
{
	/*
	 * The share the judged step added: all of it for a new band (also
	 * when the step took the last band's rest too, whose cost is then
	 * counted as the new share's: a smaller next share, never a larger).
	 */
	unsigned int delta = ctl->undo_probe_from == ctl->probe_from &&
			     ctl->undo_age == ctl->age ?
			     ctl->probe_share - ctl->undo_share : ctl->probe_share;
	/* Whole percents: what was measured as 0 may be up to 1. */
	uint64_t added = (ctl->step_pct > ctl->step_before_pct ?
			  ctl->step_pct - ctl->step_before_pct : 0) + 1;
	uint64_t head = budget_headroom(ctl);
	uint64_t spare = ctl->step_pct + head < 100 ? 100 - head - ctl->step_pct : 0;
	/*
	 * Half of BUDGET_FLAT_PCT, not of a margin widened for noise: what a
	 * step measured as adding nothing may add is not known better than
	 * the noise, and a share grown to fill that noise once went 30% over
	 * the budget in one step.
	 */
	uint64_t more = MIN(spare, (uint64_t)(BUDGET_FLAT_PCT + 1) / 2) * delta / added;

	return MIN(ctl->probe_share + MIN(more, 3 * (uint64_t)ctl->probe_share),
		   (uint64_t)BUDGET_PROBE_ALL);
}

/*
 * Whether a new band may be probed below the age: not within BUDGET_LAG
 * cycles of a cost over budget (its refaults would be blamed on the new
 * probe's age, or the new probe's on it), whether that cost raised the
 * age, ended a probe or undid a try, nor after a flat step that left
 * less than budget_headroom() of the budget.
 */
static bool may_start_band(const struct budget_ctl *ctl, unsigned int lowest, bool flat)
{
	return ctl->age > lowest && ctl->since_over >= BUDGET_LAG &&
	       (!flat || ctl->step_pct + budget_headroom(ctl) < 100);
}

/* Probe a band of younger pages, [new age, age), at BUDGET_PROBE_START. */
static void start_band(struct budget_ctl *ctl, unsigned int lowest, bool flat)
{
	/*
	 * A quarter down; with a too-young age below, at most half way to
	 * it: the boundary is found by bisection, each failed probe a burst
	 * of refaults, not by trying every age above the bound in turn.
	 */
	unsigned int to = ctl->age - MAX(ctl->age / 4, 1u);

	if (ctl->too_young)
		to = MAX(to, (ctl->too_young + ctl->age + 1) / 2);
	/*
	 * On after a flat step: half way to the lowest age, since the band's
	 * cost is judged before any of it is all taken.
	 */
	if (flat)
		to = (ctl->age + lowest) / 2;
	ctl->probe_from = ctl->age;
	ctl->probe_share = BUDGET_PROBE_START;
	ctl->age = MAX(lowest, MIN(to, ctl->age - 1));
}

bool budget_ctl_update(struct budget_ctl *ctl, uint64_t stall_us, uint64_t majflt,
		       uint64_t window_us, bool may_lower)
{
	unsigned int old = ctl->age, old_share = ctl->probe_share, lowest, blame;
	unsigned int old_from = ctl->probe_from;
	unsigned int slot = ctl->nr_cycles++ % BUDGET_LAG;
	enum budget_step step = BUDGET_STEP_NONE;
	bool room = false, flat = false, explore = false;
	uint64_t pct;

	/* What the last cycle paged out with, for the lag window. */
	ctl->recent[slot] = ctl->age;
	ctl->recent_full[slot] = budget_scan_age(ctl);
	ctl->recent_band[slot] = ctl->band_taken;
	ctl->band_taken = 0;
	if (!window_us) {
		ctl->verdict = BUDGET_NO_DATA;
		return false;
	}
	pct = cost_pct(ctl, stall_us, majflt, window_us);
	if (ctl->undone_lag)
		ctl->undone_lag--;
	if (pct > 100) {
		/*
		 * A step taken within the budget and not judged yet, or just
		 * undone, may have completed its band (no probe left to count
		 * its pages in budget_ctl_took()): its cost is its own, not
		 * faults beyond the bands.
		 */
		bool beyond = !ctl->pending && !ctl->undone_lag &&
			      beyond_bands(ctl, stall_us, majflt, window_us);

		ctl->verdict = BUDGET_OVER;
		ctl->within = 0;
		ctl->calm = 0;
		ctl->since_over = 0;
		/*
		 * The setting's mean cost starts again after a cost over
		 * budget. A step being judged is no setting of its own: its
		 * cycles' rise is its cost, not noise.
		 */
		if (!ctl->pending)
			pool_noise(ctl);
		ctl->pct_sum = ctl->pct_sq = ctl->pct_n = 0;
		ctl->late_sum = ctl->late_sq = ctl->late_n = 0;
		if (ctl->relaxed) {
			/* A relaxed bound proved too young again: probe less often. */
			ctl->forget_after = MIN(ctl->forget_after * 2, BUDGET_FORGET_MAX);
			ctl->relaxed = false;
		}
		if (ctl->pending && !beyond) {
			/*
			 * A step tried within the budget went over: back to
			 * exactly where it came from, which was within the
			 * budget for BUDGET_EXPLORE cycles at least.
			 */
			undo_step(ctl);
			step = BUDGET_STEP_UNDONE;
			goto changed;
		}
		/*
		 * The cost of a step undone in the last BUDGET_LAG cycles,
		 * still coming in: the step is gone already.
		 */
		if (ctl->undone_lag && !beyond)
			return false;
		ctl->pending = false;
		ctl->chained = false;
		/* Any probe ends below: no band's rest is left to go alone. */
		ctl->no_chain = false;
		step = BUDGET_STEP_UP;
		/*
		 * The cost comes from pages taken at one of the recent ages.
		 * Blaming the same page-out again (its refaults spread over
		 * several cycles) is no new evidence: the age was raised for it.
		 */
		blame = beyond ? recent_full_min(ctl) : recent_min(ctl);
		if (ctl->probe_from && !beyond) {
			/*
			 * A probe ends on any cost over budget, where it
			 * started: that age had room for BUDGET_DWELL cycles.
			 * Even a cost blamed on an earlier page-out: the band
			 * adds to it.
			 */
			ctl->too_young = MAX(ctl->too_young, blame);
			ctl->age = ctl->probe_from;
			ctl->probe_from = 0;
			ctl->probe_share = BUDGET_PROBE_ALL;
		} else {
			/* Beyond the bands: the probe is not to blame, but ends. */
			if (ctl->probe_from) {
				ctl->age = ctl->probe_from;
				ctl->probe_from = 0;
				ctl->probe_share = BUDGET_PROBE_ALL;
			}
			if (blame > ctl->too_young || !ctl->too_young) {
				ctl->too_young = MAX(ctl->too_young, blame);
				ctl->age = clamp_age(ctl, MAX(ctl->age * 2, ctl->age + 1));
			}
		}
		goto changed;
	}
	ctl->verdict = pct < BUDGET_ROOM_PCT ? BUDGET_ROOM : BUDGET_WITHIN;
	ctl->since_over++;
	/*
	 * A bound learnt from one spike (a start-up burst, another tenant's
	 * stall) must not hold for ever: after forget_after calm cycles it
	 * relaxes by a quarter.
	 */
	if (ctl->too_young && ++ctl->calm >= ctl->forget_after) {
		ctl->too_young = ctl->too_young * 3 / 4;
		ctl->calm = 0;
		ctl->relaxed = true;
	}
	/*
	 * A page-out held back (sysmem_threshold, every process below
	 * swap_threshold, swap full) took nothing, or nothing anonymous: its
	 * cost of 0 says nothing about the setting, and it
	 * neither counts nor lets the controller go further.
	 */
	if (!may_lower) {
		ctl->within = 0;
		return false;
	}
	ctl->pct_sum += pct;
	ctl->pct_sq += pct * pct;
	ctl->pct_n++;
	/* A step's own cost: the cycles after the first BUDGET_LAG (its lag). */
	if (ctl->pct_n > BUDGET_LAG) {
		ctl->late_sum += pct;
		ctl->late_sq += pct * pct;
		ctl->late_n++;
	}
	/*
	 * Room is the setting's cost since it was set, not one cycle's: a
	 * cost near the budget with one cycle's dip under half must not
	 * double a probe or take the next step (docs/daemon.md: "measured
	 * cycles under half the budget").
	 */
	room = ctl->verdict == BUDGET_ROOM && ctl->pct_sum / ctl->pct_n < BUDGET_ROOM_PCT;
	if (ctl->pending) {
		/* Nothing else moves until a step tried within the budget is judged. */
		if (ctl->late_n < BUDGET_LAG)
			return false;
		ctl->pending = false;
		ctl->step_pct = ctl->late_sum / ctl->late_n;
		ctl->step_before_pct = ctl->before_pct;
		ctl->step_margin_pct = budget_flat_margin(budget_noise_sd(ctl), ctl->before_n,
							  ctl->late_n);
		if (ctl->step_pct <= ctl->before_pct + ctl->step_margin_pct) {
			flat = true;
			ctl->chained = false;
		} else {
			undo_step(ctl);
			step = BUDGET_STEP_UNDONE;
			goto changed;
		}
	} else if (!room && ctl->pct_sum / ctl->pct_n + budget_headroom(ctl) < 100) {
		/*
		 * Settled within the budget, with budget_headroom() to
		 * spare: now and then, try a step.
		 */
		if (++ctl->within >= ctl->explore_after)
			explore = true;
	} else {
		ctl->within = 0;
	}
	lowest = MAX(ctl->floor, ctl->too_young + 1);
	/*
	 * With room, a share only once its cost had time to show, and the
	 * age after BUDGET_DWELL cycles; a flat step or a try has waited.
	 */
	if (room ? ctl->pct_n < (ctl->probe_from ? BUDGET_LAG : BUDGET_DWELL) : !flat && !explore) {
		/* stay */
	} else if (ctl->probe_from) {
		/*
		 * Doubled with room; after a flat step, all of the band if
		 * what the step cost says it fits (flat_share()); up by half
		 * for a try (a smaller bite of a budget nearly spent).
		 */
		if (room)
			ctl->probe_share *= 2;
		else if (flat)
			ctl->probe_share = flat_share(ctl);
		else
			ctl->probe_share += ctl->probe_share / 2;
		ctl->probe_share = MIN(ctl->probe_share, (unsigned int)BUDGET_PROBE_ALL);
		if (ctl->probe_share == BUDGET_PROBE_ALL) {
			ctl->probe_from = 0;
			/*
			 * A flat step that completes its band also starts the
			 * next one: both are judged together (undone together,
			 * back to the band's last share), one judgement (2 *
			 * BUDGET_LAG cycles) fewer a band on the way down.
			 */
			if (flat && !ctl->no_chain && may_start_band(ctl, lowest, flat)) {
				start_band(ctl, lowest, flat);
				ctl->chained = true;
			}
			ctl->no_chain = false;
		}
	} else if (may_start_band(ctl, lowest, flat)) {
		start_band(ctl, lowest, flat);
	}
	if (ctl->age == old && ctl->probe_share == old_share && ctl->probe_from == old_from)
		return false;
	/*
	 * A step down. Taken within the budget (a try, or on after a flat
	 * step), it is judged: against the mean cost of the setting it
	 * leaves, and undone if it adds more than budget_flat_margin().
	 */
	step = room ? BUDGET_STEP_DOWN : flat ? BUDGET_STEP_FLAT : BUDGET_STEP_EXPLORE;
	if (!room) {
		ctl->pending = true;
		/* Past the lag of the step that led here, where there is one. */
		ctl->before_pct = flat ? ctl->step_pct : ctl->late_n ?
				  ctl->late_sum / ctl->late_n : ctl->pct_sum / ctl->pct_n;
		ctl->before_n = flat ? BUDGET_LAG : ctl->late_n ? ctl->late_n : ctl->pct_n;
		ctl->undo_age = old;
		ctl->undo_probe_from = old_from;
		ctl->undo_share = old_share;
	}
changed:
	if (ctl->age == old && ctl->probe_share == old_share && ctl->probe_from == old_from)
		return false;
	ctl->step = step;
	ctl->within = 0;
	/* An undone step's cycles: its cost rising, not noise (pool_noise()). */
	if (step != BUDGET_STEP_UNDONE)
		pool_noise(ctl);
	ctl->pct_sum = ctl->pct_sq = ctl->pct_n = 0;
	ctl->late_sum = ctl->late_sq = ctl->late_n = 0;
	return true;
}

void budget_ctl_forget(struct budget_ctl *ctl)
{
	ctl->too_young = 0;
	ctl->calm = 0;
	ctl->relaxed = false;
	ctl->forget_after = BUDGET_FORGET;
	/* A step tried for the old processes is kept, but not judged. */
	ctl->pending = false;
	ctl->chained = false;
	ctl->no_chain = false;
	ctl->undone_lag = 0;
	ctl->within = 0;
	ctl->explore_after = BUDGET_EXPLORE;
	ctl->pct_sum = ctl->pct_sq = ctl->pct_n = 0;
	ctl->late_sum = ctl->late_sq = ctl->late_n = 0;
	/*
	 * The noise is kept: forgotten, the headroom fell to BUDGET_FLAT_PCT
	 * until a setting ended, and a try came at once on a cost as noisy
	 * as before.
	 */
}

bool budget_ctl_restart(struct budget_ctl *ctl)
{
	unsigned int start = clamp_age(ctl, BUDGET_AGE_START);
	/* A probed band does not go whole: from where it started, at least. */
	unsigned int age = MAX(ctl->probe_from ? ctl->probe_from : ctl->age, start);
	bool moved = age != ctl->age || ctl->probe_from;

	budget_ctl_forget(ctl);
	ctl->age = age;
	ctl->probe_from = 0;
	ctl->probe_share = BUDGET_PROBE_ALL;
	ctl->since_over = BUDGET_LAG;
	ctl->step = BUDGET_STEP_RESTART;
	return moved;
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

const char *budget_step_name(enum budget_step s)
{
	static const char *const names[] = {
		[BUDGET_STEP_NONE] = "none",	[BUDGET_STEP_DOWN] = "down",
		[BUDGET_STEP_FLAT] = "flat",	[BUDGET_STEP_EXPLORE] = "try",
		[BUDGET_STEP_UNDONE] = "undone", [BUDGET_STEP_UP] = "up",
		[BUDGET_STEP_RESTART] = "restart",
	};

	return s < G_N_ELEMENTS(names) ? names[s] : "none";
}

const char *budget_step_text(enum budget_step s)
{
	switch (s) {
	case BUDGET_STEP_DOWN:
		return "down, under half the budget";
	case BUDGET_STEP_FLAT:
		return "on down, the last step having added no cost";
	case BUDGET_STEP_EXPLORE:
		return "a step tried within the budget";
	case BUDGET_STEP_UNDONE:
		return "the last step undone: taken within the budget, it added cost";
	case BUDGET_STEP_UP:
		return "up, over the budget";
	case BUDGET_STEP_RESTART:
		return "started again, swap having been turned on";
	default:
		return "none yet";
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

int budget_cgroup_path(const char *mount, const char *cgroup, char *buf, size_t len)
{
	/*
	 * Outside our namespace the path climbs ("/../x"): not under our
	 * mount. A component that only begins with two dots ("/..a") is a
	 * name like any other.
	 */
	for (const char *c = cgroup; (c = strstr(c, "/..")); c += 3)
		if (c[3] == '/' || c[3] == '\0')
			return -EXDEV;
	return snprintf(buf, len, "%s%s", mount, strcmp(cgroup, "/") ? cgroup : "") >= (int)len ?
	       -ENAMETOOLONG : 0;
}

int budget_cgroup_dir(const char *mount, pid_t pid, char *buf, size_t len)
{
	char path[64], line[PATH_MAX];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The cgroup v2 line is "0::/path", relative to our cgroup namespace. */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::/", 4))
			continue;
		line[strcspn(line, "\n")] = '\0';
		ret = budget_cgroup_path(mount, line + 3, buf, len);
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

/*
 * A cgroup's PSI some total. The root cgroup may have no memory.pressure
 * of its own (before Linux 6.x), and its stall is the system's then.
 */
static int read_stall(const char *dir, bool root, uint64_t *total_us)
{
	char path[PATH_MAX + 32], buf[512];
	int ret;

	snprintf(path, sizeof(path), "%s/memory.pressure", dir);
	ret = read_file(path, buf, sizeof(buf));
	if (ret == -ENOENT && root)
		ret = read_file("/proc/pressure/memory", buf, sizeof(buf));
	return ret ? ret : budget_psi_some_total(buf, total_us);
}

void budget_meter_init(struct budget_meter *m)
{
	bool v1;

	memset(m, 0, sizeof(*m));
	if (cgroup2_mount(m->mount, sizeof(m->mount), &v1))
		m->mount[0] = '\0';
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
	bool have_source = false;

	*stall_us = *majflt = 0;
	m->nr_stall_read = m->nr_procs_read = 0;
	m->stall_error[0] = '\0';
	for (unsigned int i = 0; i < nr_pids; i++) {
		char dir[PATH_MAX], key[64];
		struct proc_stat st;
		uint64_t total, prev = 0;
		int ret;

		if (proc_read_stat(pids[i], &st))
			continue;
		m->nr_procs_read++;
		snprintf(key, sizeof(key), "%d:%" PRIu64, (int)pids[i], st.start_time);
		if (rekey(m->procs, procs, key, st.majflt, &prev)) {
			nr_known++;
			if (st.majflt > prev)
				*majflt += st.majflt - prev;
		}
		if (!m->mount[0]) {
			snprintf(m->stall_error, sizeof(m->stall_error), "no cgroup v2 hierarchy is mounted");
			continue;
		}
		ret = budget_cgroup_dir(m->mount, pids[i], dir, sizeof(dir));
		if (ret) {
			snprintf(m->stall_error, sizeof(m->stall_error),
				 "process %d: %s", (int)pids[i], ret == -EXDEV ?
				 "its cgroup is outside etmemd's cgroup namespace" :
				 "no cgroup v2 entry in /proc/PID/cgroup");
			continue;
		}
		if (g_hash_table_contains(cgroups, dir))
			continue;
		ret = read_stall(dir, !strcmp(dir, m->mount), &total);
		if (ret) {
			snprintf(m->stall_error, sizeof(m->stall_error), "%.200s/memory.pressure: %s", dir,
				 strerror(-ret));
			continue;
		}
		m->nr_stall_read++;
		if (!have_source)
			g_strlcpy(m->source, dir, sizeof(m->source));
		have_source = true;
		if (rekey(m->cgroups, cgroups, dir, total, &prev) && total > prev)
			*stall_us = MAX(*stall_us, total - prev);
	}
	/* All new after processes were seen, a gap in between or not. */
	m->replaced = !nr_known && m->seen_procs && g_hash_table_size(procs);
	if (g_hash_table_size(procs))
		m->seen_procs = true;
	g_hash_table_destroy(m->cgroups);
	g_hash_table_destroy(m->procs);
	m->cgroups = cgroups;
	m->procs = procs;
	m->last_us = t;
	return window;
}
