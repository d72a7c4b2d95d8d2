#!/bin/bash
# vm-timeout: 2400
# Only the budget experiment at full size (bench/run --only budget).
BENCH_SIZE=full BENCH_ONLY=budget exec "$ETMEM_TOP/bench/vm/bench.sh"
