#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What every tool's command line promises: -h documents each option the
# tool accepts (the shared ones and its own), -r prints plain numbers
# where the default prints K/M/G, -T drops the time column, and bad
# arguments get a message naming the argument and what is allowed.
. "$(dirname "$0")/lib.sh"
mt_need procstat sysstat paf pr

shared="-r -j -T -H -m -F -v -h INTERVAL COUNT"
own_procstat="-p -c"
own_sysstat="-t"
own_paf="-p -c -b -a"
own_pr="-p -c -b -s"
for tool in procstat sysstat paf pr; do
	mt_say "$tool -h documents every option"
	"$MT_BIN/$tool" -h >"$MT_TMP/help" 2>&1 || mt_fail "$tool -h exited non-zero"
	own=own_$tool
	for opt in $shared ${!own}; do
		grep -Eq "^  $opt( |$)" "$MT_TMP/help" || mt_fail "$tool -h does not document $opt"
	done
	grep -q "^Usage: $tool " "$MT_TMP/help" || mt_fail "$tool -h has no usage line"
done

mt_say "-r: plain numbers where the default prints units"
"$MT_BIN/sysstat" -t 1 1 >"$MT_TMP/human" || mt_fail "sysstat failed"
"$MT_BIN/sysstat" -t -r 1 1 >"$MT_TMP/raw" || mt_fail "sysstat -r failed"
grep -Eq ' [0-9.]+[KMG]( |$)' "$MT_TMP/human" || mt_fail "sysstat shows no K/M/G units: $(cat "$MT_TMP/human")"
grep -Eq '[0-9][KMG]( |$)' "$MT_TMP/raw" && mt_fail "sysstat -r still shows units: $(cat "$MT_TMP/raw")"
awk 'NR > 1 && NF && $NF !~ /^[0-9]+$/ { bad = 1 } END { exit bad }' "$MT_TMP/raw" ||
	mt_fail "sysstat -r has a non-integer value: $(cat "$MT_TMP/raw")"
"$MT_BIN/procstat" -p $$ -r 1 1 >"$MT_TMP/raw" || mt_fail "procstat -r failed"
awk 'NR == 2 { for (i = 4; i <= NF; i++) if ($i !~ /^[0-9]+$/) bad = 1 } END { exit bad }' \
	"$MT_TMP/raw" || mt_fail "procstat -r has a non-integer value: $(cat "$MT_TMP/raw")"
vsize_kb=$(awk '/^VmSize/ { print $2 }' /proc/$$/status)
raw_vsize=$(awk 'NR == 2 { print $4 }' "$MT_TMP/raw")
[ "$raw_vsize" = "$vsize_kb" ] || mt_fail "procstat -r VSIZE $raw_vsize, /proc says $vsize_kb kB"

mt_say "-T: no time column"
"$MT_BIN/procstat" -p $$ -T 1 1 >"$MT_TMP/notime" || mt_fail "procstat -T failed"
head -n 1 "$MT_TMP/notime" | grep -q '^ *PID ' || mt_fail "procstat -T header: $(head -n 1 "$MT_TMP/notime")"

mt_say "bad arguments name the argument and what is allowed"
expect_err() { # MESSAGE CMD...
	local want=$1
	shift
	"$@" >/dev/null 2>"$MT_TMP/err" && mt_fail "$* succeeded"
	grep -qF -- "$want" "$MT_TMP/err" || mt_fail "$*: '$(cat "$MT_TMP/err")' lacks '$want'"
	echo "  $*: $(cat "$MT_TMP/err")"
}
expect_err "PID must be a positive integer, not 'abc'" "$MT_BIN/procstat" -p abc 1 1
expect_err "INTERVAL must be seconds between 0.01 and 86400, not '-1'" "$MT_BIN/pr" -- -1
expect_err "unknown mode 'bogus'; allowed: auto, tp_btf, raw_tp, proc" "$MT_BIN/paf" -m bogus
expect_err "unknown mode 'iter'; allowed: auto, tp_btf, raw_tp, proc" "$MT_BIN/procstat" -m iter
expect_err "-b KIB must be an integer from 4 to 262144 (KiB per CPU), not '2'" "$MT_BIN/pr" -b 2
expect_err "-b KIB must be an integer from 4 to 262144 (KiB per CPU), not '1M'" "$MT_BIN/paf" -b 1M
expect_err "unknown option -b" "$MT_BIN/sysstat" -b 4
echo "cli: all checks passed"
