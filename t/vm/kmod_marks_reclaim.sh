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

# Cooperation with reclaim: a hot set touched every 3 s, scanned by etmem
# between two touches (so its accessed bits are clear when reclaim
# looks), must suffer no more major faults from reclaim than without
# etmem: the scan marks the folios young for reclaim. That needs the
# page-idle flags (CONFIG_PAGE_IDLE_FLAG, Debian 6.12); without them
# (Debian 6.1) the figures are printed and the consequence is documented.
#
# Reclaim is asked in step with the workload, so that what it sees does
# not depend on timing: in a memory cgroup holding the workload (128 MiB
# hot, 16 MiB cold) and a 96 MiB filler whose accessed bits were cleared
# once, three times right after a pass over the hot set the scanner under
# test runs once and memory.reclaim asks for 32 MiB. 112 MiB are idle, so
# reclaim that knows what was touched takes no hot page. A control
# scanner takes that knowledge away: /proc/PID/clear_refs clears the
# accessed bits as etmem's scan does but also the folios' young and
# referenced flags. The control must cost the hot set faults (else the
# rounds compare nothing), and etmem's scan at most half the control's
# (else the young flags it sets did not count). (With a limit and a
# filler racing the passes instead, the control cost 5 faults in one boot
# and 32773 in another.)
vt_zram_swap 2G
CG=/sys/fs/cgroup/etmem-coop
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p $CG

# wait_pass N: until the workload has printed "pass N".
wait_pass() { vt_wait_line /tmp/coop.out "^pass $1\$" 60; }
# coop_round none|scan|clear_refs -> prints the workload's major faults
# over three rounds of the scanner and reclaim, and the pass after them.
coop_round() {
	local w p m0 m1 n
	(echo $BASHPID >$CG/cgroup.procs && exec "$helpers/kmod_coop" 128 16 3000) >/tmp/coop.out &
	w=$!
	vt_wait_line /tmp/coop.out ready
	(echo $BASHPID >$CG/cgroup.procs && exec "$helpers/kmod_memload" hold 96) >/tmp/press.out &
	p=$!
	vt_wait_line /tmp/press.out ready
	# Every page idle but the hot set, which the next pass touches.
	echo 1 >/proc/$p/clear_refs
	echo 1 >/proc/$w/clear_refs
	n=$(grep -c '^pass' /tmp/coop.out)
	wait_pass $((n + 1))
	m0=$(awk '{print $12}' /proc/$w/stat)
	for n in $((n + 2)) $((n + 3)) $((n + 4)); do
		wait_pass $n
		case $1 in
		scan) "$g" scan $w >/dev/null ;;
		clear_refs) echo 1 >/proc/$w/clear_refs ;;
		esac
		echo 32M >$CG/memory.reclaim 2>/dev/null
	done
	wait_pass $((n + 1))
	m1=$(awk '{print $12}' /proc/$w/stat)
	kill $p $w; wait $p $w 2>/dev/null
	swapoff /dev/zram0 && swapon /dev/zram0
	echo $((m1 - m0))
}
# The running kernel's config: Debian 12's in /boot, the fetched one's beside it.
if cat "/boot/config-$(uname -r)" "/usr/local/share/etmem/kernels/$(uname -r)/config" 2>/dev/null |
	grep -q '^CONFIG_PAGE_IDLE_FLAG=y'; then
	without=$(coop_round none)
	control=$(coop_round clear_refs)
	with=$(coop_round scan)
	echo "# hot-set major faults after reclaim: $without without etmem, $control with clear_refs before each reclaim, $with with an etmem scan before each"
	echo "# MGLRU (/sys/kernel/mm/lru_gen/enabled): $(cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null || echo absent)"
	vt_check "control: reclaim reaches the hot set ($control major faults with clear_refs, at least 1024)" \
		[ "$control" -ge 1024 ]
	vt_check "the scan's young flags count: $with major faults with etmem, at most half the control's $control" \
		[ "$with" -le $((control / 2)) ]
	vt_check "scans keep reclaim's access history: $with major faults with etmem vs $without without (at most +10%, +64)" \
		[ "$with" -le $((without * 110 / 100 + 64)) ]
else
	echo "# not measured here: no CONFIG_PAGE_IDLE_FLAG, folio_set_young() does nothing (docs/kernel.md)"
fi
rmdir $CG

vt_check "modules unload" vt_unload_etmem
vt_done
