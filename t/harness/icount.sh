#!/bin/bash
# vm-timeout: 120
# Harness self-test (t/host/vm_harness_recovery.sh): a boot with
# ETMEM_VM_ICOUNT=3 runs on QEMU's instruction clock and tells the guest
# so on its command line, where bench/vm/bench.sh reads it.
. "$ETMEM_TOP/t/lib/vmtest.sh"
shift=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^etmem_icount=//p')
[ "$shift" = 3 ] && vt_ok "the guest's command line has etmem_icount=3" ||
	vt_fail "etmem_icount on the command line is '$shift', not 3: $(cat /proc/cmdline)"
# The clock runs: a timer expires and time goes forward.
t0=$(cut -d' ' -f1 /proc/uptime)
sleep 1
t1=$(cut -d' ' -f1 /proc/uptime)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1) }' &&
	vt_ok "sleep 1 took at least 1 s of guest time ($t0 -> $t1)" ||
	vt_fail "sleep 1 took less than 1 s of guest time ($t0 -> $t1)"
vt_done
