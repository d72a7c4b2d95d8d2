#!/bin/bash
# vm-timeout: 600
# vm-kernels: newest
# vm-boot: alone
# (it installs etmem under /usr/local: later tests must not see that)
# (daemon behaviour the kernel does not change: the kernel-facing paths it
# uses run on every kernel in the kmod_*, cslide_numa_tier and slide tests)
# Third-party policies end to end: the example policy is built against the
# installed headers and library with pkg-config, loaded through a config,
# pages out cold memory, answers its private command; two engines of it run
# side by side; bad libraries get specific errors and the daemon survives.
# What a policy reports through eng->host (figures, notes, the message of
# its error) is what show and the client print; a type=name task's list
# follows processes that start and exit after project start.
set -u
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"
sock=thirdparty
libdir=/usr/local/lib/etmem

vt_load_etmem
vt_zram_swap 1G
# Keep the kernel's own reclaim away: only the policy pages out here.
echo 0 >/proc/sys/vm/swappiness

# Install as a user would, then build the example the documented way.
make -C "$TOP" -s --no-print-directory install PREFIX=/usr/local >"$WORK/install.log" 2>&1 ||
	vt_die "make install: $(tail -n 5 "$WORK/install.log")"
ldconfig
make -s -C "$TOP/examples/thirdparty" OUT="$WORK" \
	PKG_CONFIG_PATH=/usr/local/lib/pkgconfig >"$WORK/build.log" 2>&1 ||
	vt_die "example build: $(cat "$WORK/build.log")"
mkdir -p "$libdir"
install -m 0700 "$WORK/idle_swap.so" "$libdir/idle_swap.so"
vt_ok "example policy built with pkg-config and installed (${SECONDS}s)"

daemon_start "$sock" -l 1 || vt_die "etmemd did not start"

expect_add_error() { # FILE TEXT
	local out
	if out=$("$ETMEM" obj add -f "$1" -s "$sock" 2>&1); then
		vt_fail "obj add of $(basename "$1") should fail"
		"$ETMEM" obj del -f "$1" -s "$sock" >/dev/null 2>&1
	else
		case $out in
		*"$2"*) vt_ok "rejected: $out" ;;
		*) vt_fail "message for $(basename "$1"): '$out' lacks '$2'" ;;
		esac
	fi
}

tp_file() { # NAME LIBNAME OPS_NAME [task pid]
	{
		printf '[project]\nname=%s\nloop=2\ninterval=1\nsleep=1\n\n' "$1"
		printf '[engine]\nname=thirdparty\nproject=%s\neng_name=pol\nlibname=%s\nops_name=%s\nidle_scans=2\n' \
			"$1" "$2" "$3"
		[ -n "${4:-}" ] && printf '\n[task]\nproject=%s\nengine=pol\nname=t\ntype=pid\nvalue=%s\n' "$1" "$4"
	} | conf "$1.conf"
}

# --- loading rules ---
cp "$libdir/idle_swap.so" "$WORK/mode.so" && chmod 0755 "$WORK/mode.so"
expect_add_error "$(tp_file mode "$WORK/mode.so" idle_swap_ops)" "has mode 0755, it must be 0500 or 0700"
cp "$libdir/idle_swap.so" "$WORK/owner.so" && chmod 0700 "$WORK/owner.so" && chown 65534 "$WORK/owner.so"
expect_add_error "$(tp_file owner "$WORK/owner.so" idle_swap_ops)" "owned by uid 65534, it must be owned by root"
expect_add_error "$(tp_file missing /usr/local/lib/etmem/nope.so idle_swap_ops)" "No such file or directory"
expect_add_error "$(tp_file relative idle_swap.so idle_swap_ops)" "is not an absolute path"
expect_add_error "$(tp_file nosym "$libdir/idle_swap.so" no_such_ops)" "has no symbol ops_name=no_such_ops"

