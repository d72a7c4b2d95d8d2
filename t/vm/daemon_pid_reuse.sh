#!/bin/bash
# vm-timeout: 400
# vm-kernels: newest
# (daemon behaviour the kernel does not change: the kernel-facing paths it
# uses run on every kernel in the kmod_*, cslide_numa_tier and slide tests)
# A type=pid task follows the process it first saw, not the number: once
# that process exits and a new process is given the same pid (forced here
# through /proc/sys/kernel/ns_last_pid), etmemd leaves the newcomer alone,
# says why in `project show`, and keeps running. Slide (nothing paged out)
# and cslide (no huge page moved to the slow node) alike. Every workload
# verifies its checksums. A zombie target is shown as exited.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

vt_load_etmem
vt_zram_swap 1G
SOCK=reuse

"$helpers/hotcold" --cold-mib 32 --hot-mib 0 --interval-ms 1000 >"$WORK/first.out" 2>&1 &
first=$!
OTHER_PIDS+=("$first")
vt_wait_line "$WORK/first.out" '^ready'

daemon_start "$SOCK" -l 0 || vt_die "etmemd did not start"
f=$(slide_conf reuse pid "$first" | conf reuse.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK" || vt_die "obj add"
"$ETMEM" project start -n reuse -s "$SOCK" || vt_die "project start"

swap_kb() { vt_status_kb "$1" VmSwap; }
for _ in $(seq 90); do
	[ "$(swap_kb "$first")" -ge $((32 * 1024 * 9 / 10)) ] && break
	sleep 1
done
vt_check "the first process is paged out ($(swap_kb "$first") kB swapped)" \
	[ "$(swap_kb "$first")" -ge $((32 * 1024 * 9 / 10)) ]
kill -TERM "$first"; wait "$first"
vt_check "first workload: data intact" grep -q '^verify ok' "$WORK/first.out"

# start_as PID OUT ARGS...: starts hotcold with ARGS as process PID.
# ns_last_pid is the pid handed out last, so the next fork gets it plus
# one unless something else forks in between (etmemd's workers are threads
# and take ids too): retry. Sets started_pid.
start_as() {
	local want=$1 out=$2 i
	shift 2
	started_pid=
	for i in $(seq 50); do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		"$helpers/hotcold" "$@" >"$out" 2>&1 &
		if [ $! = "$want" ]; then
			started_pid=$!
			OTHER_PIDS+=("$started_pid")
			vt_ok "a new process runs under the old pid $want"
			return 0
		fi
		kill $! 2>/dev/null; wait $! 2>/dev/null
	done
	vt_die "could not get pid $want for a new process"
}
start_as "$first" "$WORK/second.out" --cold-mib 32 --hot-mib 0 --interval-ms 1000
second=$started_pid
vt_wait_line "$WORK/second.out" '^ready'

# note PROJECT: what show says about the project's only task.
note() {
	show_json "$SOCK" "$1" | python3 -c '
import json,sys
print(json.load(sys.stdin)["projects"][0]["tasks"][0]["note"])'
}
# wait_gone PROJECT: until show says the task's process is gone.
wait_gone() {
	for _ in $(seq 60); do
		note "$1" | grep -q "now belongs to another process (pid reused)" && return
		sleep 1
	done
}
wait_gone reuse
# A cycle here is loop*interval+sleep = 3 s: let three more pass.
sleep 10
"$ETMEM" project show -n reuse -s "$SOCK"
n=$(note reuse)
vt_check "show says the process is gone: '$n'" grep -q "now belongs to another process (pid reused)" <<<"$n"
vt_check "the newcomer under pid $second was not paged out ($(swap_kb "$second") kB swapped)" \
	[ "$(swap_kb "$second")" -le 1024 ]
kill -TERM "$second"; wait "$second"
vt_check "second workload: data intact" grep -q '^verify ok' "$WORK/second.out"
vt_check "etmemd still running" kill -0 "$DAEMON_PID"
"$ETMEM" obj del -f "$f" -s "$SOCK"

# --- cslide: node 0 is DRAM, node 1 the slow tier ---
vt_node_hugepages 16
cold_addr() { sed -n 's/^ready.* cold=\(0x[0-9a-f]*\).*/\1/p' "$1"; }
hugetlb_args=(--hugetlb --node 0 --cold-mib 8 --hot-mib 0 --interval-ms 1000)
"$helpers/hotcold" "${hugetlb_args[@]}" >"$WORK/third.out" 2>&1 &
third=$!
OTHER_PIDS+=("$third")
vt_wait_line "$WORK/third.out" '^ready'
{
	printf '[project]\nname=tier\nloop=1\ninterval=1\nsleep=1\n\n'
	printf '[engine]\nname=cslide\nproject=tier\nnode_pair=0,1\nhot_threshold=1\n'
	printf 'node_mig_quota=1024\nnode_hot_reserve=1024\n\n'
	printf '[task]\nproject=tier\nengine=cslide\nname=vm\ntype=pid\nvalue=%s\nvm_flags=ht\n' "$third"
} | conf tier.conf >/dev/null
"$ETMEM" obj add -f "$WORK/tier.conf" -s "$SOCK" || vt_die "obj add cslide"
"$ETMEM" project start -n tier -s "$SOCK" || vt_die "project start cslide"
addr=$(cold_addr "$WORK/third.out")
for _ in $(seq 60); do
	[ "$(vt_pages_on "$third" "$addr" 1)" = 4 ] && break
	sleep 1
done
vt_check "cslide: the first process's 4 cold huge pages reached node 1" \
	[ "$(vt_pages_on "$third" "$addr" 1)" = 4 ]
kill -TERM "$third"; wait "$third"
vt_check "cslide first workload: data intact" grep -q '^verify ok' "$WORK/third.out"
start_as "$third" "$WORK/fourth.out" "${hugetlb_args[@]}"
fourth=$started_pid
vt_wait_line "$WORK/fourth.out" '^ready'
addr=$(cold_addr "$WORK/fourth.out")
wait_gone tier
sleep 6	# two more cycles of loop*interval+sleep = 2 s, and margin
"$ETMEM" project show -n tier -s "$SOCK"
n=$(note tier)
vt_check "cslide: show says the process is gone: '$n'" grep -q "now belongs to another process (pid reused)" <<<"$n"
vt_check "cslide: the newcomer's 4 cold huge pages stayed on node 0" \
	[ "$(vt_pages_on "$fourth" "$addr" 0)" = 4 ]
out=$("$ETMEM" engine showtaskpages -n tier -e cslide -t vm -s "$SOCK" 2>&1)
vt_check "cslide: showtaskpages refuses once the task's process is gone: '$out'" \
	grep -q "no process of task vm is running" <<<"$out"
kill -TERM "$fourth"; wait "$fourth"
vt_check "cslide second workload: data intact" grep -q '^verify ok' "$WORK/fourth.out"
"$ETMEM" obj del -f "$WORK/tier.conf" -s "$SOCK"

# A zombie (exited, not reaped): the kernel says EOWNERDEAD, and show says
# the process exited instead of counting cycles of nothing.
python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(600)
' >"$WORK/zombie.out" &
parent=$!
OTHER_PIDS+=("$parent")
vt_wait_line "$WORK/zombie.out" '^[0-9]+$'
zombie=$(cat "$WORK/zombie.out")
sleep 0.5
f=$(slide_conf zomb pid "$zombie" | conf zomb.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK" || vt_fail "obj add zomb"
"$ETMEM" project start -n zomb -s "$SOCK" || vt_fail "project start zomb"
for _ in $(seq 60); do
	grep -q "exited (a zombie" <<<"$(note zomb)" && break
	sleep 0.5
done
"$ETMEM" project show -n zomb -s "$SOCK"
vt_check "zombie target: show says it exited: '$(note zomb)'" grep -q "process $zombie exited (a zombie" <<<"$(note zomb)"
kill "$parent"; wait "$parent" 2>/dev/null
"$ETMEM" obj del -f "$f" -s "$SOCK"
daemon_stop
vt_unload_etmem
vt_done
