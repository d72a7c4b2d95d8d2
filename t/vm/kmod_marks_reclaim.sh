#!/bin/bash
# vm-timeout: 600
# vm-kernels: 6.12 newest
# Swap-flag marks at scale and cooperation with reclaim, where the kernel
# has the page-idle flags the cooperation needs (Debian 12's 6.1 does not:
# there folio_set_young() does nothing, see docs/kernel.md). The marks are
# the module's own data structure, the same on every kernel.
# Marks: 2000 processes holding marks; scans stay whole and the marks
# leave with their processes.
. "$ETMEM_TOP/t/lib/vmtest.sh"
g=$helpers/kmod_genl

vt_load_etmem
# Marks per mm: with 2000 other processes holding marks, every
# swapflag-only scan still reports the whole marked range, the status
# counts the 2001 processes, and the children's marks go with them. The
# helper prints the scan times before, with and after the marks; they are
# a figure, not a check (a 3 ms scan under emulation moves by more than
# that; performance is for the benchmark).
vt_check "2000 processes holding marks: scans whole, marks counted and released at exit" \
	"$helpers/kmod_marks_scale" 256 2000 5

# Cooperation with reclaim: a hot set touched every 2 s, scanned every
# second by etmem (so its accessed bits are usually clear when reclaim
# looks), must suffer no more major faults under memory pressure than
# without etmem: the scan marks the folios young for reclaim. That needs
# the page-idle flags (CONFIG_PAGE_IDLE_FLAG, Debian 6.12); without them
# (Debian 6.1) the figures are printed and the consequence is documented.
vt_zram_swap 2G

coop_round() { # coop_round scan|noscan -> prints the workload's major faults
	local w p s="" m0 m1
	"$helpers/kmod_coop" 128 768 2000 >/tmp/coop.out &
	w=$!
	vt_wait_line /tmp/coop.out ready
	sleep 3
	if [ "$1" = scan ]; then
		(while :; do "$g" scan $w >/dev/null 2>&1; sleep 1; done) &
		s=$!
		sleep 3
	fi
	m0=$(awk '{print $12}' /proc/$w/stat)
	# Fill what is available once the workload is in, and a little more
	# (what MemTotal minus 900 MiB gave in a fresh guest): sized by
	# MemAvailable so that what earlier tests left in memory cannot turn
	# the pressure into an OOM kill.
	avail_mb=$(($(awk '/^MemAvailable/ {print $2}' /proc/meminfo) / 1024))
	"$helpers/kmod_memload" hold $((avail_mb + 16)) >/tmp/press.out &
	p=$!
	vt_wait_line /tmp/press.out ready 300
	sleep 6
	m1=$(awk '{print $12}' /proc/$w/stat)
	kill $p; wait $p 2>/dev/null
	[ -n "$s" ] && { kill $s; wait $s 2>/dev/null; }
	kill $w; wait $w 2>/dev/null
	swapoff /dev/zram0 && swapon /dev/zram0
	echo $((m1 - m0))
}
# The running kernel's config: Debian 12's in /boot, the fetched one's beside it.
if cat "/boot/config-$(uname -r)" "/usr/local/share/etmem/kernels/$(uname -r)/config" 2>/dev/null |
	grep -q '^CONFIG_PAGE_IDLE_FLAG=y'; then
	without=$(coop_round noscan)
	with=$(coop_round scan)
	echo "# hot-set major faults under pressure: $without without etmem, $with with etmem scanning every second"
	vt_check "scans keep reclaim's access history: $with major faults with etmem vs $without without (at most +10%, +64 for noise)" \
		[ "$with" -le $((without * 110 / 100 + 64)) ]
else
	echo "# not measured here: no CONFIG_PAGE_IDLE_FLAG, folio_set_young() does nothing (docs/kernel.md)"
fi

vt_check "modules unload" vt_unload_etmem
vt_done
