#!/bin/bash
# The benchmarks, run inside the test VM (bench/run boots it). Every figure
# is printed as a row "BENCH|experiment|..." for bench/report.py; rows of
# one experiment come from the same boot, so their ratios hold on a noisy
# host. BENCH_SIZE=smoke runs every scenario once at a tiny size.
set -u
top=${ETMEM_TOP:?}
build=$top/build
size=${BENCH_SIZE:-full}
only=${BENCH_ONLY:-quality redis cost scale pagemap budget}

# budget: a cold set and a hot window moving through a region (hotcold
# --move-mib), each configuration warmed up, then measured over a window.
case $size in
smoke)	cold=24 hot=8 secs=3 reps=1 redis_keys=8000 redis_hot=500
	scale_sizes="16 32" scale_procs="1 4" pagemap_mib=32 reps_pagemap=3
	b_cold=8 b_move=8 b_hot=2 b_move_ms=250 b_warm=3 b_settle_max=5 b_window=3 b_reps=1
	# One setting of each kind (idle_age too): the smoke test checks the
	# scripts, not the curve, and each configuration costs it about 8 s
	# (budget mode never settles in the 5 s it is given: the smoke run
	# takes the path of a warm-up that gave up).
	b_slide="T1+age4" b_majflt=5 b_stall=1 b_damos=1 b_psi=1 b_quiet= ;;
full)	cold=384 hot=64 secs=40 reps=3 redis_keys=250000 redis_hot=5000
	scale_sizes=${BENCH_SCALE_SIZES:-256 512 1024 2048} scale_procs="1 8 64"
	pagemap_mib=256 reps_pagemap=11
	b_cold=128 b_move=64 b_hot=16 b_move_ms=625 b_warm=60 b_settle_max=${BENCH_SETTLE_MAX:-300} b_window=45 b_reps=1
	b_slide="T1 T1+age4 T1+age16" b_majflt="5 50 500" b_stall=1 b_damos="1 5" b_psi="1 10" b_quiet=5 ;;
*)	echo "bench: BENCH_SIZE is smoke or full" >&2; exit 2 ;;
esac
# steady (monitoring CPU after the cold set is out) and pageout (CPU per
# MiB paged out); bench/vm/costs.sh runs them with the pagemap scan.
case $size in
smoke)	s_cold=24 s_hot=8 s_warm_max=20 s_window=3 s_reps=1 po_mib=16 po_reps=2 cc_reps=2 ;;
full)	s_cold=448 s_hot=64 s_warm_max=120 s_window=${BENCH_STEADY_WINDOW:-30} s_reps=${BENCH_STEADY_REPS:-5}
	po_mib=256 po_reps=${BENCH_PAGEOUT_REPS:-10} cc_reps=10 ;;
esac
# The smoke run drives each reclaimer's start and stop once or twice, not
# in every experiment: its redis, steady and workloads runs leave out the
# reclaimers whose paths the quality runs already took (damon, memreclaim,
# damoscheap, damos on redis and on the harder workloads).
case $size in
smoke)	s_def="etmem damos" w_def="etmem" r_def="none etmem" ;;
full)	s_def="etmem damos damoscheap" w_def="none etmem damos" r_def= ;;
esac
s_reclaimers=${BENCH_STEADY_RECLAIMERS:-$s_def}
# The share of the cold set (per mille) out before the steady window
# starts. At 95% (the figures before this setting existed) the window
# still held the page-out of the last 5%, about 22 MiB: up to 90 ms of
# etmemd's CPU (zram's compression runs in its thread) in windows of 190
# to 260 ms; "after the cold set is out" is 99.9%.
s_out_permille=${BENCH_STEADY_OUT_PERMILLE:-999}
# workloads: the quality runs on workloads a region-based monitor finds
# harder (bench/vm/workloads.sh): hot pages in every 2 MiB of the cold set,
# a hot set that moves, a THP-backed heap.
q_extra=
reps=${BENCH_REPS:-$reps}
w_reps=${BENCH_WL_REPS:-3}
w_reclaimers=${BENCH_WL_RECLAIMERS:-$w_def}
w_list=${BENCH_WL_LIST:-interleaved moving thp}
# BENCH_WL_WARM_OUT=PERMILLE: each run with a reclaimer first waits until
# that share of the cold set is out (at most BENCH_WL_WARM_MAX s), then is
# measured over the next $secs s: throughput, faults and CPU of the steady
# state, not of the page-out. Unset: measured from the reclaimer's start.
# Under the instruction clock the page-out alone outlasts a 40 s window.
w_warm_out=${BENCH_WL_WARM_OUT:-}
w_warm_max=${BENCH_WL_WARM_MAX:-240}
workload_args() { # NAME: hotcold options of that workload
	case $1 in
	interleaved) echo "--hot-stride 64" ;;	# 8 hot pages in every 2 MiB
	moving) echo "--move-mib $((hot * 4)) --move-every-ms 625" ;;
	thp) echo "--thp" ;;
	esac
}
reclaimers=${BENCH_RECLAIMERS:-none etmem damos damon memreclaim}
redis_reclaimers=${BENCH_RECLAIMERS:-${r_def:-$reclaimers}}
# Experiment names of the quality runs: BENCH_PREFIX=damon_ makes them
# damon_quality, damon_curve and damon_cost (bench/vm/damon.sh), so that a
# boot of its own adds a block and leaves the full run's tables alone.
qp=${BENCH_PREFIX:-}
b_reps=${BENCH_BUDGET_REPS:-$b_reps}
# A shorter warm-up and window, and a smaller redis data set, for the
# budget experiment on redis (bench/vm/budget_redis.sh): under the
# instruction clock redis runs several times slower than the host's clock.
b_warm=${BENCH_BUDGET_WARM:-$b_warm}
b_window=${BENCH_BUDGET_WINDOW:-$b_window}
redis_keys=${BENCH_REDIS_KEYS:-$redis_keys}
# Only these budget configurations (names as in the table: "none
# budget:5flt/s none:again"); default all of them.
b_only=${BENCH_BUDGET_ONLY:-}
sock=bench
cg=/sys/fs/cgroup/bench

