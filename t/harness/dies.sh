#!/bin/bash
# vm-timeout: 60
# Harness self-test (t/host/vm_harness_recovery.sh): the guest powers off
# in the middle of this test, as CI's 6.12 guest once did with qemu exit 0.
. "$ETMEM_TOP/t/lib/vmtest.sh"
echo "# powering the guest off mid-test"
sync
echo o >/proc/sysrq-trigger
sleep 60
vt_fail "the guest was still running 60 s after sysrq-o"
vt_done
