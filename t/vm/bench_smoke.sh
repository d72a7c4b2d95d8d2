#!/bin/bash
# vm-timeout: 900
# vm-kernels: newest
# Every benchmark scenario once at a tiny size (the full run's, then the
# costs and workloads boots' experiments), so the scripts cannot rot:
# each experiment must produce its rows (the budget experiment one per
# configuration) and every workload must verify.
set -u
# The pagemap experiment runs once, in the costs boot's script below.
out=/tmp/bench-smoke.log
# The budget experiment on redis with the baseline and budget mode: the
# other kinds of configuration run the same functions in the moving hot
# set's budget experiment above it. That one runs one setting of each
# kind, without "none again" (the baseline's code, run twice).
BENCH_SIZE=smoke BENCH_ONLY="quality redis cost scale budget budgetredis" \
	BENCH_BUDGET_AGAIN=0 \
	BENCH_BUDGETREDIS_ONLY="none budget:5flt/s" \
	"$ETMEM_TOP/bench/vm/bench.sh" >"$out" 2>&1
rc=$?
grep -v '^BENCH|curve' "$out"
[ "$rc" = 0 ] || { echo "bench.sh exited $rc"; exit 1; }
python3 "$ETMEM_TOP/bench/report.py" "$out" /tmp/bench-results --check
rc=$?
[ "$rc" = 0 ] || exit 1
# The costs boot's script itself at the same tiny size, so that its list
# of experiments is the one checked.
out=/tmp/bench-smoke-costs.log
BENCH_SIZE=smoke "$ETMEM_TOP/bench/vm/costs.sh" >"$out" 2>&1
rc=$?
grep -v '^BENCH|curve' "$out"
[ "$rc" = 0 ] || { echo "bench.sh (costs) exited $rc"; exit 1; }
python3 "$ETMEM_TOP/bench/report.py" "$out" /tmp/bench-results-costs --check-costs
rc=$?
[ "$rc" = 0 ] || exit 1
# The workloads experiment (bench/vm/workloads.sh), one run each, each
# reclaimer first waiting until half the cold set is out (at most 15 s),
# so that the warm-up of BENCH_WL_WARM_OUT runs too.
out=/tmp/bench-smoke-workloads.log
BENCH_SIZE=smoke BENCH_ONLY=workloads BENCH_WL_REPS=1 BENCH_WL_WARM_OUT=500 BENCH_WL_WARM_MAX=15 "$ETMEM_TOP/bench/vm/bench.sh" >"$out" 2>&1
rc=$?
grep -v '^BENCH|wl_[a-z]*_curve' "$out"
[ "$rc" = 0 ] || { echo "bench.sh (workloads) exited $rc"; exit 1; }
python3 "$ETMEM_TOP/bench/report.py" "$out" /tmp/bench-results-wl --check-workloads
