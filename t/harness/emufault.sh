#!/bin/bash
# vm-timeout: 60
# Harness self-test (t/host/vm_harness_recovery.sh): the guest dies the
# way QEMU's stale translation of live-patched kernel text kills it, the
# console's "Oops: int3: " line first, in every boot: the harness runs the
# test once more in a new boot, then fails it.
. "$ETMEM_TOP/t/lib/vmtest.sh"
echo "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI (printed by t/harness/emufault.sh)"
sync
echo o >/proc/sysrq-trigger
sleep 60
vt_fail "the guest was still running 60 s after sysrq-o"
vt_done
