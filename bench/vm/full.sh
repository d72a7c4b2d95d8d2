#!/bin/bash
# vm-timeout: 4500
# The full benchmark run (bench/run boots the VM with this script).
BENCH_SIZE=full exec "$ETMEM_TOP/bench/vm/bench.sh"
