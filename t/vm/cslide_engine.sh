#!/bin/bash
# vm-timeout: 600
# vm-kernels: newest
# (daemon behaviour the kernel does not change: the kernel-facing paths it
# uses run on every kernel in the kmod_*, cslide_numa_tier and slide tests)
# The cslide engine end to end on the two-node guest (node 0 = DRAM, node 1
# = slow tier): cold huge pages go to node 1 and hot ones come back to
# node 0, never more than node_mig_quota a cycle, node_hot_reserve is kept,
# pages another process maps too are refused once and then held back,
# idle_age (the kernel's idle ages) is passed through,
# engine commands agree with /proc/PID/numa_maps, data stays intact, and
# bad configurations get specific errors.
set -u
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"
sock=cslide
hugepages=/sys/devices/system/node/node%d/hugepages/hugepages-2048kB

vt_load_etmem
daemon_start "$sock" -l 0 || vt_die "etmemd did not start"

# expect_add_error FILE TEXT: obj add must fail and name the problem.
expect_add_error() {
	local out
	if out=$("$ETMEM" obj add -f "$1" -s "$sock" 2>&1); then
		vt_fail "obj add of $(basename "$1") should fail"
	else
		case $out in
		*"$2"*) vt_ok "rejected: $out" ;;
		*) vt_fail "message for $(basename "$1"): '$out' lacks '$2'" ;;
		esac
	fi
}

# cslide_sleep (default 1): the project's sleep between cycles.
cslide_file() { # NAME NODE_PAIR QUOTA RESERVE TASK-LINES...
	local name=$1 pair=$2 quota=$3 reserve=$4
	shift 4
	{
		printf '[project]\nname=%s\nloop=2\ninterval=1\nsleep=%s\n\n' "$name" "${cslide_sleep:-1}"
		printf '[engine]\nname=cslide\nproject=%s\nnode_pair=%s\nhot_threshold=1\n' "$name" "$pair"
		printf 'node_mig_quota=%s\nnode_hot_reserve=%s\n' "$quota" "$reserve"
		printf '%s\n' "$@"
	} | conf "$name.conf"
}

task_lines() { # PROJECT TASKNAME PID [VM_FLAGS [EXTRA-LINE]]
	printf '\n[task]\nproject=%s\nengine=cslide\nname=%s\ntype=pid\nvalue=%s\nvm_flags=%s\n' \
		"$1" "$2" "$3" "${4:-ht}"
	[ -z "${5:-}" ] || printf '%s\n' "$5"
}

# --- bad configurations (before any huge page exists) ---
expect_add_error "$(cslide_file nohuge 0,1 8 1024)" "node 0 has no 2 MiB huge pages"
vt_node_hugepages 24
expect_add_error "$(cslide_file badnode 0,7 8 1024)" "node 7 does not exist"
expect_add_error "$(cslide_file twice '0,1;1,0' 8 1024)" "node 1 appears more than once"
expect_add_error "$(cslide_file notpair '0-1' 8 1024)" "is not a pair of node numbers"
expect_add_error "$(cslide_file noquota 0,1 '' 1024)" "node_mig_quota"
expect_add_error "$(cslide_file badflags 0,1 8 1024 "$(task_lines badflags t 1 'ht mr')")" \
	"flag 'mr' is not supported"
expect_add_error "$(cslide_file quota_neg 0,1 -1 1024)" "node_mig_quota='-1' is not an integer in 0..2147483647"
expect_add_error "$(cslide_file reserve_big 0,1 8 2147483648)" "node_hot_reserve='2147483648' is not an integer in 0..2147483647"
expect_add_error "$(cslide_file idle_big 0,1 8 1024 'idle_age=255')" "idle_age='255' is not an integer in 0..254"
sed 's/^hot_threshold=1$/hot_threshold=lots/' "$(cslide_file thr 0,1 8 1024)" | conf thr_bad.conf >/dev/null
expect_add_error "$WORK/thr_bad.conf" "hot_threshold='lots' is not an integer in 0..2147483647"
expect_add_error "$(cslide_file ignhost 0,1 8 1024 "$(task_lines ignhost t 1 ht 'ign_host=perhaps')")" \
	"ign_host='perhaps' is not allowed (allowed: no, yes)"
