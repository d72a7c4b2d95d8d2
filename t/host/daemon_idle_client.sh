#!/bin/bash
# A client that connects and sends nothing neither blocks other clients
# nor keeps its connection: etmemd drops it after 30 s.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-idle-$$
daemon_start "$SOCK" || exit 1
python3 - "$SOCK" >"$WORK/idle.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("/run/etmem/" + sys.argv[1])
s.sendall(b"etm")		# a partial header, then silence
start = time.time()
s.settimeout(60)
data = s.recv(100)
print("closed after %.0f s, %d bytes" % (time.time() - start, len(data)))
PY
idle=$!
sleep 1
"$ETMEM" project show -s "$SOCK" >/dev/null && pass "other clients are served meanwhile" ||
	fail "project show blocked by an idle client"
wait "$idle"
cat "$WORK/idle.out"
secs=$(sed -n 's/closed after \([0-9]*\) s.*/\1/p' "$WORK/idle.out")
[ -n "$secs" ] && [ "$secs" -ge 29 ] && [ "$secs" -le 40 ] && pass "idle client dropped after $secs s" ||
	fail "idle client: '$(cat "$WORK/idle.out")'"
daemon_stop
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
