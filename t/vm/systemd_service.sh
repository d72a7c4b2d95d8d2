#!/bin/bash
# vm-timeout: 900
# vm-mode: systemd
# vm-kernels: 6.1
# On Debian 12's own kernel (6.1) only: what this test proves (the
# postinst, DKMS's install, autoload, the unit and its sandbox, reload and
# restart) does not change with the kernel; the modules' DKMS build for
# every kernel is t/host/debian_package.sh's, and they load and run on
# every kernel in the shared boots. A second boot on 6.12 cost CI 277 s.
# The packages, installed as an operator does, under systemd as PID 1.
# What is built where: DKMS's build of the modules is proven on the host,
# natively: t/host/debian_package.sh runs dkms add and dkms build from the
# etmem-dkms package for every kernel of t/lib/kernels.sh into a private
# DKMS tree, build/deb/dkms (a build under emulation took ~880 s of a
# 1000 s test). The guest proves the rest: the postinst, DKMS's install
# of a built module, autoload and the service.
# preboot (before systemd starts): dpkg -i the .debs of build/deb while the
# running kernel's headers are away (/lib/modules/KVER/build moved aside;
# the other kernels' trees are hidden): the postinst registers the sources
# (dkms add) and skips the build, as on a machine without headers. Debian
# 12's postinst cannot be handed a built module: common.postinst first runs
# "dkms remove --all" on an existing /var/lib/dkms/etmem/VERSION, then
# builds. So the host's build for this kernel (etmem/VERSION/KVER and the
# signing key) goes into /var/lib/dkms after dpkg -i, the headers come
# back, and what their package's postinst runs
# (/etc/kernel/header_postinst.d: dkms autoinstall) finds the module built
# and only installs it: no compiler runs (make.log and the modules are the
# host's, byte for byte). A project file goes into /etc/etmem/etmemd.d.
# Under TCG dpkg -i took about 45 s and DKMS's install about 130 s
# (mostly its depmod of the whole module tree, read over 9p) before
# man-db's trigger was skipped and the drivers for absent hardware were
# hidden from depmod (see preboot).
# run (after the boot): etmemd.service is active (Type=notify, sandboxed,
# exposure <= 4.5), its modules came from DKMS, the project from the file
# runs and pages out the cold memory of a workload of another user (nobody)
# with its checksums intact;
# systemctl reload picks up a new file; restart brings the same projects
# back; stop leaves no etmemd, turns swapcache reclaim back off and puts
# vm.swappiness back (kernel_swap=off); the
# first lookup of the family loads etmem_scan.
. "$ETMEM_TOP/t/lib/vmtest.sh"

want=$(cat "$top/VERSION")
kver=$(uname -r)
SOCK=etmemd_socket
state=/root/etmem-preboot
prebuilt=$top/build/deb/dkms
built=etmem/$want/$kver/$(uname -m)

