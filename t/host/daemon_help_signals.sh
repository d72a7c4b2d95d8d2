#!/bin/bash
# The help texts the documentation promises (etmem help, obj/project/
# engine help, etmemd -h) name every command and option; SIGINT stops a
# daemon with a started project as cleanly as SIGTERM: exit 0, socket gone.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

# help_has NAME CMD... -- WORD...: CMD exits 0 and prints every WORD.
help_has() {
	local name=$1 out w missing=
	shift
	local cmd=()
	while [ "$1" != -- ]; do cmd+=("$1"); shift; done
	shift
	if ! out=$("${cmd[@]}" 2>&1); then
		fail "$name: exit status not 0"
		return
	fi
	for w in "$@"; do
		grep -qF -- "$w" <<<"$out" || missing="$missing '$w'"
	done
	if [ -n "$missing" ]; then fail "$name lacks$missing"; else pass "$name"; fi
}

help_has "etmem help" "$ETMEM" help -- "obj add|del" "project start|stop" "project show" \
	"engine CMD" "-s SOCKET" "monitor"
help_has "etmem obj help" "$ETMEM" obj help -- "add|del" "-f|--file" "-s|--socket" "0600" "10 MiB"
help_has "etmem project help" "$ETMEM" project help -- "start|stop" "show" "-n|--name" \
	"-s|--socket" "-j|--json"
help_has "etmem engine help" "$ETMEM" engine help -- "-n|--proj_name" "-e|--engine" \
	"-t|--task_name" "-s|--socket"
help_has "etmem metrics help" "$ETMEM" metrics help -- "-n|--name" "-s|--socket" "Prometheus"
help_has "etmem monitor help" "$ETMEM" monitor help -- "-n COUNT" "-t SECONDS" "-x"
out=$("$ETMEM" metrics bogus 2>&1)
[ "$out" = "etmem metrics: unexpected argument 'bogus'" ] && pass "etmem metrics: one prefix ($out)" ||
	fail "etmem metrics bogus said '$out'"
out=$("$ETMEMD" -s "etmem-test-mi-$$" --metrics-interval 5 2>&1)
rc=$?
[ "$rc" = 2 ] && grep -q "give --metrics-file PATH too" <<<"$out" &&
	pass "etmemd --metrics-interval alone is refused ($out)" || fail "--metrics-interval alone: exit $rc, '$out'"
# A metrics file that cannot be written: the start fails with GLib's
# reason naming the file, and leaves no socket, lock or pid file.
ms="etmem-test-mf-$$"
for mode in "" -m; do
	out=$(timeout 20 "$ETMEMD" -s "$ms" -c '' $mode --metrics-file "$WORK/no-such-dir/etmem.prom" 2>&1)
	rc=$?
	left=$(ls -a /run/etmem/"$ms" /run/etmem/."$ms".lock /run/etmemd-"$ms".pid 2>/dev/null)
	[ "$rc" = 1 ] && grep -q "cannot write the metrics file $WORK/no-such-dir/etmem.prom: .*No such file or directory" <<<"$out" &&
		[ -z "$left" ] && pass "etmemd ${mode:+$mode }with an unwritable metrics file fails saying why ($out), leaving nothing" ||
		fail "etmemd ${mode:+$mode }--metrics-file in a missing directory: exit $rc, '$out', left: $left"
done
out=$("$ETMEM" metrics -s "etmem-test-none-$$" 2>&1)
grep -q "^etmem metrics: cannot reach etmemd on socket" <<<"$out" &&
	pass "etmem metrics names itself when no daemon listens" || fail "etmem metrics without a daemon: '$out'"
help_has "etmemd -h" "$ETMEMD" -h -- "-s|--socket" "-l|--log-level" "-m|--mode-systemctl" \
	"-g|--group" "-h|--help" "0 debug" "3 error" "/run/etmem/FILE" "@NAME" "written %XX" "must run as root" \
	"SIGHUP re-reads" "-c|--config-dir" "-V|--version" "--metrics-file"
help_has "etmem help: sockets and options" "$ETMEM" help -- "/run/etmem/SOCKET" "@NAME" \
	"served by root" "Each option may be given once"
if "$ETMEM" >/dev/null 2>"$WORK/err"; then
	fail "etmem without a command exits 0"
elif grep -q "Usage: etmem COMMAND" "$WORK/err"; then
	pass "etmem without a command: usage on stderr, non-zero exit"
else
	fail "etmem without a command: stderr '$(cat "$WORK/err")'"
fi

SOCK=etmem-test-sigint-$$
daemon_start "$SOCK" -l 0 || exit 1
f=$(slide_conf sig pid $$ | conf sig.conf)
"$ETMEM" obj add -f "$f" -s "$SOCK" >/dev/null || fail "obj add"
"$ETMEM" project start -n sig -s "$SOCK" >/dev/null || fail "project start"
kill -INT "$DAEMON_PID"
wait "$DAEMON_PID"
rc=$?
[ "$rc" = 0 ] && pass "SIGINT: etmemd exits 0" || fail "SIGINT: etmemd exited with $rc"
if "$ETMEM" project show -s "$SOCK" >/dev/null 2>&1; then
	fail "SIGINT: the socket still answers"
else
	pass "SIGINT: the socket is gone"
fi
grep -qi "stopp\|exit" "$WORK/etmemd-$SOCK.log" && pass "SIGINT: the log says it stops" ||
	fail "SIGINT: log: $(tail -n 3 "$WORK/etmemd-$SOCK.log")"
[ "$nr_fail" = 0 ]
