#!/bin/bash
# vm-timeout: 2400
# vm-mode: systemd
# vm-kernels: 6.12
# The packages, installed as an operator does, under systemd as PID 1.
# preboot (before systemd starts): dpkg -i the .debs of build/deb (made by
# t/host/debian_package.sh), DKMS builds the modules for every kernel with
# headers (here only the running one: the other kernels' trees are hidden,
# as each build under emulation takes minutes), and a project file goes
# into /etc/etmem/etmemd.d. One kernel (6.12): the whole boot costs 10+ min.
# run (after the boot): etmemd.service is active (Type=notify, sandboxed,
# exposure <= 4.5), its modules came from DKMS, the project from the file
# runs and pages out a workload's cold memory with its checksums intact;
# systemctl reload picks up a new file; restart brings the same projects
# back; stop leaves no etmemd, turns swapcache reclaim back off and puts
# vm.swappiness back (kernel_swap=off); the
# first lookup of the family loads etmem_scan.
. "$ETMEM_TOP/t/lib/vmtest.sh"

want=$(cat "$top/VERSION")
kver=$(uname -r)
SOCK=etmemd_socket
state=/root/etmem-preboot

preboot() {
	local debs=() p f
	for p in etmem etmem-dkms etmem-memtools libetmemd-scan1 libetmemd-scan-dev; do
		f=$(ls "$top"/build/deb/"${p}_${want}_"*.deb 2>/dev/null | head -n1)
		[ -n "$f" ] || vt_die "no build/deb/${p}_${want}_*.deb (t/host/debian_package.sh makes them)"
		debs+=("$f")
	done
	for d in /lib/modules/*; do
		[ "${d##*/}" = "$kver" ] || mount -t tmpfs -o ro none "$d"
	done
	echo "installing ${debs[*]##*/} (uptime $(cut -d' ' -f1 /proc/uptime) s)"
	dpkg -i "${debs[@]}" >"$state.dpkg" 2>&1 || { tail -n 30 "$state.dpkg"; vt_die "dpkg -i failed"; }
	echo "installed (uptime $(cut -d' ' -f1 /proc/uptime) s)"
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
	grep -q "etmem/$want, $kver, .*: installed" "$state.dkms" &&
		vt_ok "DKMS built etmem $want for $kver" || vt_fail "dkms status: $(cat "$state.dkms")"
	n=$(grep -c "etmem/$want, .*: installed" "$state.dkms")
	vt_check "DKMS built for every kernel with headers, here the running one ($n)" test "$n" -ge 1
	path=$(modinfo -n etmem_scan 2>&1)
	vt_check "etmem_scan comes from DKMS ($path)" grep -q "/updates/dkms/" <<<"$path"
	vt_check "etmem_scan MODULE_VERSION $want" test "$(modinfo -F version etmem_scan)" = "$want"
	vt_check "the service loaded etmem_scan and etmem_swap" \
		sh -c 'grep -q "^etmem_scan " /proc/modules && grep -q "^etmem_swap " /proc/modules'
	pid=$(systemctl show -P MainPID etmemd)
	vt_check "etmemd runs with NoNewPrivs" grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$pid/status"
	capbnd=$(awk '/^CapBnd/ {print $2}' "/proc/$pid/status")
	# CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), CAP_SYS_NICE (23)
	vt_check "etmemd's capability bounding set is NET_ADMIN, SYS_PTRACE, SYS_ADMIN, SYS_NICE ($capbnd)" \
		test "$capbnd" = 0000000000a81000
	score=$(systemd-analyze security etmemd 2>/dev/null |
		sed -n 's/.*Overall exposure level for etmemd.service: \([0-9.]*\).*/\1/p')
	vt_check "systemd-analyze security etmemd: $score (at most 4.5)" \
		awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 4.5) }'
	vt_check "project boot from /etc/etmem/etmemd.d started at boot" test "$(pstate boot)" = started
	vt_check "the project turned swapcache reclaim on" test "$(reclaim)" = 1
	vt_check "kernel_swap=off set vm.swappiness to 0 through the sandbox" \
		test "$(cat /proc/sys/vm/swappiness)" = 0

	# The project pages out the cold memory of a workload named hotcold.
	vt_zram_swap 1G
	"$helpers/hotcold" --cold-mib 256 --hot-mib 32 --interval-ms 500 >/root/hc.out 2>&1 &
	hc=$!
	vt_wait_line /root/hc.out '^ready'
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
