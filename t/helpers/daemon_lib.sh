# Shell functions for tests that run the real etmemd (host and VM).
# Source it; it sets TOP, ETMEM, ETMEMD, and a scratch directory WORK
# removed on exit (with any daemon started by daemon_start).

TOP=${ETMEM_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
ETMEM=$BUILD/etmem/etmem
ETMEMD=$BUILD/etmemd/etmemd
WORK=$(mktemp -d /tmp/etmem-test.XXXXXX)
chmod 755 "$WORK"
DAEMON_PIDS=()
OTHER_PIDS=()	# workloads to kill on exit
nr_fail=0

daemon_cleanup() {
	local pid
	for pid in "${OTHER_PIDS[@]}"; do
		pkill -P "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	for pid in "${DAEMON_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap daemon_cleanup EXIT

fail() {
	echo "FAIL: $*"
	nr_fail=$((nr_fail + 1))
}

pass() {
	echo "ok: $*"
}

# daemon_start SOCKET [extra etmemd args]: starts etmemd in the background,
# waits until it answers; sets DAEMON_PID. No configuration directory
# unless the arguments give one (-c DIR): the host's /etc stays out.
daemon_start() {
	local sock=$1 i a conf=(-c '')
	shift
	for a in "$@"; do
		case $a in -c|--config-dir|--config-dir=*) conf=() ;; esac
	done
	"$ETMEMD" -s "$sock" "${conf[@]}" "$@" >"$WORK/etmemd-$sock.log" 2>&1 &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	# Up to 30 s: under TCG on a busy host the first start is slow.
	for i in $(seq 600); do
		"$ETMEM" project show -s "$sock" >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "etmemd -s $sock did not come up:"
	cat "$WORK/etmemd-$sock.log"
	return 1
}

# daemon_stop: SIGTERM, expect exit 0.
daemon_stop() {
	local rc
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	rc=$?
	[ "$rc" = 0 ] || fail "etmemd exited with $rc after SIGTERM"
}

# conf NAME: writes stdin to $WORK/NAME with mode 0600, prints the path.
conf() {
	cat >"$WORK/$1"
	chmod 600 "$WORK/$1"
	echo "$WORK/$1"
}

# slide_conf PROJECT TYPE VALUE [extra task lines...]: a full slide file.
slide_conf() {
	local proj=$1 type=$2 value=$3
	shift 3
	printf '[project]\nname=%s\nloop=2\ninterval=1\nsleep=1\n' "$proj"
	printf '%s\n' "${PROJECT_EXTRA[@]}"
	printf '\n[engine]\nname=slide\nproject=%s\n' "$proj"
	printf '\n[task]\nproject=%s\nengine=slide\nname=task1\ntype=%s\nvalue=%s\nT=1\n' \
		"$proj" "$type" "$value"
	printf '%s\n' "$@"
}

# show_json SOCKET [NAME]: project show -j
show_json() {
	if [ -n "${2:-}" ]; then
		"$ETMEM" project show -s "$1" -n "$2" -j
	else
		"$ETMEM" project show -s "$1" -j
	fi
}
