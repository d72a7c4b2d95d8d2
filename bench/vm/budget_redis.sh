#!/bin/bash
# vm-timeout: 4000
# Only the budget experiment on redis at full size (bench/run --only
# budget-redis): 2 interleaved repetitions of 8 configurations, about 40
# minutes on the instruction clock at shift 1.
export BENCH_BUDGETREDIS_ONLY=${BENCH_BUDGETREDIS_ONLY:-"none slide:T1 damos:psi1% psi:1% budget:5flt/s budget:500flt/s budget:stall1% none:again"}
BENCH_SIZE=full BENCH_ONLY=budgetredis BENCH_BUDGET_REPS=2 exec "$ETMEM_TOP/bench/vm/bench.sh"