preboot() {
	local debs=() p f
	for p in etmem etmem-dkms etmem-memtools libetmemd-scan1 libetmemd-scan-dev; do
		f=$(ls "$top"/build/deb/"${p}_${want}_"*.deb 2>/dev/null | head -n1)
		[ -n "$f" ] || vt_die "no build/deb/${p}_${want}_*.deb (t/host/debian_package.sh makes them)"
		debs+=("$f")
	done
	[ -d "$prebuilt/$built/module" ] ||
		vt_die "no $prebuilt/$built/module (t/host/debian_package.sh builds it)"
	for d in /lib/modules/*; do
		[ "${d##*/}" = "$kver" ] || mount -t tmpfs -o ro none "$d"
	done
	hdr=/lib/modules/$kver/build
	mv "$hdr" "$hdr.away" || vt_die "cannot move $hdr aside"
	# man-db's trigger re-indexes every manual page over 9p; it skips
	# that without /var/lib/man-db/auto-update.
	rm -f /var/lib/man-db/auto-update
	# DKMS's depmod reads every module of the tree over 9p (most of its
	# ~130 s under TCG): drivers for hardware this VM has none of (QEMU
	# -nodefaults: no display, USB, sound or network device) are hidden
	# while it runs. The modules.dep and modules.alias it writes live in
	# the overlay and serve the rest of this boot, which then cannot load
	# those drivers: a device added to the VM would need its directory
	# taken off this list.
	nohw=
	for d in sound drivers/media drivers/iio drivers/net/wireless drivers/net/ethernet \
		drivers/gpu drivers/usb drivers/hid drivers/infiniband drivers/staging \
		drivers/bluetooth net/bluetooth; do
		[ -d "/lib/modules/$kver/kernel/$d" ] || continue
		mount -t tmpfs -o ro none "/lib/modules/$kver/kernel/$d" && nohw="$nohw $d"
	done
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo "installing ${debs[*]##*/} (uptime $t0 s)"
	dpkg -i "${debs[@]}" >"$state.dpkg" 2>&1 || { tail -n 30 "$state.dpkg"; vt_die "dpkg -i failed"; }
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "installed: dpkg -i took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
	cat "$state.dpkg"
	dkms status >"$state.added" 2>&1
	cat "$state.added"
	mkdir -p "/var/lib/dkms/etmem/$want/$kver"
	cp -a "$prebuilt/etmem/$want/$kver/." "/var/lib/dkms/etmem/$want/$kver/" &&
		cp -a "$prebuilt"/mok.key "$prebuilt"/mok.pub /var/lib/dkms/ ||
		vt_die "cannot place the host's DKMS build in /var/lib/dkms"
	mv "$hdr.away" "$hdr" || vt_die "cannot put $hdr back"
	run-parts --report --exit-on-error --arg="$kver" /etc/kernel/header_postinst.d \
		>"$state.hook" 2>&1 || { cat "$state.hook"; vt_die "header_postinst.d failed"; }
	t2=$(cut -d' ' -f1 /proc/uptime)
	for d in $nohw; do umount "/lib/modules/$kver/kernel/$d"; done
	cat "$state.hook"
	echo "DKMS installed the built module in $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s"
	dkms status >"$state.dkms" 2>&1
	cat "$state.dkms"
	cat /proc/sys/vm/swappiness >"$state.swappiness"
	mkdir -p /etc/etmem/etmemd.d
	cat >/etc/etmem/etmemd.d/10-boot.conf <<CONF
[project]
name=boot
loop=2
interval=1
sleep=1
swapcache_high_wmark=10
swapcache_low_wmark=6
kernel_swap=off
autostart=yes

[engine]
name=slide
project=boot

[task]
project=boot
engine=slide
name=hotcold
type=name
value=hotcold
T=1
CONF
	chmod 600 /etc/etmem/etmemd.d/10-boot.conf
	vt_done
}

pjson() { "$ETMEM" project show -s "$SOCK" -j 2>/dev/null; }
pstate() { # pstate PROJECT: started, stopped or absent
	pjson | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["projects"] if p["name"] == sys.argv[1]]
print("absent" if not p else ("started" if p[0]["started"] else "stopped"))' "$1" 2>/dev/null
}
wait_state() { # wait_state PROJECT STATE: up to 60 s
	local i
	for i in $(seq 120); do
		[ "$(pstate "$1")" = "$2" ] && return 0
		sleep 0.5
	done
	return 1
}
reclaim() { # the kernel's swapcache reclaim switch: 0 or 1
	"$helpers/kmod_genl" swapcache-get | sed -n 's/.* reclaim \([01]\) .*/\1/p'
}

