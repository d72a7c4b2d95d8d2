#!/bin/bash
# Tables of inputs that used to be accepted quietly or printed raw:
# names (character set, length in characters), configuration text,
# raw protocol requests (limits, flags, arguments), command-line
# mistakes of etmem and etmemd, and the -g group's read-only access.
# Each row checks the exit code and the message; rows that must fail
# also check that the daemon's state is unchanged and that it still runs.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-rules-$$
daemon_start "$SOCK" -l 0 || exit 1
base=$(slide_conf base pid 1 | conf base.conf)
"$ETMEM" obj add -f "$base" -s "$SOCK" >/dev/null || { echo "baseline add failed"; exit 1; }

# row NAME WANT CMD...: CMD fails, stderr has WANT, no escape byte or
# invalid UTF-8 reaches stderr/stdout, state unchanged, daemon alive.
row() {
	local name=$1 want=$2 before after rc
	shift 2
	before=$(show_json "$SOCK")
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	after=$(show_json "$SOCK")
	if [ "$rc" = 0 ]; then
		fail "$name: exit 0 (stdout: $(head -c 300 "$WORK/out"))"
	elif ! grep -qF -- "$want" "$WORK/err"; then
		fail "$name: stderr '$(head -c 600 "$WORK/err")' lacks '$want'"
	elif LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$WORK/out" "$WORK/err" ||
		! iconv -f UTF-8 -t UTF-8 "$WORK/err" >/dev/null 2>&1; then
		fail "$name: a control byte or invalid UTF-8 was printed"
	elif [ "$before" != "$after" ]; then
		fail "$name: daemon state changed"
	elif ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		fail "$name: etmemd died"
		exit 1
	else
		pass "$name: rc $rc: $(head -c 200 "$WORK/err" | head -n 1)"
	fi
}

# --- names and configuration text (obj add) ---
P='[project]\nname=%s\nloop=2\ninterval=1\nsleep=1\n'
name_file() { printf "$P" "$2" | conf "$1.conf"; }
e64=$(printf 'é%.0s' $(seq 64)); e65=$(printf 'é%.0s' $(seq 65))
long5000=$(printf 'x%.0s' $(seq 5000))
file_row() { # file_row NAME WANT PROJECT-NAME
	local f
	f=$(name_file "$1" "$3")
	row "$1" "$2" "$ETMEM" obj add -f "$f" -s "$SOCK"
}
file_row name_escape "has the control character U+001B in column 7" $'a\e[2Jb'
file_row name_bell "has the control character U+0007" $'a\ab'
file_row name_invalid_utf8 "byte 0xFF in column 7 is not valid UTF-8" $'a\xffb'
file_row name_overlong_utf8 "byte 0xC0 in column 6 is not valid UTF-8" $'\xc0\xafx'
file_row name_65_e_acute "name='$e65' must be 1 to 64 characters long (it has 65)" "$e65"
file_row name_rlo "has a non-printable character U+202E at character 2" $'a\u202eb'
file_row name_zero_width "has a non-printable character U+200B" $'a\u200bb'
file_row name_5000 "must be 1 to 64 characters long (it has 5000)" "$long5000"
if grep -q "$long5000" "$WORK/err"; then fail "a 5000-character name is echoed whole"; else
	pass "a 5000-character name is not echoed whole ($(wc -c <"$WORK/err") bytes)"; fi
f=$(printf '\xef\xbb\xbf[project]\nname=bom\nloop=2\ninterval=1\nsleep=1\n' | conf bom.conf)
row byte_order_mark "bom.conf:1: starts with a UTF-8 byte-order mark (bytes EF BB BF)" "$ETMEM" obj add -f "$f" -s "$SOCK"
f=$(printf '[project]\r\nname=crlf\r\n' | conf crlf.conf)
row crlf "crlf.conf:1: has the control character U+000D in column 10" "$ETMEM" obj add -f "$f" -s "$SOCK"
f=$(printf '[project]\nname=lc\nLoop=2\ninterval=1\nsleep=1\nloop=2\n' | conf case.conf)
row key_case "unknown key 'Loop' (did you mean 'loop'?)" "$ETMEM" obj add -f "$f" -s "$SOCK"
f=$(printf '[project]\nname=wm\nloop=2\ninterval=1\nsleep=1\nswapcache_high_wmark=1\nswapcache_low_wmark=1\n' | conf wm.conf)
row equal_wmarks_1 "swapcache_low_wmark must be below the high watermark, which is 1: no value fits" "$ETMEM" obj add -f "$f" -s "$SOCK"
grep -q "1\.\.0" "$WORK/err" && fail "equal watermarks: '1..0' in the message" || pass "no empty range in the message"