# Policies that are broken on purpose.
cat >"$WORK/broken.c" <<'C'
#include <errno.h>
#include <unistd.h>
#include <etmem/etmemd_engine.h>
static void stop(struct engine *e, struct task *t) { }
static int fail_start(struct engine *e, struct task *t) { return -EIO; }
static int ok_start(struct engine *e, struct task *t) { return 0; }
/* The message a policy attaches to its error replaces the errno's text. */
static int msg_start(struct engine *e, struct task *t)
{
	e->host->error(e, t, "needs key weight=1..9 (not given)");
	return -EINVAL;
}
/* Bytes a framed protocol must carry as they are: 0xff, 0xfe, NUL. */
static int raw_bytes(struct engine *e, struct task *t, char *cmd, int fd)
{
	static const unsigned char b[] = { 0xff, 0xfe, 0x00, 'o', 'k', 0xff, '\n' };
	return write(fd, b, sizeof(b)) == sizeof(b) ? 0 : -EIO;
}
struct engine_ops no_start_ops = { .stop_task = stop };
struct engine_ops no_stop_ops = { .start_task = ok_start };
struct engine_ops failing_ops = { .start_task = fail_start, .stop_task = stop };
struct engine_ops message_ops = { .start_task = msg_start, .stop_task = stop };
struct engine_ops bytes_ops = { .start_task = ok_start, .stop_task = stop,
				.eng_mgt_func = raw_bytes };
C
gcc -shared -fPIC -o "$WORK/broken.so" "$WORK/broken.c" \
	$(PKG_CONFIG_PATH=/usr/local/lib/pkgconfig pkg-config --cflags etmemd_scan) ||
	vt_die "cannot build the broken policy"
install -m 0500 "$WORK/broken.so" "$libdir/broken.so"
expect_add_error "$(tp_file nostart "$libdir/broken.so" no_start_ops)" "has no start_task (mandatory)"
expect_add_error "$(tp_file nostop "$libdir/broken.so" no_stop_ops)" "has no stop_task (mandatory)"
# sleep_max stretches slide's and cslide's cycle; a policy runs its own.
sed 's/^sleep=1$/sleep=1\nsleep_max=8/' "$(tp_file stretch "$libdir/idle_swap.so" idle_swap_ops $$)" |
	conf stretch_bad.conf >/dev/null
expect_add_error "$WORK/stretch_bad.conf" "project stretch has sleep_max=8, which slide and cslide apply"
vt_check "no project stretch left behind" \
	test -z "$("$ETMEM" project show -n stretch -s "$sock" 2>/dev/null)"

# What a policy writes for a private command reaches the client byte for
# byte, 0xff and 0xfe included: the protocol is length-framed.
f=$(tp_file bytes "$libdir/broken.so" bytes_ops)
"$ETMEM" obj add -f "$f" -s "$sock" || vt_fail "obj add of the bytes policy"
got=$("$ETMEM" engine raw -n bytes -e pol -s "$sock" | od -An -tx1 | tr -s ' \n' ' ')
vt_check "bytes ff fe 00 reach the client unchanged (got:$got)" [ "$got" = " ff fe 00 6f 6b ff 0a " ]
"$ETMEM" obj del -f "$f" -s "$sock" || vt_fail "obj del of the bytes policy"

"$helpers/hotcold" --cold-mib 8 --hot-mib 0 >"$WORK/victim.out" 2>&1 &
vt_wait_line "$WORK/victim.out" '^ready'
vpid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$WORK/victim.out")
f=$(tp_file failing "$libdir/broken.so" failing_ops "$vpid")
"$ETMEM" obj add -f "$f" -s "$sock" || vt_fail "obj add of a policy whose start_task fails"
out=$("$ETMEM" project start -n failing -s "$sock" 2>&1)
rc=$?
vt_check "project start fails when start_task fails (exit $rc)" [ "$rc" != 0 ]
vt_check "the policy's error is named: $out" \
	grep -q "engine pol could not start task t: Input/output error" <<<"$out"
vt_check "the daemon survives a failing policy" kill -0 "$DAEMON_PID"
"$ETMEM" obj del -f "$f" -s "$sock" || vt_fail "obj del of the failing policy"
f=$(tp_file message "$libdir/broken.so" message_ops "$vpid")
"$ETMEM" obj add -f "$f" -s "$sock" || vt_fail "obj add of a policy that explains its error"
out=$("$ETMEM" project start -n message -s "$sock" 2>&1)
vt_check "the policy's own message replaces the errno's text: $out" \
	grep -q "engine pol could not start task t: needs key weight=1..9 (not given)" <<<"$out"