emit() { local IFS='|'; echo "BENCH|$*"; }
# Each line carries the seconds since the run began, so that a slow run says where its time went.
log() { echo "bench: [${SECONDS} s] $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# --- setup ---------------------------------------------------------------
setup() {
	# A second run in the same boot (bench_smoke) finds them set up.
	[ -d /sys/module/etmem_scan ] ||
		insmod "$build/kmod/$ETMEM_KVER/etmem_scan.ko" || die "cannot load etmem_scan"
	[ -d /sys/module/etmem_swap ] ||
		insmod "$build/kmod/$ETMEM_KVER/etmem_swap.ko" || die "cannot load etmem_swap"
	if ! grep -q '^/dev/zram0 ' /proc/swaps; then
		modprobe zram num_devices=1 || die "no zram"
		echo 3G >/sys/block/zram0/disksize
		mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || die "no swap"
	fi
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$cg"
	# DAMON_STAT (on by default from 7.x) runs a kdamond of its own: DAMON
	# then refuses to start another (EBUSY), so DAMOS and the damon engine
	# could not run, and its sampling clears accessed bits under every
	# reclaimer measured. The benchmark turns it off for the boot.
	local stat=/sys/module/damon_stat/parameters/enabled
	if [ "$(cat "$stat" 2>/dev/null)" = Y ]; then
		echo N >"$stat" || die "cannot turn DAMON_STAT off ($stat)"
		log "DAMON_STAT turned off for the benchmark"
	fi
	"$build/etmemd/etmemd" -l 2 -s "$sock" 2>/tmp/etmemd.log &
	etmemd_pid=$!
	for _ in $(seq 50); do
		"$build/etmem/etmem" project show -s "$sock" >/dev/null 2>&1 && break
		sleep 0.2
	done
	# A boot of one experiment keeps its meta apart (scale_meta, ...), so
	# the full run's stays with the tables it describes.
	emit "${BENCH_META:-meta}" kernel "$ETMEM_KVER" size "$size" cold_mib "$cold" hot_mib "$hot" \
		seconds "$secs" reps "$reps" accel "$(grep -c hypervisor /proc/cpuinfo)" only "$only" \
		icount_shift "$icount_shift"
}

# The guest's clock: "-" for the host's, or N when QEMU counts
# instructions as time, 2^N ns each (t/vm-run's ETMEM_VM_ICOUNT).
icount_shift=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^etmem_icount=\([0-9]*\)$/\1/p' | tail -n1)
icount_shift=${icount_shift:--}

# Run as `in_cgroup CMD... &`: the background subshell joins the
# benchmark cgroup and becomes CMD, so $! is CMD's pid.
in_cgroup() {
	echo "$BASHPID" >"$cg/cgroup.procs"
	exec "$@"
}

# CPU time of a process, all its threads (those gone too), in ms: its
# process CPU clock (clock_gettime of MAKE_PROCESS_CPUCLOCK(pid,
# CPUCLOCK_SCHED), the scheduler's runtime in ns), not utime+stime of
# /proc/PID/stat, which come in ticks of 10 ms (a window of 110 ms of
# etmemd's CPU was 11 of them).
cpu_ms_of() {
	python3 -c 'import sys, time
pid = int(sys.argv[1])
try:
    print("%.3f" % (time.clock_gettime_ns(((~pid) << 3) | 2) / 1e6))
except OSError:
    print(0)' "$1"
}
user_sys_ms_of() { # "utime stime" of a process, all threads, in ms
	awk -v hz="$(getconf CLK_TCK)" '{print $14 * 1000 / hz, $15 * 1000 / hz}' "/proc/$1/stat" 2>/dev/null || echo 0 0
}

# --- reclaimers ----------------------------------------------------------
# etmem: slide engine through etmemd, documented settings. Further
# arguments are the task's keys instead of T=1 (the budget experiment).
etmem_project_extra=""	# more [project] lines (etmemquiet)
etmem_start() { # PID [TASK-KEY=VALUE...]
	local pid=$1
	shift
	[ $# -gt 0 ] || set -- T=1
	{
		cat <<CONF
[project]
name=bench
loop=2
interval=1
sleep=1
$etmem_project_extra

[engine]
name=slide
project=bench

[task]
project=bench
engine=slide
name=workload
type=pid
value=$pid
max_threads=2
CONF
		printf '%s\n' "$@"
	} >/tmp/bench_etmem.conf
	chmod 600 /tmp/bench_etmem.conf
	"$build/etmem/etmem" obj add -f /tmp/bench_etmem.conf -s "$sock" &&
		"$build/etmem/etmem" project start -n bench -s "$sock"
}
etmem_task_field() { # FIELD: of the bench project's task, from show -j
	"$build/etmem/etmem" project show -n bench -s "$sock" -j |
		python3 -c 'import json, sys
print(json.load(sys.stdin)["projects"][0]["tasks"][0][sys.argv[1]])' "$1"
}
etmem_stop() {
	local show
	show=$("$build/etmem/etmem" project show -n bench -s "$sock" -j)
	log "etmem: $show"
	# Cycles etmemd really completed, for the cost per cycle.
	etmem_cycles=$(python3 -c 'import json, sys
print(json.loads(sys.argv[1])["projects"][0]["tasks"][0]["cycles"])' "$show")
	"$build/etmem/etmem" project stop -n bench -s "$sock"
	"$build/etmem/etmem" obj del -f /tmp/bench_etmem.conf -s "$sock"
}

# DAMOS pageout: regions not accessed for min_age are paged out.
# Settings: sample 5 ms, aggregate 100 ms, min age 2 s (20 aggregations),
# no quota (DAMON's default), 10..1000 regions.
damon=/sys/kernel/mm/damon/admin
damos_sample_us=5000 damos_aggr_us=100000
damos_config() { # PID: everything but the start
	[ -d "$damon" ] || return 1
	local k=$damon/kdamonds/0 c
	echo 1 >"$damon/kdamonds/nr_kdamonds"
	echo 1 >"$k/contexts/nr_contexts"
	c=$k/contexts/0
	echo vaddr >"$c/operations"
	echo "$damos_sample_us" >"$c/monitoring_attrs/intervals/sample_us"
	echo "$damos_aggr_us" >"$c/monitoring_attrs/intervals/aggr_us"
	echo 1000000 >"$c/monitoring_attrs/intervals/update_us"
	echo 10 >"$c/monitoring_attrs/nr_regions/min"
	echo 1000 >"$c/monitoring_attrs/nr_regions/max"
	echo 1 >"$c/targets/nr_targets"
	echo "$1" >"$c/targets/0/pid_target"
	echo 1 >"$c/schemes/nr_schemes"
	echo pageout >"$c/schemes/0/action"
	echo 0 >"$c/schemes/0/access_pattern/nr_accesses/min"
	echo 0 >"$c/schemes/0/access_pattern/nr_accesses/max"
	# Every range defaults to 0..0: open sizes and ages up.
	echo 4096 >"$c/schemes/0/access_pattern/sz/min"
	echo 18446744073709551615 >"$c/schemes/0/access_pattern/sz/max"
	# No access for 2 s, in aggregation intervals.
	echo $((2000000 / damos_aggr_us)) >"$c/schemes/0/access_pattern/age/min"
	echo 4294967295 >"$c/schemes/0/access_pattern/age/max"
}
damos_start() { damos_config "$1" && echo on >"$damon/kdamonds/0/state"; }
# The same scheme at a tenth of the sampling cost: sample 50 ms,
# aggregate 1 s (still no access for 2 s before a page-out).
damoscheap_start() {
	damos_sample_us=50000 damos_aggr_us=1000000 damos_start "$1"
}
damoscheap_stop() { damos_stop; }
# The same scheme with its quota tuned by DAMON against a PSI goal
# (mm/damon/sysfs-schemes.c, quotas/goals/N): the system's "some" memory
# stall in us per quota reset interval (1 s here), DAMON's feedback loop
# growing the bytes it may page out while the stall is under the goal.
damos_goal_start() { # PID GOAL_US
	local q=$damon/kdamonds/0/contexts/0/schemes/0/quotas
	damos_config "$1" || return 1
	[ -e "$q/goals/nr_goals" ] || return 1
	echo 1000 >"$q/reset_interval_ms"
	echo 1 >"$q/goals/nr_goals"
	echo some_mem_psi_us >"$q/goals/0/target_metric" || return 1
	echo "$2" >"$q/goals/0/target_value"
	echo on >"$damon/kdamonds/0/state" || return 1
	pin_reclaimer "$(cat "$damon/kdamonds/0/pid")"
}
damos_stop() {
	local s=$damon/kdamonds/0/contexts/0/schemes/0/stats
	echo update_schemes_stats >"$damon/kdamonds/0/state" 2>/dev/null
	log "damos: tried $(cat "$s/sz_tried" 2>/dev/null) applied $(cat "$s/sz_applied" 2>/dev/null) bytes"
	echo off >"$damon/kdamonds/0/state" 2>/dev/null
	echo 0 >"$damon/kdamonds/nr_kdamonds" 2>/dev/null
}
# damonstat: DAMON's monitoring alone at the default intervals, the
# denominator of the steady-state target ("monitoring CPU"). The cold set
# is paged out by the pageout scheme above during the warm-up; at the
# window's start the scheme's action becomes stat (committed online:
# "commit" in kdamonds/N/state), so kdamond keeps sampling and splitting
# regions as before but pages nothing out, and its CPU in the window is
# monitoring only, not DAMOS paging hot pages out that fault back in.
damonstat_start() { damos_start "$1"; }
damonstat_window() {
	local c=$damon/kdamonds/0/contexts/0
	echo stat >"$c/schemes/0/action" && echo commit >"$damon/kdamonds/0/state" ||
		die "damonstat: cannot switch the scheme to stat online"
	log "damonstat: scheme action now $(cat "$c/schemes/0/action")"
}
damonstat_stop() { damos_stop; }
damos_cpu_ms() {
	local pid
	pid=$(cat "$damon/kdamonds/0/pid" 2>/dev/null)
	[ -n "$pid" ] && [ "$pid" != -1 ] && cpu_ms_of "$pid" || echo 0
}

# damon: etmemd's damon engine with the settings of damos above, so the
# two rows compare etmemd's driving of DAMON with DAMON driven by hand.
damon_start() {
	cat >/tmp/bench_damon.conf <<CONF
[project]
name=bench_damon
scan_type=region
sample_interval=5000
aggr_interval=100000
update_interval=1000000
min_nr_regions=10
max_nr_regions=1000

[engine]
name=damon
project=bench_damon
min_size=4096
min_acc=0
max_acc=0
min_age=20
max_age=4294967295
action=pageout

[task]
project=bench_damon
engine=damon
name=workload
type=pid
value=$1
CONF
	chmod 600 /tmp/bench_damon.conf
	"$build/etmem/etmem" obj add -f /tmp/bench_damon.conf -s "$sock" || return 1
	if ! "$build/etmem/etmem" project start -n bench_damon -s "$sock"; then
		"$build/etmem/etmem" obj del -f /tmp/bench_damon.conf -s "$sock"
		return 1
	fi
}
damon_stop() {
	log "damon: $("$build/etmem/etmem" project show -n bench_damon -s "$sock" -j)"
	"$build/etmem/etmem" project stop -n bench_damon -s "$sock"
	"$build/etmem/etmem" obj del -f /tmp/bench_damon.conf -s "$sock"
}

# memory.reclaim: drive the cgroup down to the hot set plus a margin, in
# steps of at most 64 MiB a second (senpai-like, without the PSI loop).
memreclaim_start() {
	local target=$(((hot + 8) << 20))
	(
		while :; do
			cur=$(cat "$cg/memory.current")
			if [ "$cur" -gt "$target" ]; then
				step=$((cur - target))
				[ "$step" -gt $((64 << 20)) ] && step=$((64 << 20))
				echo "$step" >"$cg/memory.reclaim" 2>/dev/null
			fi
			sleep 1
		done
	) &
	memreclaim_pid=$!
}
memreclaim_stop() { kill "$memreclaim_pid" 2>/dev/null; wait "$memreclaim_pid" 2>/dev/null; }

# etmemd's psi engine on the benchmark cgroup: memory.reclaim in steps
# while the cgroup's memory stall is under PRESSURE (senpai's loop).
psi_start() { # PRESSURE LIMIT_MIN
	cat >/tmp/bench_psi.conf <<CONF
[project]
name=bench_psi
scan_type=psi
interval=1

[engine]
name=psi
project=bench_psi

[task]
project=bench_psi
engine=psi
name=workload
cg_dir=${cg#/sys/fs/cgroup/}
pressure=$1
limit_min_bytes=$2
CONF
	chmod 600 /tmp/bench_psi.conf
	"$build/etmem/etmem" obj add -f /tmp/bench_psi.conf -s "$sock" || return 1
	if ! "$build/etmem/etmem" project start -n bench_psi -s "$sock"; then
		"$build/etmem/etmem" obj del -f /tmp/bench_psi.conf -s "$sock"
		return 1
	fi
}
psi_stop() {
	log "psi: $("$build/etmem/etmem" project show -n bench_psi -s "$sock" -j)"
	"$build/etmem/etmem" project stop -n bench_psi -s "$sock"
	"$build/etmem/etmem" obj del -f /tmp/bench_psi.conf -s "$sock"
}

# etmem as above with hot page tables left unread up to 3 passes in a row
# instead of 1 (etmem_scan's hot_skip_max_passes; steady state only): what
# a longer staleness of hot tables saves.
etmemhot3_start() {
	echo 3 >/sys/module/etmem_scan/parameters/hot_skip_max_passes || return 1
	etmem_start "$@" && return 0
	# Not started: the runs after this one must not inherit the setting.
	echo 1 >/sys/module/etmem_scan/parameters/hot_skip_max_passes
	return 1
}
etmemhot3_stop() {
	etmem_stop
	echo 1 >/sys/module/etmem_scan/parameters/hot_skip_max_passes
}

# etmem as above with sleep_max=16: after cycles that find nothing to do
# (the steady state), the sleep doubles up to 16 s (docs/daemon.md, Quiet
# cycles): what stretching the sleep saves.
etmemquiet_start() {
	etmem_project_extra="sleep_max=16"
	etmem_start "$@"
	local rc=$?
	etmem_project_extra=""
	return $rc
}
etmemquiet_stop() { etmem_stop; }
# Its steady state: quiet cycles at sleep_max (the ramp 1, 2, 4, 8 s takes
# about 25 s after the last page-out; a 120 s window from the page-out held
# 11 cycles, against about 7 at sleep_max).
etmemquiet_settle() {
	local t0=$SECONDS now=
	while [ $((SECONDS - t0)) -lt 90 ]; do
		now=$(etmem_task_field sleep_now_s 2>/dev/null)
		[ "$now" = 16 ] && break
		sleep 1
	done
	log "etmemquiet: sleep at ${now:-?} s after $((SECONDS - t0)) s more"
	[ "$now" = 16 ]
}

none_start() { :; }
none_stop() { :; }

# The reclaimer's own CPU time so far (the kernel scan included where it
# runs in the reclaimer's context).
reclaimer_cpu_ms() {
	case $1 in
	etmem|etmemhot3|etmemquiet) cpu_ms_of "$etmemd_pid" ;;
	damos|damoscheap|damonstat) damos_cpu_ms ;;
	# etmemd's kdamond is kdamond 0 (nothing else runs DAMON here).
	damon) awk -v a="$(cpu_ms_of "$etmemd_pid")" -v b="$(damos_cpu_ms)" 'BEGIN {print a + b}' ;;
	*) echo 0 ;;
	esac
}

