#!/bin/bash
# The control socket against a hostile local user, one row per fault:
# an impostor that binds the name first gets nothing (not one byte, not
# the config file's descriptor) and etmem exits non-zero naming its uid;
# a non-root etmemd refuses to run; SIGHUP does not kill etmemd; names
# whose pid files used to collide (a/b, a_b) run side by side; one
# daemon per name; the socket directory and socket are root's only.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# --- impostor on an abstract name: etmem must not talk to it ---
# It accepts clients, records what arrives (bytes and descriptors) and
# answers with a valid-looking reply full of escape sequences.
impostor() { # impostor NAME OUTFILE
	"${NOBODY[@]}" /usr/bin/python3 - "$1" >"$2" 2>&1 <<'PY' &
import array, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1])
s.listen(8)
print("listening", flush=True)
s.settimeout(20)
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.settimeout(1.5)
    got, fds = 0, 0
    try:
        while True:
            data, anc, flags, addr = c.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    fds += len(cdata) // 4
            if not data:
                break
            got += len(data)
    except socket.timeout:
        pass
    text = b"\x1b[2J\x1b]0;owned\x07pwned"
    try:
        c.sendall(struct.pack("=IHHiI", 0x65746d64, 1, 0, 0, len(text)) + text)
    except OSError:
        pass
    c.close()
    print("client: %d bytes, %d fds" % (got, fds), flush=True)
PY
}

IMP=etmem-impostor-$$
impostor "$IMP" "$WORK/impostor.out"
OTHER_PIDS+=($!)
for i in $(seq 100); do grep -q listening "$WORK/impostor.out" && break; sleep 0.05; done
grep -q listening "$WORK/impostor.out" || { fail "impostor: $(cat "$WORK/impostor.out")"; exit 1; }
f=$(slide_conf imp pid 1 | conf imp.conf)

# impostor_row NAME CMD...: etmem refuses, exits non-zero, names uid 65534,
# prints none of the impostor's text, and the impostor got nothing.
impostor_row() {
	local name=$1 before rc
	shift
	before=$(grep -c "^client:" "$WORK/impostor.out")
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	for i in $(seq 100); do
		[ "$(grep -c "^client:" "$WORK/impostor.out")" -gt "$before" ] && break
		sleep 0.05
	done
	last=$(grep "^client:" "$WORK/impostor.out" | tail -n 1)
	if [ "$rc" = 0 ]; then
		fail "$name: exit 0"
	elif ! grep -q "served by uid 65534 .*not by root.*nothing was sent" "$WORK/err"; then
		fail "$name: stderr '$(cat "$WORK/err")'"
	elif grep -q "pwned" "$WORK/out" "$WORK/err" || grep -q $'\x1b' "$WORK/out" "$WORK/err"; then
		fail "$name: the impostor's text was printed"
	elif [ "$last" != "client: 0 bytes, 0 fds" ]; then
		fail "$name: the impostor received '$last'"
	else
		pass "$name: exit $rc, impostor got nothing: $(cat "$WORK/err")"
	fi
}
impostor_row "impostor: obj add" "$ETMEM" obj add -f "$f" -s "@$IMP"
impostor_row "impostor: obj del" "$ETMEM" obj del -f "$f" -s "@$IMP"
impostor_row "impostor: project show -j" "$ETMEM" project show -j -s "@$IMP"
impostor_row "impostor: project start" "$ETMEM" project start -n imp -s "@$IMP"
impostor_row "impostor: engine" "$ETMEM" engine showtaskpages -n imp -e cslide -s "@$IMP"

# --- etmemd itself must be root ---
out=$("${NOBODY[@]}" "$ETMEMD" -s "etmem-nonroot-$$" 2>&1)
rc=$?
if [ "$rc" != 0 ] && grep -q "etmemd: must run as root (effective uid is 65534)" <<<"$out" &&
	[ ! -e "/run/etmem/etmem-nonroot-$$" ]; then
	pass "non-root etmemd refuses: $out"
else
	fail "non-root etmemd: rc $rc, '$out'"
fi
"${NOBODY[@]}" "$ETMEMD" -h >/dev/null && pass "non-root etmemd -h still prints help" ||
	fail "non-root etmemd -h"

