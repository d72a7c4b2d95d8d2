#!/bin/bash
# vm-timeout: 6000
# The full benchmark run (bench/run boots the VM with this script); the
# budget experiment alone can take 40 minutes now that budget mode warms
# up until its controller settles.
BENCH_SIZE=full exec "$ETMEM_TOP/bench/vm/bench.sh"
