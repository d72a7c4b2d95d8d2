#!/bin/bash
# vm-timeout: 1500
# Only etmemd's damon engine against DAMOS driven by hand, same settings,
# on the reclaim-quality workload, with no reclaimer as the baseline
# (bench/run --only damon): the README's damon block.
BENCH_SIZE=full BENCH_ONLY=quality BENCH_RECLAIMERS="none damos damon" BENCH_PREFIX=damon_ \
	exec "$ETMEM_TOP/bench/vm/bench.sh"
