#!/bin/bash
# vm-kernels: 6.1 newest
# (the oldest and the newest kernel's /proc, /sys and tracepoint formats
# and BPF; Debian 12's 6.12 lies between them)
# memtools pr and paf on the guest kernel: reclaim provoked by a cgroup
# with a small memory.max (pr totals against /proc/vmstat), and order-9
# allocation failures provoked on one NUMA node (paf), in every mode, and
# paf's decoding of allocation flags against the kernel's own names.
# vm-timeout: 600
cd "${ETMEM_TOP:-.}" || exit 1
rc=0
memtools/test/pr.sh || rc=1
memtools/test/paf.sh || rc=1
memtools/test/paf_decode.sh || rc=1
exit $rc