# --- experiments -----------------------------------------------------------
wait_ready() { # FILE: wait for the workload's ready line, print its pid
	for _ in $(seq 600); do
		grep -q '^ready' "$1" 2>/dev/null && break
		sleep 0.1
	done
	sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$1"
}

# Wait until PERMILLE of the workload's cold set is out (its last status
# line), at most w_warm_max s. Prints the workload's t_ms then, the
# seconds waited and whether the share was reached (yes/no).
warm_until_out() { # OUT_FILE PERMILLE
	local t0=$SECONDS st reached=no
	while :; do
		st=$(grep '^status' "$1" | tail -n1)
		if [ -n "$st" ] && echo "$st" | awk -v p="$2" -F'[ =]' \
			'{ exit !($7 > 0 && 1000 * ($7 - $5) >= p * $7) }'; then
			reached=yes
			break
		fi
		[ $((SECONDS - t0)) -lt "$w_warm_max" ] || break
		sleep 1
	done
	st=$(grep '^status' "$1" | tail -n1)
	echo "$(echo "$st" | awk -F'[ =]' '{print $3}') $((SECONDS - t0)) $reached"
}

quality_one() { # RECLAIMER REP
	local r=$1 rep=$2 out=/tmp/wl-$1-$2.out pid cpu0 cpu1 managed from=0 wsecs wok
	# shellcheck disable=SC2086 # q_extra: the workload's own options
	in_cgroup "$build/t/helpers/hotcold" --cold-mib "$cold" --hot-mib "$hot" \
		--interval-ms 1000 $q_extra >"$out" 2>&1 &
	local wl=$!
	pid=$(wait_ready "$out")
	[ -n "$pid" ] || die "workload did not start: $(cat "$out")"
	# --thp: how much of the workload the kernel did back with THPs.
	case " $q_extra " in
	*" --thp "*) emit "${qp}thp" "$r" "$rep" \
		"$(awk '$1 == "AnonHugePages:" { print $2 }' "/proc/$pid/smaps_rollup")" ;;
	esac
	if ! "${r}_start" "$pid"; then
		kill -TERM "$wl"; wait "$wl"
		emit "${qp}quality" "$r" "$rep" n/a n/a n/a n/a unavailable
		return
	fi
	# The window starts once the cold set is out (none: at once, it
	# never goes); its first status line is where the figures start.
	if [ -n "$w_warm_out" ] && [ -n "$qp" ]; then
		if [ "$r" != none ]; then
			read -r from wsecs wok < <(warm_until_out "$out" "$w_warm_out")
		else
			from=$(grep '^status' "$out" | tail -n1 | awk -F'[ =]' '{print $3}') wsecs=0 wok=-
		fi
		from=${from:-0}
		emit "${qp}warm" "$r" "$rep" "$wsecs" "$wok"
		log "${qp}$r rep $rep: warm-up $wsecs s, $w_warm_out permille out: $wok"
	fi
	cpu0=$(reclaimer_cpu_ms "$r")
	ecpu0=$(cpu_ms_of "$etmemd_pid")
	sleep "$secs"
	cpu1=$(reclaimer_cpu_ms "$r")
	ecpu1=$(cpu_ms_of "$etmemd_pid")
	"${r}_stop"
	kill -TERM "$wl"
	wait "$wl"
	# status t_ms=.. cold_resident=.. cold_pages=.. hot_resident=.. hot_pages=.. hot_passes=.. majflt=..
	awk -v r="$r" -v rep="$rep" -v qp="$qp" -v from="$from" -F'[ =]' '
		/^status/ {
			t = $3 / 1000; cold = $5; cpages = $7; hotr = $9; hpages = $11; passes = $13
			rate = (t > lt) ? (passes - lp) / (t - lt) : 0
			printf "BENCH|%scurve|%s|%s|%.1f|%.1f|%.1f|%.0f\n", qp, r, rep, t,
				100 * (cpages - cold) / cpages, 100 * (hpages - hotr) / hpages, rate
			lt = t; lp = passes
		}
		# The figures: from the first status line of the window on
		# (faults counted from there when a warm-up came first).
		/^status/ && $3 >= from {
			if (100 * (hpages - hotr) / hpages > hotmax) hotmax = 100 * (hpages - hotr) / hpages
			n++
			if (n == 1) { t0 = t; p0 = passes; mf0 = (from > 0) ? $15 : 0 }
			last_cold = 100 * (cpages - cold) / cpages; tl = t; pl = passes; mf = $15 - mf0
		}
		/^verify ok/ { ok = "ok" }
		/^verify FAILED/ { ok = "FAILED" }
		END {
			printf "BENCH|%squality|%s|%s|%.1f|%.1f|%d|%.0f|%s\n", qp, r, rep, last_cold,
				hotmax, mf, (tl > t0) ? (pl - p0) / (tl - t0) : 0, ok ? ok : "missing"
		}' "$out"
	# The moving workload's hot region is q_region MiB, not the hot size.
	managed=$((cold + ${q_region:-$hot}))
	case $r in
	etmem|damos|damon)
		# Cycles: etmemd's own count; DAMON has no cycle of that kind.
		emit "${qp}cost" "$r" "$rep" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {print b - a}')" \
			"$managed" "$secs" "$([ "$r" = etmem ] && echo "$etmem_cycles" || echo n/a)" ;;
	esac
	# The damon row is kdamond plus etmemd; etmemd's own share on its own.
	[ "$r" = damon ] && emit "${qp}cost" damon-etmemd "$rep" \
		"$(awk -v a="$ecpu0" -v b="$ecpu1" 'BEGIN {print b - a}')" "$managed" "$secs" n/a
}