"$ETMEM" obj del -f "$f" -s "$sock" || vt_fail "obj del of the message policy"
kill -TERM "$vpid"
# The example names the key it refuses.
f=$(tp_file badkey "$libdir/idle_swap.so" idle_swap_ops)
sed -i 's/^idle_scans=2$/idle_scans=999/' "$f"
expect_add_error "$f" "engine pol refused its parameters: idle_scans=999: allowed 1..120"

# --- two engines of the example policy side by side ---
start_wl() { # OUT
	"$helpers/hotcold" --cold-mib 48 --hot-mib 8 --interval-ms 1000 >"$1" 2>&1 &
	vt_wait_line "$1" '^ready' >&2
	sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$1"
}
pa=$(start_wl "$WORK/a.out")
pb=$(start_wl "$WORK/b.out")
[ -n "$pa" ] && [ -n "$pb" ] || vt_die "workloads did not start"
# The shipped example file gives engine idle_a and task ta; a second
# engine of the same policy with other settings joins it.
two=$( {
	printf '[project]\nname=two\nloop=2\ninterval=1\nsleep=1\n\n'
	sed -e 's/^project=test/project=two/; s/^eng_name=my_engine/eng_name=idle_a/' \
	    -e 's/^engine=my_engine/engine=idle_a/; s/^name=background_third/name=ta/' \
	    -e "s/^value=12345/value=$pa/; s/^idle_scans=1/idle_scans=2/" \
	    "$TOP/etc/etmem/thirdparty_conf.yaml"
	cat <<CONF

[engine]
name=thirdparty
project=two
eng_name=idle_b
libname=$libdir/idle_swap.so
ops_name=idle_swap_ops
idle_scans=1

[task]
project=two
engine=idle_b
name=tb
type=pid
value=$pb
CONF
} | conf two.conf)
"$ETMEM" obj add -f "$two" -s "$sock" || vt_die "obj add of two engines"
"$ETMEM" project start -n two -s "$sock" || vt_die "project start"
for i in $(seq 90); do
	sa=$(vt_status_kb "$pa" VmSwap) sb=$(vt_status_kb "$pb" VmSwap)
	[ "$sa" -ge $((48 * 1024 * 9 / 10)) ] && [ "$sb" -ge $((48 * 1024 * 9 / 10)) ] && break
	sleep 1
done
echo "VmSwap: a ${sa} kB, b ${sb} kB after ${i} s (test time ${SECONDS}s)"
vt_check "engine idle_a paged out >= 90% of its cold 48 MiB (${sa} kB)" [ "$sa" -ge 44236 ]
vt_check "engine idle_b paged out >= 90% of its cold 48 MiB (${sb} kB)" [ "$sb" -ge 44236 ]
out=$("$ETMEM" engine stat -n two -e idle_a -t ta -s "$sock" 2>&1)
echo "$out"
vt_check "the private command answers through etmem engine" grep -q '^task ta: cycles [1-9]' <<<"$out"
# What the policy reports through eng->host is what show prints.
show_task() { # PROJECT EXPR on the first task t
	show_json "$sock" "$1" | python3 -c "import json,sys; t=json.load(sys.stdin)['projects'][0]['tasks'][0]; print($2)"
}
for _ in $(seq 20); do
	[ "$(show_task two "t['cycles'] > 0 and t['bytes_paged_out'] > 0")" = True ] && break
	sleep 0.5
done
"$ETMEM" project show -n two -s "$sock"
fig=$(show_task two "t['processes'], t['cycles'] > 0, t['pages_scanned'] > 0, t['bytes_paged_out']")
set -- $fig
vt_check "show has the policy's figures for task ta (processes 1, cycles, pages scanned: $fig)" \
	[ "$1 $2 $3" = "1 True True" ]
sa=$(vt_status_kb "$pa" VmSwap)
vt_check "bytes paged out ($4) are measured: > 0 and at most VmSwap (${sa} kB) + 1 MiB" \
	test "$4" -gt 0 -a "$4" -le $(( (sa + 1024) * 1024 ))
vt_check "each cycle of the policy has its info line in etmemd's log" \
	grep -q "two/ta: cycle [0-9]*: 1 process(es), [0-9]* pages scanned" "$WORK/etmemd-$sock.log"
