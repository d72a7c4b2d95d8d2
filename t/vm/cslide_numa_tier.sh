#!/bin/bash
# etmemd's NUMA tier layer moves hugetlb pages between the two nodes with
# their data intact and reads the per-node pools right.
set -eu
for n in 0 1; do
	echo 16 >/sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
done
build/t/helpers/cslide_move_probe
