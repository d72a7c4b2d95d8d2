#!/bin/bash
# vm-timeout: 600
# Harness self-test (t/host/vm_harness_recovery.sh): a boot with
# ETMEM_VM_ICOUNT=3 runs on QEMU's instruction clock and tells the guest
# so on its command line, where bench/vm/bench.sh reads it. It sleeps
# 300 s of guest time, which on the instruction clock (sleep=off: an idle
# guest's clock jumps to its next timer) takes the host a few seconds:
# the host test checks the boot's wall time.
. "$ETMEM_TOP/t/lib/vmtest.sh"
shift=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^etmem_icount=//p')
[ "$shift" = 3 ] && vt_ok "the guest's command line has etmem_icount=3" ||
	vt_fail "etmem_icount on the command line is '$shift', not 3: $(cat /proc/cmdline)"
t0=$(cut -d' ' -f1 /proc/uptime)
sleep 300
t1=$(cut -d' ' -f1 /proc/uptime)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 300) }' &&
	vt_ok "sleep 300 took at least 300 s of guest time ($t0 -> $t1)" ||
	vt_fail "sleep 300 took less than 300 s of guest time ($t0 -> $t1)"
vt_done