# Every key of the data set exists (random SETs would leave a third out),
# named as redis-benchmark's __rand_int__ names them for the GETs:
# key:%012d, values of 1 KiB.
redis_load() { # PORT
	python3 -c 'import sys
w = sys.stdout.buffer
v = b"x" * 1024
for i in range(int(sys.argv[1])):
    w.write(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$1024\r\n%s\r\n" % (i, v))' \
		"$redis_keys" | redis-cli -p "$1" --pipe >/dev/null 2>&1 ||
		die "loading redis failed"
}
# GETs served so far (every key exists: hits only).
redis_gets() { # PORT
	redis-cli -p "$1" info stats | sed -n 's/^keyspace_hits:\([0-9]*\).*/\1/p'
}
# 16 keys spread over the data set, cold ones included, read back whole:
# "ok" when every value is as loaded (pages a reclaimer took come back
# from swap for it).
redis_verify() { # PORT
	local want i v
	want=$(printf 'x%.0s' $(seq 1024))
	for i in $(seq 0 $((redis_keys / 16)) $((redis_keys - 1))); do
		v=$(redis-cli -p "$1" --raw get "$(printf 'key:%012d' "$i")")
		[ "$v" = "$want" ] || { echo "FAILED"; return; }
	done
	echo ok
}

redis_one() { # RECLAIMER REP
	local r=$1 rep=$2 port=6390 pid rss0 rss1 line mf0 mf1
	in_cgroup redis-server --port $port --save '' --appendonly no \
		--daemonize no --logfile /tmp/redis.log >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		redis-cli -p $port ping >/dev/null 2>&1 && break
		sleep 0.2
	done
	redis_load $port
	rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	# Its major faults from here on: the pages a reclaimer took that the
	# GETs wanted back (the data set was loaded without any).
	mf0=$(majflt_of "$pid")
	if ! "${r}_start" "$pid"; then
		emit redis "$r" "$rep" n/a n/a n/a n/a n/a n/a n/a n/a n/a unavailable
		redis-cli -p $port shutdown nosave >/dev/null 2>&1; wait "$pid"
		return
	fi
	# Hot keys only, for the whole run; the last round is the one measured.
	local end=$(($(date +%s) + secs)) sampler
	# RSS once a second over the run's second half: what stays resident
	# on average, not only at the last instant (a reclaimer that pages
	# hot pages out has them faulted back in between its passes).
	redis_rss_sampler "$pid" $((end - secs / 2)) "$end" >/tmp/redis_rss.txt &
	sampler=$!
	while [ "$(date +%s)" -lt "$end" ]; do
		line=$(redis-benchmark -p $port -t get -n 20000 \
			-r "$redis_hot" -c 4 --csv 2>/dev/null | sed -n 's/^"GET",//p' | tr -d '"')
	done
	rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	# Resident after the run by kind (kB): which memory a reclaimer left.
	anon1=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
	file1=$(awk '/^RssFile/ {print $2}' "/proc/$pid/status")
	mf1=$(majflt_of "$pid")
	# Where the rest is resident: the largest mappings by Rss (kB), for
	# the log.
	log "redis $r rep $rep: resident by mapping (kB): $(awk '
		/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6); next}
		/^Rss:/ {rss[name] += $2}
		END {for (n in rss) if (rss[n]) print rss[n], n}' "/proc/$pid/smaps" |
		sort -rn | head -8 | tr '\n' ' ')"
	wait "$sampler"
	"${r}_stop"
	redis-cli -p $port shutdown nosave >/dev/null 2>&1
	wait "$pid"
	# rps,avg,min,p50,p95,p99,max
	emit redis "$r" "$rep" $((rss0 / 1024)) $((rss1 / 1024)) \
		"$(echo "$line" | cut -d, -f1)" "$(echo "$line" | cut -d, -f4)" \
		"$(echo "$line" | cut -d, -f6)" $((mf1 - mf0)) \
		"$(awk -v k="$anon1" 'BEGIN {printf "%.1f", k / 1024}')" \
		"$(awk -v k="$file1" 'BEGIN {printf "%.1f", k / 1024}')" \
		"$(awk '{s += $1; n++} END {if (n) printf "%.1f", s / n / 1024; else print "n/a"}' /tmp/redis_rss.txt)" ok
}
# VmRSS of PID in kB, one line a second from FROM to END (epoch seconds).
redis_rss_sampler() { # PID FROM END
	local now
	while now=$(date +%s) && [ "$now" -lt "$3" ]; do
		[ "$now" -lt "$2" ] || awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null
		sleep 1
	done
}

