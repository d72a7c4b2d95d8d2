#!/bin/bash
# A project start in which no task starts changes nothing: the reply says
# the project was not started and why each task did not start, show (text
# and -j) and the metrics keep the project stopped, and the next start is
# refused the same way (not "already started"). The tasks here are psi
# tasks whose cg_dir is outside the cgroup v2 mount: refused on any host
# (with no cgroup v2 mount, or with the memory controller on cgroup v1,
# for that reason instead). Then a project in which one task of two
# starts. Needs no module and touches no cgroup.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-refused-$$

daemon_start "$SOCK" -l 1 || exit 1
f=$(printf '[project]\nname=solo\nscan_type=psi\ninterval=1\n\n[engine]\nname=psi\nproject=solo\n\n[task]\nproject=solo\nengine=psi\nname=t1\ncg_dir=/nonexistent-etmem-v1/a\npressure=0.1\nlimit_min_bytes=64m\n\n[task]\nproject=solo\nengine=psi\nname=t2\ncg_dir=/nonexistent-etmem-v1/b\npressure=0.1\nlimit_min_bytes=64m\n' |
	conf solo.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK" || { fail "obj add solo"; exit 1; }
# Why a task cannot start here: the one the host's cgroups give.
why="is not under the cgroup v2 mount|no cgroup v2 hierarchy is mounted|the memory controller is on a cgroup v1 hierarchy"
for try in 1 2; do
	out=$("$ETMEM" project start -n solo -s "$SOCK" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 1 ] && pass "start $try: fails (exit $rc)" || fail "start $try: exit $rc"
	grep -q "^etmem project start: project solo not started: none of its tasks started" <<<"$out" &&
		pass "start $try: the reply says the project was not started" ||
		fail "start $try: reply '$out'"
	[ "$(grep -cE "task t[12] did not start: .*($why)" <<<"$out")" = 2 ] &&
		pass "start $try: the reply names each task and why" ||
		fail "start $try: the reply lacks a task's reason"
	got=$(show_json "$SOCK" solo | python3 -c '
import json, sys
p = json.load(sys.stdin)["projects"][0]
print(p["started"], p["state"], [(t["name"], t["started"], t["state"]) for t in p["tasks"]])')
	[ "$got" = "False stopped [('t1', False, 'stopped'), ('t2', False, 'stopped')]" ] &&
		pass "start $try: show -j: the project and its tasks stopped" ||
		fail "start $try: show -j: $got"
	grep -q "^project solo: stopped" <<<"$("$ETMEM" project show -n solo -s "$SOCK")" &&
		pass "start $try: show: stopped" || fail "start $try: show does not say stopped"
	"$ETMEM" metrics -s "$SOCK" >"$WORK/metrics.txt" || fail "etmem metrics"
	grep -q '^etmem_project_started{project="solo"} 0$' "$WORK/metrics.txt" &&
		pass "start $try: metrics: etmem_project_started 0" ||
		fail "start $try: metrics: $(grep 'etmem_project_started' "$WORK/metrics.txt")"
done
out=$("$ETMEM" project stop -n solo -s "$SOCK" 2>&1)
grep -q "not started" <<<"$out" && pass "stop: the project is not started ($out)" || fail "stop: '$out'"
grep -q "project solo not started: none of its tasks started" "$WORK/etmemd-$SOCK.log" &&
	pass "the log says the project was not started" || fail "the log does not say so"
! grep -q "project solo started" "$WORK/etmemd-$SOCK.log" &&
	pass "the log never says it started" || fail "the log says it started"
"$ETMEM" obj del -f "$f" -s "$SOCK" || fail "obj del solo"
kill -0 "$DAEMON_PID" 2>/dev/null && pass "etmemd still running" || fail "etmemd died"
daemon_stop

# Some tasks start, one does not: the project runs with the others and the
# one that did not start shows as failing, in show and in the metrics. A
# psi task starts where a cgroup v2 mount is found and no cgroup v1
# hierarchy holds the memory controller: a second etmemd in a mount
# namespace without this host's v1 memory mount, if it has one (a hybrid
# host; the controller stays where it is, so the task finds no cgroup and
# waits, doing nothing).
SOCK2=$SOCK-ns
unshare -m sh -c "umount /sys/fs/cgroup/memory 2>/dev/null; exec '$ETMEMD' -s '$SOCK2' -c '' -l 1" \
	>"$WORK/etmemd-ns.log" 2>&1 &
ns=$!
OTHER_PIDS+=("$ns")
for _ in $(seq 200); do "$ETMEM" project show -s "$SOCK2" >/dev/null 2>&1 && break; sleep 0.05; done
f=$(printf '[project]\nname=duo\nscan_type=psi\ninterval=1\n\n[engine]\nname=psi\nproject=duo\n\n[task]\nproject=duo\nengine=psi\nname=good\ncg_dir=nonexistent-etmem-test/*\npressure=0.1\nlimit_min_bytes=64m\n\n[task]\nproject=duo\nengine=psi\nname=bad\ncg_dir=/nonexistent-etmem-v1/b\npressure=0.1\nlimit_min_bytes=64m\n' |
	conf duo.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK2" || fail "obj add duo"
out=$("$ETMEM" project start -n duo -s "$SOCK2" 2>&1)
rc=$?
echo "$out"
[ "$rc" = 1 ] && grep -q "^etmem project start: project duo started, but:" <<<"$out" &&
	grep -q "^task bad did not start: cg_dir '/nonexistent-etmem-v1/b' is not under the cgroup v2 mount" <<<"$out" &&
	! grep -q "task good" <<<"$out" &&
	pass "partial start: exit 1, started, the task that did not start named with why" ||
	fail "partial start: exit $rc, '$out'"
got=$(show_json "$SOCK2" duo | python3 -c '
import json, sys
p = json.load(sys.stdin)["projects"][0]
t = {t["name"]: t for t in p["tasks"]}
print(p["started"], t["good"]["started"], t["good"]["state"] != "failing", t["bad"]["started"],
      t["bad"]["state"], t["bad"]["error"].startswith("start failed: cg_dir"))')
[ "$got" = "True True True False failing True" ] &&
	pass "show -j: the project runs, the task that did not start is failing with its error" ||
	fail "show -j: $got"
"$ETMEM" metrics -s "$SOCK2" >"$WORK/metrics2.txt" || fail "etmem metrics"
grep -q '^etmem_task_failing{project="duo",engine="psi",task="bad"} 1$' "$WORK/metrics2.txt" &&
	grep -q '^etmem_task_failing{project="duo",engine="psi",task="good"} 0$' "$WORK/metrics2.txt" &&
	pass "metrics: failing 1 for the task that did not start, 0 for the other" ||
	fail "metrics: $(grep etmem_task_failing "$WORK/metrics2.txt")"
"$ETMEM" project stop -n duo -s "$SOCK2" || fail "project stop duo"
got=$(show_json "$SOCK2" duo | python3 -c '
import json, sys
print([t["state"] for t in json.load(sys.stdin)["projects"][0]["tasks"]])')
! grep -q failing <<<"$got" && pass "stopped: no task shows as failing ($got)" || fail "stopped: $got"
"$ETMEM" obj del -f "$f" -s "$SOCK2" || fail "obj del duo"
kill -TERM "$ns"; wait "$ns" || fail "the second etmemd exited $?"
[ "$nr_fail" = 0 ] || exit 1
echo "all checks passed"
