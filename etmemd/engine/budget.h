/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slide's budget mode: instead of a threshold T, the operator states what
 * the target may pay for the memory taken from it, and a controller picks
 * the idle age (in scans, from the kernel's per-page history) from which
 * pages are paged out.
 *
 * The cost is measured, per second of wall time since the last cycle:
 *  - stall: PSI "some" memory stall of the cgroup(s) of the task's
 *    processes (memory.pressure's total, microseconds, under the cgroup v2
 *    mount), the largest over those cgroups; /proc/pressure/memory for the
 *    root cgroup if it has no memory.pressure. PSI counts a refault as
 *    stall only for pages the kernel saw in the working set;
 *  - major faults of the task's processes (/proc/PID/stat majflt): pages
 *    read back from swap (zram included) or a file by a fault; a swap
 *    cache hit (or a page swap readahead brought in) is a minor fault.
 *    Only processes seen at two samples in a row count: one that lives
 *    less than a cycle adds nothing.
 *
 * The controller (budget_ctl_update) and the measurements are separate, so
 * that the controller can be tested on made-up costs.
 */
#ifndef ETMEMD_BUDGET_H
#define ETMEMD_BUDGET_H

#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The age the controller starts from: colder pages are taken first. */
#define BUDGET_AGE_START	16
/* The floor when idle_age is not given: idle in two scans at least. */
#define BUDGET_FLOOR_DEFAULT	2
/* Cycles an age is kept before the controller judges it can go lower. */
#define BUDGET_DWELL		2
/*
 * Cycles over which a cost can still come from an earlier page-out: a page
 * taken is missed only when next used. An over-budget cost blames the
 * youngest age in force in these last cycles, not just the current one.
 */
#define BUDGET_LAG		4
/*
 * Calm cycles (no cost over budget) after which a too-young bound relaxes
 * by a quarter; doubled, up to BUDGET_FORGET_MAX, each time a relaxed bound
 * proves too young again, so a steady workload is probed ever more rarely.
 */
#define BUDGET_FORGET		32
#define BUDGET_FORGET_MAX	1024
/* Below this fraction (in percent) of the budget there is room to go lower. */
#define BUDGET_ROOM_PCT		50
/*
 * A lower age is probed, not taken at once: of the pages it adds (idle at
 * least the new age but younger than the old one: the band), a share is
 * paged out, in per mille, starting here and doubling after BUDGET_LAG
 * cycles with room (a share's cost can lag it that long), up to all of
 * them. Where every page of the band comes
 * back (a working set reused after a pause about that long), the refaults
 * a probe costs are the share's, not the band's: a budget of a few faults
 * per second is not blown by one step. The share stays where the cost is
 * within budget without room: the controller settles on part of the band.
 */
#define BUDGET_PROBE_START	125
#define BUDGET_PROBE_ALL	1000
/*
 * Stepping on within the budget. A cost between half the budget and all
 * of it does not say whether a younger age would add to it: where every
 * page younger than some age comes back whatever is taken (a hot set that
 * moves through a region faults its pages back when it returns, young or
 * old), the first band into the region pays the whole cost and the rest
 * is free. So, settled within the budget for explore_after cycles
 * (BUDGET_EXPLORE at first), the controller tries one small step down (a
 * probe's share up by half, or a new band at BUDGET_PROBE_START). Such a
 * step taken within the budget is judged on the mean cost of the BUDGET_LAG
 * cycles after the first BUDGET_LAG (a cost lags its page-out that long)
 * against the mean of the setting it left; nothing else moves meanwhile:
 *  - at most BUDGET_FLAT_PCT percent of the budget more, or more but
 *    within the noise of the cycles (budget_flat_margin(): twice the
 *    standard error of the difference of the two means, from the noise
 *    pooled over the settings before, budget_noise_sd(); at most
 *    BUDGET_NOISE_MAX_PCT; with 5% alone, a workload whose cost varies by
 *    10 to 20% from cycle to cycle had its steps undone for noise, each
 *    undo doubling the wait for the next try): flat, the step added
 *    nothing the meter tells from noise. While the mean cost leaves
 *    budget_headroom() under the budget (BUDGET_FLAT_PCT, or 1.65 times
 *    the noise where that is more; also the condition for a try), the
 *    controller steps on, judged the same way: a probe's share grows as
 *    far as flat_share() says; the step that takes the band whole also
 *    starts the next band, half way to the lowest age, at
 *    BUDGET_PROBE_START, and the two are judged (and undone) together;
 *    once such a step is undone, the band's rest is taken alone, the next
 *    band after it. Each flat step can add up to its margin: a cost that
 *    creeps up stops the headroom under the budget (where a cycle goes
 *    over it about 1 time in 20 from noise alone), or ends over it and is
 *    handled as below;
 *  - more, or any cost over budget before it is judged: undone, back to
 *    exactly the setting before it (no age is marked too young: that
 *    setting was within the budget), cost over budget in the BUDGET_LAG
 *    cycles after being the undone step's (nothing moves for it), and
 *    explore_after doubles, up to BUDGET_EXPLORE_MAX cycles: a steady
 *    workload is tried ever more rarely.
 * A step taken with room (under half the budget) is not judged: it stays
 * where its cost ends within the budget (the controller settles on part
 * of a band), and goes back as described at budget_ctl_update() when it
 * ends over.
 */
#define BUDGET_FLAT_PCT		5
#define BUDGET_NOISE_MAX_PCT	25
#define BUDGET_NOISE_DECAY	0.875
#define BUDGET_HEADROOM_SD	1.65
#define BUDGET_EXPLORE		8
#define BUDGET_EXPLORE_MAX	1024

/* What the last budget_ctl_update() that changed the setting did. */
enum budget_step {
	BUDGET_STEP_NONE,
	BUDGET_STEP_DOWN,	/* with room: under half the budget */
	BUDGET_STEP_FLAT,	/* on, the last step having added no cost */
	BUDGET_STEP_EXPLORE,	/* tried from a setting within the budget */
	BUDGET_STEP_UNDONE,	/* a step taken within the budget, undone */
	BUDGET_STEP_UP,		/* over budget: back from a probe, or up */
	BUDGET_STEP_RESTART,	/* budget_ctl_restart(): swap turned on */
};

enum budget_verdict {
	BUDGET_NO_DATA,		/* first cycle: nothing measured yet */
	BUDGET_ROOM,		/* cost under half the budget */
	BUDGET_WITHIN,		/* cost within the budget */
	BUDGET_OVER,		/* cost over the budget */
};

/* The controller's configuration and state; owned by one slide run. */
struct budget_ctl {
	/* configuration: 0 = no such budget; at least one is set */
	uint64_t stall_budget_us;	/* PSI some stall, us per second */
	uint64_t majflt_budget;		/* major faults per second */
	unsigned int floor;		/* youngest age ever paged out, scans */
	unsigned int ceiling;		/* ETMEM_IDLE_AGE_MAX */
	/* state */
	unsigned int age;		/* pages idle this many scans go out */
	/*
	 * 0: every page idle at least age scans goes out. Else the band
	 * [age, probe_from) is probed: of its pages, probe_share per mille
	 * go out (budget_probe_pick()); pages idle probe_from scans or
	 * more all go.
	 */
	unsigned int probe_from;
	unsigned int probe_share;	/* per mille, BUDGET_PROBE_ALL: all */
	unsigned int too_young;		/* highest age found over budget; 0 none */
	/*
	 * Costs (% of budget) of the cycles measured since the setting last
	 * changed or the cost was last over budget, held-back cycles left
	 * out; late_*: those after the first BUDGET_LAG of them.
	 */
	uint64_t pct_sum, late_sum;
	uint64_t pct_sq, late_sq;	/* ... and of their squares, for the noise */
	unsigned int pct_n, late_n;
	/* A step taken within the budget, not judged yet (budget_flat_margin()). */
	bool pending;
	uint64_t before_pct;		/* the mean cost of the setting it left */
	unsigned int before_n;		/* the cycles that mean is of */
	unsigned int undo_age, undo_probe_from, undo_share;	/* that setting */
	unsigned int undone_lag;	/* cycles left in which an undone step's cost shows */
	bool chained;			/* the pending step took a band whole and began the next */
	bool no_chain;			/* such a step was undone: the band's rest goes alone */
	unsigned int within;		/* cycles within the budget, none pending */
	unsigned int explore_after;	/* ... before a step down is tried */
	/*
	 * The last step judged: its mean cost after and before it, and the
	 * margin it was judged with (budget_flat_margin()), % of budget.
	 */
	uint64_t step_pct, step_before_pct, step_margin_pct;
	/*
	 * The cost's cycle-to-cycle noise, pooled over the settings
	 * (pool_noise() in budget.c): squared deviations from each setting's
	 * mean, (% of budget)^2, and their degrees of freedom; 0 when none.
	 * Kept across budget_ctl_forget() and budget_ctl_restart().
	 */
	double noise_ss, noise_df;
	enum budget_step step;		/* what the last change did */
	unsigned int recent[BUDGET_LAG];	/* the ages of the last cycles, a ring */
	/* the same cycles' budget_scan_age(): from it up, every page went */
	unsigned int recent_full[BUDGET_LAG];
	/* the same cycles' pages of a probed band asked out, 4 KiB units */
	uint64_t recent_band[BUDGET_LAG];
	uint64_t band_taken;		/* budget_ctl_took() since the last update */
	unsigned int nr_cycles;
	bool measured;			/* a window's cost was ever measured */
	unsigned int calm;		/* calm cycles since the bound last changed */
	unsigned int since_over;	/* cycles since a cost over budget */
	unsigned int forget_after;	/* calm cycles that relax too_young */
	bool relaxed;			/* too_young relaxed since the last over */
	enum budget_verdict verdict;
	/* the last measurement, per second; x1000 for fractions */
	uint64_t stall_us_per_s;
	uint64_t majflt_milli_per_s;
};

/**
 * budget_ctl_init() - Set up a controller.
 * @ctl: the controller
 * @stall_budget_us: PSI some memory stall allowed, microseconds per second
 *	(0: none)
 * @majflt_budget: major faults allowed per second (0: none)
 * @floor: the youngest idle age (in scans) ever paged out, >= 1
 * @ceiling: the oldest age the kernel reports (ETMEM_IDLE_AGE_MAX)
 *
 * The age starts at BUDGET_AGE_START, clamped to [floor, ceiling].
 */
void budget_ctl_init(struct budget_ctl *ctl, uint64_t stall_budget_us,
		     uint64_t majflt_budget, unsigned int floor, unsigned int ceiling);

/**
 * budget_ctl_update() - Feed one cycle's measured cost; adjust the age.
 * @ctl: the controller
 * @stall_us: PSI some stall over the window, microseconds
 * @majflt: major faults over the window
 * @window_us: the window's length, microseconds (0: no measurement: the
 *	first cycle, the processes were replaced, or the cost could not be
 *	read; the verdict is BUDGET_NO_DATA and nothing changes)
 * @may_lower: false when the last cycle's page-out was held back
 *	(sysmem_threshold, every process below swap_threshold, swap full;
 *	not for no swap at all, where the age follows the file pages' cost):
 *	a cost of 0 then says nothing
 *	about the setting, which stays; the cycle does not count in the
 *	setting's mean cost
 *
 * Over budget while a step taken within the budget waits for its
 * judgement (BUDGET_FLAT_PCT): that step is undone, and cost over budget
 * in the next BUDGET_LAG - 1 measured cycles moves nothing (the faults
 * beyond the bands, below, are not looked for in either case). Otherwise
 * over budget, the youngest age in force in the last BUDGET_LAG cycles
 * (the page-outs the cost can come from) is remembered as too young and
 * the age at least doubles at once (up to the ceiling); a cost blamed on
 * the same page-out again does not raise it again. A probe ends on any
 * cost over budget: the age goes back to the one the probe started from.
 * Major faults beyond the pages the probed bands of the last BUDGET_LAG
 * cycles took (budget_ctl_took()) cannot all be theirs: when those alone
 * cost more than the budget (the working set grew into pages taken long
 * ago), the blame is the youngest age from which every page went, and the
 * age doubles from there, a probe or not (the stall is shared out in
 * proportion to the faults).
 * The controller does not go back to a too-young age or below, until
 * BUDGET_FORGET calm cycles relax the bound by a quarter (ever more rarely
 * if it proves right). Under half the budget, a probe doubles its share
 * after BUDGET_LAG measured cycles at the same share (the whole band from
 * BUDGET_PROBE_ALL on: the probe ends); without a probe, after
 * BUDGET_DWELL measured cycles at the same age and BUDGET_LAG since the last cost
 * over budget, the age goes down by a quarter (at least one; with a
 * too-young age below, at most half the way to it), never below the floor
 * or to a too-young age, and a probe of the band it adds starts at
 * BUDGET_PROBE_START. In between, both stay, apart from the steps within
 * the budget described at BUDGET_FLAT_PCT (ctl->step tells the caller
 * which change was made).
 *
 * Return: true when the age or the probe's share changed (ctl->step says
 * how).
 */
bool budget_ctl_update(struct budget_ctl *ctl, uint64_t stall_us, uint64_t majflt,
		       uint64_t window_us, bool may_lower);

/**
 * budget_ctl_took() - Tell the controller what a page-out took of the band.
 * @ctl: the controller
 * @band_pages: pages of the probed band (younger than probe_from) this
 *	cycle chose to page out, held-back ones included, 4 KiB units; 0
 *	without a probe
 *
 * Counted until the next budget_ctl_update(); what was chosen, not what
 * left RAM, so that the faults a probe can cause are not underestimated.
 */
static inline void budget_ctl_took(struct budget_ctl *ctl, uint64_t band_pages)
{
	ctl->band_taken += band_pages;
}

/**
 * budget_scan_age() - The idle age a cycle's scans must tell apart.
 * @ctl: the controller
 *
 * The kernel reports every age at or above the one asked as that one
 * (ETMEM_A_SCAN_MIN_IDLE_AGE); a probe needs the ages of its band.
 *
 * Return: probe_from during a probe, else age.
 */
static inline unsigned int budget_scan_age(const struct budget_ctl *ctl)
{
	return ctl->probe_from ? ctl->probe_from : ctl->age;
}

/**
 * budget_probe_pick() - Is a page of the probed band paged out?
 * @addr: the page's virtual address
 * @share: the probe's share, per mille
 *
 * Pages are picked by 64 KiB block, from a hash of its address, so a
 * probe's pages are spread over the band, come in runs of up to 16 pages,
 * and a larger share keeps every block a smaller one picked.
 *
 * Return: true for about @share per mille of the blocks.
 */
static inline bool budget_probe_pick(uint64_t addr, unsigned int share)
{
	/* Fibonacci hashing of the block number: uniform in the top bits. */
	uint64_t h = (addr >> 16) * 0x9e3779b97f4a7c15ull;

	return (h >> 32) * BUDGET_PROBE_ALL >> 32 < share;
}

/**
 * budget_noise_sd() - The cost's cycle-to-cycle noise so far.
 * @ctl: the controller
 *
 * The pooled standard deviation of measured cycles around their setting's
 * mean (budget.c's pool_noise() says which cycles).
 *
 * Return: the standard deviation in % of the budget; 0 before any setting
 * had 2 measured cycles past its lag.
 */
double budget_noise_sd(const struct budget_ctl *ctl);

/**
 * budget_flat_margin() - How much more a judged step may cost and be flat.
 * @sd: the cost's noise, budget_noise_sd(), % of the budget
 * @n_before: the cycles the mean cost before the step is of
 * @n_step: the cycles the step's mean cost is of
 *
 * Two means of a few cycles each differ by noise alone: by less than twice
 * the standard error of their difference, @sd * sqrt(1/@n_before +
 * 1/@n_step), about 19 times in 20 for costs near normal.
 *
 * Return: that margin in % of the budget, rounded up; BUDGET_FLAT_PCT
 * at least (also with a count of 0), BUDGET_NOISE_MAX_PCT at most.
 */
uint64_t budget_flat_margin(double sd, unsigned int n_before, unsigned int n_step);

/**
 * budget_headroom() - What a step down must leave under the budget.
 * @ctl: the controller
 *
 * A cycle's cost scatters around the setting's mean by the noise: a mean
 * BUDGET_HEADROOM_SD standard deviations under the budget has about 1 cycle
 * in 20 over it, each of which raises the age. Steps down within the
 * budget (tries, stepping on after a flat step) are taken only with a mean
 * cost this far under the budget.
 *
 * Return: the headroom in % of the budget, rounded up; BUDGET_FLAT_PCT
 * at least, BUDGET_NOISE_MAX_PCT at most.
 */
uint64_t budget_headroom(const struct budget_ctl *ctl);

/**
 * budget_ctl_restart() - Start again from the start age.
 * @ctl: the controller
 *
 * For when what the age was tuned to no longer holds: swap turned on after
 * the age came down with none (it then followed what file pages cost, and
 * every anonymous page idle that long would go at once). The age goes
 * back up to BUDGET_AGE_START (clamped to the floor and ceiling; an older
 * age stays), a probe ends, and what budget_ctl_forget() forgets is
 * forgotten.
 *
 * Return: true when the age or the probe changed.
 */
bool budget_ctl_restart(struct budget_ctl *ctl);

/**
 * budget_ctl_forget() - Forget what was learnt about too-young ages.
 * @ctl: the controller
 *
 * For when the task's processes change: what was too costly for the old
 * ones says nothing about the new ones. The age stays where it is.
 */
void budget_ctl_forget(struct budget_ctl *ctl);

/**
 * budget_verdict_name() - The verdict for JSON and metrics.
 * @v: the verdict
 *
 * Return: "no_data", "room", "within" or "over".
 */
const char *budget_verdict_name(enum budget_verdict v);

/**
 * budget_verdict_text() - The verdict for people.
 * @v: the verdict
 *
 * Return: "under half the budget", "within the budget", ...
 */
const char *budget_verdict_text(enum budget_verdict v);

/**
 * budget_step_name() - What the last change did, for JSON and metrics.
 * @s: the step
 *
 * Return: "none", "down", "flat", "try", "undone" or "up".
 */
const char *budget_step_name(enum budget_step s);

/**
 * budget_step_text() - What the last change did, for people and logs.
 * @s: the step
 *
 * Return: "down, under half the budget", "on down, the last step having
 * added no cost", ... (a static string).
 */
const char *budget_step_text(enum budget_step s);

/*
 * What the cost is read from: the processes' cgroups and their major
 * faults. Owned by one slide run, used from the loop thread only.
 */
struct budget_meter {
	GHashTable *cgroups;	/* cgroup dir -> last PSI some total, us */
	GHashTable *procs;	/* "pid:start time" -> last majflt */
	uint64_t last_us;	/* CLOCK_MONOTONIC of the last sample, 0 none */
	bool replaced;		/* processes were seen before, none of them is left */
	bool seen_procs;	/* some sample had processes */
	unsigned int nr_procs_read;	/* processes whose majflt was read */
	unsigned int nr_stall_read;	/* cgroups whose memory.pressure was read */
	char stall_error[256];	/* why a stall was not read, last sample */
	char source[256];	/* a cgroup the stall was read from, for show */
	char mount[PATH_MAX];	/* the cgroup v2 mount, "" if none */
};

void budget_meter_init(struct budget_meter *m);
void budget_meter_free(struct budget_meter *m);

/**
 * budget_meter_sample() - Read the cost since the last sample.
 * @m: the meter
 * @pids: the task's processes now
 * @nr_pids: how many
 * @stall_us: out: the largest PSI some stall increase over their cgroups,
 *	microseconds
 * @majflt: out: major faults of those processes that were there at the
 *	last sample too
 *
 * Processes seen for the first time give a baseline, not a cost; a
 * process that is gone no longer counts. m->replaced tells that the
 * processes are all new (the workload restarted).
 *
 * Return: the window in microseconds, 0 on the first sample (no cost yet).
 */
uint64_t budget_meter_sample(struct budget_meter *m, const pid_t *pids, unsigned int nr_pids,
			     uint64_t *stall_us, uint64_t *majflt);

/**
 * budget_cgroup_path() - The directory of a cgroup v2 path under a mount.
 * @mount: the cgroup v2 mount point (cgroup2_mount())
 * @cgroup: the path of /proc/PID/cgroup's "0::" line, "/" or "/a/b"
 * @buf: out: @mount followed by @cgroup (@mount itself for "/")
 * @len: size of @buf
 *
 * Return: 0, or -errno: -EXDEV (a ".." component: the cgroup is outside
 * etmemd's cgroup namespace), -ENAMETOOLONG.
 */
int budget_cgroup_path(const char *mount, const char *cgroup, char *buf, size_t len);

/**
 * budget_cgroup_dir() - The cgroup v2 directory of a process.
 * @mount: the cgroup v2 mount point (cgroup2_mount())
 * @pid: the process
 * @buf: out: @mount followed by the process's cgroup path (@mount itself
 *	for the root of etmemd's cgroup namespace)
 * @len: size of @buf
 *
 * Return: 0, or -errno: -ENOENT (no cgroup v2 entry, or the process is
 * gone), -EXDEV (its cgroup is outside etmemd's cgroup namespace),
 * -ENAMETOOLONG.
 */
int budget_cgroup_dir(const char *mount, pid_t pid, char *buf, size_t len);

/**
 * budget_psi_some_total() - The "some total=" of a PSI file, microseconds.
 * @text: the file's contents
 * @total_us: out
 *
 * Return: 0, or -EINVAL when there is no "some" line with a total.
 */
int budget_psi_some_total(const char *text, uint64_t *total_us);

#endif