# A process's major faults so far (field 12 of /proc/PID/stat; the
# command name in field 2 has no blank for redis-server or hotcold).
majflt_of() { # PID
	awk '{print $12}' "/proc/$1/stat"
}

scale() {
	local s n out pids
	for s in $scale_sizes; do
		out=/tmp/scale-$s.out
		"$build/t/helpers/hotcold" --cold-mib "$s" --hot-mib 0 >"$out" 2>&1 &
		local wl=$!
		pids=$(wait_ready "$out")
		"$build/bench/scancost" -r 3 $pids | while read -r _ rep _ _ _ wall cpu; do
			emit scale_mem "$s" "${rep#rep=}" "${wall#wall_ms=}" "${cpu#cpu_ms=}"
		done
		kill -TERM "$wl"; wait "$wl"
	done
	for n in $scale_procs; do
		out=/tmp/procs-$n.out
		"$build/t/helpers/hotcold" --cold-mib 16 --hot-mib 0 --children $((n - 1)) >"$out" 2>&1 &
		local wl=$!
		for _ in $(seq 600); do
			[ "$(grep -c 'ready' "$out")" -ge "$n" ] && break
			sleep 0.1
		done
		pids=$(sed -n 's/.*ready pid=\([0-9]*\).*/\1/p' "$out" | tr '\n' ' ')
		"$build/bench/scancost" -r 3 $pids | while read -r _ rep _ _ _ wall cpu; do
			emit scale_procs "$n" "${rep#rep=}" "${wall#wall_ms=}" "${cpu#cpu_ms=}"
		done
		kill -TERM "$wl"; wait "$wl"
	done
}

# Scan through the family vs reading /proc/PID/pagemap, same range, with
# and without the PMD accessed-bit pre-check, idle, accessed and absent
# (t/helpers/kmod_bench; bench/scan_vs_pagemap.sh runs it on its own).
# One row per state: state, ratio, scan ms, pagemap ms, MiB, runs,
# ratio without the pre-check, its runs, with/without, its runs, tables
# read and skipped per scan ("accessed-sampled": hot sampling, means over
# all passes; no without-pre-check figures; skipped = left unread as hot),
# then PAGEMAP_SCAN's median ms, scan / it and its runs (empty before 6.7).
pagemap() {
	local line out
	out=$("$build/t/helpers/kmod_bench" "$pagemap_mib" "$reps_pagemap" 2>&1) ||
		die "kmod_bench: $out"
	while read -r line; do
		log "pagemap: $line"
		emit "${qp}pagemap" "${line%%:*}" \
			"$(sed -n 's/.*pagemap [0-9.]* ms, ratio \([0-9.]*\) (runs.*/\1/p' <<<"$line")" \
			"$(sed -n 's/^[a-z-]*: .*, [0-9]* reps: scan \([0-9.]*\) ms.*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*pagemap \([0-9.]*\) ms.*/\1/p' <<<"$line")" "$pagemap_mib" \
			"$(sed -n 's/.*pagemap [0-9.]* ms, ratio [0-9.]* (runs \([0-9.]*\.\.[0-9.]*\)).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*without pre-check scan [0-9.]* ms, ratio \([0-9.]*\).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*without pre-check scan [0-9.]* ms, ratio [0-9.]* (runs \([0-9.]*\.\.[0-9.]*\)).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*with\/without \([0-9.]*\).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*with\/without [0-9.]* (runs \([0-9.]*\.\.[0-9.]*\)).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*per scan \([0-9.]*\) tables read.*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*tables read, \([0-9.]*\) \(skipped\|left unread\).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*PAGEMAP_SCAN \([0-9.]*\) ms.*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*PAGEMAP_SCAN [0-9.]* ms, scan \/ it \([0-9.]*\).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*PAGEMAP_SCAN [0-9.]* ms, scan \/ it [0-9.]* (runs \([0-9.]*\.\.[0-9.]*\)).*/\1/p' <<<"$line")"
	done < <(grep -E '^(idle|accessed|absent|accessed-sampled): ' <<<"$out")
}

# --- budget: memory saved against slowdown ---------------------------------
# Configurations are FAMILY:SETTING; none comes first in every repetition,
# since each other configuration is compared with the none run of its own
# repetition. Percentages in settings are shares of wall time (1% = 10000
# us of stall per second).
# Monitoring CPU in steady state: the workload's cold set paged out
# (>= s_out_permille, or s_warm_max seconds), then the reclaimer's CPU over
# s_window seconds while only the hot set is touched. One row:
# reclaimer, rep, CPU ms in the window, window s, managed MiB, warm-up s
# (with a + when that share was not reached: not a steady state),
# cold reclaimed % at the end, workload major faults in the window, data.
steady_one() { # RECLAIMER REP
	local r=$1 rep=$2 out=/tmp/steady-$1-$2.out pid wl t0 warm cpu0 cpu1 f0 f1 last u0 k0 u1 k1 c0
	in_cgroup "$build/t/helpers/hotcold" --cold-mib "$s_cold" --hot-mib "$s_hot" \
		--interval-ms 1000 >"$out" 2>&1 &
	wl=$!
	pid=$(wait_ready "$out")
	[ -n "$pid" ] || die "workload did not start: $(cat "$out")"
	if ! "${r}_start" "$pid"; then
		kill -TERM "$wl"; wait "$wl"
		emit steady "$r" "$rep" n/a n/a n/a n/a n/a n/a unavailable
		return
	fi
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$s_warm_max" ]; do
		sleep 1
		last=$(grep '^status' "$out" | tail -n1)
		[ -n "$last" ] &&
			awk -F'[ =]' -v p="$s_out_permille" \
				'{ exit !(NF >= 15 && $7 > 0 && $5 * 1000 <= $7 * (1000 - p)) }' <<<"$last" &&
			break
	done
	# Not reached: the window measures reclaim still going on; say so.
	[ $((SECONDS - t0)) -lt "$s_warm_max" ] || warm=+
	# A reclaimer that ramps down once nothing is left to do (etmemquiet's
	# sleep doubling up to sleep_max) starts its window when it is down.
	# One that does not get down within its bound is flagged like a
	# warm-up that ran out.
	if declare -F "${r}_settle" >/dev/null; then "${r}_settle" || warm=+; fi
	warm=$((SECONDS - t0))${warm:+$warm}
	# etmemd's cycles in the window (asked outside the CPU readings).
	case $r in etmem*) c0=$(etmem_task_field cycles) ;; esac
	# A reclaimer that changes what it does once steady (damonstat).
	if declare -F "${r}_window" >/dev/null; then "${r}_window"; fi
	cpu0=$(reclaimer_cpu_ms "$r")
	case $r in etmem*) read -r u0 k0 < <(user_sys_ms_of "$etmemd_pid") ;; esac
	f0=$(grep '^status' "$out" | tail -n1 | sed -n 's/.* majflt=\([0-9]*\).*/\1/p')
	sleep "$s_window"
	cpu1=$(reclaimer_cpu_ms "$r")
	# Where etmemd's time goes: user space, or the kernel (its scans).
	if [ "${r#etmem}" != "$r" ]; then
		read -r u1 k1 < <(user_sys_ms_of "$etmemd_pid")
		emit steady_split "$r" "$rep" "$(awk -v a="$u0" -v b="$u1" 'BEGIN {print b - a}')" \
			"$(awk -v a="$k0" -v b="$k1" 'BEGIN {print b - a}')"
		log "steady $r rep $rep: $(( $(etmem_task_field cycles) - c0 )) cycles in the ${s_window} s window; at its end $(etmem_task_field quiet_cycles) quiet cycles in a row, sleep $(etmem_task_field sleep_now_s) s"
	fi
	last=$(grep '^status' "$out" | tail -n1)
	f1=$(sed -n 's/.* majflt=\([0-9]*\).*/\1/p' <<<"$last")
	"${r}_stop"
	kill -TERM "$wl"
	wait "$wl"
	emit steady "$r" "$rep" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {print b - a}')" \
		"$s_window" $((s_cold + s_hot)) "$warm" \
		"$(awk -F'[ =]' '{ printf "%.1f", 100 * ($7 - $5) / $7 }' <<<"$last")" \
		$((${f1:-0} - ${f0:-0})) \
		"$(grep -q '^verify ok' "$out" && echo ok || echo FAILED)"
}

