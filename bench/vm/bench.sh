#!/bin/bash
# The benchmarks, run inside the test VM (bench/run boots it). Every figure
# is printed as a row "BENCH|experiment|..." for bench/report.py; rows of
# one experiment come from the same boot, so their ratios hold on a noisy
# host. BENCH_SIZE=smoke runs every scenario once at a tiny size.
set -u
top=${ETMEM_TOP:?}
build=$top/build
size=${BENCH_SIZE:-full}
only=${BENCH_ONLY:-quality redis cost scale pagemap}

case $size in
smoke)	cold=24 hot=8 secs=10 reps=1 redis_keys=8000 redis_hot=500
	scale_sizes="16 32" scale_procs="1 4" pagemap_mib=32 reps_pagemap=3 ;;
full)	cold=384 hot=64 secs=40 reps=3 redis_keys=250000 redis_hot=5000
	scale_sizes="256 512 1024 2048" scale_procs="1 8 64" pagemap_mib=256 reps_pagemap=11 ;;
*)	echo "bench: BENCH_SIZE is smoke or full" >&2; exit 2 ;;
esac
reclaimers=${BENCH_RECLAIMERS:-none etmem damos damon memreclaim}
sock=bench
cg=/sys/fs/cgroup/bench

emit() { local IFS='|'; echo "BENCH|$*"; }
log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# --- setup ---------------------------------------------------------------
setup() {
	insmod "$build/kmod/$ETMEM_KVER/etmem_scan.ko" || die "cannot load etmem_scan"
	insmod "$build/kmod/$ETMEM_KVER/etmem_swap.ko" || die "cannot load etmem_swap"
	modprobe zram num_devices=1 || die "no zram"
	echo 3G >/sys/block/zram0/disksize
	mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || die "no swap"
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$cg"
	"$build/etmemd/etmemd" -l 2 -s "$sock" 2>/tmp/etmemd.log &
	etmemd_pid=$!
	for _ in $(seq 50); do
		"$build/etmem/etmem" project show -s "$sock" >/dev/null 2>&1 && break
		sleep 0.2
	done
	emit meta kernel "$ETMEM_KVER" size "$size" cold_mib "$cold" hot_mib "$hot" \
		seconds "$secs" reps "$reps" accel "$(grep -c hypervisor /proc/cpuinfo)"
}

# Run as `in_cgroup CMD... &`: the background subshell joins the
# benchmark cgroup and becomes CMD, so $! is CMD's pid.
in_cgroup() {
	echo "$BASHPID" >"$cg/cgroup.procs"
	exec "$@"
}

cpu_ms_of() { # utime+stime of a process, all threads, in ms
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# --- reclaimers ----------------------------------------------------------
# etmem: slide engine through etmemd, documented settings.
etmem_start() {
	cat >/tmp/bench_etmem.conf <<CONF
[project]
name=bench
loop=2
interval=1
sleep=1

[engine]
name=slide
project=bench

[task]
project=bench
engine=slide
name=workload
type=pid
value=$1
T=1
max_threads=2
CONF
	chmod 600 /tmp/bench_etmem.conf
	"$build/etmem/etmem" obj add -f /tmp/bench_etmem.conf -s "$sock" &&
		"$build/etmem/etmem" project start -n bench -s "$sock"
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
damos_start() {
	[ -d "$damon" ] || return 1
	local k=$damon/kdamonds/0 c
	echo 1 >"$damon/kdamonds/nr_kdamonds"
	echo 1 >"$k/contexts/nr_contexts"
	c=$k/contexts/0
	echo vaddr >"$c/operations"
	echo 5000 >"$c/monitoring_attrs/intervals/sample_us"
	echo 100000 >"$c/monitoring_attrs/intervals/aggr_us"
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
	echo 20 >"$c/schemes/0/access_pattern/age/min"
	echo 4294967295 >"$c/schemes/0/access_pattern/age/max"
	echo on >"$k/state"
}
damos_stop() {
	local s=$damon/kdamonds/0/contexts/0/schemes/0/stats
	echo update_schemes_stats >"$damon/kdamonds/0/state" 2>/dev/null
	log "damos: tried $(cat "$s/sz_tried" 2>/dev/null) applied $(cat "$s/sz_applied" 2>/dev/null) bytes"
	echo off >"$damon/kdamonds/0/state" 2>/dev/null
	echo 0 >"$damon/kdamonds/nr_kdamonds" 2>/dev/null
}
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

none_start() { :; }
none_stop() { :; }

# The reclaimer's own CPU time so far (the kernel scan included where it
# runs in the reclaimer's context).
reclaimer_cpu_ms() {
	case $1 in
	etmem) cpu_ms_of "$etmemd_pid" ;;
	damos) damos_cpu_ms ;;
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

quality_one() { # RECLAIMER REP
	local r=$1 rep=$2 out=/tmp/wl-$1-$2.out pid cpu0 cpu1 managed
	in_cgroup "$build/t/helpers/hotcold" --cold-mib "$cold" --hot-mib "$hot" \
		--interval-ms 1000 >"$out" 2>&1 &
	local wl=$!
	pid=$(wait_ready "$out")
	[ -n "$pid" ] || die "workload did not start: $(cat "$out")"
	if ! "${r}_start" "$pid"; then
		kill -TERM "$wl"; wait "$wl"
		emit quality "$r" "$rep" n/a n/a n/a n/a unavailable
		return
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
	awk -v r="$r" -v rep="$rep" -F'[ =]' '
		/^status/ {
			t = $3 / 1000; cold = $5; cpages = $7; hotr = $9; hpages = $11; passes = $13
			rate = (t > lt) ? (passes - lp) / (t - lt) : 0
			printf "BENCH|curve|%s|%s|%.1f|%.1f|%.1f|%.0f\n", r, rep, t,
				100 * (cpages - cold) / cpages, 100 * (hpages - hotr) / hpages, rate
			if (100 * (hpages - hotr) / hpages > hotmax) hotmax = 100 * (hpages - hotr) / hpages
			lt = t; lp = passes; n++
			if (n == 1) { t0 = t; p0 = passes }
			last_cold = 100 * (cpages - cold) / cpages; tl = t; pl = passes; mf = $15
		}
		/^verify ok/ { ok = "ok" }
		/^verify FAILED/ { ok = "FAILED" }
		END {
			printf "BENCH|quality|%s|%s|%.1f|%.1f|%d|%.0f|%s\n", r, rep, last_cold,
				hotmax, mf, (tl > t0) ? (pl - p0) / (tl - t0) : 0, ok ? ok : "missing"
		}' "$out"
	managed=$((cold + hot))
	case $r in
	etmem|damos|damon)
		# Cycles: etmemd's own count; DAMON has no cycle of that kind.
		emit cost "$r" "$rep" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {print b - a}')" \
			"$managed" "$secs" "$([ "$r" = etmem ] && echo "$etmem_cycles" || echo n/a)" ;;
	esac
	# The damon row is kdamond plus etmemd; etmemd's own share on its own.
	[ "$r" = damon ] && emit cost damon-etmemd "$rep" \
		"$(awk -v a="$ecpu0" -v b="$ecpu1" 'BEGIN {print b - a}')" "$managed" "$secs" n/a
}

