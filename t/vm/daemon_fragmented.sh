#!/bin/bash
# vm-timeout: 300
# vm-kernels: newest
# (daemon behaviour the kernel does not change: the kernel-facing paths it
# uses run on every kernel in the kmod_*, cslide_numa_tier and slide tests)
# A cold set in thousands of pieces (every other page of it is hot, as in
# a real heap) is paged out through etmemd: page-out requests then carry
# the most ranges one request may hold. The hot pages stay, data verifies.
set -u
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"
vt_load_etmem
vt_zram_swap 1G
echo 0 >/proc/sys/vm/swappiness
"$helpers/hotcold" --cold-mib 64 --hot-mib 0 --hot-stride 2 --interval-ms 1000 >"$WORK/wl.out" 2>&1 &
wl=$!
vt_wait_line "$WORK/wl.out" '^ready'
daemon_start frag -l 0 || vt_die "etmemd did not start"
f=$(slide_conf frag pid "$wl" | conf frag.conf)
"$ETMEM" obj add -f "$f" -s frag || vt_die "obj add"
"$ETMEM" project start -n frag -s frag || vt_die "project start"
# 8192 cold pages, none next to another: 8192 ranges.
for i in $(seq 60); do
	swap=$(vt_status_kb "$wl" VmSwap)
	[ "$swap" -ge $((32 * 1024 * 9 / 10)) ] && break
	sleep 1
done
"$ETMEM" project show -n frag -s frag
vt_check "at least 90% of the 32 MiB of scattered cold pages paged out (${swap} kB)" \
	[ "$swap" -ge $((32 * 1024 * 9 / 10)) ]
vt_check "no page-out failed" [ -z "$(grep -i 'page-out.*failed' "$WORK/etmemd-frag.log")" ]
"$ETMEM" project stop -n frag -s frag
kill -TERM "$wl"; wait "$wl"
hot=$(sed -n 's/^final .*cold_resident=\([0-9]*\).*/\1/p' "$WORK/wl.out")
vt_check "the scattered hot pages stayed resident (${hot} of 16384 cold-region pages resident)" \
	[ "${hot:-0}" -ge 7800 ]
vt_check "data intact" grep -q '^verify ok' "$WORK/wl.out"
daemon_stop
vt_unload_etmem
vt_done