sed -i 's/^vm_flags=.*/vm_flags=ht/' "$WORK/badflags.conf"
printf 'anon_only=maybe\n' >>"$WORK/badflags.conf"
expect_add_error "$WORK/badflags.conf" "anon_only"


start_workload() { # NODE COLD_MIB HOT_MIB OUT
	"$helpers/hotcold" --hugetlb --node "$1" --cold-mib "$2" --hot-mib "$3" \
		--interval-ms 5000 >"$4" 2>&1 &
	vt_wait_line "$4" '^ready'
}
field() { sed -n "s/^ready.* $2=\\(0x[0-9a-f]*\\).*/\\1/p" "$1"; }

# --- phase 1: demotion of cold pages from node 0, quota of 4 pages ---
wl1=$WORK/wl1.out
start_workload 0 16 8 "$wl1"
pid1=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$wl1")
cold1=$(field "$wl1" cold) hot1=$(field "$wl1" hot)
vt_check "8 cold huge pages start on node 0" [ "$(vt_pages_on "$pid1" "$cold1" 0)" = 8 ]
# idle_age=2: a cold page also needs the kernel's idle age (2 scans, one
# cycle) before it is demoted; the hot ones are at 0 every scan.
# sleep=4: a cycle lasts loop*interval+sleep = 6 s, several times the
# numa_maps sampling below (1 s plus a read of numa_maps, about 1.5 s
# under emulation), so no two samples straddle two migrations: the
# largest step between samples is what one cycle moved.
f1=$(cslide_sleep=4 cslide_file tier 0,1 8 1024 'idle_age=2' "$(task_lines tier vm1 "$pid1")")
"$ETMEM" obj add -f "$f1" -s "$sock" || vt_die "obj add"
"$ETMEM" project start -n tier -s "$sock" || vt_die "project start"
vt_check "idle_age=2 shown" grep -q "idle_age=2" <<<"$("$ETMEM" project show -n tier -s "$sock")"
moved_at="" max_step=0 prev=0
for i in $(seq 90); do
	sleep 1
	now=$(vt_pages_on "$pid1" "$cold1" 1)
	[ $((now - prev)) -gt "$max_step" ] && max_step=$((now - prev))
	prev=$now
	if [ "$now" = 8 ]; then moved_at=$i; break; fi
done
vt_check "all 8 cold pages reached node 1 (after ${moved_at:-never} s)" [ -n "$moved_at" ]
# What each cycle demoted, from the engine's own line per cycle (a sampled
# show could miss the cycle that moved); the line of the cycle that moved
# the last pages is written when that cycle ends, after numa_maps shows them.
demoted_per_cycle() {
	sed -n 's/.* tier\/cslide: cycle [0-9]*: \([0-9][0-9]*\) pages demoted.*/\1/p' "$WORK/etmemd-$sock.log"
}
for _ in $(seq 30); do
	[ "$(demoted_per_cycle | awk '{ s += $1 } END { print s + 0 }')" -ge 8 ] && break
	sleep 1
done
max_demoted=$(demoted_per_cycle | sort -n | tail -n1)
max_demoted=${max_demoted:-0}
vt_check "hot pages stayed on node 0" [ "$(vt_pages_on "$pid1" "$hot1" 0)" = 4 ]
vt_check "at most node_mig_quota (4 pages) demoted in one cycle (max seen $max_demoted)" \
	[ "$max_demoted" -le 4 -a "$max_demoted" -gt 0 ]
vt_check "numa_maps agrees: at most 4 pages reached node 1 between two samples (max $max_step)" \
	[ "$max_step" -le 4 -a "$max_step" -gt 0 ]
# The engine sees where pages sit at the start of each migration, so its
# view catches up with numa_maps one cycle after the last move: wait for
# that cycle rather than for a fixed time (a slow host stretches cycles).
for _ in $(seq 60); do
	tp=$("$ETMEM" engine showtaskpages -n tier -e cslide -t vm1 -s "$sock")
	grep -Eq '^1 +16384 ' <<<"$tp" && break
	sleep 1