redis_one() { # RECLAIMER REP
	local r=$1 rep=$2 port=6390 pid rss0 rss1 line
	in_cgroup redis-server --port $port --save '' --appendonly no \
		--daemonize no --logfile /tmp/redis.log >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		redis-cli -p $port ping >/dev/null 2>&1 && break
		sleep 0.2
	done
	# Every key of the data set exists (random SETs would leave a third
	# out), named as redis-benchmark's __rand_int__ names them for the
	# GETs below: key:%012d, values of 1 KiB.
	python3 -c 'import sys
w = sys.stdout.buffer
v = b"x" * 1024
for i in range(int(sys.argv[1])):
    w.write(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$1024\r\n%s\r\n" % (i, v))' \
		"$redis_keys" | redis-cli -p $port --pipe >/dev/null 2>&1 ||
		die "loading redis failed"
	rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	if ! "${r}_start" "$pid"; then
		emit redis "$r" "$rep" n/a n/a n/a n/a n/a unavailable
		redis-cli -p $port shutdown nosave >/dev/null 2>&1; wait "$pid"
		return
	fi
	# Hot keys only, for the whole run; the last round is the one measured.
	local end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		line=$(redis-benchmark -p $port -t get -n 20000 \
			-r "$redis_hot" -c 4 --csv 2>/dev/null | sed -n 's/^"GET",//p' | tr -d '"')
	done
	rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	"${r}_stop"
	redis-cli -p $port shutdown nosave >/dev/null 2>&1
	wait "$pid"
	# rps,avg,min,p50,p95,p99,max
	emit redis "$r" "$rep" $((rss0 / 1024)) $((rss1 / 1024)) \
		"$(echo "$line" | cut -d, -f1)" "$(echo "$line" | cut -d, -f4)" \
		"$(echo "$line" | cut -d, -f6)" ok
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
# read and skipped per scan.
pagemap() {
	local line out
	out=$("$build/t/helpers/kmod_bench" "$pagemap_mib" "$reps_pagemap" 2>&1) ||
		die "kmod_bench: $out"
	while read -r line; do
		log "pagemap: $line"
		emit pagemap "${line%%:*}" \
			"$(sed -n 's/.*ratio \([0-9.]*\) (runs.*without pre-check.*/\1/p' <<<"$line")" \
			"$(sed -n 's/^[a-z]*: .*, [0-9]* reps: scan \([0-9.]*\) ms.*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*pagemap \([0-9.]*\) ms.*/\1/p' <<<"$line")" "$pagemap_mib" \
			"$(sed -n 's/.*pagemap [0-9.]* ms, ratio [0-9.]* (runs \([0-9.]*\.\.[0-9.]*\)).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*without pre-check scan [0-9.]* ms, ratio \([0-9.]*\).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*without pre-check scan [0-9.]* ms, ratio [0-9.]* (runs \([0-9.]*\.\.[0-9.]*\)).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*with\/without \([0-9.]*\).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*with\/without [0-9.]* (runs \([0-9.]*\.\.[0-9.]*\)).*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*per scan \([0-9.]*\) tables read.*/\1/p' <<<"$line")" \
			"$(sed -n 's/.*tables read, \([0-9.]*\) skipped.*/\1/p' <<<"$line")"
	done < <(grep -E '^(idle|accessed|absent): ' <<<"$out")
}

main() {
	setup
	for exp in $only; do
		case $exp in
		quality)
			for rep in $(seq "$reps"); do
				for r in $reclaimers; do
					log "quality $r rep $rep"
					quality_one "$r" "$rep"
				done
			done ;;
		redis)
			for rep in $(seq "$reps"); do
				for r in $reclaimers; do
					log "redis $r rep $rep"
					redis_one "$r" "$rep"
				done
			done ;;
		scale) log scale; scale ;;
		pagemap) log pagemap; pagemap ;;
		cost) ;;	# measured within quality
		esac
	done
	kill "$etmemd_pid" 2>/dev/null
	wait "$etmemd_pid" 2>/dev/null
	emit done
}

# Sourced (by a test of one part), it only defines the functions.
[ "${BASH_SOURCE[0]}" = "$0" ] && main
