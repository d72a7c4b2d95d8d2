#!/bin/bash
# vm-timeout: 6600
# Only the budget experiment at full size (bench/run --only budget), 2
# interleaved repetitions: about 40 minutes each (38 on the instruction
# clock at shift 1 here), budget mode's warm-up running until its
# controller settles (at most 300 s a run).
BENCH_SIZE=full BENCH_ONLY=budget BENCH_BUDGET_REPS=2 exec "$ETMEM_TOP/bench/vm/bench.sh"