# --- the socket directory and the socket are root's only ---
SOCK=etmem-test-sec-$$
daemon_start "$SOCK" -l 0 || exit 1
# 0700, or 0711 once a daemon with -g GROUP ran: never readable or
# writable by anyone but root.
st=$(stat -c '%a %U %F' /run/etmem)
case $st in
"700 root directory" | "711 root directory") pass "/run/etmem: $st" ;;
*) fail "/run/etmem is '$st'" ;;
esac
st=$(stat -c '%a %U %F' "/run/etmem/$SOCK")
[ "$st" = "600 root socket" ] && pass "socket file: $st" || fail "socket file is '$st'"

# --- SIGHUP is ignored ---
kill -HUP "$DAEMON_PID"
sleep 0.2
if kill -0 "$DAEMON_PID" 2>/dev/null && "$ETMEM" project show -s "$SOCK" >/dev/null; then
	pass "SIGHUP: etmemd still runs and answers"
else
	fail "SIGHUP killed etmemd"
fi
grep -q "SIGHUP ignored" "$WORK/etmemd-$SOCK.log" && pass "SIGHUP: logged as ignored" ||
	fail "SIGHUP: not in the log"

# --- one daemon per name, also for an abstract name ---
out=$("$ETMEMD" -s "$SOCK" 2>&1)
grep -q "another etmemd uses this name" <<<"$out" && pass "second daemon on $SOCK refused" ||
	fail "second daemon on $SOCK: '$out'"
"$ETMEM" project show -s "$SOCK" >/dev/null && pass "first daemon unaffected" ||
	fail "first daemon lost its socket"
daemon_stop
[ -e "/run/etmem/$SOCK" ] && fail "socket file left behind" || pass "socket file removed at exit"
[ -e "/run/etmem/.$SOCK.lock" ] && fail "lock file left behind" || pass "lock file removed at exit"

# A stale socket file (a daemon that was killed) does not stop a new one.
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "/run/etmem/$SOCK"
daemon_start "$SOCK" && pass "a stale socket file is replaced" || fail "stale socket file blocks the start"
daemon_stop

# A file under the name that is not a socket is left alone.
echo keep >"/run/etmem/$SOCK-file"
out=$("$ETMEMD" -s "$SOCK-file" 2>&1)
rc=$?
if [ "$rc" != 0 ] && grep -q "/run/etmem/$SOCK-file exists and is not a socket" <<<"$out" &&
	[ "$(cat "/run/etmem/$SOCK-file")" = keep ]; then
	pass "a regular file under the name is refused and kept: $out"
else
	fail "regular file under the name: rc $rc, '$out'"
fi
[ -e "/run/etmem/.$SOCK-file.lock" ] && fail "a failed start left its lock file" ||
	pass "a failed start removes its lock file"
rm -f "/run/etmem/$SOCK-file"

# An abstract name: root's etmemd serves root, refuses others with a reason.
daemon_start "@$SOCK" || exit 1
out=$("${NOBODY[@]}" "$ETMEM" project show -s "@$SOCK" 2>&1)
rc=$?
[ "$rc" != 0 ] && grep -q "etmem project show: permission denied: etmemd serves root only (client uid 65534)" <<<"$out" &&
	pass "abstract socket: non-root client refused: $out" || fail "abstract, non-root: rc $rc '$out'"
daemon_stop

# --- pid files: a/b and a_b no longer share one ---
A="etmem-pid/x-$$" B="etmem-pid_x-$$"
for n in "$A" "$B"; do
	out=$("$ETMEMD" -s "$n" -m 2>&1) || fail "etmemd -m -s $n: $out"
done
pa=$(cat "/run/etmemd-etmem-pid%2Fx-$$.pid" 2>/dev/null)
pb=$(cat "/run/etmemd-etmem-pid_x-$$.pid" 2>/dev/null)
DAEMON_PIDS+=($pa $pb)
if [ -n "$pa" ] && [ -n "$pb" ] && [ "$pa" != "$pb" ] && kill -0 "$pa" && kill -0 "$pb" &&
	"$ETMEM" project show -s "$A" >/dev/null && "$ETMEM" project show -s "$B" >/dev/null; then
	pass "-s $A and -s $B: two pid files ($pa, $pb), both answer"
else
	fail "pid files of $A / $B: '$pa' '$pb'"
fi
kill -TERM $pa $pb
for i in $(seq 100); do kill -0 $pa 2>/dev/null || kill -0 $pb 2>/dev/null || break; sleep 0.05; done
ls /run/etmemd-etmem-pid* >/dev/null 2>&1 && fail "pid files left: $(ls /run/etmemd-etmem-pid*)" ||
	pass "both pid files removed at exit"

echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
