#!/bin/bash
# vm-timeout: 60
# Harness self-test (t/host/vm_harness_recovery.sh): listed after the test
# the guest dies in; it must run, in a boot of its own.
. "$ETMEM_TOP/t/lib/vmtest.sh"
vt_ok "ran after the guest died"
vt_done
