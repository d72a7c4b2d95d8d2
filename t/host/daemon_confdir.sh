#!/bin/bash
# The configuration directory: etmemd -c DIR adds every DIR/*.conf at
# start and starts the projects with autostart=yes; a bad file is logged
# and skipped; SIGHUP adds new files, deletes removed ones, replaces
# changed ones, and a changed file that fails leaves its old version.
# "etmem obj check" gives the messages "obj add" gives, without a daemon.
# Every binary's --version is the one in VERSION.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-confdir-$$
DIR=$WORK/etmemd.d
mkdir "$DIR"
want=$(cat "$TOP/VERSION")

for b in "$ETMEMD -V" "$ETMEMD --version" "$ETMEM --version" "$ETMEM -V"; do
	out=$($b)
	[ "$out" = "$(basename "${b%% *}") $want" ] && pass "$b: $out" || fail "$b printed '$out', want version $want"
done

for t in procstat sysstat paf pr; do
	out=$("$BUILD/memtools/$t" -V)
	[ "$out" = "$t $want" ] && pass "$t -V: $out" || fail "$t -V printed '$out', want $want"
done
pc=$(sed -n 's/^Version: //p' <(make -s -C "$TOP" --no-print-directory print-scan-pc 2>/dev/null))
[ "$pc" = "$want" ] && pass "etmemd_scan.pc Version: $pc" || fail "etmemd_scan.pc has Version '$pc', want $want"

# dfile NAME: stdin into DIR/NAME with mode 0600.
dfile() {
	cat >"$DIR/$1"
	chmod 600 "$DIR/$1"
}
PROJECT_EXTRA=(autostart=yes)
slide_conf auto name etmtest-none | dfile 10-auto.conf
PROJECT_EXTRA=()
slide_conf manual name etmtest-none | dfile 20-manual.conf
# T is out of range: skipped, the others load.
PROJECT_EXTRA=()
slide_conf bad name etmtest-none 'max_threads=0' | dfile 30-bad.conf
echo "not a conf" >"$DIR/README"
chmod 644 "$DIR/README"

# obj check: the same message as obj add, no daemon needed.
check_out=$("$ETMEM" obj check -f "$DIR/30-bad.conf" 2>&1)
check_rc=$?
ok_out=$("$ETMEM" obj check -f "$DIR/10-auto.conf" 2>&1) || fail "obj check of a good file: $ok_out"
grep -q "ok (1 projects, 1 engines, 1 tasks)" <<<"$ok_out" && pass "obj check good file: $ok_out" ||
	fail "obj check good file said '$ok_out'"
"$ETMEM" obj check -f "$DIR/10-auto.conf" -s x >/dev/null 2>&1 && fail "obj check accepted -s"
chmod 644 "$DIR/10-auto.conf"
mode_out=$("$ETMEM" obj check -f "$DIR/10-auto.conf" 2>&1) && fail "obj check accepted mode 0644"
grep -q "has mode 0644; configuration files must have mode 0600 or 0400" <<<"$mode_out" &&
	pass "obj check mode: $mode_out" || fail "obj check mode 0644 said '$mode_out'"
chmod 600 "$DIR/10-auto.conf"
PROJECT_EXTRA=(autostart=maybe)
f=$(slide_conf maybe name etmtest-none | conf maybe.conf)
PROJECT_EXTRA=()
out=$("$ETMEM" obj check -f "$f" 2>&1) && fail "obj check accepted autostart=maybe"
grep -q "\[project\] autostart='maybe'" <<<"$out" && pass "autostart=maybe: $out" || fail "autostart=maybe said '$out'"

daemon_start "$SOCK" -c "$DIR" || exit 1
add_out=$("$ETMEM" obj add -f "$DIR/30-bad.conf" -s "$SOCK" 2>&1)
add_rc=$?
# The same message, each after its own command's name.
if [ "$check_rc" = 1 ] && [ "$add_rc" = 1 ] &&
	[ "${check_out#etmem obj check: }" = "${add_out#etmem obj add: }" ] &&
	grep -q "max_threads" <<<"$check_out"; then
	pass "obj check and obj add agree: $check_out"
else
	fail "obj check ($check_rc) '$check_out' vs obj add ($add_rc) '$add_out'"
fi

pstate() { # pstate PROJECT: started / stopped / absent
	show_json "$SOCK" | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["projects"] if p["name"] == sys.argv[1]]
print("absent" if not p else ("started" if p[0]["started"] else "stopped"))' "$1"
}
psleep() {
	show_json "$SOCK" "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][0]["sleep"])'
}
expect() { # expect WHAT PROJECT STATE
	local got
	got=$(pstate "$2")
	[ "$got" = "$3" ] && pass "$1: $2 $3" || fail "$1: project $2 is $got, want $3"
}
expect start auto started
expect start manual stopped
expect start bad absent
log=$WORK/etmemd-$SOCK.log
grep -q "30-bad.conf:.*max_threads.*" "$log" && grep -q "30-bad.conf: skipped" "$log" &&
	pass "bad file reported and skipped" || fail "no report for the bad file in the log"

# reload waits for the daemon's summary line number N to appear.
reloads=1
reload() {
	local i
	reloads=$((reloads + 1))
	kill -HUP "$DAEMON_PID"
	for i in $(seq 200); do
		[ "$(grep -c 'configuration directory .*: .* added' "$log")" -ge "$reloads" ] && return 0
		sleep 0.05
	done
	fail "reload $reloads did not finish"
}

# Added, removed, changed, and a change that fails.
PROJECT_EXTRA=(autostart=yes)
slide_conf late name etmtest-none | dfile 40-late.conf
rm "$DIR/20-manual.conf"
sed -i 's/^sleep=1$/sleep=7/' "$DIR/10-auto.conf"
reload
expect "reload added" late started
expect "reload removed" manual absent
expect "reload changed" auto started
[ "$(psleep auto)" = 7 ] && pass "changed file replaced (sleep=7)" || fail "auto has sleep=$(psleep auto), want 7"
# The summary line, not the log's last: a started project's cycle may log after it.
summary=$(grep 'configuration directory .*: .* added' "$log" | tail -n 1)
grep -q "1 added, 1 changed, 1 removed, 0 unchanged, 1 failed" <<<"$summary" &&
	pass "reload summary: $summary" || fail "reload summary: $summary"

sed -i 's/^T=1$/T=9/; s/^sleep=7$/sleep=9/' "$DIR/10-auto.conf"
mark=$(wc -l <"$log")
reload
# Checked before anything is deleted: the running project is not stopped,
# deleted and added back (its counters would start again), this time or
# at the next reload of the same broken file.
reload
tail -n +$((mark + 1)) "$log" | grep -E "(deleted|added) (project|engine|task)|project .* (stopped|started)" &&
	fail "a failing change stopped, deleted or added objects" ||
	pass "a failing change touched nothing, twice"
expect "failing change" auto started
[ "$(psleep auto)" = 7 ] && pass "failing change kept the old version (sleep=7)" ||
	fail "auto has sleep=$(psleep auto) after a failing change, want 7"
grep -q "10-auto.conf: changed but not valid: its previous version stays" "$log" &&
	pass "failing change logged" || fail "failing change not logged"
chmod 644 "$DIR/40-late.conf"
reload
expect "unreadable change" late started

# A directory that is not there: -c refuses to start.
out=$("$ETMEMD" -s "$SOCK-x" -c "$WORK/nodir" 2>&1) && fail "etmemd started with a missing -c directory"
grep -q "is not a directory" <<<"$out" && pass "missing -c dir: $out" || fail "missing -c dir said '$out'"

daemon_stop
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
