#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# procstat against /proc/PID/status, in every mode, for a process with
# known anonymous, file and shared memory, then after it grows.
. "$(dirname "$0")/lib.sh"
mt_need procstat mt-workload

mt_workload 64 16 8
pid=$MT_WORKLOAD

for mode in auto $MT_BPF_MODES proc; do
	mt_say "procstat -m $mode: a sleeping process"
	timeout 60 "$MT_BIN/procstat" -v -m "$mode" -j -p "$pid" 1 1 \
		>"$MT_TMP/ps.json" 2>"$MT_TMP/ps.err" || { cat "$MT_TMP/ps.err"; mt_fail "procstat -m $mode failed"; }
	cat "$MT_TMP/ps.err"
	cp "/proc/$pid/status" "$MT_TMP/status"
	python3 "$MT_CMP" procstat "$MT_TMP/ps.json" "$MT_TMP/status" ||
		mt_fail "procstat -m $mode disagrees with /proc/$pid/status"
done
timeout 30 "$MT_BIN/procstat" -v -j -p "$pid" 1 1 2>&1 >/dev/null | grep -q '^procstat: mode tp_btf$' ||
	mt_fail "auto mode did not pick tp_btf"

for mode in $MT_BPF_MODES proc; do
	mt_say "procstat -m $mode: the process grows by 64 MiB while watched"
	grown=$(grep -c grown "$MT_TMP/workload.out")
	timeout 60 "$MT_BIN/procstat" -m "$mode" -j -p "$pid" 0.5 8 >"$MT_TMP/grow.json" &
	watcher=$!
	sleep 1
	kill -USR1 "$pid"
	wait "$watcher" || mt_fail "procstat -m $mode failed while watching"
	[ "$(grep -c grown "$MT_TMP/workload.out")" -gt "$grown" ] || mt_fail "workload did not grow"
	cp "/proc/$pid/status" "$MT_TMP/status"
	python3 "$MT_CMP" procstat "$MT_TMP/grow.json" "$MT_TMP/status" ||
		mt_fail "procstat -m $mode missed the growth"
done

# Swapped-out memory (VSWAP) needs swap: the VM gets zram; the build
# machine has none, so there this part is left to the VM run.
if [ -n "${ETMEM_IN_VM:-}" ] && ! grep -q '^/' /proc/swaps; then
	modprobe zram && echo 256M >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || mt_fail "cannot set up zram swap"
fi
if grep -q '^/' /proc/swaps; then
	for mode in $MT_BPF_MODES proc; do
		mt_say "procstat -m $mode: the process pages 64 MiB out to swap"
		paged=$(grep -c paged "$MT_TMP/workload.out")
		kill -USR2 "$pid"
		for _ in $(seq 1 300); do
			[ "$(grep -c paged "$MT_TMP/workload.out")" -gt "$paged" ] && break
			sleep 0.1
		done
		timeout 60 "$MT_BIN/procstat" -m "$mode" -j -p "$pid" 1 1 >"$MT_TMP/swap.json" ||
			mt_fail "procstat -m $mode failed"
		cp "/proc/$pid/status" "$MT_TMP/status"
		python3 "$MT_CMP" procstat "$MT_TMP/swap.json" "$MT_TMP/status" ||
			mt_fail "procstat -m $mode disagrees after swap-out"
		grep -q '"vswap_kb":0,' "$MT_TMP/swap.json" && mt_fail "nothing was swapped out"
	done
else
	echo "no swap on this machine: VSWAP is checked in the VM run"
fi

mt_say "procstat without root falls back to /proc with the same figures"
nobody_json=$MT_TMP/nobody.json
chmod 755 "$MT_TMP"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$MT_BIN/procstat" -v -j -p "$pid" 1 1 \
	>"$nobody_json" 2>"$MT_TMP/nobody.err" || { cat "$MT_TMP/nobody.err"; mt_fail "procstat as nobody failed"; }
cat "$MT_TMP/nobody.err"
grep -q 'BPF unavailable (BPF needs root' "$MT_TMP/nobody.err" || mt_fail "no reason given for the fallback"
grep -q '^procstat: mode proc$' "$MT_TMP/nobody.err" || mt_fail "procstat as nobody did not use /proc"
timeout 60 "$MT_BIN/procstat" -j -p "$pid" 1 1 >"$MT_TMP/root.json"
cp "/proc/$pid/status" "$MT_TMP/status"
python3 "$MT_CMP" procstat "$nobody_json" "$MT_TMP/status" || mt_fail "fallback as nobody disagrees"
python3 "$MT_CMP" procstat "$MT_TMP/root.json" "$MT_TMP/status" || mt_fail "BPF disagrees"

mt_say "procstat -c filter, table output, and errors"
"$MT_BIN/procstat" -c mt-workload -T 1 1 >"$MT_TMP/table" || mt_fail "procstat -c failed"
cat "$MT_TMP/table"
grep -q "^ *$pid mt-workload" "$MT_TMP/table" || mt_fail "-c mt-workload did not show $pid"
[ "$(grep -c mt-workload "$MT_TMP/table")" -ge 1 ] || mt_fail "no rows"
grep -q VSIZE "$MT_TMP/table" || mt_fail "no header"
"$MT_BIN/procstat" -H 2 -p "$pid" 0.1 5 >"$MT_TMP/table" || mt_fail "procstat -H failed"
[ "$(grep -c VSIZE "$MT_TMP/table")" = 3 ] || mt_fail "-H 2 over 5 rows should print 3 headers"
"$MT_BIN/procstat" -p 999999999 1 1 2>"$MT_TMP/err" && mt_fail "a missing PID was accepted"
grep -q 'no process with PID' "$MT_TMP/err" || mt_fail "unclear error: $(cat "$MT_TMP/err")"
"$MT_BIN/procstat" -m bogus 2>"$MT_TMP/err" && mt_fail "a bad mode was accepted"
grep -q "allowed: auto, tp_btf, raw_tp, proc" "$MT_TMP/err" || mt_fail "unclear error: $(cat "$MT_TMP/err")"
echo "procstat: all checks passed"
