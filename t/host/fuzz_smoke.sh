#!/bin/bash
# The libFuzzer targets of t/fuzz/ (built by clang with ASan and UBSan):
# each replays its seeds, then fuzzes for a few seconds from them. Any
# crash, sanitizer report or leak fails the test (and leaves the input in
# the log). "make fuzz" runs them longer.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
SECS=${FUZZ_SMOKE_SECS:-8}
WORK=$(mktemp -d /tmp/etmem-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
nr_fail=0

make -s -C "$TOP" BUILD="$BUILD" fuzz-build >"$WORK/build.log" 2>&1 || {
	echo "FAIL: make fuzz-build:"; tail -n 30 "$WORK/build.log"; exit 1; }
for t in fuzz_config fuzz_proto; do
	bin=$BUILD/fuzz/$t
	seeds=("$TOP/t/fuzz/seeds/$t")
	[ "$t" = fuzz_config ] && seeds+=("$TOP/etc/etmem")
	mkdir -p "$WORK/$t"
	if "$bin" -max_total_time="$SECS" -print_final_stats=1 -artifact_prefix="$WORK/$t/" \
		"$WORK/$t" "${seeds[@]}" >"$WORK/$t.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log")
		if [ "${execs:-0}" -gt 1000 ]; then
			echo "ok: $t: $execs runs in $SECS s, no crash"
		else
			echo "FAIL: $t ran only '${execs:-0}' inputs"; nr_fail=$((nr_fail + 1))
		fi
	else
		echo "FAIL: $t:"
		grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$WORK/$t.log" | head -n 10
		nr_fail=$((nr_fail + 1))
	fi
done
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
