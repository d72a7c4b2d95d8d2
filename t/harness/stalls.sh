#!/bin/bash
# vm-timeout: 15
# Harness self-test (t/host/vm_harness_recovery.sh): the first time this
# runs, the host test stops QEMU (SIGSTOP) when it sees the line below,
# as the emulator's own stall would: the guest answers nothing, not even
# SysRq, and t/vm-run runs the test once more in a new boot, where it
# passes.
. "$ETMEM_TOP/t/lib/vmtest.sh"
echo "# harness: stop the emulator now"
sleep 5
vt_ok "ran to its end"
vt_done
