#!/bin/bash
# vm-timeout: 1
# Harness self-test (t/host/vm_harness_recovery.sh): the guest stops making
# progress in this test and its own timeout cannot end it. Stopping the
# timeout(1) that runs the test (its parent) stands in for a task stuck in
# the kernel, which survives SIGKILL: either way the guest waits for ever
# and only the host's watchdog (t/vm-run's watch_list) can end the boot.
. "$ETMEM_TOP/t/lib/vmtest.sh"
echo "# stopping the guest's timeout for this test (pid $PPID)"
kill -STOP "$PPID"
sleep 600
vt_fail "the guest was still running 600 s after its test hung"
vt_done
