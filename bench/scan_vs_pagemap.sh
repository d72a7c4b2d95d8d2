#!/bin/bash
# Benchmark (not a test): time to scan a resident range of 4 KiB pages
# through the etmem family divided by the time to read /proc/PID/pagemap
# for the same range, from one boot, medians of several repetitions.
# Target: ratio <= 1.5.
#   bench/scan_vs_pagemap.sh [MIB [REPS]]   boots each kernel in the VM
# Inside the VM (ETMEM_IN_VM=1) it runs the measurement itself.
# vm-timeout: 600
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${ETMEM_IN_VM:-}" ]; then
	printf '%s\n' "${1:-256} ${2:-9}" >"$top/build/bench-scan-args"
	exec "$top/t/vm-run" "$0"
fi
read -r mib reps <"$top/build/bench-scan-args" 2>/dev/null || { mib=256; reps=9; }
kdir=$top/build/kmod/$(uname -r)
insmod "$kdir/etmem_scan.ko" || exit 1
echo "scan_vs_pagemap on $(uname -r):"
"$top/build/t/helpers/kmod_bench" "$mib" "$reps"
rc=$?
rmmod etmem_scan
exit $rc
