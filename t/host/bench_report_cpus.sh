#!/bin/bash
# bench/report.py's table of where the budget windows' CPU went, from a
# made-up log of two repetitions: each vCPU's busy share, the workload's,
# the rest, and the tasks besides the workload ranked by their median
# share (a task missing from a repetition's top counts 0 there); a
# configuration without CPU rows gets no line; a log without any gets no
# table.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fail=1; fi
}
meta='BENCH|budget_meta|kernel|6.12|cold_mib|128|move_mib|64|hot_mib|16|move_every_ms|625|warm_s|60|settle_max_s|450|window_s|45|reps|2|workload_cpu|1|icount_shift|1|configs|none budget:5flt/s slide:T1'
{
	echo "$meta"
	echo 'BENCH|budget|none|1|0.0|0.0|0.0|ok|200.0|1000.0|0|-|-|0.0'
	echo 'BENCH|budget_cpus|none|1|cpu0=12.50|cpu1=100.10|workload=99.90|top=python3:0.70,kworker/0:1:0.20|window_ms=45000'
	echo 'BENCH|budget|budget:5flt/s|1|40.0|3.1|4.8|ok|120.0|969.0|0|120|yes|0.9'
	echo 'BENCH|budget_cpus|budget:5flt/s|1|cpu0=26.30|cpu1=100.20|workload=97.00|top=etmemd:8.60,kswapd0:1.10,python3:0.70|window_ms=45000'
	echo 'BENCH|budget|slide:T1|1|60.0|9.0|40.0|ok|80.0|910.0|0|-|-|2.0'
	echo 'BENCH|budget|none|2|0.0|0.0|0.0|ok|200.0|1000.0|0|-|-|0.0'
	echo 'BENCH|budget_cpus|none|2|cpu0=13.50|cpu1=100.00|workload=99.70|top=python3:0.80|window_ms=45000'
	echo 'BENCH|budget|budget:5flt/s|2|41.0|2.9|5.1|ok|118.0|971.0|0|130|yes|1.0'
	echo 'BENCH|budget_cpus|budget:5flt/s|2|cpu0=27.30|cpu1=100.10|workload=96.50|top=etmemd:9.60,python3:0.70|window_ms=45000'
	echo 'BENCH|budget|slide:T1|2|61.0|9.5|41.0|ok|79.0|905.0|0|-|-|2.1'
	echo 'BENCH|done'
} >"$work/cpus.log"
python3 "$top/bench/report.py" "$work/cpus.log" "$work/out" >/dev/null 2>"$work/err" ||
	{ cat "$work/err"; echo "not ok - report.py failed"; exit 1; }
t=$work/out/tables.md
check "the table has a column per vCPU, the workload's and the rest" \
	grep -q '^| reclaimer | setting | cpu0 busy % | cpu1 busy % | workload % | all but the workload % | tasks besides the workload (%) | runs |$' "$t"
# budget 5 flt/s: cpu0 26.3 and 27.3, all but the workload
# 26.3 + 100.2 - 97.0 = 29.5 and 27.3 + 100.1 - 96.5 = 30.9; kswapd0
# is in one repetition's top only (1.1 and 0: median 0.6).
check "budget mode's line: medians and ranges, tasks ranked by their median" \
	grep -qF '| slide, budget mode | 5flt/s | 26.8 (26.3..27.3) | 100.2 (100.1..100.2) | 96.8 (96.5..97.0) | 30.2 (29.5..30.9) | etmemd 9.1 (8.6..9.6), python3 0.7 (0.7..0.7), kswapd0 0.6 (0.0..1.1) | 2 |' "$t"
check "none's line" \
	grep -qF '| none | - | 13.0 (12.5..13.5) | 100.0 (100.0..100.1) | 99.8 (99.7..99.9) | 13.2 (12.7..13.8) | python3 0.8 (0.7..0.8), kworker/0:1 0.1 (0.0..0.2) | 2 |' "$t"
check "a configuration without CPU rows has no line in that table" \
	test "$(grep -c '^| slide, fixed T | T1 |' "$t")" = 1
grep -v '^BENCH|budget_cpus' "$work/cpus.log" >"$work/nocpus.log"
python3 "$top/bench/report.py" "$work/nocpus.log" "$work/out2" >/dev/null 2>&1
check "a log without CPU rows has no such table" bash -c '! grep -q "busy %" "$1"' _ "$work/out2/tables.md"
exit $fail
