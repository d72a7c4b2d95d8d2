#!/bin/bash
# vm-timeout: 400
# A type=pid task follows the process it first saw, not the number: once
# that process exits and a new process is given the same pid (forced here
# through /proc/sys/kernel/ns_last_pid), etmemd leaves the newcomer alone,
# says why in `project show`, and keeps running. Both workloads verify
# their checksums.
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

# Give the same pid to a new process: ns_last_pid is the pid handed out
# last, so the next fork gets it plus one unless something else forks in
# between (etmemd's workers are threads and take ids too): retry.
second=
for _ in $(seq 50); do
	echo $((first - 1)) >/proc/sys/kernel/ns_last_pid
	"$helpers/hotcold" --cold-mib 32 --hot-mib 0 --interval-ms 1000 >"$WORK/second.out" 2>&1 &
	if [ $! = "$first" ]; then
		second=$!
		break
	fi
	kill $! 2>/dev/null; wait $! 2>/dev/null
done
[ -n "$second" ] || vt_die "could not get pid $first for a new process"
OTHER_PIDS+=("$second")
vt_ok "a new process runs under the old pid $second"
vt_wait_line "$WORK/second.out" '^ready'

note() {
	show_json "$SOCK" reuse | python3 -c '
import json,sys
print(json.load(sys.stdin)["projects"][0]["tasks"][0]["note"])'
}
for _ in $(seq 60); do
	note | grep -q "exited (or its pid was reused)" && break
	sleep 1
done
# A cycle here is loop*interval+sleep = 3 s: let three more pass.
sleep 10
"$ETMEM" project show -n reuse -s "$SOCK"
n=$(note)
vt_check "show says the process is gone: '$n'" grep -q "exited (or its pid was reused)" <<<"$n"
vt_check "the newcomer under pid $second was not paged out ($(swap_kb "$second") kB swapped)" \
	[ "$(swap_kb "$second")" -le 1024 ]
kill -TERM "$second"; wait "$second"
vt_check "second workload: data intact" grep -q '^verify ok' "$WORK/second.out"
vt_check "etmemd still running" kill -0 "$DAEMON_PID"
"$ETMEM" obj del -f "$f" -s "$SOCK"
daemon_stop
vt_unload_etmem
vt_done