run() {
	ETMEM=/usr/bin/etmem
	systemctl is-system-running --wait >/dev/null
	echo "system: $(systemctl is-system-running) (uptime $(cut -d' ' -f1 /proc/uptime) s)"
	vt_check "etmemd.service is active after boot" systemctl is-active --quiet etmemd
	systemctl status --no-pager etmemd | head -n 12
	vt_check "etmemd.service is Type=notify" test "$(systemctl show -P Type etmemd)" = notify
	grep -qF "Module build for kernel $kver was skipped" "$state.dpkg" &&
		grep -qx "etmem/$want: added" "$state.added" &&
		vt_ok "without headers, dpkg -i registered the sources (dkms add) and built nothing" ||
		vt_fail "dpkg -i without headers: $(grep -i "dkms\|kernel" "$state.dpkg"); $(cat "$state.added")"
	grep -q "etmem/$want, $kver, .*: installed" "$state.dkms" &&
		vt_ok "DKMS installed etmem $want for $kver" || vt_fail "dkms status: $(cat "$state.dkms")"
	vt_check "DKMS did not build: no 'Building module' in the hook's output" \
		sh -c "! grep -q 'Building module' $state.hook"
	vt_check "the make.log in /var/lib/dkms is the host build's" \
		cmp "$prebuilt/$built/log/make.log" "/var/lib/dkms/$built/log/make.log"
	# dkms add makes an empty build directory; a build fills it, then
	# removes it.
	vt_check "DKMS's build directory is still the empty one dkms add made" \
		sh -c "test -d /var/lib/dkms/etmem/$want/build && test -z \"\$(ls -A /var/lib/dkms/etmem/$want/build)\""
	for m in "$prebuilt/$built"/module/*; do
		vt_check "/lib/modules/$kver/updates/dkms/${m##*/} is the host build's" \
			cmp "$m" "/lib/modules/$kver/updates/dkms/${m##*/}"
	done
	path=$(modinfo -n etmem_scan 2>&1)
	vt_check "etmem_scan comes from DKMS ($path)" grep -q "/updates/dkms/" <<<"$path"
	vt_check "etmem_scan MODULE_VERSION $want" test "$(modinfo -F version etmem_scan)" = "$want"
	vt_check "the service loaded etmem_scan and etmem_swap" \
		sh -c 'grep -q "^etmem_scan " /proc/modules && grep -q "^etmem_swap " /proc/modules'
	pid=$(systemctl show -P MainPID etmemd)
	vt_check "etmemd runs with NoNewPrivs" grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$pid/status"
	capbnd=$(awk '/^CapBnd/ {print $2}' "/proc/$pid/status")
	# CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), CAP_SYS_NICE (23)
	vt_check "etmemd's capability bounding set is NET_ADMIN, SYS_PTRACE, SYS_ADMIN, SYS_NICE, DAC_READ_SEARCH ($capbnd)" \
		test "$capbnd" = 0000000000a81004
	score=$(systemd-analyze security etmemd 2>/dev/null |
		sed -n 's/.*Overall exposure level for etmemd.service: \([0-9.]*\).*/\1/p')
	vt_check "systemd-analyze security etmemd: $score (at most 4.5)" \
		awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 4.5) }'
	vt_check "project boot from /etc/etmem/etmemd.d started at boot" test "$(pstate boot)" = started
	vt_check "the project turned swapcache reclaim on" test "$(reclaim)" = 1
	vt_check "kernel_swap=off set vm.swappiness to 0 through the sandbox" \
		test "$(cat /proc/sys/vm/swappiness)" = 0

	# The project pages out the cold memory of a workload named hotcold,
	# run as another user (nobody), as a database or cache would be: the
	# sandboxed service holds no CAP_KILL, so it may not signal it.
	vt_zram_swap 1G
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$helpers/hotcold" --cold-mib 256 --hot-mib 32 --interval-ms 500 >/root/hc.out 2>&1 &
	hc=$!
	vt_wait_line /root/hc.out '^ready'
	vt_check "the workload runs as nobody (uid 65534)" \
		test "$(stat -c %u "/proc/$hc")" = 65534
	out=
	for _ in $(seq 240); do
		sleep 0.5
		st=$(grep '^status' /root/hc.out | tail -n1)
		res=$(sed -n 's/.* cold_resident=\([0-9]*\).*/\1/p' <<<"$st")
		pages=$(sed -n 's/.* cold_pages=\([0-9]*\).*/\1/p' <<<"$st")
		[ -n "$res" ] && [ $((res * 10)) -le "$pages" ] && { out=1; break; }
	done
	"$ETMEM" project show -s "$SOCK" -n boot
	[ -n "$out" ] && vt_ok "90% of the cold pages paged out ($res of $pages resident)" ||
		vt_fail "cold pages resident: $st"
	# etmemd's own count of what left RAM: it reads the pagemap of a
	# process of another user (it said 0 bytes while 245 MiB went out,
	# when the unit lacked CAP_DAC_READ_SEARCH).
	for _ in $(seq 60); do
		out=$(pjson | python3 -c 'import json, sys
print(json.load(sys.stdin)["projects"][0]["tasks"][0]["total"]["bytes_paged_out"])' 2>/dev/null)
		[ "${out:-0}" -ge $((256 * 1048576 * 9 / 10)) ] && break
		sleep 0.5
	done
	vt_check "etmemd counted at least 90% of the cold set out (${out:-?} bytes)" \
		test "${out:-0}" -ge $((256 * 1048576 * 9 / 10))

	# etmemd's lines reach the journal with their fields (issue 15): one
	# per cycle names the project, engine, task and cycle.
	journalctl -u etmemd.service -o json --no-pager >/root/journal.json 2>&1
	vt_check "the journal has etmemd's fields (PROJECT=boot ENGINE=slide TASK=hotcold CYCLE=N)" python3 -c '
import json, sys
for line in open("/root/journal.json"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if (e.get("PROJECT"), e.get("ENGINE"), e.get("TASK")) == ("boot", "slide", "hotcold") \
            and str(e.get("CYCLE", "")).isdigit() and e.get("SYSLOG_IDENTIFIER") == "etmemd":
        print("# " + e["MESSAGE"]); sys.exit(0)
sys.exit(1)'

	# reload: a new file is added and started.
	cat >/etc/etmem/etmemd.d/20-late.conf <<CONF
[project]
name=late
loop=1
interval=1
sleep=1
autostart=yes

[engine]
name=slide
project=late

[task]
project=late
engine=slide
name=idle
type=name
value=etmem-nothere
T=1
CONF
	chmod 600 /etc/etmem/etmemd.d/20-late.conf
	vt_check "systemctl reload" systemctl reload etmemd
	vt_check "reload added and started project late" wait_state late started
	vt_check "reload logged its outcome" sh -c \
		'journalctl -u etmemd --no-pager | grep -q "etmemd.d: 1 added, 0 changed, 0 removed, 1 unchanged, 0 failed"'
	vt_check "etmemd kept its pid over the reload" test "$(systemctl show -P MainPID etmemd)" = "$pid"

	# restart: the same projects come back.
	vt_check "systemctl restart" systemctl restart etmemd
	vt_check "after restart etmemd has a new pid" test "$(systemctl show -P MainPID etmemd)" != "$pid"
	vt_check "after restart project boot runs" wait_state boot started
	vt_check "after restart project late runs" wait_state late started

	# stop: no etmemd left, swapcache reclaim off again.
	vt_check "systemctl stop" systemctl stop etmemd
	vt_check "no etmemd process after stop" sh -c '! pgrep -x etmemd'
	vt_check "the socket is gone after stop" sh -c "! $ETMEM project show -s $SOCK >/dev/null 2>&1"
	vt_check "swapcache reclaim is off again after stop" test "$(reclaim)" = 0
	vt_check "vm.swappiness is back to $(cat "$state.swappiness") after stop" \
		test "$(cat /proc/sys/vm/swappiness)" = "$(cat "$state.swappiness")"

	# The first lookup of the family loads etmem_scan (MODULE_ALIAS_GENL_FAMILY).
	rmmod etmem_swap && rmmod etmem_scan
	vt_check "etmem_scan unloaded" sh -c '! grep -q "^etmem_scan " /proc/modules'
	"$helpers/kmod_genl" status
	vt_check "a family lookup loaded etmem_scan" grep -q "^etmem_scan " /proc/modules

	kill -TERM "$hc"
	wait "$hc"
	tail -n 2 /root/hc.out
	vt_check "the workload verifies every checksum" grep -q '^verify ok' /root/hc.out
	vt_done
}

case ${1:-} in
preboot) preboot ;;
run) run ;;
*) vt_die "run by t/vm-run in systemd mode (preboot, then run)" ;;
esac