# Page-out CPU per MiB: etmem's checked page-out against
# process_madvise(MADV_PAGEOUT) alone (bench/pageoutcost.c). Rows:
# method, rep, MiB out, CPU ms, ms per MiB; then pageout_verify ok|FAILED.
pageout() {
	local line out fields
	# On CPU 0, so the child's memory is on node 0 and the calling thread
	# (where reclaim and zram's compression run) never moves: a thread
	# that wanders between the two vCPUs and nodes made the rounds of
	# either method bimodal (4 or 6 ms per MiB).
	out=$(taskset -c 0 "$build/bench/pageoutcost" -r "$po_reps" "$po_mib" 2>&1)
	emit pageout_meta mib "$po_mib" reps "$po_reps"
	log "pageout: $(tail -n1 <<<"$out")"
	while read -r line; do
		fields=$(sed -n 's/^pageoutcost rep=\([0-9]*\) method=\([a-z]*\) mib_out=\(-*[0-9.]*\) cpu_ms=\([0-9.]*\) ms_per_mib=\([0-9.]*\)$/\2 \1 \3 \4 \5/p' <<<"$line")
		[ -n "$fields" ] || die "pageoutcost: cannot read: $line"
		# shellcheck disable=SC2086 # five fields, split on purpose
		emit pageout $fields
	done < <(grep '^pageoutcost rep=' <<<"$out")
	emit pageout_verify "$(grep -q '^pageoutcost verify ok' <<<"$out" && echo ok || echo FAILED)"
}

# slide's page counting per cycle in user space, per-page replies against
# run-length ones (bench/countcost.c). Rows: layout, rep, form, ms, chunks
# that came as runs.
countcost() {
	local l line
	for l in steady interleaved alternating; do
		"$build/bench/countcost" -r "$cc_reps" "$l" >/tmp/countcost.out 2>&1 ||
			die "countcost $l: $(cat /tmp/countcost.out)"
		while read -r line; do
			# shellcheck disable=SC2046 # five fields, split on purpose
			emit countcost $(sed -n 's/^countcost layout=\([a-z]*\) rep=\([0-9]*\) form=\([a-z]*\) units=[0-9]* chunks_as_runs=\([0-9]*\) ms=\([0-9.]*\)$/\1 \2 \3 \5 \4/p' <<<"$line")
		done </tmp/countcost.out
	done
}

budget_configs() {
	local c
	for c in $(budget_all_configs); do
		[ -z "$b_only" ] || [[ " $b_only " == *" $c "* ]] && echo "$c"
	done
}
budget_all_configs() {
	local v
	echo none
	for v in $b_slide; do echo "slide:$v"; done
	for v in $b_damos; do echo "damos:psi$v%"; done
	for v in $b_psi; do echo "psi:$v%"; done
	for v in $b_majflt; do echo "budget:${v}flt/s"; done
	for v in $b_stall; do echo "budget:stall$v%"; done
	# Budget mode whose quiet cycles stretch the sleep (sleep_max=16):
	# what its scans cost once the controller has settled.
	for v in $b_quiet; do echo "budget:${v}flt/s+sleep16"; done
	# The baseline again, last: its "slowdown" against the first none is
	# the drift of the measurement itself within a repetition
	# (BENCH_BUDGET_AGAIN=0 leaves it out: the smoke run).
	[ "${BENCH_BUDGET_AGAIN:-1}" = 0 ] || echo none:again
}

# The workload on the last CPU, the reclaimers (etmemd and its threads,
# kdamond) on the others: the slowdown measured is what the memory taken
# costs the workload (refaults, stalls), not the reclaimer's own CPU
# competing with the hot thread for one of the guest's two vCPUs (that is
# the steady-state and page-out cost tables' subject). Empty with 1 CPU.
b_work_cpu=$(($(nproc) - 1))
b_reclaim_cpus=0-$((b_work_cpu - 1))
[ "$b_work_cpu" -ge 1 ] || b_work_cpu=
pin_reclaimer() { # PID: all its threads, and those it starts later
	[ -z "$b_work_cpu" ] || taskset -a -pc "$b_reclaim_cpus" "$1" >/dev/null
}