# Valid names: 64 é, CJK, spaces and punctuation; text and JSON show them
# as they are and the JSON is valid UTF-8.
ok_names=("$e64" "$(printf '日%.0s' $(seq 64))" "a b.c-d_e(f)" "Ünïcödé ✓")
for n in "${ok_names[@]}"; do
	f=$(name_file "ok$RANDOM" "$n")
	if "$ETMEM" obj add -f "$f" -s "$SOCK" >"$WORK/out" 2>&1 &&
		"$ETMEM" project show -n "$n" -s "$SOCK" | grep -qF "project $n:" &&
		"$ETMEM" project show -n "$n" -j -s "$SOCK" | python3 -c '
import json, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8"))
sys.exit(0 if d["projects"][0]["name"] == sys.argv[1] else 1)' "$n" &&
		"$ETMEM" obj del -f "$f" -s "$SOCK" >/dev/null; then
		pass "name '$n' (${#n} characters) accepted, shown as is in text and JSON"
	else
		fail "name '$n': $(cat "$WORK/out")"
	fi
done

# --- names in requests: checked before use, never echoed when too long ---
row req_name_5000 "etmem project start: project name must be 1 to 64 characters long (it has 5000)" \
	"$ETMEM" project start -n "$long5000" -s "$SOCK"
[ "$(wc -c <"$WORK/err")" -lt 300 ] && pass "reply to a 5000-character name is short" ||
	fail "reply to a 5000-character name: $(wc -c <"$WORK/err") bytes"
row req_name_escape "project name has a control character U+001B at character 2" \
	"$ETMEM" project show -n $'a\e[2Jb' -s "$SOCK"
row req_name_escape_json "project name has a control character U+001B" \
	"$ETMEM" project show -j -n $'a\e]0;x\ab' -s "$SOCK"
row req_name_invalid_utf8 "project name is not valid UTF-8 (byte 2 is 0xFF)" \
	"$ETMEM" project stop -n $'a\xff' -s "$SOCK"
row req_engine_name "engine name must be 1 to 64 characters long (it has 65)" \
	"$ETMEM" engine showtaskpages -n base -e "$e65" -s "$SOCK"
row req_task_name "task name has a control character U+0009" \
	"$ETMEM" engine showtaskpages -n base -e cslide -t $'a\tb' -s "$SOCK"
row req_engine_cmd "cmd name has a control character U+001B" \
	"$ETMEM" engine $'show\e[2J' -n base -e cslide -s "$SOCK"
row req_missing_file_escaped "cannot open configuration file '$WORK/a\\x1B[2Jb'" \
	"$ETMEM" obj add -f "$WORK/a"$'\e'"[2Jb" -s "$SOCK"

# --- raw requests: the decoder's table ---
raw() { # raw CMD FLAGS LEN-OVERRIDE PAYLOAD-PYTHON-EXPR: prints status and text
	python3 - "/run/etmem/$SOCK" "$@" <<'PY'
import socket, struct, sys
path, cmd, flags, length, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0), sys.argv[4], eval(sys.argv[5])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
n = len(payload) if length == "-" else int(length)
s.sendall(struct.pack("=IHHII", 0x65746d64, 1, cmd, flags, n) + (payload if length == "-" else b""))
data = b""
s.settimeout(10)
while True:
    try:
        d = s.recv(65536)
    except ConnectionResetError:	# the daemon answered without reading all
        break
    if not d:
        break
    data += d
