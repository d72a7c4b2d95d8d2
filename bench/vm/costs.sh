#!/bin/bash
# vm-timeout: 2400
# What monitoring and page-out cost (bench/run --only costs): etmemd's
# CPU in steady state against kdamond's (DAMOS at DAMON's default
# intervals and at a cheaper setting), page-out CPU per MiB against
# process_madvise(MADV_PAGEOUT) alone, and the scan against
# /proc/PID/pagemap (and PAGEMAP_SCAN where the kernel has it), and
# slide's page counting with per-page against run-length replies, all in
# one boot: the README's costs block.
BENCH_SIZE=${BENCH_SIZE:-full} BENCH_ONLY="pagemap pageout countcost steady" BENCH_PREFIX=costs_ \
	exec "$ETMEM_TOP/bench/vm/bench.sh"