done
echo "$tp"
vt_check "showtaskpages: node 0 holds 8192 KiB, all hot" \
	grep -Eq '^0 +8192 +8192 +0$' <<<"$tp"
vt_check "showtaskpages: node 1 holds 16384 KiB, all cold" \
	grep -Eq '^1 +16384 +0 +16384$' <<<"$tp"
hp=$("$ETMEM" engine showhostpages -n tier -e cslide -s "$sock")
echo "$hp"
for n in 0 1; do
	total=$(($(cat "$(printf "$hugepages" $n)/nr_hugepages") * 2048))
	used=$(((total / 2048 - $(cat "$(printf "$hugepages" $n)/free_hugepages")) * 2048))
	vt_check "showhostpages node $n: total $total used $used KiB as in sysfs" \
		grep -Eq "^$n +$total +$used " <<<"$hp"
done
# The only process under the engine is the workload: its hot set (4 pages)
# on node 0, its cold set (8 pages) on node 1, as numa_maps said above.
vt_check "showhostpages: hot 8192 KiB on node 0, cold 16384 KiB on node 1" \
	bash -c "grep -Eq '^0 +[0-9]+ +[0-9]+ +8192 +0\$' <<<\"\$1\" && grep -Eq '^1 +[0-9]+ +[0-9]+ +0 +16384\$' <<<\"\$1\"" _ "$hp"
# -j: the same figures in bytes, strict JSON with format_version.
tj=$("$ETMEM" engine showtaskpages -n tier -e cslide -t vm1 -s "$sock" -j)
hj=$("$ETMEM" engine showhostpages -n tier -e cslide -s "$sock" -j)
echo "$tj"; echo "$hj"
vt_check "showtaskpages -j: node 1 holds 16 MiB, all cold; node 0 8 MiB, all hot" python3 -c '
import json, sys
d = json.loads(sys.argv[1], strict=True)
n = {x["node"]: x for x in d["nodes"]}
ok = d["format_version"] == 1 and d["task"] == "vm1"
ok &= n[1]["used_bytes"] == 16 << 20 and n[1]["cold_bytes"] == 16 << 20 and n[1]["hot_bytes"] == 0
ok &= n[0]["used_bytes"] == 8 << 20 and n[0]["hot_bytes"] == 8 << 20
sys.exit(0 if ok else 1)' "$tj"
vt_check "showhostpages -j: hot 8 MiB on node 0, cold 16 MiB on node 1" python3 -c '
import json, sys
n = {x["node"]: x for x in json.loads(sys.argv[1], strict=True)["nodes"]}
sys.exit(0 if n[0]["hot_bytes"] == 8 << 20 and n[1]["cold_bytes"] == 16 << 20 else 1)' "$hj"
out=$("$ETMEM" engine showtaskpages -n tier -e cslide -s "$sock" 2>&1)
rc=$?
vt_check "showtaskpages without -t is refused: $out" [ "$rc" != 0 -a -n "$(grep -- '-t TASK' <<<"$out")" ]
out=$("$ETMEM" engine frobnicate -n tier -e cslide -s "$sock" 2>&1)
vt_check "unknown engine command is refused: $out" grep -q "no command 'frobnicate'" <<<"$out"
"$ETMEM" obj del -f "$f1" -s "$sock" || vt_fail "obj del"
kill -TERM "$pid1"; wait "$pid1" 2>/dev/null
vt_check "workload 1 data intact" grep -q '^verify ok' "$wl1"

# --- phase 2: promotion from node 1 and the hot reserve (2 pages) ---
wl2=$WORK/wl2.out
start_workload 1 8 8 "$wl2"
pid2=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$wl2")
hot2=$(field "$wl2" hot) cold2=$(field "$wl2" cold)
vt_check "4 hot huge pages start on node 1" [ "$(vt_pages_on "$pid2" "$hot2" 1)" = 4 ]
# anon_only=yes: MAP_HUGETLB memory counts as anonymous.
f2=$(cslide_file reserve 0,1 1024 4 "$(task_lines reserve vm2 "$pid2" ht anon_only=yes)")
"$ETMEM" obj add -f "$f2" -s "$sock" || vt_die "obj add reserve"
"$ETMEM" project start -n reserve -s "$sock" || vt_die "project start reserve"
ok=""
for i in $(seq 60); do
	sleep 1
	if [ "$(vt_pages_on "$pid2" "$hot2" 0)" = 2 ]; then ok=$i; break; fi
