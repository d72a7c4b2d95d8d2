#!/bin/bash
# vm-timeout: 2400
# The reclaim-quality runs on three harder workloads (bench/run --only
# workloads): hot pages interleaved in every 2 MiB of the cold set, a hot
# set that moves, a THP-backed heap; no reclaimer, etmem's slide and DAMOS,
# interleaved: the README's workloads block.
BENCH_SIZE=${BENCH_SIZE:-full} BENCH_ONLY=workloads exec "$ETMEM_TOP/bench/vm/bench.sh"
