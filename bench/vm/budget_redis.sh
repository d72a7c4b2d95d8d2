#!/bin/bash
# vm-timeout: 4000
# Only the budget experiment on redis (bench/run --only budget-redis): 2
# interleaved repetitions of 6 configurations, about 50 minutes on the
# instruction clock at shift 2. Under that clock redis runs about four
# times slower than the host's clock at shift 1, so the data set is
# 100000 keys (about 140 MiB), the warm-up 40 s (budget mode: until
# settled, at most 150 s) and the window 30 s.
export BENCH_BUDGETREDIS_ONLY=${BENCH_BUDGETREDIS_ONLY:-"none slide:T1 damos:psi1% budget:5flt/s budget:500flt/s none:again"}
export BENCH_REDIS_KEYS=${BENCH_REDIS_KEYS:-100000} BENCH_BUDGET_WARM=${BENCH_BUDGET_WARM:-40}
export BENCH_BUDGET_WINDOW=${BENCH_BUDGET_WINDOW:-30} BENCH_SETTLE_MAX=${BENCH_SETTLE_MAX:-150}
BENCH_SIZE=full BENCH_ONLY=budgetredis BENCH_BUDGET_REPS=2 exec "$ETMEM_TOP/bench/vm/bench.sh"
