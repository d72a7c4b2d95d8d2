#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sysstat against /proc/meminfo, /proc/vmstat and each node's meminfo,
# in the BPF iterator mode and in the fallback.
. "$(dirname "$0")/lib.sh"
mt_need sysstat mt-workload

# Some anonymous, file and shared memory so that no figure is trivially 0.
mt_workload 32 16 8

# sysstat_vs MODE CHECK FILE...: reads FILEs, runs sysstat, reads them again.
sysstat_vs() {
	local mode=$1 check=$2 f i=0 companion
	shift 2
	# The tool's own libraries are file pages mapped while it runs (Mapped):
	# a second instance, idle meanwhile, keeps them mapped across the
	# readings before and after, so they count on both sides.
	"$MT_BIN/sysstat" -m proc 60 2 >/dev/null 2>&1 &
	companion=$!
	sleep 0.5
	for f; do cp "$f" "$MT_TMP/before.$i"; i=$((i + 1)); done
	timeout 60 "$MT_BIN/sysstat" -v -m "$mode" -j 1 1 >"$MT_TMP/ss.json" 2>"$MT_TMP/ss.err" ||
		{ cat "$MT_TMP/ss.err"; kill "$companion"; mt_fail "sysstat -m $mode failed"; }
	i=0
	for f; do cp "$f" "$MT_TMP/after.$i"; i=$((i + 1)); done
	kill "$companion" 2>/dev/null
	wait "$companion" 2>/dev/null
	cat "$MT_TMP/ss.err"
	want=$mode; [ "$mode" = auto ] && want=iter
	grep -q "^sysstat: mode $want\$" "$MT_TMP/ss.err" || mt_fail "sysstat -m $mode ran in another mode"
}

node_dirs=(/sys/devices/system/node/node[0-9]*)
for mode in auto iter proc; do
	mt_say "sysstat -m $mode against /proc/meminfo, /proc/vmstat and each node's meminfo"
	sysstat_vs "$mode" all /proc/meminfo /proc/vmstat "${node_dirs[@]/%//meminfo}"
	echo " /proc/meminfo"
	python3 "$MT_CMP" sysstat "$MT_TMP/ss.json" "$MT_TMP/before.0" "$MT_TMP/after.0" ||
		mt_fail "sysstat -m $mode disagrees with /proc/meminfo"
	echo " /proc/vmstat"
	python3 "$MT_CMP" sysvm "$MT_TMP/ss.json" "$MT_TMP/before.1" "$MT_TMP/after.1" ||
		mt_fail "sysstat -m $mode disagrees with /proc/vmstat"
	i=2
	for dir in "${node_dirs[@]}"; do
		nid=${dir##*node}
		echo " node $nid meminfo"
		python3 "$MT_CMP" sysnode "$MT_TMP/ss.json" "$nid" "$MT_TMP/before.$i" "$MT_TMP/after.$i" ||
			mt_fail "sysstat -m $mode disagrees with $dir/meminfo"
		i=$((i + 1))
	done
done

mt_say "sysstat without root falls back to /sys and /proc"
chmod 755 "$MT_TMP"
"$MT_BIN/sysstat" -m proc 60 2 >/dev/null 2>&1 &
companion=$!
sleep 0.5
cp /proc/meminfo "$MT_TMP/before.0"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$MT_BIN/sysstat" -v -j 1 1 \
	>"$MT_TMP/ss.json" 2>"$MT_TMP/ss.err" || { cat "$MT_TMP/ss.err"; kill "$companion"; mt_fail "sysstat as nobody failed"; }
cp /proc/meminfo "$MT_TMP/after.0"
kill "$companion" 2>/dev/null
wait "$companion" 2>/dev/null
cat "$MT_TMP/ss.err"
grep -q 'BPF unavailable (BPF needs root' "$MT_TMP/ss.err" || mt_fail "no reason given for the fallback"
grep -q '^sysstat: mode proc$' "$MT_TMP/ss.err" || mt_fail "sysstat as nobody did not use /proc"
python3 "$MT_CMP" sysstat "$MT_TMP/ss.json" "$MT_TMP/before.0" "$MT_TMP/after.0" ||
	mt_fail "sysstat as nobody disagrees with /proc/meminfo"

mt_say "sysstat table output, -t, and errors"
"$MT_BIN/sysstat" -t 0.2 2 >"$MT_TMP/table" || mt_fail "sysstat table failed"
head -25 "$MT_TMP/table"
[ "$(grep -c '^ *anon_active' "$MT_TMP/table")" = 2 ] || mt_fail "expected two reports"
grep -q 'node0' "$MT_TMP/table" && mt_fail "-t still showed nodes"
"$MT_BIN/sysstat" -p 1 2>"$MT_TMP/err" && mt_fail "sysstat accepted -p"
grep -q 'unknown option -p' "$MT_TMP/err" || mt_fail "unclear error: $(cat "$MT_TMP/err")"
"$MT_BIN/sysstat" 0 2>"$MT_TMP/err" && mt_fail "sysstat accepted interval 0"
grep -q 'INTERVAL must be' "$MT_TMP/err" || mt_fail "unclear error: $(cat "$MT_TMP/err")"
echo "sysstat: all checks passed"
