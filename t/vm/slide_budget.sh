#!/bin/bash
# vm-timeout: 800
# vm-kernels: 6.1 6.12
# (both Debian 12 kernels, as issue 18 asks)
# Slide's budget mode (majflt_budget instead of T): on a steady workload
# with a cold set, a hot set and a warm set read every 6 s, the controller
# comes down from idle age 16, learns the age at which the warm set's
# refaults cost more than the budget, and settles above it: the cold set
# goes, the hot and warm sets stay, the workload's major faults in steady
# state are within the budget, and the age no longer moves. Then the
# working set grows (the workload reads its cold set every second): the
# faults go over the budget, the controller raises the age at once, and
# the cold set comes back and stays. A second workload under a stall
# budget alone (stall_budget_us) has its stall measured and its cold set
# paged out. The controller's state is in show -j and in the metrics. Keys
# that cannot go together are refused with a message naming them, and
# change nothing. The workloads verify their checksums.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

vt_load_etmem
vt_zram_swap 512M
SOCK=budget
BUDGET=20	# major faults per second

# The hot threads pause 20 ms between passes (hotcold --hot-pause-ms):
# still read about 50 times a second, they no longer hold both vCPUs, so
# the daemon's cycles and the checks' shows are not starved.
setsid "$helpers/hotcold" --interval-ms 1000 --cold-mib 48 --hot-mib 4 --hot-pause-ms 20 \
	--warm-mib 8 --warm-every-ms 6000 >"$WORK/wl.out" 2>&1 &
wl=$!
OTHER_PIDS+=("$wl")
# A second workload for a stall budget alone (the guest's memory stall).
setsid "$helpers/hotcold" --interval-ms 1000 --cold-mib 16 --hot-mib 2 --hot-pause-ms 20 >"$WORK/st.out" 2>&1 &
st=$!
OTHER_PIDS+=("$st")
vt_wait_line "$WORK/wl.out" '^ready'
vt_wait_line "$WORK/st.out" '^ready'
daemon_start "$SOCK" -l 1 || vt_die "etmemd did not start"

project() { # project NAME SCAN_TYPE TASK-LINES... (PID: the workload, default wl)
	printf '[project]\nname=%s\nscan_type=%s\nloop=1\ninterval=1\nsleep=1\n' "$1" "$2"
	printf '[engine]\nname=slide\nproject=%s\n' "$1"
	printf '[task]\nproject=%s\nengine=slide\nname=t\ntype=pid\nvalue=%s\n' "$1" "${PID:-$wl}"
	shift 2
	printf '%s\n' "$@"
}
refused() { # refused NAME EXPECTED-REGEX SCAN_TYPE TASK-LINES...
	local name=$1 want=$2 out
	shift 2
	project "$name" "$@" | conf "$name.conf" >/dev/null
	if out=$("$ETMEM" obj add -f "$WORK/$name.conf" -s "$SOCK" 2>&1); then
		vt_fail "$name: accepted"
		return
	fi
	vt_check "$name: refused with '$out'" grep -Eq "$want" <<<"$out"
	vt_check "$name: no project left behind" \
		test -z "$("$ETMEM" project show -n "$name" -s "$SOCK" 2>/dev/null)"
}
refused both 'T and a budget \(stall_budget_us, majflt_budget\) exclude each other' page \
	'T=1' "majflt_budget=$BUDGET"
refused neither "missing required key 'T' .* or a budget instead \\(stall_budget_us" page ''
refused auto 'a budget needs the etmem modules.* scan_type=auto' auto "stall_budget_us=1000"
refused zero "majflt_budget='0' is not an integer in 1\\.\\." page 'majflt_budget=0'
refused word "stall_budget_us='1%' is not an integer in 1\\.\\.1000000" page 'stall_budget_us=1%'

