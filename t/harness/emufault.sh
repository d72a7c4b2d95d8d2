#!/bin/bash
# vm-timeout: 60
# Harness self-test (t/host/vm_harness_recovery.sh): the guest dies the
# way QEMU's stale translation of live-patched kernel text kills it, in
# every boot: an unclaimed int3 in core kernel text whose byte is no
# longer 0xcc (6.1's header, without "Oops: "). The harness runs the test
# once more in a new boot, then fails it.
. "$ETMEM_TOP/t/lib/vmtest.sh"
echo "int3: 0000 [#1] PREEMPT SMP NOPTI"
echo "RIP: 0010:__schedule+0x339/0xbf0"
echo "Code: 00 00 0f <1f> 44 00 00 48 8b 83 88 0a 00 00"
echo "(the three lines above printed by t/harness/emufault.sh)"
sync
echo o >/proc/sysrq-trigger
sleep 60
vt_fail "the guest was still running 60 s after sysrq-o"
vt_done
