#!/bin/bash
# vm-timeout: 900
# vm-kernels: newest
# (user-space behaviour the kernel does not change: one kernel is enough;
# the kernel-facing paths run on every kernel in the kmod_* and other tests)
# The slide engine's knobs each change what is paged out, side by side in
# one etmemd: sysmem_threshold (1% never, 100% always), swap_threshold
# (a process below it is left alone, one above it is not), swap_flag=yes
# (only memory the process marked), type=name (a process and its
# children found by name), and idle_age (the kernel's idle ages: memory
# read every 2 s is kept with idle_age=6, paged out without it), and
# sleep_max (once the cold set is out, cycles find nothing to do and the
# sleep doubles up to it: fewer cycles than with sleep alone; a hold of
# refused pages that ends and is refused again keeps the cycles quiet;
# zero pages are never asked for), and cycles decided after one of their
# scans. Every workload verifies its checksums.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

vt_load_etmem
vt_zram_swap 1G
SOCK=knobs

# start_workload NAME ARGS...: hotcold in the background, sets pid_NAME.
start_workload() {
	local name=$1 bin=$helpers/hotcold
	shift
	if [ "$name" = family ]; then
		cp "$helpers/hotcold" "$WORK/hcfamily"
		bin=$WORK/hcfamily
	fi
	# setsid: hotcold signals its own process group to stop its children.
	# The hot threads pause 50 ms between passes (still read 20 times
	# between two scans): 15 threads that never sleep left the daemon and
	# each check's python about 1/16 of the two vCPUs, and the test took
	# 530 s on 7.2.
	setsid "$bin" --interval-ms 1000 --hot-pause-ms 50 "$@" >"$WORK/$name.out" 2>&1 &
	printf -v "pid_$name" %s $!
	OTHER_PIDS+=($!)
}
start_workload sysmem_never --cold-mib 16 --hot-mib 4
start_workload sysmem_always --cold-mib 32 --hot-mib 4
start_workload small --cold-mib 16 --hot-mib 4
start_workload large --cold-mib 48 --hot-mib 4
start_workload marked --cold-mib 24 --hot-mib 4 --swapflag cold
start_workload unmarked --cold-mib 16 --hot-mib 4
start_workload family --cold-mib 16 --hot-mib 4 --children 2
start_workload aged --cold-mib 16 --hot-mib 2 --warm-mib 4 --warm-every-ms 2000
start_workload unaged --cold-mib 8 --hot-mib 2 --warm-mib 4 --warm-every-ms 2000
start_workload stretch --cold-mib 8 --hot-mib 2
start_workload rehold --cold-mib 4 --hot-mib 0 --share-cold
start_workload zeroread --cold-mib 4 --hot-mib 0 --zero-mib 8
start_workload decide --cold-mib 4 --hot-mib 2 --warm-mib 2 --warm-every-ms 6000
for w in sysmem_never sysmem_always small large marked unmarked family aged unaged stretch rehold zeroread decide; do
	vt_wait_line "$WORK/$w.out" '^ready'
done
sleep 1	# the family's children

daemon_start "$SOCK" -l 1 || vt_die "etmemd did not start"