out=$("$ETMEM" engine bogus -n two -e idle_b -t tb -s "$sock" 2>&1)
vt_check "the policy's own error reaches the client: $out" grep -q "unknown command 'bogus'" <<<"$out"
"$ETMEM" project stop -n two -s "$sock" || vt_fail "project stop"
# The workloads were started in a subshell: wait for them by polling.
wait_exit() { for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; }
for w in a b; do
	p=$([ $w = a ] && echo "$pa" || echo "$pb")
	kill -TERM "$p"; wait_exit "$p"
	hot=$(sed -n 's/^final .*hot_resident=\([0-9]*\).*/\1/p' "$WORK/$w.out")
	vt_check "workload $w: hot set resident at the end ($hot of 2048 pages)" [ "${hot:-0}" -ge 1946 ]
	vt_check "workload $w: data intact" grep -q '^verify ok' "$WORK/$w.out"
done
"$ETMEM" obj del -f "$two" -s "$sock" || vt_fail "obj del"

# --- type=name: the policy's list follows processes that start and exit ---
cp "$helpers/hotcold" "$WORK/tpfollow"
f=$( {
	printf '[project]\nname=follow\nloop=1\ninterval=1\nsleep=1\n\n'
	printf '[engine]\nname=thirdparty\nproject=follow\neng_name=pol\nlibname=%s\nops_name=idle_swap_ops\nidle_scans=1\n\n' "$libdir/idle_swap.so"
	printf '[task]\nproject=follow\nengine=pol\nname=t\ntype=name\nvalue=tpfollow\n'
} | conf follow.conf)
"$ETMEM" obj add -f "$f" -s "$sock" || vt_die "obj add follow"
"$ETMEM" project start -n follow -s "$sock" || vt_die "project start follow"
vt_check "no process yet: the note says so ($(show_task follow "t['note']"))" \
	grep -q "no process" <<<"$(show_task follow "t['note']")"
"$WORK/tpfollow" --cold-mib 16 --hot-mib 0 --interval-ms 1000 >"$WORK/follow.out" 2>&1 &
vt_wait_line "$WORK/follow.out" '^ready'
pf=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$WORK/follow.out")
st=$(awk '{print $22}' "/proc/$pf/stat")
for _ in $(seq 40); do
	grep -q " $pf(start $st)" <<<"$("$ETMEM" engine stat -n follow -e pol -t t -s "$sock")" && break
	sleep 0.25
done
out=$("$ETMEM" engine stat -n follow -e pol -t t -s "$sock")
echo "$out"
vt_check "a process started after project start joins the policy's list, with its start time" \
	grep -q "processes $pf(start $st)$" <<<"$out"
for _ in $(seq 60); do
	[ "$(vt_status_kb "$pf" VmSwap)" -ge $((16 * 1024 * 9 / 10)) ] && break
	sleep 0.5
done
vt_check "and the policy pages it out (VmSwap $(vt_status_kb "$pf" VmSwap) kB)" \
	[ "$(vt_status_kb "$pf" VmSwap)" -ge $((16 * 1024 * 9 / 10)) ]
vt_check "show counts it (processes $(show_task follow "t['processes']"))" \
	[ "$(show_task follow "t['processes']")" = 1 ]
kill -TERM "$pf"; wait "$pf"
vt_check "its data intact" grep -q '^verify ok' "$WORK/follow.out"
for _ in $(seq 40); do
	grep -q "processes none" <<<"$("$ETMEM" engine stat -n follow -e pol -t t -s "$sock")" && break
	sleep 0.25
done
vt_check "an exited process leaves the list" \
	grep -q "processes none" <<<"$("$ETMEM" engine stat -n follow -e pol -t t -s "$sock")"
vt_check "show: no process, and the note says so ($(show_task follow "t['processes'], t['note']"))" \
	grep -q "^0 .*no process" <<<"$(show_task follow "t['processes'], t['note']")"
"$ETMEM" obj del -f "$f" -s "$sock" || vt_fail "obj del follow"
vt_check "the library is unloaded with its engines" \
	[ -z "$(grep idle_swap.so "/proc/$DAEMON_PID/maps")" ]
vt_check "etmemd still running" kill -0 "$DAEMON_PID"
daemon_stop
vt_unload_etmem
vt_done
