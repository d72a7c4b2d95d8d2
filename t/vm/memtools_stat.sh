#!/bin/bash
# vm-kernels: 6.1 newest
# (the oldest and the newest kernel's /proc, /sys and tracepoint formats
# and BPF; Debian 12's 6.12 lies between them)
# memtools procstat and sysstat on the guest kernel: figures against
# /proc/PID/status, /proc/meminfo, /proc/vmstat and both nodes' meminfo,
# in every BPF mode and in the /proc fallback.
# vm-timeout: 600
cd "${ETMEM_TOP:-.}" || exit 1
rc=0
memtools/test/procstat.sh || rc=1
memtools/test/sysstat.sh || rc=1
exit $rc