done
vt_check "the reserve (4 MiB) of hot pages was promoted to node 0 (after ${ok:-never} s)" [ -n "$ok" ]
sleep 8	# two more cycles: nothing beyond the reserve, no ping-pong
vt_check "no more than the reserve on node 0 ($(vt_pages_on "$pid2" "$hot2" 0) hot pages)" \
	[ "$(vt_pages_on "$pid2" "$hot2" 0)" = 2 ]
vt_check "cold pages stayed on node 1" [ "$(vt_pages_on "$pid2" "$cold2" 1)" = 4 ]
"$ETMEM" project stop -n reserve -s "$sock"
out=$("$ETMEM" engine showhostpages -n reserve -e cslide -s "$sock" 2>&1)
vt_check "engine commands refuse a stopped engine: $out" grep -q "no process is running" <<<"$out"
"$ETMEM" obj del -f "$f2" -s "$sock"
kill -TERM "$pid2"; wait "$pid2" 2>/dev/null
vt_check "workload 2 data intact" grep -q '^verify ok' "$wl2"

# --- phase 3: a cold set another process maps too: refused, then held back ---
wl3=$WORK/wl3.out
"$helpers/hotcold" --hugetlb --node 0 --cold-mib 8 --hot-mib 4 --share-cold \
	--interval-ms 5000 >"$wl3" 2>&1 &
vt_wait_line "$wl3" '^ready'
pid3=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$wl3")
cold3=$(field "$wl3" cold)
f3=$(cslide_file shared 0,1 8 1024 "$(task_lines shared vm3 "$pid3")")
"$ETMEM" obj add -f "$f3" -s "$sock" || vt_die "obj add shared"
"$ETMEM" project start -n shared -s "$sock" || vt_die "project start shared"
jfield() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -n1 | cut -d: -f2; }
held=0
for i in $(seq 60); do
	sleep 1
	j=$(show_json "$sock" shared)
	held=$(jfield last_cycle_held_pages "$j")
	[ "${held:-0}" = 4 ] && break
done
# The refusals, from the engine's line per cycle: the cycle that failed
# them is shown for one cycle only, which a sampled show can miss.
max_failed=$(sed -n 's/.* shared\/cslide: cycle [0-9]*: .* \([0-9][0-9]*\) failed, .*/\1/p' "$WORK/etmemd-$sock.log" |
	sort -n | tail -n1)
max_failed=${max_failed:-0}
vt_check "the 4 shared cold pages were refused (most failed in a cycle: $max_failed)" \
	[ "$max_failed" = 4 ]
vt_check "and are held back ($held)" [ "$held" = 4 ]
n0=$(grep -c "shared.*cycle [0-9]*: .* 4 failed" "$WORK/etmemd-$sock.log")
sleep 8	# two more cycles
show=$("$ETMEM" project show -n shared -s "$sock")
echo "$show"
vt_check "while held they are not asked again (no more cycles with 4 failed: $n0)" \
	[ "$(grep -c "shared.*cycle [0-9]*: .* 4 failed" "$WORK/etmemd-$sock.log")" = "$n0" ]
vt_check "cycles log the held pages" grep -q "shared.*cycle [0-9]*: .* 0 failed, 4 held back" \
	"$WORK/etmemd-$sock.log"
vt_check "show names them" grep -q "0 moves failed, 4 huge pages held back after a lasting refusal" <<<"$show"
vt_check "the shared pages stayed on node 0" [ "$(vt_pages_on "$pid3" "$cold3" 0)" = 4 ]
"$ETMEM" obj del -f "$f3" -s "$sock"
kill -TERM "$pid3"; wait "$pid3" 2>/dev/null
vt_check "workload 3 data intact" grep -q '^verify ok' "$wl3"

vt_check "etmemd still running" kill -0 "$DAEMON_PID"
daemon_stop
vt_unload_etmem
vt_done
