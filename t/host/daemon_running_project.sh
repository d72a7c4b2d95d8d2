#!/bin/bash
# While a project runs: 50 parallel "project show" requests are all
# answered; type=name finds a process and its children; a type=pid task
# notices its process exiting; SIGTERM stops everything with exit 0.
# (On this host the kernel modules are absent, so scans fail and are
# reported; the VM tests cover paging out.)
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-run-$$
daemon_start "$SOCK" -l 0 || exit 1

# A process tree: a parent named etmtree with two children.
printf '#!/bin/sh\nsleep 300 &\nsleep 300 &\nwait\n' >"$WORK/etmtree"
chmod 755 "$WORK/etmtree"
"$WORK/etmtree" &
tree=$!
sleep 300 &
lone=$!
OTHER_PIDS+=("$tree" "$lone")

f=$(slide_conf byname name etmtree | conf byname.conf)
g=$(slide_conf bypid pid "$lone" | conf bypid.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK" >/dev/null || fail "obj add byname"
"$ETMEM" obj add -f "$g" -s "$SOCK" >/dev/null || fail "obj add bypid"
"$ETMEM" project start -n byname -s "$SOCK" >/dev/null || fail "project start byname"
"$ETMEM" project start -n bypid -s "$SOCK" >/dev/null || fail "project start bypid"

procs() { # procs PROJECT: processes found by its task
	show_json "$SOCK" "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][0]["tasks"][0]["processes"])'
}
note() {
	show_json "$SOCK" "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][0]["tasks"][0]["note"])'
}
# The children may appear after the first cycle looked (a slow VM): poll.
for i in $(seq 80); do
	n=$(procs byname)
	[ "$n" = 3 ] && break
	sleep 0.25
done
[ "$n" = 3 ] && pass "type=name found etmtree and its 2 children" || fail "type=name found $n processes, want 3"

# 50 clients at once, while both projects cycle.
clients=()
for i in $(seq 50); do
	( "$ETMEM" project show -s "$SOCK" >"$WORK/show.$i" 2>&1; echo $? >"$WORK/rc.$i" ) &
	clients+=($!)
done
wait "${clients[@]}"
answered=0
for i in $(seq 50); do
	[ "$(cat "$WORK/rc.$i" 2>/dev/null)" = 0 ] && grep -q 'project byname: started' "$WORK/show.$i" &&
		answered=$((answered + 1))
done
[ "$answered" = 50 ] && pass "50 parallel project show answered" || fail "only $answered of 50 parallel shows answered"

# The pid's process exits: the task says so and waits.
kill "$lone"; wait "$lone" 2>/dev/null
for i in $(seq 40); do
	note bypid | grep -q exited && break
	sleep 0.25
done
note bypid | grep -q "exited" && pass "type=pid: $(note bypid)" || fail "type=pid note: '$(note bypid)'"
[ "$(procs bypid)" = 0 ] || fail "type=pid still counts a process after it exited"

# Children exit: the next cycle sees only the parent... then nobody.
pkill -P "$tree" sleep 2>/dev/null; kill "$tree" 2>/dev/null; wait "$tree" 2>/dev/null
for i in $(seq 40); do
	[ "$(procs byname)" = 0 ] && break
	sleep 0.25
done
note byname | grep -q "waiting for a process named 'etmtree'" && pass "type=name: $(note byname)" ||
	fail "type=name note: '$(note byname)'"

# Adding a task to a started project starts it; deleting stops it.
h=$(printf '[task]\nproject=bypid\nengine=slide\nname=late\ntype=pid\nvalue=1\nT=1\n' | conf late.conf)
"$ETMEM" obj add -f "$h" -s "$SOCK" >/dev/null || fail "adding a task to a started project"
show_json "$SOCK" bypid | python3 -c '
import json,sys
t=[t for t in json.load(sys.stdin)["projects"][0]["tasks"] if t["name"]=="late"][0]
sys.exit(0 if t["started"] else 1)' && pass "task added to a started project runs" || fail "late task not started"
"$ETMEM" obj del -f "$g" -s "$SOCK" >/dev/null || fail "obj del of a started project"
"$ETMEM" project show -n bypid -s "$SOCK" >/dev/null 2>&1 && fail "project bypid still there after obj del"

daemon_stop

# An etmemd that cannot read a process's /proc/PID/fd cannot tell whether
# it runs a KVM guest: it refuses the process (fails closed) and says why,
# instead of taking a guest's RAM for idle. Here: no CAP_DAC_READ_SEARCH,
# CAP_DAC_OVERRIDE or CAP_SYS_PTRACE, and a process of nobody.
nocaps="setpriv --bounding-set -dac_read_search,-dac_override,-sys_ptrace"
printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$nocaps" "$BUILD/etmemd/etmemd" >"$WORK/etmemd-nocaps"
chmod 755 "$WORK/etmemd-nocaps"
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 300 &
theirs=$!
$nocaps sleep 300 &
ours=$!
OTHER_PIDS+=("$theirs" "$ours")
ETMEMD=$WORK/etmemd-nocaps daemon_start "$SOCK-nocaps" -l 0 || exit 1
"$ETMEM" obj add -f "$(slide_conf theirs pid "$theirs" | conf theirs.conf)" -s "$SOCK-nocaps" >/dev/null &&
	"$ETMEM" project start -n theirs -s "$SOCK-nocaps" >/dev/null || fail "start project theirs"
"$ETMEM" obj add -f "$(slide_conf ours pid "$ours" | conf ours.conf)" -s "$SOCK-nocaps" >/dev/null &&
	"$ETMEM" project start -n ours -s "$SOCK-nocaps" >/dev/null || fail "start project ours"
SOCK=$SOCK-nocaps
want="1 process(es) refused, e.g. $theirs: cannot tell whether it runs a KVM guest: /proc/$theirs/fd: Permission denied (another user's process needs CAP_DAC_READ_SEARCH, one with more capabilities CAP_SYS_PTRACE)"
for i in $(seq 40); do
	[ "$(note theirs)" = "$want" ] && break
	sleep 0.25
done
[ "$(note theirs)" = "$want" ] && pass "unreadable /proc/PID/fd: refused: $(note theirs)" ||
	fail "unreadable /proc/PID/fd: note '$(note theirs)', want '$want'"
[ "$(procs theirs)" = 0 ] || fail "the unchecked process is counted: $(procs theirs)"
grep -q "process refused, $theirs: cannot tell whether it runs a KVM guest" "$WORK/etmemd-$SOCK.log" &&
	pass "and logged" || fail "not logged: $(tail -n 3 "$WORK/etmemd-$SOCK.log")"
# A process of its own user with more capabilities: the directory lists
# (same user), but its links pass the ptrace check, which needs
# CAP_SYS_PTRACE: refused the same way, not taken for no guest.
sleep 300 &
full=$!
OTHER_PIDS+=("$full")
"$ETMEM" obj add -f "$(slide_conf full pid "$full" | conf full.conf)" -s "$SOCK" >/dev/null &&
	"$ETMEM" project start -n full -s "$SOCK" >/dev/null || fail "start project full"
want="1 process(es) refused, e.g. $full: cannot tell whether it runs a KVM guest: /proc/$full/fd: Permission denied"
for i in $(seq 40); do
	note full | grep -qF "$want" && break
	sleep 0.25
done
note full | grep -qF "$want" && pass "unreadable links in /proc/PID/fd: refused: $(note full)" ||
	fail "unreadable links: note '$(note full)', want '$want ...'"
# The same daemon reads the fd directory of a process with its own caps.
for i in $(seq 40); do
	[ "$(procs ours)" = 1 ] && break
	sleep 0.25
done
[ "$(procs ours)" = 1 ] && pass "a process whose /proc/PID/fd it can read is checked and kept" ||
	fail "process ours: $(procs ours) found, note '$(note ours)'"
daemon_stop
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
