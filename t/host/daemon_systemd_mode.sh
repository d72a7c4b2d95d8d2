#!/bin/bash
# etmemd -m: the parent exits 0 only once the socket accepts requests, the
# pid file holds the child's pid, SIGTERM removes it. Several daemons with
# different names coexist. systemd accepts the shipped unit (Type=notify,
# reload, modprobe, man pages found) and its sandbox scores at most 4.5.
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

# The shipped unit, pointed at this build's binary: systemd accepts it,
# it is Type=notify with a reload, and its sandbox scores 4.5 or lower.
mkdir -p "$WORK/unit"
sed "s|^ExecStart=[^ ]*|ExecStart=$ETMEMD|" "$TOP/etc/etmem/etmemd.service" >"$WORK/unit/etmemd.service"
mkdir -p "$WORK/man/man5" "$WORK/man/man8"
for m in "$TOP"/man/*.[58]; do cp "$m" "$WORK/man/man${m##*.}/"; done
if MANPATH=$WORK/man systemd-analyze verify "$WORK/unit/etmemd.service" >"$WORK/verify" 2>&1; then
	pass "systemd-analyze verify accepts etc/etmem/etmemd.service (and finds its man pages)"
else
	fail "systemd-analyze verify: $(cat "$WORK/verify")"
fi
grep -q '^Type=notify$' "$TOP/etc/etmem/etmemd.service" &&
	grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$TOP/etc/etmem/etmemd.service" &&
	grep -q '^ExecStartPre=+/sbin/modprobe etmem_swap$' "$TOP/etc/etmem/etmemd.service" ||
	fail "unit is not Type=notify with ExecReload and the modprobe"
score=$(systemd-analyze security --offline=true "$WORK/unit/etmemd.service" 2>&1 |
	sed -n 's/.*Overall exposure level for etmemd.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 4.5) }'; then
	pass "systemd-analyze security: exposure $score (at most 4.5)"
else
	fail "systemd-analyze security: exposure '$score', want at most 4.5"
fi
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