# project NAME EXTRA-PROJECT-LINE: a [project] and its slide [engine].
project() {
	printf '[project]\nname=%s\nloop=2\ninterval=1\nsleep=1\n%s\n' "$1" "$2"
	printf '[engine]\nname=slide\nproject=%s\n' "$1"
}
# task PROJECT NAME TYPE VALUE [EXTRA-LINE]
task() {
	printf '[task]\nproject=%s\nengine=slide\nname=%s\ntype=%s\nvalue=%s\nT=1\n%s\n' "$@"
}
{
	project sysmem_never 'sysmem_threshold=1'
	task sysmem_never t pid "$pid_sysmem_never"
	project sysmem_always 'sysmem_threshold=100
swapcache_high_wmark=10
swapcache_low_vmark=5'
	task sysmem_always t pid "$pid_sysmem_always"
	project thresh ''
	task thresh small pid "$pid_small" 'swap_threshold=32m'
	task thresh large pid "$pid_large" 'swap_threshold=32M'
	project flags ''
	task flags marked pid "$pid_marked" 'swap_flag=yes'
	task flags unmarked pid "$pid_unmarked" 'swap_flag=yes'
	project family ''
	task family all name hcfamily 'max_threads=3'
	# One pass a cycle, passes at least 1 s apart (sleep=1): memory read
	# every 2 s never reaches an idle age of 6 (at most 2 passes fit
	# between two reads, 4 if one read is lost in the window between a
	# scan's clearing of its bit and the TLB flush, docs/kernel.md);
	# memory never read does in 6 passes.
	printf '[project]\nname=ages\nloop=1\ninterval=1\nsleep=1\n[engine]\nname=slide\nproject=ages\n'
	task ages aged pid "$pid_aged" 'idle_age=6'
	task ages unaged pid "$pid_unaged" ''
	project stretch 'sleep_max=8'
	task stretch t pid "$pid_stretch"
	# One pass a cycle, so that the hold (16 cycles) ends within a minute.
	printf '[project]\nname=rehold\nloop=1\ninterval=1\nsleep=1\nsleep_max=2\n'
	printf '[engine]\nname=slide\nproject=rehold\n'
	task rehold t pid "$pid_rehold"
	task rehold z pid "$pid_zeroread"
	project decide ''
	task decide t pid "$pid_decide"
} | conf knobs.conf >/dev/null
vt_check "obj add of 9 projects from one file" "$ETMEM" obj add -f "$WORK/knobs.conf" -s "$SOCK"
for p in sysmem_never sysmem_always thresh flags family ages stretch rehold decide; do
	vt_check "project start $p" "$ETMEM" project start -n "$p" -s "$SOCK"
done

# task_field PROJECT TASK FIELD...: the fields' values, space-separated,
# all from one show (two shows apart may straddle a cycle).
task_field() {
	local p=$1 t=$2
	shift 2
	show_json "$SOCK" "$p" | python3 -c "
import json,sys
t=[t for t in json.load(sys.stdin)['projects'][0]['tasks'] if t['name']==sys.argv[1]][0]
print(' '.join(str(t[f]) for f in sys.argv[2:]))" "$t" "$@"
}
# Let every task run 4 cycles (one python per poll: it is slow under TCG).
min_cycles() {
	show_json "$SOCK" | python3 -c '
import json,sys
print(min(t["cycles"] for p in json.load(sys.stdin)["projects"] for t in p["tasks"]))'
}
for _ in $(seq 120); do
	[ "$(min_cycles)" -ge 4 ] && break
	sleep 2
done
"$ETMEM" project show -s "$SOCK"

swap_mib() { echo $(( $(vt_status_kb "$1" VmSwap) / 1024 )); }
out_mib() { # out_mib PID COLD_MIB: check >= 90% of the cold part is swapped
	test "$(swap_mib "$1")" -ge $(($2 * 9 / 10))
}
none_out() { test "$(swap_mib "$1")" -le 1; }

vt_check "sysmem_threshold=1: nothing paged out (VmSwap $(swap_mib $pid_sysmem_never) MiB)" none_out "$pid_sysmem_never"
vt_check "sysmem_threshold=1: show says why" grep -q "not below sysmem_threshold 1%" <<<"$(task_field sysmem_never t note)"
vt_check "sysmem_threshold=100: cold paged out (VmSwap $(swap_mib $pid_sysmem_always) MiB)" out_mib "$pid_sysmem_always" 32
sc=$(show_json "$SOCK" sysmem_always | python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][0]["swapcache"])')
vt_check "swapcache watermarks set, reclaim on: $sc" grep -q "swapcache reclaim on, watermarks 5%..10% of RAM" <<<"$sc"
vt_check "swap_threshold=32m, RSS 20 MiB: left alone (VmSwap $(swap_mib $pid_small) MiB)" none_out "$pid_small"
vt_check "swap_threshold=32M, RSS 52 MiB: paged out (VmSwap $(swap_mib $pid_large) MiB)" out_mib "$pid_large" 48
vt_check "swap_flag=yes, cold marked: paged out (VmSwap $(swap_mib $pid_marked) MiB)" out_mib "$pid_marked" 24
vt_check "swap_flag=yes, nothing marked: nothing paged out (VmSwap $(swap_mib $pid_unmarked) MiB)" none_out "$pid_unmarked"
vt_check "type=name finds hcfamily and its 2 children" test "$(task_field family all processes)" = 3
for p in $(pgrep -x hcfamily); do
	vt_check "type=name: process $p paged out (VmSwap $(swap_mib $p) MiB)" out_mib "$p" 16
