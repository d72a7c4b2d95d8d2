#!/bin/bash
# vm-timeout: 400
# Swapcache watermarks: `etmem monitor` receives the high and low events
# with correct values; the module reclaims nothing itself; etmemd, owning
# the watermarks, pages out the swapcache its processes map until it is
# below low, leaving page cache alone, and says what it cannot reclaim;
# a second owner is refused; bad watermarks are refused. Kernel swap
# switch (etmem kswap): vm.swappiness saved/restored, the kernel's own
# (cgroup) reclaim leaves anonymous memory alone while etmem's page-out
# still works.
. "$ETMEM_TOP/t/lib/vmtest.sh"
g=$helpers/kmod_genl
etmem=$top/build/etmem/etmem

vt_load_etmem
# Swap on a disk-like device, not zram: the mapped swapcache etmemd
# reclaims exists only there on every kernel (see vt_blk_swap). On 7.2 a
# page faulted in from zram leaves the swapcache at once, read-ahead or not.
vt_blk_swap 1
total_kb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
echo "# MemTotal $total_kb kB"

expect_err() { # expect_err ERRNO MESSAGE-REGEX COMMAND...
	local errno=$1 msg=$2 out; shift 2
	out=$("$@" 2>&1)
	echo "# $* -> $out"
	vt_check "$* -> $errno /$msg/" grep -Eq "error: $errno \([0-9]+\): .*$msg" <<<"$out"
}
expect_err ERANGE "attribute swapcache-low, allowed 1\\.\\.100" "$g" swapcache-set 0 5 0
expect_err ERANGE "attribute swapcache-high, allowed 1\\.\\.100" "$g" swapcache-set 5 101 0
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
vt_wait_monitor "$mon"
"$helpers/kmod_memload" swapcache 160 >/tmp/load1 &
load=$!
for _ in $(seq 100); do grep -q high /tmp/ev1 && break; sleep 0.2; done
grep SwapCached /proc/meminfo
vt_check "reclaim off: high event arrives" grep -q '"event":"high"' /tmp/ev1
# Filled: five polls later, still no low.
vt_wait_line /tmp/load1 ready
sleep 1
grep SwapCached /proc/meminfo
vt_check "reclaim off: swapcache stays above low while its owner lives" \
	bash -c '! grep -q "\"event\":\"low\"" /tmp/ev1'
kill $load; wait $load 2>/dev/null
wait $mon; echo "monitor exit $?"
cat /tmp/ev1
vt_check "reclaim off: high then low with correct values" check_events /tmp/ev1 2 4
"$g" swapcache-get

# Reclaim is etmemd's: the owner of the watermarks pages out the swapcache
# pages its managed processes map, and nothing else. A 256 MiB file stays
# in the page cache meanwhile (generic reclaim would have taken it first;
# zeros, as /dev/urandom under TCG took half a minute).
. "$top/t/helpers/daemon_lib.sh"
modprobe loop 2>/dev/null
truncate -s 320M /tmp/fs.img && mkfs.ext4 -q -F /tmp/fs.img || vt_die "mkfs.ext4"
mkdir -p /mnt/cache && mount -o loop /tmp/fs.img /mnt/cache || vt_die "mount loop"
head -c 256M /dev/zero >/mnt/cache/big || vt_die "write the 256 MiB file"
sync
cat /mnt/cache/big >/dev/null
cached_pages() { fincore --bytes --noheadings --output PAGES /mnt/cache/big | tr -d ' '; }
c0=$(cached_pages)
echo "# page cache of the 256 MiB file: $c0 pages"
"$helpers/kmod_memload" mapped-swapcache 160 >/tmp/load2 &
load=$!
vt_wait_line /tmp/load2 ready
# Reclaim takes what was not accessed since the last scan; nothing scans
# this workload (swap_threshold keeps slide away), so scan it once here.
"$g" scan $load >/dev/null
sc_kb() { awk '/^SwapCached/ {print $2}' /proc/meminfo; }
echo "# swapcache before etmemd: $(sc_kb) kB (high mark 3% = $((total_kb * 3 / 100)) kB)"
vt_check "the workload put the swapcache above high ($(sc_kb) kB)" [ "$(sc_kb)" -gt $((total_kb * 3 / 100)) ]
PROJECT_EXTRA=(swapcache_low_wmark=1 swapcache_high_wmark=3)
f=$(slide_conf sc name kmod_memload swap_threshold=64g | conf sc.conf)
PROJECT_EXTRA=()
daemon_start scd || vt_die "etmemd did not start"
"$ETMEM" obj add -f "$f" -s scd || vt_fail "obj add"
"$ETMEM" project start -n sc -s scd || vt_fail "project start"
for _ in $(seq 120); do [ "$(sc_kb)" -lt $((total_kb / 100)) ] && break; sleep 0.5; done
sc_after=$(sc_kb); c1=$(cached_pages)
out=$("$ETMEM" project show -s scd); echo "$out"
vt_check "etmemd brought the swapcache below low ($sc_after kB < $((total_kb / 100)) kB)" \
	[ "$sc_after" -lt $((total_kb / 100)) ]