project steady page "majflt_budget=$BUDGET" | conf steady.conf >/dev/null
vt_check "obj add of a budget task" "$ETMEM" obj add -f "$WORK/steady.conf" -s "$SOCK"
vt_check "project start" "$ETMEM" project start -n steady -s "$SOCK"
PID=$st project stall page "stall_budget_us=50000" | conf stall.conf >/dev/null
vt_check "obj add and start of a stall-budget task" \
	sh -c "'$ETMEM' obj add -f '$WORK/stall.conf' -s $SOCK && '$ETMEM' project start -n stall -s $SOCK"

budget() { # budget FIELD: a member of the task's "budget" object
	show_json "$SOCK" steady | python3 -c "
import json,sys
print(json.load(sys.stdin)['projects'][0]['tasks'][0].get('budget', {}).get('$1', ''))"
}
last_status() { grep '^status' "$WORK/wl.out" | tail -n 1; }
field() { sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" <<<"$2"; }
# The steady task's lines about its age (the stall task's go on apart).
ages() { grep 'steady' "$WORK/etmemd-$SOCK.log" | grep -o 'idle age [0-9]* -> [0-9]*'; }

# Steady state: the age stays put for 40 s (about 15 cycles) and the cold
# set is out. Up to 440 s: each step down is probed over about 8 cycles.
# Polled every 5 s, so that the 40 s start at the last change.
settled=0
n0=$(ages | wc -l)
t_change=$SECONDS t_start=$SECONDS
s0=$(last_status)
while [ $((SECONDS - t_start)) -lt 440 ]; do
	sleep 5
	if [ "$(ages | wc -l)" != "$n0" ]; then
		n0=$(ages | wc -l)
		t_change=$SECONDS
		s0=$(last_status)
		continue
	fi
	[ $((SECONDS - t_change)) -ge 40 ] || continue
	s1=$(last_status)
	cold_res=$(field cold_resident "$s1")
	cold_pages=$(field cold_pages "$s1")
	if [ "${cold_res:-1}" -le $(( ${cold_pages:-0} / 10 )) ]; then
		settled=1
		break
	fi
done
"$ETMEM" project show -n steady -s "$SOCK"
echo "age changes: $(ages | tr '\n' ' ')"
vt_check "the age settled (no change in 40 s) with the cold set out" test "$settled" = 1
# Not settled: the checks below still run, on the last window seen.
if [ "$settled" != 1 ]; then
	s1=$(last_status)
	cold_res=$(field cold_resident "$s1") cold_pages=$(field cold_pages "$s1")
fi
t0=$(field t_ms "$s0") t1=$(field t_ms "$s1")
f0=$(field majflt "$s0") f1=$(field majflt "$s1")
rate=$(( (${f1:-0} - ${f0:-0}) * 1000 / (${t1:-1} - ${t0:-0} > 0 ? ${t1:-1} - ${t0:-0} : 1) ))
vt_check "steady state: $((f1 - f0)) major faults in $(( (t1 - t0) / 1000 )) s: ${rate}/s within the budget $BUDGET/s (+20%)" \
	test "$rate" -le $((BUDGET * 12 / 10))
vt_check "the cold set is out ($cold_res of $cold_pages pages resident)" \
	test "$cold_res" -le $((cold_pages / 10))
hot=$(field hot_resident "$s1")
vt_check "the hot set stayed ($hot of $(field hot_pages "$s1") pages resident)" \
	test "$hot" = "$(field hot_pages "$s1")"
# The warm set over the steady window (a line a second): the controller
# re-probes a relaxed bound now and then (docs/daemon.md), and a probe
# that reaches the warm set takes about 1/8 of it until the next read; a
# run on 6.12 once sampled a single line at that moment (1792 of 2048,
# with no major fault in the window). The median
# line of the window says whether the warm set stays.
warm_pages=$(grep '^warm' "$WORK/wl.out" | tail -n 1 | sed -n 's/.* warm_pages=\([0-9]*\).*/\1/p')
warm_res=$(awk -v a="$t0" -v b="$t1" '/^warm/ {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		if (f["t_ms"] >= a && f["t_ms"] <= b) print f["warm_resident"] }' "$WORK/wl.out" | sort -n)
warm_med=$(sed -n "$(( ($(wc -l <<<"$warm_res") + 1) / 2 ))p" <<<"$warm_res")
warm_med=${warm_med:-0}
vt_check "the warm set is resident in steady state (median over the window: $warm_med of $warm_pages)" \
	test "$warm_med" -ge $(( warm_pages * 9 / 10 ))
# The controller may move between two requests: its verdict can change
# every cycle while the cost sits near half the budget (CI once saw five
# tries in a row disagree when each read the fields one show at a time).
# One JSON show gives the three fields; the text show is taken between two
# JSON shows that agree, so all three describe one state.
budget_state() { # "idle_age verdict probe_share" from one show -j
	show_json "$SOCK" steady | python3 -c "
import json,sys
b = json.load(sys.stdin)['projects'][0]['tasks'][0].get('budget', {})
print(b.get('idle_age', ''), b.get('verdict', ''), b.get('probe_share', ''))"
}
snapshot() {
	local before after
	for _ in $(seq 20); do
		before=$(budget_state)
		show_txt=$("$ETMEM" project show -n steady -s "$SOCK")
		after=$(budget_state)
		if [ "$before" = "$after" ]; then
			read -r age0 verdict0 share0 <<<"$before"
			return 0
		fi
	done
	return 1
}
vt_check "show and show --json agree on the controller's state" snapshot
echo "$show_txt"
vt_check "show names the age ($age0), the floor and the verdict ($verdict0)" \
	grep -Eq "floor=2.*idle age: $age0 scans \(too young: [0-9]+\)(, probing [0-9.]+% of the pages idle $age0\.\.[0-9]+ scans)?, cost (under half the budget|within the budget)" <<<"$(tr '\n' ' ' <<<"$show_txt")"
pct0=$(python3 -c "s = float('$share0'); print('%.1f' % (s * 100) if s < 1 else '')")
if [ -n "$pct0" ]; then
	vt_check "show names the probe (share $share0)" grep -q "probing $pct0% of the pages idle $age0\.\." <<<"$show_txt"
else
	vt_check "show names no probe (share $share0)" bash -c '! grep -q probing <<<"$1"' _ "$show_txt"
fi
vt_check "the first step down was a probe at 1/8" \
	grep -q "steady.*idle age 16 -> 12 scans, probing 12.5% of the pages idle 12..15 scans" "$WORK/etmemd-$SOCK.log"
downs=$(grep -E "steady.*idle age ([0-9]+) -> " "$WORK/etmemd-$SOCK.log" |
	awk '{ for (i = 1; i < NF; i++) if ($i == "age") { if ($(i + 3) + 0 < $(i + 1) + 0) print; break } }')
echo "steps down: $(wc -l <<<"$downs")"
vt_check "every step down was a probe" bash -c '[ -n "$1" ] && ! grep -v "probing 12.5% of the pages idle" <<<"$1"' _ "$downs"
vt_check "the age is above the floor 2 ($age0)" test "$age0" -gt 2

# The working set grows: the cold set is read every second from now on.
n0=$(ages | wc -l)
kill -USR1 "$wl"
raised=0
for _ in $(seq 60); do
	sleep 2
	a=$(budget idle_age)
	[ -n "$a" ] && [ "$a" -gt "$age0" ] && raised=1 && break
done
echo "age changes: $(ages | tr '\n' ' ')"
vt_check "growing the working set raised the age ($age0 -> $(budget idle_age))" test "$raised" = 1
vt_check "the log says the cost went over the budget" \
	grep -q "up, over the budget: stall" <<<"$(grep 'idle age' "$WORK/etmemd-$SOCK.log" | tail -n +$((n0 + 1)))"
# The cold set, now read every second, comes back and stays.
sleep 20
back=1
while read -r line; do
	[ "$(field cold_resident "$line")" -ge $(( $(field cold_pages "$line") * 95 / 100 )) ] || back=0
done < <(grep '^status' "$WORK/wl.out" | tail -n 5)
vt_check "the cold set is back in RAM and stays (last 5 s: $(grep '^status' "$WORK/wl.out" | tail -n 5 | grep -o 'cold_resident=[0-9]*' | tr '\n' ' '))" \
	test "$back" = 1

# The stall budget alone: the memory stall was read, and with no refaults
# the cold set went.
sjson=$(show_json "$SOCK" stall | python3 -c '
import json,sys
b=json.load(sys.stdin)["projects"][0]["tasks"][0]["budget"]
print(b["verdict"], b["stall_source"], b["idle_age"])')
echo "stall task: $sjson"
vt_check "stall budget: the stall was measured ($sjson)" grep -Eq '^(room|within|over) /' <<<"$sjson"
s1=$(grep '^status' "$WORK/st.out" | tail -n 1)
vt_check "stall budget: the cold set went ($(field cold_resident "$s1") of $(field cold_pages "$s1") resident)" \
	test "$(field cold_resident "$s1")" -le $(( $(field cold_pages "$s1") / 10 ))
# As above: the metrics between two show reads that agree on the age.
for _ in 1 2 3 4 5; do
	age1=$(budget idle_age)
	prom=$("$ETMEM" metrics -s "$SOCK")
	[ "$(budget idle_age)" = "$age1" ] && break
done
vt_check "metrics: the controller's age ($age1) is a gauge" \
	grep -q "^etmem_task_budget_idle_age_scans{project=\"steady\",engine=\"slide\",task=\"t\"} $age1\$" <<<"$prom"
vt_check "metrics: the probe's share is a gauge" \
	grep -Eq "^etmem_task_budget_probe_share_ratio\{project=\"steady\",.*\} (0\.[0-9]+|1)\$" <<<"$prom"
vt_check "metrics: the wait before a try is a gauge" \
	grep -Eq "^etmem_task_budget_try_after_cycles\{project=\"steady\",.*\} [0-9]+\$" <<<"$prom"
vt_check "metrics: the cost's noise and the headroom it sets are gauges" \
	grep -Eq "^etmem_task_budget_headroom_ratio\{project=\"steady\",.*\} 0\.(0[5-9]|1[0-9]|2[0-5])\$" <<<"$prom"
vt_check "metrics: the cost's noise is a gauge" \
	grep -Eq "^etmem_task_budget_cost_noise_ratio\{project=\"steady\",.*\} [0-9.e-]+\$" <<<"$prom"
vt_check "metrics: whether a step waits for its judgement is a gauge" \
	grep -Eq "^etmem_task_budget_judging\{project=\"steady\",.*\} [01]\$" <<<"$prom"
vt_check "metrics: the majflt budget is a gauge" \
	grep -q "^etmem_task_budget_major_faults_limit_per_second{project=\"steady\",.*} $BUDGET\$" <<<"$prom"
vt_check "metrics: the stall budget is a ratio (0.05)" \
	grep -q "^etmem_task_budget_stall_limit_ratio{project=\"stall\",.*} 0.05\$" <<<"$prom"

metrics=$(show_json "$SOCK" | python3 -c '
import json,sys
t=json.load(sys.stdin)["projects"][0]["tasks"][0]["budget"]
print(sorted(t))')
vt_check "project show -j has the controller's state: $metrics" \
	grep -q "'cost_noise'.*'headroom'.*'idle_age'.*'judging'.*'last_step'.*'majflt_budget'.*'majflt_per_s'.*'probe_from'.*'probe_share'.*'stall_us_per_s'.*'too_young'.*'try_after_cycles'.*'verdict'" <<<"$metrics"

kill -TERM "$wl" "$st"
wait "$wl" "$st"
vt_check "the workload's data is intact" grep -q '^verify ok' "$WORK/wl.out"
vt_check "the stall-budget workload's data is intact" grep -q '^verify ok' "$WORK/st.out"
daemon_stop
vt_done