done
# idle_age=6: the cold part goes once it has been idle 6 passes (6 s at
# least); the warm part, read every 2 s, is never paged out. Without it
# the warm part is called cold in a cycle that misses its read.
for _ in $(seq 60); do
	out_mib "$pid_aged" 16 && break
	sleep 2
done
vt_check "idle_age=6 shown" grep -q "idle_age=6" <<<"$("$ETMEM" project show -n ages -s "$SOCK")"
vt_check "idle_age=6: cold paged out (VmSwap $(swap_mib $pid_aged) MiB)" out_mib "$pid_aged" 16
warm_min() { # warm_min NAME: the fewest warm pages resident in any status line
	awk -F'warm_resident=' '/^warm /{split($2, a, " "); if (m == "" || a[1] < m) m = a[1]} END {print m}' \
		"$WORK/$1.out"
}
vt_check "idle_age=6: the warm part stayed resident (fewest resident $(warm_min aged) of 1024)" \
	test "$(warm_min aged)" = 1024
vt_check "without idle_age: the warm part was paged out at some point (fewest resident $(warm_min unaged) of 1024)" \
	test "$(warm_min unaged)" -lt 1024

# sleep_max=8: once the cold set is out, cycles are quiet and the sleep
# doubles (2, 4, 8 s); thresh (sleep=1, cold sets long out too) keeps
# cycling every couple of seconds.
vt_check "sleep_max: the cold set went out (VmSwap $(swap_mib $pid_stretch) MiB)" out_mib "$pid_stretch" 8
vt_check "sleep_max: project show names it" \
	grep -q "project stretch: started, scan_type=page loop=2 interval=1 sleep=1 sleep_max=8" \
	<<<"$("$ETMEM" project show -n stretch -s "$SOCK")"
stretched=""
for _ in $(seq 30); do
	# One show: the sleep and the quiet streak that made it (read apart,
	# a cycle that paged out a page gone cold in between once paired an
	# 8 s sleep with the next streak's 1).
	read -r st q < <(task_field stretch t sleep_now_s quiet_cycles)
	[ "$st" = 8 ] && stretched=$q && break
	sleep 1
done
vt_check "sleep_max: the sleep stretched to 8 s ($st s after ${stretched:-?} quiet cycles)" \
	test -n "$stretched" -a "${stretched:-0}" -ge 3
said=""
for _ in $(seq 10); do
	said=$("$ETMEM" project show -n stretch -s "$SOCK" |
		grep -Eo "sleep stretched to [0-9]+ s after [0-9]+ quiet cycles \(sleep=1 sleep_max=8\)") && break
	sleep 1
done
vt_check "sleep_max: project show says so ($said)" test -n "$said"
# A page of stretch's own touched again or gone cold rightly ends the quiet
# streak and the sleep starts again at 1 s (2, 4, 8: about 3 more
# cycles); a window in which the streak broke is said and measured once
# more, as the hold check below does.
stretch_window() {
	local c0 q0 c1 q1 t0
	read -r c0 q0 < <(task_field stretch t cycles quiet_cycles)
	t0=$(task_field thresh large cycles)
	sleep 20
	read -r c1 q1 < <(task_field stretch t cycles quiet_cycles)
	n_stretch=$((c1 - c0)) n_thresh=$(($(task_field thresh large cycles) - t0))
	streak_broke=$((q1 - q0 < n_stretch))
	[ "$streak_broke" = 0 ] || echo "# sleep_max: the quiet streak broke in the window ($q0 -> $q1 quiet cycles over $n_stretch cycles)"
}
stretch_window
[ "$streak_broke" = 0 ] || stretch_window
vt_check "sleep_max: $n_stretch cycles in 20 s, against $n_thresh with sleep=1 alone" \
	test "$n_stretch" -ge 1 -a $((n_stretch * 2)) -lt "$n_thresh"

