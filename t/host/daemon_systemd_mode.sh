#!/bin/bash
# etmemd -m: the parent exits 0 only once the socket accepts requests, the
# pid file holds the child's pid, SIGTERM removes it, and systemd accepts
# the shipped unit. Several daemons with different names coexist.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-m-$$
PIDFILE=/run/etmemd-$SOCK.pid

"$ETMEMD" -l 1 -s "$SOCK" -m
rc=$?
[ "$rc" = 0 ] || fail "etmemd -m exited with $rc"
# No retry: the socket must accept right after the parent returned.
"$ETMEM" project show -s "$SOCK" >"$WORK/show" 2>&1 || fail "socket not ready after -m returned: $(cat "$WORK/show")"
pid=$(cat "$PIDFILE" 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
	fail "pid file $PIDFILE does not name a live process ('$pid')"
else
	DAEMON_PIDS+=("$pid")
	[ "$(cat /proc/$pid/comm)" = etmemd ] || fail "pid $pid is $(cat /proc/$pid/comm), not etmemd"
	pass "pid file holds etmemd's pid $pid"
fi

# A second daemon under another name runs side by side.
daemon_start "$SOCK-2" || fail "second daemon did not start"
"$ETMEM" project show -s "$SOCK" >/dev/null && "$ETMEM" project show -s "$SOCK-2" >/dev/null ||
	fail "two daemons do not coexist"
daemon_stop

# A failing -m start reports the reason and exits non-zero.
out=$("$ETMEMD" -s "$SOCK" -m 2>&1)
rc=$?
if [ "$rc" = 0 ] || ! grep -q "Address already in use" <<<"$out"; then
	fail "second etmemd -m on the same name: rc $rc, '$out'"
else
	pass "etmemd -m on a taken name: $out"
fi

kill -TERM "$pid"
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "etmemd $pid still running after SIGTERM"
[ -e "$PIDFILE" ] && fail "pid file $PIDFILE left behind"
"$ETMEM" project show -s "$SOCK" >/dev/null 2>&1 && fail "socket still answers after SIGTERM"

# The shipped unit, pointed at this build's binary.
mkdir -p "$WORK/unit"
sed "s|^ExecStart=[^ ]*|ExecStart=$ETMEMD|" "$TOP/etc/etmem/etmemd.service" >"$WORK/unit/etmemd.service"
if systemd-analyze verify "$WORK/unit/etmemd.service" >"$WORK/verify" 2>&1; then
	pass "systemd-analyze verify accepts etc/etmem/etmemd.service"
else
	fail "systemd-analyze verify: $(cat "$WORK/verify")"
fi
grep -q '^Type=forking' "$TOP/etc/etmem/etmemd.service" && grep -q -- ' -m$' "$TOP/etc/etmem/etmemd.service" ||
	fail "unit is not Type=forking with -m"
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
