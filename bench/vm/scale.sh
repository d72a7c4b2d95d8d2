#!/bin/bash
# vm-timeout: 2400
# Scan cost against managed memory up to 4 GiB and against the number of
# processes (bench/run --only scale, a 6 GiB guest): the README's scaling
# tables, in a boot of their own.
BENCH_SIZE=${BENCH_SIZE:-full} BENCH_ONLY=scale BENCH_META=scale_meta \
	BENCH_SCALE_SIZES="256 512 1024 2048 4096" exec "$ETMEM_TOP/bench/vm/bench.sh"