# A cycle decided early: once nothing but held or accessed pages could
# be cold after its first scan, it skips its second (loop=2). stretch's
# cold set is out and its hot set read without pause: its cycles scan
# once. sysmem_never keeps a cold set resident, so every one of its
# cycles needs both scans. decide reads a warm 2 MiB every 6 s: a cycle
# right after a read is decided after one scan, the next ones find the
# warm part idle, scan twice and page it out; so a page that goes cold
# after early cycles still goes out.
# (A cycle whose hold of refused pages ended asks for them again, with
# both scans: every 17th or so; so the first of several looks.)
said=""
for _ in $(seq 20); do
	said=$("$ETMEM" project show -n stretch -s "$SOCK" |
		grep -o "last cycle decided after 1 of its scans") && break
	sleep 1
done
vt_check "decided early: stretch's cycles make 1 of their 2 scans (show: ${said:-not said})" \
	test -n "$said"
vt_check "decided early: sysmem_never's last cycle made both scans (its cold set stays resident)" \
	test "$(task_field sysmem_never t scans_last_cycle)" = 2
early="" later=""
for _ in $(seq 60); do
	read -r scans out < <(show_json "$SOCK" decide | python3 -c '
import json,sys
t=json.load(sys.stdin)["projects"][0]["tasks"][0]
print(t["scans_last_cycle"], t["bytes_paged_out"])')
	if [ -z "$early" ] && [ "$scans" = 1 ]; then
		early=$out
	elif [ -n "$early" ] && [ "$out" -gt "$early" ]; then
		later="$early -> $out bytes" && break
	fi
	sleep 1
done
grep "decide/t: cycle" "$WORK/etmemd-$SOCK.log" | tail -n 6
vt_check "decided early: a cycle scanned once, and a later one paged out the warm part gone idle (${later:-no page-out after an early cycle})" \
	test -n "$later"
# The hot set, read without pause, was never taken: the fewest hot pages
# resident in any status line since the start is all of them.
hot_min=$(awk -F'hot_resident=' '/^status/{split($2, a, " "); if (m == "" || a[1] < m) m = a[1]} END {print m}' \
	"$WORK/decide.out")
vt_check "decided early: decide's hot set stayed resident (fewest $hot_min of 512)" \
	test "${hot_min:-0}" = 512

# rehold's cold set is shared with a second process: the kernel refuses
# it for a lasting reason and slide holds it back for 16 cycles, then asks
# again. Refused again, that cycle changed nothing: it is quiet, and the
# streak of quiet cycles runs through it (the sleep stays stretched).
reask_cycle() { # the last cycle that asked the whole shared set again after a hold
	sed -n 's|.*rehold/t: cycle \([0-9]*\): 1 process(es), [0-9]* pages scanned, \([0-9]*\) cold (\([0-9]*\) held back), \(.*\) paged out.*|\1 \2 \3 \4|p' \
		"$WORK/etmemd-$SOCK.log" |
		awk 'held >= 1024 && $3 == 0 && $2 >= 1024 && $4 == "0" && $5 == "bytes" {c = $1} {held = $3} END {print c}'
}
# An ask seen at most 3 cycles after it happened: the streak read below
# then covers little besides it (one 16 cycles old was once read with a
# cycle in between that paged out a page of the process's own, 4 KiB,
# which rightly broke the streak).
# An ask whose cycle also kept a page of the process's own that was
# touched again (accessed_again, 4 KiB: its stack or libc data) rightly
# breaks the streak; then the next ask is read instead (once).
reask="" prev_reask=0
for attempt in 1 2; do
	for _ in $(seq 120); do
		reask=$(reask_cycle)
		[ -n "$reask" ] && [ "$reask" -gt "$prev_reask" ] &&
			[ $(( $(task_field rehold t cycles) - reask )) -le 3 ] && break
		sleep 1
	done
	[ "$attempt" = 1 ] && vt_check "hold: the shared cold set was asked again after its hold (cycle ${reask:-none})" test -n "$reask"
	[ "$attempt" = 1 ] && vt_check "hold: the shared cold set stayed in RAM (VmSwap $(swap_mib $pid_rehold) MiB, its RSS $(( $(vt_status_kb "$pid_rehold" RssShmem) / 1024 )) MiB shared)" \
		test "$(vt_status_kb "$pid_rehold" RssShmem)" -ge 4096
	streak=""
	for _ in $(seq 30); do
		read -r cyc quiet < <(show_json "$SOCK" rehold | python3 -c '
import json,sys
t=[t for t in json.load(sys.stdin)["projects"][0]["tasks"] if t["name"]=="t"][0]
print(t["cycles"], t["quiet_cycles"])')
		[ "${cyc:-0}" -gt "${reask:-0}" ] && streak="$quiet quiet cycles in a row at cycle $cyc" && break
		sleep 1
	done
	# From the cycle before the ask on: what a streak that broke broke on.
	grep "rehold/t: cycle" "$WORK/etmemd-$SOCK.log" |
		awk -v from=$(( ${reask:-0} - 1 )) 'match($0, /cycle [0-9]+:/) && substr($0, RSTART + 6, RLENGTH - 7) + 0 >= from'
	[ "$attempt" = 1 ] && [ -n "$reask" ] && [ "${quiet:-0}" -le $(( ${cyc:-0} - reask )) ] &&
		grep -q "rehold/t: cycle $reask: .*accessed_again" "$WORK/etmemd-$SOCK.log" &&
		{ echo "# the ask at cycle $reask also kept a page touched again: the next ask"; prev_reask=$reask; continue; }
	break
done
vt_check "hold: the cycle that asked again was quiet ($streak, the ask at cycle ${reask:-none})" \
	test -n "$streak" -a "${quiet:-0}" -gt $(( ${cyc:-0} - ${reask:-0} ))

# zeroread read 8 MiB once and never wrote it: every page maps the zero
# page, no memory of its own. The scan reports it absent, so it is never
# called cold nor asked for (the page-out would refuse it as unevictable
# every cycle), and its cycles go quiet once the cold set is out.
vt_check "zero pages: the cold set went out (VmSwap $(swap_mib $pid_zeroread) MiB)" out_mib "$pid_zeroread" 4
# A streak is read until it reaches 5, up to 60 reads a second or more
# apart (cycles are 1-2 s apart): a cycle may rightly page out a page of the process's own that
# went cold (stack, libc data: 4 KiB), which starts the streak again; a
# single read once found 4 in a row. What would fail it is a streak that
# never gets to 5: a cycle asking for the zero pages each time.
zq="" zc=""
for _ in $(seq 60); do
	read -r zq zc < <(task_field rehold z quiet_cycles cycles)
	[ "${zq:-0}" -ge 5 ] && break
	sleep 1
done
grep "rehold/z: cycle" "$WORK/etmemd-$SOCK.log" | tail -n 8
vt_check "zero pages: no cycle of the last 5 asked for them (none kept unevictable pages)" \
	test "$(grep "rehold/z: cycle" "$WORK/etmemd-$SOCK.log" | tail -n 5 | grep -c unevictable)" = 0
vt_check "zero pages: the cycles went quiet (${zq:-?} quiet in a row at cycle ${zc:-?})" \
	test "${zq:-0}" -ge 5

for p in sysmem_never sysmem_always thresh flags family ages stretch rehold decide; do
	"$ETMEM" project stop -n "$p" -s "$SOCK" >/dev/null
done
for w in sysmem_never sysmem_always small large marked unmarked family aged unaged stretch rehold zeroread decide; do
	pid_var=pid_$w
	kill -TERM "${!pid_var}"
	wait "${!pid_var}"
	want=1; [ "$w" = family ] && want=3
	vt_check "$w: every checksum verifies" test "$(grep -c 'verify ok' "$WORK/$w.out")" = "$want"
done
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"
vt_check "etmemd exits 0 on SIGTERM" test $? = 0
vt_unload_etmem
vt_done
