#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# paf starts in every mode on this kernel and ends cleanly with a summary.
# (Provoking a failure needs a second NUMA node to exhaust safely; that
# check, paf.sh, runs in the VM.)
. "$(dirname "$0")/lib.sh"
mt_need paf

for mode in auto $MT_BPF_MODES proc; do
	mt_say "paf -m $mode"
	want=$mode; [ "$mode" = auto ] && want=tp_btf
	timeout 30 "$MT_BIN/paf" -v -m "$mode" -j 0.2 3 >"$MT_TMP/out" 2>"$MT_TMP/err" ||
		{ cat "$MT_TMP/err"; mt_fail "paf -m $mode failed"; }
	cat "$MT_TMP/err" "$MT_TMP/out"
	grep -q "^paf: mode $want\$" "$MT_TMP/err" || mt_fail "paf -m $mode ran in another mode"
	[ "$(grep -c '"event":"interval"' "$MT_TMP/out")" = 3 ] || mt_fail "expected 3 interval lines"
	grep -q '"event":"summary"' "$MT_TMP/out" || mt_fail "no summary"
done
mt_say "paf stops on Ctrl-C and leaves no tracefs instance behind"
"$MT_BIN/paf" -F >"$MT_TMP/out" 2>&1 &
pid=$!
MT_PIDS+=($pid)
sleep 1
ls -d /sys/kernel/tracing/instances/memtools-paf-$pid >/dev/null || mt_fail "no tracefs instance while running"
kill -INT $pid
wait $pid || mt_fail "paf exited with an error on Ctrl-C"
grep -q '^paf summary: 0 failed allocations' "$MT_TMP/out" || mt_fail "no summary: $(cat "$MT_TMP/out")"
[ -e /sys/kernel/tracing/instances/memtools-paf-$pid ] && mt_fail "tracefs instance left behind"
mt_say "without root: one clear error, no libbpf noise"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$MT_BIN/paf" 1 1 >"$MT_TMP/out" 2>"$MT_TMP/err" &&
	mt_fail "paf ran without root"
cat "$MT_TMP/err"
[ "$(wc -l <"$MT_TMP/err")" = 1 ] || mt_fail "expected exactly one line of error"
grep -q '^paf: no BPF (BPF needs root.*) and cannot use tracefs' "$MT_TMP/err" || mt_fail "unclear error"
"$MT_BIN/paf" -p abc 2>"$MT_TMP/err" && mt_fail "paf accepted -p abc"
grep -q 'PID must be a positive integer' "$MT_TMP/err" || mt_fail "unclear error: $(cat "$MT_TMP/err")"
"$MT_BIN/paf" -h | grep -q -- '-m MODE' || mt_fail "-h lacks -m"
echo "paf: all checks passed"
