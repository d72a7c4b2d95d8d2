#!/bin/bash
# Descriptors: every descriptor a request carries is used or closed (extra
# ones are refused, and the daemon's descriptor count is unchanged after
# hundreds of such requests); out of descriptors, etmemd backs off instead
# of spinning, logs it once, tells refused clients why, and serves again
# once descriptors are free.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

nfds() { ls "/proc/$1/fd" | wc -l; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

SOCK=etmem-test-fds-$$
daemon_start "$SOCK" || exit 1
f=$(slide_conf fds pid 1 | conf fds.conf)
before=$(nfds "$DAEMON_PID")

# raw ROWS: each row "CMD NFDS SPLIT REPEAT EXPECT": send REPEAT requests
# of command CMD (1 obj add, 5 project show) carrying NFDS descriptors of
# the config file, all with the header or (SPLIT=1) one more with the
# payload; print one line per row with the replies seen.
python3 - "/run/etmem/$SOCK" "$f" >"$WORK/raw.out" 2>&1 <<'PY'
import os, socket, struct, sys
path, conf = sys.argv[1], sys.argv[2]
rows = [
    # cmd, fds with header, fds with payload, repeat, expected text
    (5, 2, 0, 100, "at most one descriptor (this one carried 2)"),
    (5, 3, 0, 100, "at most one descriptor (this one carried 3)"),
    (1, 2, 0, 50, "at most one descriptor (this one carried 2)"),
    (1, 1, 1, 50, "at most one descriptor (this one carried 2)"),
    (1, 0, 1, 1, "added project fds"),   # one descriptor, sent with the payload: used
    (5, 1, 0, 50, "the request takes no file descriptor"),  # closed
    (5, 8, 0, 20, "at most one descriptor (this one carried 8)"),
    (5, 0, 0, 1, "this one carried"),   # placeholder, replaced below
]
rows[-1] = (5, 250, 0, 20, "at most one descriptor (this one carried more than 8)")
for cmd, nh, np_, repeat, want in rows:
    payload = b"file=" + conf.encode() + b"\0" if cmd == 1 else b""
    seen = {}
    for _ in range(repeat):
        fds = [os.open(conf, os.O_RDONLY) for _ in range(max(nh, np_))]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        hdr = struct.pack("=IHHII", 0x65746d64, 1, cmd, 0, len(payload))
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % nh, *fds[:nh]))] if nh else []
        s.sendmsg([hdr], anc)
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % np_, *fds[:np_]))] if np_ else []
        if payload:
            s.sendmsg([payload], anc)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        for fd in fds:
            os.close(fd)
        magic, ver, res, status, ln = struct.unpack("=IHHiI", data[:16])
        text = data[16:16 + ln].decode(errors="replace").strip().splitlines()
        key = "%d %s" % (status, text[0] if text else "")
        seen[key] = seen.get(key, 0) + 1
    print("row cmd=%d fds=%d+%d x%d want '%s': %s" % (cmd, nh, np_, repeat, want, seen))
PY
cat "$WORK/raw.out"
while read -r line; do
	want=$(sed -n "s/.* want '\([^']*\)'.*/\1/p" <<<"$line")
	got=$(sed 's/.*: {//' <<<"$line")
	if [ "$(grep -o "': [0-9]*" <<<"$got" | wc -l)" = 1 ] && grep -qF -- "$want" <<<"$got"; then
		pass "${line%%:*}"
	else
		fail "$line"
	fi
done < <(grep '^row' "$WORK/raw.out")
[ "$(grep -c '^row' "$WORK/raw.out")" = 8 ] || fail "raw requests: $(tail -n 5 "$WORK/raw.out")"
"$ETMEM" obj del -f "$f" -s "$SOCK" >/dev/null 2>&1
after=$(nfds "$DAEMON_PID")
[ "$before" = "$after" ] && pass "descriptors after 391 requests with descriptors: $after (before $before)" ||
	fail "descriptors: $before before, $after after: $(ls -l /proc/$DAEMON_PID/fd | tail -n 5)"
daemon_stop

# --- out of descriptors: back off, log once, recover ---
SOCK=etmem-test-emfile-$$
daemon_start "$SOCK" -l 0 || exit 1
prlimit --pid "$DAEMON_PID" --nofile=40:40 || fail "prlimit"
python3 - "/run/etmem/$SOCK" >"$WORK/flood.out" 2>&1 <<'PY' &
import socket, sys, time
held = []
for i in range(120):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    held.append(s)
print("holding %d" % len(held), flush=True)
time.sleep(3)
refused = 0
for s in held:
    s.setblocking(False)
    try:
        if b"out of file descriptors" in s.recv(200):
            refused += 1
    except OSError:
        pass
print("told why: %d" % refused, flush=True)
time.sleep(30)
PY
flood=$!
OTHER_PIDS+=($flood)
for i in $(seq 100); do grep -q holding "$WORK/flood.out" && break; sleep 0.05; done
sleep 0.5
t0=$(cpu_ticks "$DAEMON_PID")
sleep 2
t1=$(cpu_ticks "$DAEMON_PID")
ticks=$((t1 - t0))
[ "$ticks" -le 20 ] && pass "out of descriptors: etmemd used $ticks ticks of CPU in 2 s" ||
	fail "out of descriptors: etmemd used $ticks ticks of CPU in 2 s (spinning)"
for i in $(seq 100); do grep -q "told why" "$WORK/flood.out" && break; sleep 0.05; done
told=$(sed -n 's/told why: //p' "$WORK/flood.out")
[ "${told:-0}" -ge 1 ] && pass "$told refused clients were told why" || fail "flood: $(cat "$WORK/flood.out")"
# Still holding the clients: one line for the whole episode.
n=$(grep -c "refusing clients" "$WORK/etmemd-$SOCK.log")
[ "$n" = 1 ] && pass "one log line while out of descriptors" || fail "$n log lines about refusing clients"
kill "$flood"
wait "$flood" 2>/dev/null
ok=
for i in $(seq 60); do
	"$ETMEM" project show -s "$SOCK" >/dev/null 2>&1 && { ok=1; break; }
	sleep 0.1
done
[ -n "$ok" ] && pass "served again once the clients left" || fail "no service after the flood"
grep -q "accepting clients" "$WORK/etmemd-$SOCK.log" && pass "the log says when it accepts again" ||
	fail "no 'accepting clients' line"
daemon_stop
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
