#!/bin/bash
# vm-timeout: 60
# Harness self-test (t/host/vm_harness_recovery.sh): the guest dies of an
# int3 that is still in memory (0xcc before RIP), as a call into an
# unloaded module's text would on 7.2: not QEMU's fault, no second run.
. "$ETMEM_TOP/t/lib/vmtest.sh"
echo "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI"
echo "RIP: 0010:0xffffffffc0a01001"
echo "Code: cc cc cc cc <cc> cc cc cc"
echo "(the three lines above printed by t/harness/int3real.sh)"
sync
echo o >/proc/sysrq-trigger
sleep 60
vt_fail "the guest was still running 60 s after sysrq-o"
vt_done