budget_start() { # CONFIG PID
	local set=${1#*:} v extra=
	# budget:...+sleepN: the project also has sleep_max=N.
	case $1 in
	budget:*+sleep*) extra="sleep_max=${set##*+sleep}" set=${set%+sleep*} ;;
	esac
	v=${set//[!0-9]/}
	case $1 in
	none|none:*) ;;
	slide:T1) etmem_start "$2" T=1 ;;
	slide:T1+age*) etmem_start "$2" T=1 "idle_age=${set#T1+age}" ;;
	damos:*) damos_goal_start "$2" $((v * 10000)) ;;
	psi:*) psi_start "$(awk -v p="$v" 'BEGIN {printf "%g", p / 100}')" "${b_psi_min:-${b_hot}m}" ;;
	budget:stall*) etmem_project_extra=$extra etmem_start "$2" "stall_budget_us=$((v * 10000))" ;;
	budget:*) etmem_project_extra=$extra etmem_start "$2" "majflt_budget=$v" ;;
	*) return 1 ;;
	esac
}
budget_stop() { # CONFIG
	case ${1%%:*} in
	slide|budget) etmem_stop ;;
	damos) damos_stop ;;
	psi) psi_stop ;;
	esac
}
# CPU ms so far of the configuration's reclaimer: etmemd (slide, budget
# mode and the psi engine; its scans and page-outs run in its threads),
# kdamond for DAMOS, 0 for none.
budget_cpu_ms() { # CONFIG
	case ${1%%:*} in
	slide|budget|psi) cpu_ms_of "$etmemd_pid" ;;
	damos) damos_cpu_ms ;;
	*) echo 0 ;;
	esac
}
# Its share of one CPU over a window, %: under the instruction clock the
# time it takes from the workload's one clock.
cpu_pct() { # MS0 MS1 SECONDS
	awk -v a="$1" -v b="$2" -v w="$3" 'BEGIN {printf "%.2f", (b - a) / w / 10}'
}
# Where a window's CPU went, for the slowdown no reclaimer's own CPU
# explains. Under the instruction clock both vCPUs take turns on one
# clock, so every instruction run beside the workload, by any task or
# interrupt on either CPU, is time the workload does not get.
# A snapshot, all read by one process that leaves itself out: "time NS"
# (CLOCK_MONOTONIC, the guest's clock), each CPU's busy time "cpuN MS"
# (/proc/stat's user, nice, system, irq, softirq and steal; not idle or
# iowait), and every task's CPU, threads included, "pid MS comm".
cpu_snapshot() {
	python3 -c 'import os, time
hz = os.sysconf("SC_CLK_TCK")
print("time", time.monotonic_ns())
with open("/proc/stat") as f:
    for line in f:
        v = line.split()
        if v[0].startswith("cpu") and v[0] != "cpu":
            print(v[0], sum(int(v[i]) for i in (1, 2, 3, 6, 7, 8)) * 1000 // hz)
me = str(os.getpid())
for d in os.listdir("/proc"):
    if not d.isdigit() or d == me:
        continue
    try:
        with open("/proc/%s/stat" % d) as f:
            s = f.read()
    except OSError:
        continue
    comm, rest = s[s.index("(") + 1:s.rindex(")")], s[s.rindex(")") + 2:].split()
    print(d, (int(rest[11]) + int(rest[12])) * 1000 // hz, comm.replace(" ", "_"))'
}
# Over a window, from two snapshots: every CPU's busy share, the
# workload's (pid), and the 4 other tasks that used most (a task that
# started in the window counts whole), all in % of one CPU over the time
# between the snapshots: "cpu0=.. cpu1=.. workload=.. top=comm:pct,...".
window_cpus() { # SNAPSHOT0 SNAPSHOT1 WORKLOAD_PID
	python3 - "$@" <<'PY'
import sys
def parse(text):
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2:
            out[f[0]] = (int(f[1]), f[2] if len(f) > 2 else "")
    return out
a, b, wl = parse(sys.argv[1]), parse(sys.argv[2]), sys.argv[3]
ms = (b["time"][0] - a["time"][0]) / 1e6
pct = lambda d: 100.0 * d / ms
parts = ["%s=%.2f" % (k, pct(b[k][0] - a[k][0]))
         for k in sorted(b) if k.startswith("cpu") and k in a]
use = {p: (v - a.get(p, (0, ""))[0], c) for p, (v, c) in b.items()
       if p.isdigit()}
parts.append("workload=%.2f" % pct(use.get(wl, (0, ""))[0]))
top = sorted(((d, c) for p, (d, c) in use.items() if p != wl and d > 0), reverse=True)[:4]
parts.append("top=" + (",".join("%s:%.2f" % (c, pct(d)) for d, c in top) or "-"))
parts.append("window_ms=%.0f" % ms)
print(" ".join(parts))
PY
}
cg_stall_us() { # the benchmark cgroup's memory stall (PSI some) so far, in us
	sed -n 's/^some .*total=\([0-9]*\).*/\1/p' "$cg/memory.pressure"
}

# The budget controller's state in project show's text: its idle age, the
# age known too young and the probe (age band and share), without the
# cost; then "cycles N".
budget_state() {
	local show
	show=$("$build/etmem/etmem" project show -n bench -s "$sock" 2>/dev/null)
	sed -n 's/^ *idle age: \(.*\), cost .*/\1/p' <<<"$show"
	! grep -q 'last step: .*, being judged' <<<"$show" || echo judging
	sed -n 's/.*tries a step after \([0-9]*\) cycles.*/tries_after \1/p' <<<"$show"
	sed -n 's/.*cycles: \([0-9]*\),.*/cycles \1/p' <<<"$show"
}

# Budget mode's warm-up goes on past b_warm until the controller has
# settled: no step waiting for its judgement, and its state (age, bound,
# probe) unchanged for BENCH_SETTLE_CYCLES, or one more than the cycles
# before its next try (try_after_cycles) if that is more,
# cycles (8: twice the cycles a cost may lag its page-out), for at most
# b_settle_max s in all. "In steady state" is what the issue's "meets its
# budget" is about; docs/daemon.md puts settling at about 14 cycles a step.
# Prints the warm-up in s and whether the state settled (yes/no; - for
# the other reclaimers, warmed up b_warm s).
budget_settle() { # CONFIG T0
	local show st cyc tries wait_for last='' since=0 need=${BENCH_SETTLE_CYCLES:-8}
	case $1 in budget:*) ;; *) echo "$((SECONDS - $2)) -"; return ;; esac
	while :; do
		show=$(budget_state)
		st=$(grep -v '^cycles \|^tries_after ' <<<"$show")
		cyc=$(sed -n 's/^cycles //p' <<<"$show")
		# Unchanged past the controller's next try, too: a try that
		# costs nothing more takes it further down.
		tries=$(sed -n 's/^tries_after //p' <<<"$show")
		wait_for=$need
		[ -z "$tries" ] || [ "$tries" -lt "$wait_for" ] || wait_for=$((tries + 1))
		if [ -n "$cyc" ] && [ -n "$st" ]; then
			# A step being judged may still be undone: the count
			# starts once it has been judged.
			if grep -qx judging <<<"$st"; then
				last='' since=$cyc
			else
				[ "$st" = "$last" ] || { last=$st; since=$cyc; }
			fi
			[ $((cyc - since)) -lt "$wait_for" ] || { echo "$((SECONDS - $2)) yes"; return; }
		fi
		[ $((SECONDS - $2)) -lt "$b_settle_max" ] || { echo "$((SECONDS - $2)) no"; return; }
		sleep 2
	done
}