vt_check "the file stayed in the page cache ($c1 of $c0 pages, at least 95%)" [ $((c1 * 100)) -ge $((c0 * 95)) ]
vt_check "project show says what reclaim did" grep -q "swapcache reclaim: .*MiB of mapped swapcache paged out" <<<"$out"
vt_check "the workload's data survived (it checks on its own): alive" kill -0 $load
out=$("$g" swapcache-get); echo "$out"
vt_check "the watermarks belong to etmemd (pid $DAEMON_PID)" grep -q "low 1 high 3 reclaim 1 .* owner $DAEMON_PID" <<<"$out"
expect_err EBUSY "belong to process $DAEMON_PID" "$g" swapcache-set 2 4 0
# A second project asking for watermarks is refused, not a silent override.
PROJECT_EXTRA=(swapcache_low_wmark=2 swapcache_high_wmark=5)
f2=$(slide_conf sc2 name etmtest-none | conf sc2.conf)
PROJECT_EXTRA=()
"$ETMEM" obj add -f "$f2" -s scd || vt_fail "obj add sc2"
out=$("$ETMEM" project start -n sc2 -s scd 2>&1); echo "$out"
vt_check "second project: watermarks refused, naming the owner" grep -q "belong to project sc" <<<"$out"
vt_check "the first project's watermarks are unchanged" bash -c "$g swapcache-get | grep -q 'low 1 high 3'"
kill $load; wait $load 2>/dev/null
# Unmapped swapcache (readahead nobody maps) cannot be reclaimed: said so.
"$helpers/kmod_memload" swapcache 160 >/tmp/load3 &
load=$!
vt_wait_line /tmp/load3 ready
for _ in $(seq 60); do
	out=$("$ETMEM" project show -n sc -s scd)
	grep -q "the rest no managed process maps" <<<"$out" && break
	sleep 0.5
done
echo "$out"
vt_check "unmapped swapcache: the note says no managed process maps it" grep -q "0 MiB of it is mapped but in use.*the rest no managed process maps" <<<"$out"
kill $load; wait $load 2>/dev/null
daemon_stop
umount /mnt/cache

# Kernel swap switch: user space's (etmem kswap), the module has none.
etmem=$top/build/etmem/etmem
export ETMEM_KSWAP_STATE=/run/etmem-test/kernel-swap.saved
# Reclaim must be allowed to swap anonymous memory for the "on" checks:
# the kernel's default, whatever ran before.
echo 60 >/proc/sys/vm/swappiness
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

# etmemd owns the switch for a project with kernel_swap=off: off while it
# runs, shown in project show, back on at stop; a daemon killed with the
# switch off leaves the saved value, and the next etmemd restores it.
PROJECT_EXTRA=(kernel_swap=off)
f=$(slide_conf ks name etmtest-none | conf ks.conf)
PROJECT_EXTRA=()
daemon_start ksd || vt_die "etmemd did not start"
"$ETMEM" obj add -f "$f" -s ksd || vt_fail "obj add ks"
"$ETMEM" project start -n ks -s ksd || vt_fail "project start ks"
out=$("$ETMEM" project show -n ks -s ksd); echo "$out"
vt_check "kernel_swap=off: swappiness 0 while the project runs" [ "$(cat /proc/sys/vm/swappiness)" = 0 ]
vt_check "project show names the switch's state and owner" \
	grep -q "kernel swap: off (an etmemd project with kernel_swap=off), vm.swappiness 0 ($sw0 restored when on)" <<<"$out"
"$ETMEM" project stop -n ks -s ksd || vt_fail "project stop ks"
vt_check "project stop: swappiness back to $sw0" [ "$(cat /proc/sys/vm/swappiness)" = "$sw0" ]
"$ETMEM" project start -n ks -s ksd || vt_fail "project start ks again"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
vt_check "etmemd killed: the switch stays off, the value is saved" \
	bash -c "[ \$(cat /proc/sys/vm/swappiness) = 0 ] && grep -qx swappiness=$sw0 $ETMEM_KSWAP_STATE"
daemon_start ksd2 || vt_die "second etmemd did not start"
vt_check "the next etmemd restores vm.swappiness $sw0 at start" [ "$(cat /proc/sys/vm/swappiness)" = "$sw0" ]
vt_check "and says so in its log" grep -q "left off by an earlier etmemd" "$WORK/etmemd-ksd2.log"
daemon_stop

vt_check "modules unload" vt_unload_etmem
vt_done