magic, ver, res, status, ln = struct.unpack("=IHHiI", data[:16])
sys.stderr.write("status %d: %s\n" % (status, data[16:16 + ln].decode()))
sys.exit(0 if status == 0 else 1)
PY
}
row raw_len_too_big "request of 16777217 bytes is too large (at most 16777216)" raw 5 0 16777217 'b""'
row raw_len_max "request of 4294967295 bytes is too large" raw 5 0 4294967295 'b""'
row raw_unknown_cmd "unknown request 99" raw 99 0 - 'b""'
row raw_cmd_0 "unknown request 0" raw 0 0 - 'b""'
row raw_unknown_flag "unknown request flags 0x2 (project show accepts 0x1)" raw 5 0x3 - 'b""'
row raw_high_flag "unknown request flags 0x80000000" raw 5 0x80000000 - 'b""'
row raw_json_on_start "unknown request flags 0x1 (project start accepts 0x0)" raw 3 1 - 'b"project=base\0"'
row raw_unknown_arg "unknown argument 'colour'" raw 5 0 - 'b"colour=red\0"'
row raw_long_unknown_arg "unknown argument 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'" raw 5 0 - 'b"k" * 100000 + b"=v\0"'
row raw_arg_twice "argument 'project' given twice" raw 5 0 - 'b"project=base\0project=x\0"'
row raw_no_nul "the request's last argument lacks its terminating NUL" raw 5 0 - 'b"project=base"'
row raw_no_equals "argument 1 is not key=value" raw 5 0 - 'b"project\0"'
row raw_missing_project "argument 'project' is missing" raw 3 0 - 'b""'
row raw_engine_no_cmd "argument 'cmd' is missing" raw 6 0 - 'b"project=base\0engine=slide\0"'
row raw_obj_add_no_fd "no file descriptor came with the request" raw 1 0 - 'b"file=/x\0"'
row raw_empty_file_arg "argument 'file' is empty" raw 1 0 - 'b"file=\0"'
row raw_empty_name "project name must be 1 to 64 characters long (it has 0)" raw 5 0 - 'b"project=\0"'
row raw_invalid_utf8 "project name is not valid UTF-8" raw 5 0 - 'b"project=\xc3\x28\0"'
row raw_bad_magic "not an etmem request (bad magic)" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"GET / HTTP/1.0\r\n\r\n")
d = s.recv(4096); sys.stderr.write(d[16:].decode()); sys.exit(1)' "/run/etmem/$SOCK"

