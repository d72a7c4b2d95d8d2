#!/bin/bash
# scan_type=auto in the real daemon, without starting anything that acts:
# the file loads; show (text and -j) says the scan is chosen at project
# start and prints the DAMON attributes; keys the damon fallback cannot
# honour are refused naming them, changing nothing. Then, in a private
# mount namespace whose /sys/kernel/mm/damon is an empty tmpfs (so no
# kdamond of the host can be touched) and with no etmem module loaded,
# project start fails naming both missing features, the project stays
# stopped, and show keeps the reason.
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

SOCK=etmem-test-auto-$$

auto_conf() { # auto_conf NAME [extra task lines]
	local name=$1
	shift
	printf '[project]\nname=a\nscan_type=auto\nloop=1\ninterval=1\nsleep=1\nsysmem_threshold=100\n'
	printf '\n[engine]\nname=slide\nproject=a\n'
	printf '\n[task]\nproject=a\nengine=slide\nname=t\ntype=name\nvalue=nosuchproc\nT=1\n'
	printf '%s\n' "$@"
}

daemon_start "$SOCK" -l 1 || exit 1
f=$(auto_conf a swap_threshold=1m | conf auto.conf)
if out=$("$ETMEM" obj add -f "$f" -s "$SOCK" 2>&1); then
	pass "an auto project with slide loads"
else
	fail "obj add: $out"
fi
out=$("$ETMEM" project show -s "$SOCK" -n a)
echo "$out"
grep -q "scan_type=auto loop=1 interval=1 sleep=1 sample_interval=5000 aggr_interval=100000 update_interval=1000000 nr_regions=10..1000 sysmem_threshold=100" <<<"$out" &&
	pass "show: scan_type=auto with the page keys and DAMON's attributes" ||
	fail "show lacks scan_type=auto and its attributes"
grep -q "^  scan: chosen at project start$" <<<"$out" && pass "show: the scan is chosen at project start" ||
	fail "show lacks 'scan: chosen at project start'"
got=$(show_json "$SOCK" a | python3 -c "import json,sys; p=json.load(sys.stdin)['projects'][0]; print(p['scan_type'], repr(p['scan']), repr(p['scan_reason']), p['aggr_interval'], p['loop'])")
[ "$got" = "auto '' '' 100000 1" ] && pass "show -j: scan_type, scan, scan_reason, attributes" ||
	fail "show -j: '$got'"

# Keys only the page-table scan can honour: refused, naming the key.
before=$(show_json "$SOCK")
bad() { # bad NAME EXPECTED: stdin is the file
	local f out
	f=$(conf "$1.conf")
	if out=$("$ETMEM" obj add -f "$f" -s "$SOCK" 2>&1); then
		fail "$1: accepted"
	elif ! grep -qF -- "$2" <<<"$out"; then
		fail "$1: '$out' lacks '$2'"
	else
		pass "$1 refused: $out"
	fi
}
auto_conf b swap_flag=yes | sed 's/name=a$/name=b/; s/project=a$/project=b/' |
	bad swap_flag "[task] swap_flag=yes needs the etmem modules' swap marks, and scan_type=auto runs the damon engine where they are not loaded (use swap_flag=no, or scan_type=page)"
printf '[project]\nname=b\nscan_type=auto\nloop=1\ninterval=1\nsleep=1\nswapcache_high_wmark=10\nswapcache_low_wmark=6\n' |
	bad swapcache ":7: [project] key 'swapcache_high_wmark' needs the etmem modules' swapcache reclaim"
printf '[project]\nname=b\nscan_type=auto\nloop=1\ninterval=1\nsleep=1\n\n[engine]\nname=damon\nproject=b\naction=pageout\n' |
	bad damon_engine "engine 'damon' does not work with scan_type=auto of project 'b' (engine damon needs scan_type=region)"
[ "$(show_json "$SOCK")" = "$before" ] && pass "refused files changed nothing" || fail "a refused file changed the daemon's state"
daemon_stop

# Neither the etmem modules nor DAMON: start fails naming both.
if [ -d /sys/module/etmem_scan ]; then
	echo "note: the etmem modules are loaded on this host: the failing start is checked in t/vm/damon_engine.sh only"
elif ! unshare -m true 2>/dev/null; then
	echo "note: no mount namespace here (unshare -m): the failing start is checked in t/vm/damon_engine.sh only"
else
	cat >"$WORK/nodamon" <<EOS
#!/bin/sh
# etmemd with DAMON's sysfs hidden behind an empty tmpfs, in its own
# mount namespace; refuses to run if DAMON still shows.
mount --make-rprivate / 2>/dev/null
[ -d /sys/kernel/mm/damon ] && mount -t tmpfs none /sys/kernel/mm/damon
[ -e /sys/kernel/mm/damon/admin ] && { echo "DAMON still visible"; exit 1; }
exec unused_argv0_placeholder "\$@"
EOS
	sed -i "s|unused_argv0_placeholder|$ETMEMD|" "$WORK/nodamon"
	chmod 755 "$WORK/nodamon"
	printf '#!/bin/sh\nexec unshare -m %s "$@"\n' "$WORK/nodamon" >"$WORK/etmemd-nodamon"
	chmod 755 "$WORK/etmemd-nodamon"
	real=$ETMEMD
	ETMEMD=$WORK/etmemd-nodamon
	daemon_start "$SOCK" -l 1 || exit 1
	ETMEMD=$real
	"$ETMEM" obj add -f "$f" -s "$SOCK" >/dev/null || fail "obj add in the namespace"
	out=$("$ETMEM" project start -n a -s "$SOCK" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" != 0 ] && pass "project start fails (exit $rc)" || fail "project start succeeded"
	grep -qF "project a not started: scan_type=auto needs the etmem modules or DAMON, and neither is here: etmem modules not loaded: generic netlink family \"etmem\" not found" <<<"$out" &&
		pass "the refusal names the missing etmem modules" || fail "the refusal does not name the etmem modules"
	grep -qF "the kernel has no DAMON sysfs interface (/sys/kernel/mm/damon/admin is missing; it needs CONFIG_DAMON_SYSFS and CONFIG_DAMON_VADDR)" <<<"$out" &&
		pass "the refusal names the missing DAMON sysfs interface" || fail "the refusal does not name DAMON"
	out=$("$ETMEM" project show -s "$SOCK" -n a)
	echo "$out"
	grep -q "^project a: stopped," <<<"$out" && pass "the project stays stopped" || fail "the project is not stopped"
	grep -q "^  scan: none (start failed: etmem modules not loaded: .*; and the kernel has no DAMON sysfs interface" <<<"$out" &&
		pass "show keeps the reason" || fail "show lacks the reason"
	got=$(show_json "$SOCK" a | python3 -c "import json,sys; p=json.load(sys.stdin)['projects'][0]; print(p['started'], repr(p['scan']), 'DAMON sysfs' in p['scan_reason'], p['tasks'][0]['started'])")
	[ "$got" = "False '' True False" ] && pass "show -j: not started, scan '', the reason" || fail "show -j: '$got'"
	daemon_stop
fi
[ "$nr_fail" = 0 ] || exit 1
echo "all checks passed"
