#!/bin/bash
# vm-timeout: 1500
# Only the redis experiment at full size (bench/run --only redis).
BENCH_SIZE=full BENCH_ONLY=redis exec "$ETMEM_TOP/bench/vm/bench.sh"