# One run: the workload with its moving hot set, the configuration warmed up
# for b_warm s (budget mode: until settled, see budget_settle), then
# measured over b_window s: resident memory (mincore of the cold set and
# the moving region, mean of the status lines in the window), the hot
# thread's passes/s, major faults/s, the cgroup's stall.
budget_one() { # CONFIG REP N
	local c=$1 rep=$2 out=/tmp/budget-$3-$2.out pid wl s0 s1 res rate mf ok stall saved slow c0 c1
	local t0 warm settled snap0 snap1
	in_cgroup ${b_work_cpu:+taskset -c "$b_work_cpu"} "$build/t/helpers/hotcold" \
		--cold-mib "$b_cold" --hot-mib "$b_hot" --move-mib "$b_move" --move-every-ms "$b_move_ms" --interval-ms 1000 >"$out" 2>&1 &
	wl=$!
	pid=$(wait_ready "$out")
	[ -n "$pid" ] || die "workload did not start: $(cat "$out")"
	t0=$SECONDS
	if ! budget_start "$c" "$pid"; then
		kill -TERM "$wl"; wait "$wl"
		emit budget "$c" "$rep" n/a n/a n/a unavailable n/a n/a n/a n/a n/a n/a
		return
	fi
	sleep "$b_warm"
	read -r warm settled < <(budget_settle "$c" "$t0")
	[ "$settled" = - ] || log "budget $c: warm-up ${warm} s, settled: $settled ($(budget_state | tr '\n' ' '))"
	s0=$(cg_stall_us) c0=$(budget_cpu_ms "$c")
	snap0=$(cpu_snapshot)
	sleep "$b_window"
	s1=$(cg_stall_us) c1=$(budget_cpu_ms "$c")
	snap1=$(cpu_snapshot)
	budget_stop "$c"
	# shellcheck disable=SC2046 # word splitting meant: one field each
	emit budget_cpus "$c" "$rep" $(window_cpus "$snap0" "$snap1" "$pid")
	kill -TERM "$wl"
	wait "$wl"
	# status t_ms=.. cold_resident=.. cold_pages=.. hot_resident=.. hot_pages=.. hot_passes=.. majflt=..
	read -r res rate mf ok < <(awk -v w="$((warm * 1000))" -F'[ =]' '
		/^status/ && $3 >= w {
			if (!n++) { t0 = $3; p0 = $13; f0 = $15 }
			sum += $5 + $9; t1 = $3; p1 = $13; f1 = $15
		}
		/^verify ok/ { ok = "ok" }
		/^verify FAILED/ { ok = "FAILED" }
		END {
			d = (t1 - t0) / 1000
			printf "%.1f %.1f %.1f %s\n", (n ? sum / n * 4096 / 1048576 : 0),
				(d > 0 ? (p1 - p0) / d : 0), (d > 0 ? (f1 - f0) / d : 0), (ok ? ok : "missing")
		}' "$out")
	stall=$(((s1 - s0) / b_window))
	[ "$c" = none ] && none_res=$res none_rate=$rate
	saved=$(awk -v r="$res" -v b="${none_res:-0}" 'BEGIN {print (b > 0 ? sprintf("%.1f", 100 * (1 - r / b)) : "n/a")}')
	slow=$(awk -v r="$rate" -v b="${none_rate:-0}" 'BEGIN {print (b > 0 ? sprintf("%.1f", 100 * (1 - r / b)) : "n/a")}')
	emit budget "$c" "$rep" "$saved" "$slow" "$mf" "$ok" "$res" "$rate" "$stall" "$warm" "$settled" \
		"$(cpu_pct "$c0" "$c1" "$b_window")"
}

# The same configurations on redis (bench/run --only budget-redis): the
# data set loaded as in the redis experiment, redis-benchmark GETting the
# hot keys (-r redis_hot, 4 clients) for the whole run, server and
# clients on the workload's CPU; each configuration warmed up as above,
# then measured over b_window s: redis-server's RSS (mean of one sample a
# second), GETs per second (INFO's keyspace_hits), its major faults/s,
# the cgroup's stall; the data read back at the end (redis_verify).
budgetredis_one() { # CONFIG REP N
	local c=$1 rep=$2 port=6391 pid load t0 warm settled s0 s1 mf0 mf1 h0 h1 ns0 ns1
	local sum=0 n=0 rss res rate mf ok stall saved slow c0 c1 snap0 snap1
	in_cgroup ${b_work_cpu:+taskset -c "$b_work_cpu"} redis-server --port $port --save '' \
		--appendonly no --daemonize no --logfile /tmp/redis-budget.log >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		redis-cli -p $port ping >/dev/null 2>&1 && break
		sleep 0.2
	done
	redis_load $port
	in_cgroup ${b_work_cpu:+taskset -c "$b_work_cpu"} redis-benchmark -p $port -t get \
		-n 2000000000 -r "$redis_hot" -c 4 -q >/dev/null 2>&1 &
	load=$!
	t0=$SECONDS
	if ! budget_start "$c" "$pid"; then
		kill -TERM "$load"; wait "$load"
		redis-cli -p $port shutdown nosave >/dev/null 2>&1; wait "$pid"
		emit budgetredis "$c" "$rep" n/a n/a n/a unavailable n/a n/a n/a n/a n/a n/a
		return
	fi
	sleep "$b_warm"
	read -r warm settled < <(budget_settle "$c" "$t0")
	[ "$settled" = - ] || log "budgetredis $c: warm-up ${warm} s, settled: $settled ($(budget_state | tr '\n' ' '))"
	s0=$(cg_stall_us) mf0=$(majflt_of "$pid") h0=$(redis_gets $port) ns0=$(date +%s%N) c0=$(budget_cpu_ms "$c")
	snap0=$(cpu_snapshot)
	for _ in $(seq "$b_window"); do
		sleep 1
		rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
		sum=$((sum + rss)) n=$((n + 1))
	done
	s1=$(cg_stall_us) mf1=$(majflt_of "$pid") h1=$(redis_gets $port) ns1=$(date +%s%N) c1=$(budget_cpu_ms "$c")
	snap1=$(cpu_snapshot)
	budget_stop "$c"
	# shellcheck disable=SC2046 # word splitting meant: one field each
	emit budgetredis_cpus "$c" "$rep" $(window_cpus "$snap0" "$snap1" "$pid")
	kill -TERM "$load"
	wait "$load"
	ok=$(redis_verify $port)
	redis-cli -p $port shutdown nosave >/dev/null 2>&1
	wait "$pid"
	res=$(awk -v s="$sum" -v n="$n" 'BEGIN {printf "%.1f", s / n / 1024}')
	rate=$(awk -v a="$h0" -v b="$h1" -v t="$(( (ns1 - ns0) / 1000000 ))" 'BEGIN {printf "%.1f", (b - a) * 1000 / t}')
	mf=$(awk -v a="$mf0" -v b="$mf1" -v w="$b_window" 'BEGIN {printf "%.1f", (b - a) / w}')
	stall=$(((s1 - s0) / b_window))
	[ "$c" = none ] && none_res=$res none_rate=$rate
	saved=$(awk -v r="$res" -v b="${none_res:-0}" 'BEGIN {print (b > 0 ? sprintf("%.1f", 100 * (1 - r / b)) : "n/a")}')
	slow=$(awk -v r="$rate" -v b="${none_rate:-0}" 'BEGIN {print (b > 0 ? sprintf("%.1f", 100 * (1 - r / b)) : "n/a")}')
	emit budgetredis "$c" "$rep" "$saved" "$slow" "$mf" "$ok" "$res" "$rate" "$stall" "$warm" "$settled" \
		"$(cpu_pct "$c0" "$c1" "$b_window")"
}

budgetredis() {
	local rep c n b_only=${BENCH_BUDGETREDIS_ONLY:-$b_only}
	emit budgetredis_meta kernel "$ETMEM_KVER" redis_keys "$redis_keys" redis_hot "$redis_hot" \
		clients 4 warm_s "$b_warm" settle_max_s "$b_settle_max" \
		settle_cycles "${BENCH_SETTLE_CYCLES:-8}" settle_judged yes settle_past_try yes \
		window_s "$b_window" reps "$b_reps" \
		workload_cpu "${b_work_cpu:-any}" icount_shift "$icount_shift" \
		configs "$(budget_configs | tr '\n' ' ')"
	# The psi engine's floor: twice the hot keys' values.
	b_psi_min=$((redis_hot * 2 / 1024 + 1))m
	pin_reclaimer "$etmemd_pid"
	for rep in $(seq "$b_reps"); do
		none_res='' none_rate='' n=0
		for c in $(budget_configs); do
			n=$((n + 1))
			log "budgetredis $c rep $rep"
			budgetredis_one "$c" "$rep" "$n"
		done
	done
	b_psi_min=
	[ -z "$b_work_cpu" ] || taskset -a -pc "0-$b_work_cpu" "$etmemd_pid" >/dev/null
}

budget() {
	local rep c n
	emit budget_meta kernel "$ETMEM_KVER" cold_mib "$b_cold" move_mib "$b_move" hot_mib "$b_hot" \
		move_every_ms "$b_move_ms" warm_s "$b_warm" settle_max_s "$b_settle_max" \
		settle_cycles "${BENCH_SETTLE_CYCLES:-8}" settle_judged yes settle_past_try yes \
		window_s "$b_window" reps "$b_reps" \
		workload_cpu "${b_work_cpu:-any}" icount_shift "$icount_shift" \
		configs "$(budget_configs | tr '\n' ' ')"
	pin_reclaimer "$etmemd_pid"
	for rep in $(seq "$b_reps"); do
		none_res='' none_rate='' n=0
		for c in $(budget_configs); do
			n=$((n + 1))
			log "budget $c rep $rep"
			budget_one "$c" "$rep" "$n"
		done
	done
	[ -z "$b_work_cpu" ] || taskset -a -pc "0-$b_work_cpu" "$etmemd_pid" >/dev/null
}

# Every repetition runs each reclaimer once, so that their runs interleave.
interleave() { # REPS RECLAIMERS EXPERIMENT: EXPERIMENT_one RECLAIMER REP
	local rep r
	for rep in $(seq "$1"); do
		for r in $2; do
			log "$3${qp:+ ($qp)} $r rep $rep"
			"$3_one" "$r" "$rep"
		done
	done
}

main() {
	setup
	for exp in $only; do
		case $exp in
		quality) interleave "$reps" "$reclaimers" quality ;;
		redis) interleave "$reps" "$redis_reclaimers" redis ;;
		scale) log scale; scale ;;
		pagemap) log pagemap; pagemap ;;
		steady) emit steady_out permille "$s_out_permille"
			interleave "$s_reps" "$s_reclaimers" steady ;;
		pageout) log pageout; pageout ;;
		countcost) log countcost; countcost ;;
		workloads)
			emit wl_meta list "$w_list" reps "$w_reps" cold_mib "$cold" hot_mib "$hot" \
				seconds "$secs" warm_out_permille "${w_warm_out:--}" warm_max_s "$w_warm_max"
			for w in $w_list; do
				q_extra=$(workload_args "$w") qp=wl_${w}_ q_region=
				[ "$w" = moving ] && q_region=$((hot * 4))
				interleave "$w_reps" "$w_reclaimers" quality
			done
			q_extra= qp=${BENCH_PREFIX:-} q_region= ;;
		cost) ;;	# measured within quality
		budget) budget ;;
		budgetredis) budgetredis ;;
		esac
	done
	kill "$etmemd_pid" 2>/dev/null
	wait "$etmemd_pid" 2>/dev/null
	emit done
}

# Sourced (by a test of one part), it only defines the functions.
[ "${BASH_SOURCE[0]}" = "$0" ] && main
