#!/bin/bash
# vm-timeout: 60
# Harness self-test (t/host/vm_harness_recovery.sh): runs before the guest
# dies.
. "$ETMEM_TOP/t/lib/vmtest.sh"
vt_ok "ran before the guest died"
vt_done
