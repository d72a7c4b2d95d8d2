#!/bin/bash
# vm-timeout: 400
# etmem_swap swapcache watermarks: `etmem monitor` receives the high and
# low events with correct values; with reclaim off the swapcache stays up
# until its pages are freed, with reclaim on etmem_swap drives it below the
# low mark itself; bad watermarks are refused. Kernel swap switch: netlink
# and sysfs, vm.swappiness saved/restored, the kernel's own (cgroup)
# reclaim leaves anonymous memory alone while etmem's page-out still works.
. "$ETMEM_TOP/t/lib/vmtest.sh"
g=$helpers/kmod_genl
etmem=$top/build/etmem/etmem

vt_load_etmem
vt_zram_swap 1G
total_kb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
echo "# MemTotal $total_kb kB"

expect_err() { # expect_err ERRNO MESSAGE-REGEX COMMAND...
	local errno=$1 msg=$2 out; shift 2
	out=$("$@" 2>&1)
	echo "# $* -> $out"
	vt_check "$* -> $errno /$msg/" grep -Eq "error: $errno \([0-9]+\): .*$msg" <<<"$out"
}
expect_err EINVAL "1..100" "$g" swapcache-set 0 5 0
expect_err EINVAL "1..100" "$g" swapcache-set 5 101 0
expect_err EINVAL "must be below high" "$g" swapcache-set 5 5 0
expect_err EINVAL "must be below high" "$g" swapcache-set 6 5 0

# Events are JSON lines; check them with python.
check_events() { # check_events FILE LOW HIGH
	python3 - "$@" "$total_kb" <<'PY'
import json, sys
path, low, high, total_kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ev = [json.loads(l) for l in open(path) if l.startswith('{')]
ok = len(ev) == 2 and [e['event'] for e in ev] == ['high', 'low']
for e in ev:
    ok &= e['low_pct'] == low and e['high_pct'] == high
    ok &= abs(e['totalram_bytes'] - total_kb * 1024) < 64 << 20
t = ev[0]['totalram_bytes'] if ev else 1
ok = ok and ev[0]['swapcache_bytes'] > t * high // 100
ok = ok and ev[1]['swapcache_bytes'] < t * low // 100
print('#', ev)
sys.exit(0 if ok else 1)
PY
}

# Reclaim off: high when the swapcache fills, low only once it is freed.
"$g" swapcache-set 2 4 0
"$etmem" monitor -n 2 -t 60 >/tmp/ev1 &
mon=$!
sleep 0.5
"$helpers/kmod_memload" swapcache 250 >/tmp/load1 &
load=$!
for _ in $(seq 100); do grep -q high /tmp/ev1 && break; sleep 0.2; done
grep SwapCached /proc/meminfo
vt_check "reclaim off: high event arrives" grep -q '"event":"high"' /tmp/ev1
sleep 2
grep SwapCached /proc/meminfo
vt_check "reclaim off: swapcache stays above low while its owner lives" \
	bash -c '! grep -q "\"event\":\"low\"" /tmp/ev1'
kill $load; wait $load 2>/dev/null
wait $mon; echo "monitor exit $?"
cat /tmp/ev1
vt_check "reclaim off: high then low with correct values" check_events /tmp/ev1 2 4
"$g" swapcache-get

# Without cgroup v2 the kernel offers no way to reclaim: enabling says so
# and changes nothing.
if umount /sys/fs/cgroup; then
	expect_err EOPNOTSUPP "needs cgroup v2 at /sys/fs/cgroup" "$g" swapcache-set 1 3 1
	mount -t cgroup2 none /sys/fs/cgroup || vt_die "cannot mount cgroup2 again"
	out=$("$g" swapcache-get); echo "$out"
	vt_check "the refused request left the marks as they were" grep -q "low 2 high 4 reclaim 0" <<<"$out"
else
	vt_fail "cannot unmount /sys/fs/cgroup to try reclaim without cgroup v2"
fi

