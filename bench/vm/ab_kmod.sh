#!/bin/bash
# vm-timeout: 2400
# The guest half of bench/ab-kmod: etmem_scan.ko built from a git
# revision (build/ab/rev) and from the working tree (build/ab/tree),
# loaded in turn, t/helpers/kmod_bench run with each (scan against
# /proc/PID/pagemap, idle, accessed, hot sampling, absent), AB_RUNS
# times, interleaved. Settings come from build/ab/conf (the host writes
# it: the harness passes no environment). Lines "AB RUN VARIANT ..." go
# to the console for the host's summary.
set -eu
ab=$ETMEM_TOP/build/ab
. "$ab/conf"
if grep -q '^etmem_scan ' /proc/modules; then
	echo "ab_kmod: etmem_scan is loaded already" >&2
	exit 1
fi
for r in $(seq "$AB_RUNS"); do
	for v in rev tree; do
		insmod "$ab/$v/etmem_scan.ko"
		"$ETMEM_TOP/build/t/helpers/kmod_bench" "$AB_MIB" "$AB_REPS" | sed "s/^/AB $r $v /"
		rmmod etmem_scan
	done
done
