#!/bin/bash
# vm-timeout: 7200
# The steady experiment with a 120 s window instead of 30 (10 interleaved
# repetitions of etmem, etmemquiet, DAMOS and DAMON monitoring alone,
# damonstat; BENCH_STEADY_REPS and BENCH_STEADY_RECLAIMERS change them): long enough for
# etmemquiet's sleep to spend most of the window at sleep_max rather than
# in its ramp (its window starts once its sleep is at sleep_max:
# etmemquiet_settle). CPU comes from the process CPU clocks (ns), not
# /proc ticks. Rows only (BENCH lines on the console); bench/run does not
# run it, and the README's steady table is bench/vm/steady.sh's.
BENCH_SIZE=full BENCH_ONLY=steady BENCH_STEADY_REPS=${BENCH_STEADY_REPS:-10} \
	BENCH_STEADY_WINDOW=120 \
	BENCH_STEADY_RECLAIMERS=${BENCH_STEADY_RECLAIMERS:-etmem etmemquiet damos damonstat} \
	BENCH_META=steady_meta exec "$ETMEM_TOP/bench/vm/bench.sh"
