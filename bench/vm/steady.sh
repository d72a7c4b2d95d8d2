#!/bin/bash
# vm-timeout: 4800
# Steady-state monitoring CPU alone (bench/run --only steady), with the
# 10 interleaved repetitions issue 16 asks for: etmem at the default,
# etmem with sleep_max=16 (etmemquiet: the sleep stretches after quiet
# cycles), and DAMOS at DAMON's default intervals (about 4 minutes a
# repetition). etmemhot3 (hot tables left unread up to 3 passes) can be
# added with BENCH_STEADY_RECLAIMERS. The cheaper DAMOS setting stays in
# the costs boot (bench/run --only costs).
BENCH_SIZE=full BENCH_ONLY=steady BENCH_STEADY_REPS=${BENCH_STEADY_REPS:-10} \
	BENCH_STEADY_RECLAIMERS=${BENCH_STEADY_RECLAIMERS:-etmem etmemquiet damos} \
	BENCH_META=steady_meta exec "$ETMEM_TOP/bench/vm/bench.sh"