# A path the daemon did not check (it names what the client opened):
# escaped in the reply and in the daemon's log.
bad=$(printf '[projekt]\n' | conf bad.conf)
row raw_path_escaped "/tmp/a\x1B[2Jb.conf:1: unknown group [projekt]" python3 -c '
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
p = b"file=/tmp/a\x1b[2Jb.conf\0"
fd = os.open(sys.argv[2], os.O_RDONLY)
s.sendmsg([struct.pack("=IHHII", 0x65746d64, 1, 1, 0, len(p)) + p], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
d = s.recv(4096); sys.stderr.write(d[16:].decode()); sys.exit(1)' "/run/etmem/$SOCK" "$bad"
if LC_ALL=C grep -q $'\x1b' "$WORK/etmemd-$SOCK.log"; then fail "an escape byte reached the daemon's log"
elif grep -qF 'a\x1B[2Jb.conf' "$WORK/etmemd-$SOCK.log"; then pass "the daemon's log shows the path escaped"
else fail "the refused request is not in the log"; fi

# --- command-line mistakes: errors name the full command, exit non-zero ---
row cli_name_twice "etmem project show: option -n|--name given twice" "$ETMEM" project show -n a -n b -s "$SOCK"
row cli_file_twice "etmem obj add: option -f|--file given twice" "$ETMEM" obj add -f "$base" -f "$base" -s "$SOCK"
row cli_socket_twice "etmem obj del: option -s|--socket given twice" "$ETMEM" obj del -f "$base" -s "$SOCK" -s "$SOCK"
row cli_json_twice "etmem project show: option -j|--json given twice" "$ETMEM" project show -j -j -s "$SOCK"
row cli_engine_twice "etmem engine: option -e|--engine given twice" "$ETMEM" engine showtaskpages -n base -e a -e b -s "$SOCK"
row cli_stray "etmem project show: unexpected argument 'extra'" "$ETMEM" project show extra -s "$SOCK"
row cli_stray_obj "etmem obj add: unexpected argument 'more'" "$ETMEM" obj add -f "$base" more -s "$SOCK"
row cli_json_on_start "etmem project start: -j|--json applies to project show only" "$ETMEM" project start -j -n base -s "$SOCK"
row cli_unknown_long "etmem obj add: unknown option '--bogus'" "$ETMEM" obj add --bogus -s "$SOCK"
row cli_unknown_short "etmem project stop: unknown option '-x'" "$ETMEM" project stop -x -s "$SOCK"
row cli_missing_value "etmem project show: option '-s' needs a value" "$ETMEM" project show -s
row cli_show_json_error "etmem project show: project 'nothere' does not exist" "$ETMEM" project show -j -n nothere -s "$SOCK"
row cli_unknown_verb_escaped "etmem project: unknown command 'a\\x1B[2J'" "$ETMEM" project $'a\e[2J'
row monitor_n_abc "etmem monitor: -n 'abc' is not a number of events" "$ETMEM" monitor -n abc
row monitor_t_xyz "etmem monitor: -t 'xyz' is not seconds" "$ETMEM" monitor -t xyz
row monitor_n_0 "etmem monitor: -n '0' is not a number of events, 1 or more" "$ETMEM" monitor -n 0
row monitor_t_negative "etmem monitor: -t '-1' is not seconds" "$ETMEM" monitor -t -1
row monitor_twice "etmem monitor: option -t given twice" "$ETMEM" monitor -t 1 -t 2
row monitor_stray "etmem monitor: unexpected argument 'x'" "$ETMEM" monitor x
row etmemd_socket_twice "etmemd: option -s|--socket given twice" "$ETMEMD" -s a -s b
row etmemd_level_twice "etmemd: option -l|--log-level given twice" "$ETMEMD" -l 1 -l 2 -s a
row etmemd_unknown "etmemd: unknown option '--bogus'" "$ETMEMD" --bogus -s a
row etmemd_no_group "etmemd: -g no-such-group-$$: no such group" "$ETMEMD" -g "no-such-group-$$" -s a
daemon_stop

# --- -g GROUP: read-only requests for its members, the rest root only ---
GSOCK=etmem-test-group-$$
daemon_start "$GSOCK" -g nogroup || exit 1
"$ETMEM" obj add -f "$base" -s "$GSOCK" >/dev/null || fail "group daemon: obj add as root"
SOCK=$GSOCK
st=$(stat -c '%a %U %G' "/run/etmem/$GSOCK")
[ "$st" = "660 root nogroup" ] && pass "group socket file: $st" || fail "group socket file: $st"
MEMBER=(setpriv --reuid=65534 --regid=65534 --clear-groups)		# primary group nogroup
SUPP=(setpriv --reuid=1 --regid=1 --groups=65534)			# supplementary
OUTSIDER=(setpriv --reuid=1 --regid=1 --clear-groups)
ok_row() { # ok_row NAME CMD...: exit 0
	local name=$1
	shift
	if "$@" >"$WORK/out" 2>"$WORK/err"; then pass "$name"; else fail "$name: $(cat "$WORK/err")"; fi
}
ok_row "group member: project show" "${MEMBER[@]}" "$ETMEM" project show -s "$GSOCK"
ok_row "group member: project show -j" "${MEMBER[@]}" "$ETMEM" project show -j -n base -s "$GSOCK"
ok_row "supplementary group member: project show" "${SUPP[@]}" "$ETMEM" project show -s "$GSOCK"
row "group member: engine show... reaches the engine" "engine 'cslide' does not exist in project 'base'" \
	"${MEMBER[@]}" "$ETMEM" engine showtaskpages -n base -e cslide -s "$GSOCK"
row "group member: project start" "etmem project start: permission denied: project start is for root only (client uid 65534)" \
	"${MEMBER[@]}" "$ETMEM" project start -n base -s "$GSOCK"
row "group member: project stop" "permission denied: project stop is for root only" \
	"${MEMBER[@]}" "$ETMEM" project stop -n base -s "$GSOCK"
row "group member: engine command not named show" "permission denied: engine with a command not named show... is for root only" \
	"${MEMBER[@]}" "$ETMEM" engine movepages -n base -e slide -s "$GSOCK"
row "group member: obj del (raw, with a descriptor)" "permission denied: obj del is for root only (client uid 65534)" \
	"${MEMBER[@]}" /usr/bin/python3 -c '
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
p = b"file=/dev/null\0"
fd = os.open("/dev/null", os.O_RDONLY)
s.sendmsg([struct.pack("=IHHII", 0x65746d64, 1, 2, 0, len(p)) + p], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
d = s.recv(4096); sys.stderr.write(d[16:].decode()); sys.exit(1)' "/run/etmem/$GSOCK"
row "group member: a large read-only request is refused unread" "request of 100000 bytes is too large for a read-only request (at most 4096)" \
	"${MEMBER[@]}" /usr/bin/python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(struct.pack("=IHHII", 0x65746d64, 1, 5, 0, 100000))
d = s.recv(4096); sys.stderr.write(d[16:].decode()); sys.exit(1)' "/run/etmem/$GSOCK"
row "outside the group: cannot reach the socket" "Permission denied (only root may reach etmemd's socket)" \
	"${OUTSIDER[@]}" "$ETMEM" project show -s "$GSOCK"
daemon_stop
daemon_start "@$GSOCK" -g nogroup || exit 1
SOCK=@$GSOCK
row "abstract socket, outside the group" "permission denied: etmemd serves root and, for read-only requests, group nogroup only (client uid 1)" \
	"${OUTSIDER[@]}" "$ETMEM" project show -s "@$GSOCK"
ok_row "abstract socket, group member: project show" "${MEMBER[@]}" "$ETMEM" project show -s "@$GSOCK"
daemon_stop
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
