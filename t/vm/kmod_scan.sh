#!/bin/bash
# vm-timeout: 400
# etmem_scan: scan correctness over 4 KiB pages, THP and hugetlb with a
# known access pattern (including a thread spinning on the other CPU),
# each scan flag, EBUSY on a concurrent scan, EOWNERDEAD/ESTALE when the
# target exits or execs mid-dump, zombies, a process whose main thread
# exited, a thread that sleeps between touches, and every bad input with
# its errno and extack message (policy rejections name the attribute);
# the PMD accessed-bit pre-check keeps every page's state exact.
. "$ETMEM_TOP/t/lib/vmtest.sh"
g=$helpers/kmod_genl

vt_load_etmem
vt_pause_damon_stat
echo 16 >/proc/sys/vm/nr_hugepages
echo always >/sys/kernel/mm/transparent_hugepage/enabled

"$helpers/kmod_scan_check" || vt_fail "kmod_scan_check"
# The PMD accessed-bit pre-check (kmod/scan_dump.c): tables reported from
# their last read while every page's state stays exact.
"$helpers/kmod_pmd_check" || vt_fail "kmod_pmd_check"

expect_err() { # expect_err ERRNO MESSAGE-REGEX COMMAND...
	local errno=$1 msg=$2 out; shift 2
	out=$("$@" 2>&1)
	echo "# $* -> $out"
	vt_check "$* -> $errno /$msg/" grep -Eq "error: $errno \([0-9]+\): .*$msg" <<<"$out"
}
sleep 1000 & victim=$!
expect_err EINVAL "missing pid" "$g" raw no-pid
expect_err ERANGE "out of range: attribute pid, allowed 1\.\.4194304" "$g" scan 0
# The age cap (ETMEM_A_SCAN_MIN_IDLE_AGE): only with ages, 1..254.
expect_err EINVAL "scan-min-idle-age needs the idle-ages scan flag" "$g" scan "$victim" -a 3
expect_err ERANGE "out of range: attribute scan-min-idle-age, allowed 1\.\.254" "$g" scan "$victim" -f 16 -a 255
out=$("$g" scan "$victim" -f $((16 | 64)) -a 2)
echo "# runs and an age cap: $out"
vt_check "a scan with runs and an age cap is accepted and reports chunks" grep -Eq '^chunks [1-9][0-9]* .* as runs [1-9][0-9]*$' <<<"$out"
expect_err ERANGE "out of range: attribute pid, allowed 1\.\.4194304" "$g" scan -5
expect_err ESRCH "no process with pid 4000000" "$g" scan 4000000
expect_err EINVAL "kernel thread" "$g" scan 2
expect_err EINVAL "beyond the address space" "$g" scan $victim -r 0-fffffffffffff000
expect_err EINVAL "empty or reversed" "$g" scan $victim -r 2000-1000
expect_err EINVAL "not page aligned" "$g" scan $victim -r 1001-2000
expect_err EINVAL "sorted and must not overlap" "$g" scan $victim -r 1000-3000 -r 2000-4000
# The allowed bits follow where the kernel reports the policy (6.12).
expect_err EINVAL "reserved bit set: attribute scan-flags(, allowed bits 0xf)?$" "$g" scan $victim -f 0x100
expect_err EINVAL "reserved bit set: attribute swap-flags(, allowed bits 0x3)?$" "$g" swap $victim -f 4 -r 1000-2000
expect_err ESRCH "no process|No such process" "$g" swap 4000000 -r 1000-2000
expect_err ERANGE "out of range: attribute pid" "$g" swapflag-get -5
kill $victim
wait $victim 2>/dev/null

# Messages with arguments are per request (6.1 has no extack buffer of its
# own): 200 concurrent failing requests each get the text naming their pid.
mkdir -p /tmp/par
for i in $(seq 200); do "$g" scan $((3000000 + i)) >/tmp/par/$i 2>&1 & done
wait
wrong=0
for i in $(seq 200); do
	grep -q "no process with pid $((3000000 + i))\$" /tmp/par/$i || { wrong=$((wrong + 1)); cat /tmp/par/$i; }
done
vt_check "200 concurrent failing scans: each message names its own pid ($wrong wrong)" [ "$wrong" = 0 ]

vt_check "modules unload" vt_unload_etmem
vt_done