# Reclaim on: etmem_swap brings the swapcache below low by itself.
out=$("$g" swapcache-set 1 3 1); echo "$out"
vt_check "reclaim can be switched on (cgroup v2 present)" grep -q "^ok" <<<"$out"
"$etmem" monitor -n 2 -t 60 >/tmp/ev2 &
mon=$!
sleep 0.5
"$helpers/kmod_memload" swapcache 250 >/tmp/load2 &
load=$!
wait $mon; echo "monitor exit $?"
grep SwapCached /proc/meminfo
cat /tmp/ev2
vt_check "reclaim on: high then low while the owner still lives" check_events /tmp/ev2 1 3
vt_check "reclaim on: owner still alive" kill -0 $load
kill $load; wait $load 2>/dev/null
out=$("$g" swapcache-get); echo "$out"
vt_check "swapcache-get reports the marks and reclaim on" grep -q "low 1 high 3 reclaim 1" <<<"$out"
"$g" swapcache-set 1 3 0

# Kernel swap switch: user space's (etmem kswap), the module has none.
etmem=$top/build/etmem/etmem
export ETMEM_KSWAP_STATE=/run/etmem-test/kernel-swap.saved
sw0=$(cat /proc/sys/vm/swappiness)
out=$("$etmem" kswap show); echo "$out"
vt_check "kswap show: on, swappiness $sw0" grep -q "kernel swap: on" <<<"$out"
"$etmem" kswap off || vt_fail "etmem kswap off"
vt_check "off: swappiness 0, $sw0 saved under /run" \
	bash -c "[ \$(cat /proc/sys/vm/swappiness) = 0 ] && grep -qx swappiness=$sw0 $ETMEM_KSWAP_STATE"
out=$("$etmem" kswap show -j); echo "$out"
vt_check "kswap show -j: off, by the CLI, restores $sw0" \
	grep -q "\"kernel_swap\":\"off\",\"owner\":\"etmem\",\"swappiness\":0,\"saved_swappiness\":$sw0" <<<"$out"
"$etmem" kswap off
vt_check "off twice keeps the first saved value" grep -qx swappiness=$sw0 $ETMEM_KSWAP_STATE
out=$("$etmem" kswap maybe 2>&1); rc=$?
vt_check "kswap maybe: exit 2 naming the choices ($out)" bash -c "[ $rc = 2 ] && grep -q 'show, on or off' <<<\"\$1\"" _ "$out"
vt_check "a bad command changed nothing" [ "$(cat /proc/sys/vm/swappiness)" = 0 ]
vt_check "no kernel swap command in the family any more" \
	bash -c "! genl-ctrl-list --details 2>/dev/null | grep -A30 ' etmem ' | grep -q 'unknown (0x7)'"

# Off: the kernel's reclaim (cgroup memory.reclaim) leaves anon alone ...
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/kt
echo $$ >/sys/fs/cgroup/kt/cgroup.procs
"$helpers/kmod_memload" hold 64 >/tmp/hold &
hold=$!
vt_wait_line /tmp/hold ready
echo $$ >/sys/fs/cgroup/cgroup.procs
echo 32M >/sys/fs/cgroup/kt/memory.reclaim 2>/dev/null
off_kb=$(vt_status_kb $hold VmSwap)
vt_check "switch off: cgroup reclaim swaps nothing (VmSwap $off_kb kB)" [ "$off_kb" -lt 1024 ]
# ... while etmem's page-out still works.
"$g" scan $hold >/dev/null
out=$("$g" swap $hold); echo "$out"
etm_kb=$(vt_status_kb $hold VmSwap)
vt_check "switch off: etmem swap still pages out (VmSwap $etm_kb kB)" [ "$etm_kb" -gt 50000 ]
kill $hold; wait $hold 2>/dev/null
# On: the same cgroup reclaim does swap anonymous memory.
"$etmem" kswap on || vt_fail "etmem kswap on"
vt_check "on: swappiness back to $sw0, nothing saved" \
	bash -c "[ \$(cat /proc/sys/vm/swappiness) = $sw0 ] && [ ! -e $ETMEM_KSWAP_STATE ]"
echo $$ >/sys/fs/cgroup/kt/cgroup.procs
"$helpers/kmod_memload" hold 64 >/tmp/hold2 &
hold=$!
vt_wait_line /tmp/hold2 ready
echo $$ >/sys/fs/cgroup/cgroup.procs
echo 32M >/sys/fs/cgroup/kt/memory.reclaim 2>/dev/null
on_kb=$(vt_status_kb $hold VmSwap)
vt_check "switch on: cgroup reclaim swaps anon (VmSwap $on_kb kB)" [ "$on_kb" -gt 8192 ]
kill $hold; wait $hold 2>/dev/null

vt_check "modules unload" vt_unload_etmem
vt_done
