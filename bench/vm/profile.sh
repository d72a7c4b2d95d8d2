#!/bin/bash
# vm-timeout: 1800
# Where etmemd's steady-state time goes (a developer's tool, not part of
# the benchmark): the steady experiment's workload (cold set out, hot set
# touched), then the system calls etmemd makes (strace -c) and a
# cpu-clock profile of its threads, kernel included (perf record -g).
# Run: ETMEM_VM_MEM_MB=4096 t/vm-run -k KVER bench/vm/profile.sh; the
# report is in build/vm-logs/profile-KVER.log. Needs perf (linux-perf)
# and, with P_STRACE=1, strace on the host (the guest runs its root).
# P_COLD and P_HOT set the sizes in MiB (448 and 64).
set -u
command -v perf >/dev/null || { echo "profile: needs perf (apt-get install linux-perf)" >&2; exit 2; }
BENCH_SIZE=full . "$ETMEM_TOP/bench/vm/bench.sh"
setup
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
out=/tmp/profile-wl.out
in_cgroup "$build/t/helpers/hotcold" --cold-mib "${P_COLD:-448}" --hot-mib "${P_HOT:-64}" \
	--interval-ms 1000 >"$out" 2>&1 &
wl=$!
pid=$(wait_ready "$out")
etmem_start "$pid" || die "etmem did not start"
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 150 ]; do
	sleep 1
	last=$(grep '^status' "$out" | tail -n1)
	[ -n "$last" ] && awk -F'[ =]' '{ exit !(NF >= 15 && $7 > 0 && $5 * 1000 <= $7) }' <<<"$last" && break
done
log "warm after $((SECONDS - t0)) s: $last"
read -r u0 k0 < <(user_sys_ms_of "$etmemd_pid")
[ -n "${P_STRACE:-}" ] && timeout -s INT 30 strace -c -f -p "$etmemd_pid" -o /tmp/strace.out 2>/dev/null
read -r u1 k1 < <(user_sys_ms_of "$etmemd_pid")
log "under strace 30 s: user $((${u1%.*} - ${u0%.*})) ms, sys $((${k1%.*} - ${k0%.*})) ms"
cat /tmp/strace.out >&2
cycles_of() { "$build/etmem/etmem" project show -n bench -s "$sock" | sed -n 's/.*cycles: \([0-9]*\).*/\1/p'; }
read -r u0 k0 < <(user_sys_ms_of "$etmemd_pid")
c0=$(cycles_of); s0=$("$build/t/helpers/kmod_genl" status)
sleep 30
read -r u1 k1 < <(user_sys_ms_of "$etmemd_pid")
c1=$(cycles_of); s1=$("$build/t/helpers/kmod_genl" status)
log "plain 30 s: user $((${u1%.*} - ${u0%.*})) ms, sys $((${k1%.*} - ${k0%.*})) ms, $((c1 - c0)) cycles"
log "module counters before: $s0"
log "module counters after:  $s1"
# The system calls of those cycles, by kind (perf's own tracer: strace
# cannot attach here).
perf trace -s -p "$etmemd_pid" -o /tmp/trace.out -- sleep 20 >/dev/null 2>&1
log "--- system calls in 20 s ($(cycles_of) cycles so far)"
grep -v '^$' /tmp/trace.out | head -80 >&2
for t in /proc/"$etmemd_pid"/task/*; do
	log "thread $(cat "$t/comm"): $(awk '{print "utime", $14, "stime", $15}' "$t/stat")"
done
perf record -e cpu-clock -F 2000 -g -o /tmp/perf.data -p "$etmemd_pid" -- sleep 30 >&2 2>/dev/null
log "--- self"
perf report -i /tmp/perf.data --stdio --no-children --sort dso,sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 >&2
log "--- inclusive"
perf report -i /tmp/perf.data --stdio --children --sort sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -90 >&2
"$build/etmem/etmem" project show -n bench -s "$sock" >&2
etmem_stop
kill -TERM "$wl"; wait "$wl"
