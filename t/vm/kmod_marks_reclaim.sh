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
# DAMON_STAT (on by default on 7.x) samples physical memory and clears the
# accessed bits of what it samples: a hot page it sampled between a pass
# and the scan would read as idle, and its young flag would not count.
vt_pause_damon_stat
# Marks per mm: with 2000 other processes holding marks, every
# swapflag-only scan still reports the whole marked range, the status
# counts the 2001 processes, and the children's marks go with them. The
# helper prints the scan times before, with and after the marks; they are
# a figure, not a check (a 3 ms scan under emulation moves by more than
# that; performance is for the benchmark).
vt_check "2000 processes holding marks: scans whole, marks counted and released at exit" \
	"$helpers/kmod_marks_scale" 256 2000 5

# Cooperation with reclaim: a hot set touched once a step, scanned by
# etmem between two touches (so its accessed bits are clear when reclaim
# looks), must suffer no more major faults from reclaim than without
# etmem: the scan marks the folios young for reclaim. That needs the
# page-idle flags (CONFIG_PAGE_IDLE_FLAG, Debian 6.12 and later); Debian
# 6.1 has none (docs/kernel.md), and this test does not run there.
#
# Reclaim is asked in step with the workload, so that what it sees does
# not depend on timing: in a fresh memory cgroup holding the workload
# (128 MiB hot, 16 MiB cold) and a 96 MiB filler whose accessed bits were
# cleared once, three times right after a pass over the hot set the
# scanner under test runs once and memory.reclaim asks for 32 MiB. 112
# MiB are idle, so reclaim that knew exactly what was touched would take
# no hot page; MGLRU still takes a few thousand without any scanner. A
# control scanner takes the history away: /proc/PID/clear_refs clears
# the accessed bits as etmem's scan does but also the folios' young and
# referenced flags. The control must cost faults (else reclaim never
# reached the hot set and the rounds compare nothing), and etmem's scan
# at most half the control's (else the young flags it sets did not
# count). (With a limit and a filler racing the passes instead, the
# control cost 5 faults in one boot and 32773 in another.) The figures
# are the workload's major faults: its hot set's, and a few of its text
# and stack, within the +64 of the last check.
vt_zram_swap 2G
# The default, whatever an earlier test of the boot left (the harness
# restores it too).
echo 60 >/proc/sys/vm/swappiness
CG=/sys/fs/cgroup/etmem-coop
# Every page of the round on node 0. The guest has two nodes, each with
# its own LRU lists per cgroup, and memory.reclaim takes what it asks
# from the writer's node first (its zonelist's order): with the filler on
# one node and the hot set on the other, the node of the CPU the shell
# ran on would decide the outcome (the control cost 8564 faults
# with the round's pages split 60/40 between the nodes, 20000 or so with
# nearly all on one).
node0="numactl --membind=0 --cpunodebind=0"
echo +memory >/sys/fs/cgroup/cgroup.subtree_control

# wait_pass N: until the workload has printed "pass N".
wait_pass() { vt_wait_line /tmp/coop.out "^pass $1\$" 60; }
# vmstat KEY: a counter of /proc/vmstat (0 when absent).
vmstat() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' /proc/vmstat; }
# lru_gen_of_cg: the cgroup's MGLRU generations (debugfs), one line per
# generation: seq, age in ms, anon and file pages per node.
lru_gen_of_cg() {
	awk -v cg="${CG#/sys/fs/cgroup}" '$1 == "memcg" { on = ($3 == cg); next } on' \
		/sys/kernel/debug/lru_gen 2>/dev/null | tr -s ' \n' ' '
}
# coop_round none|scan|clear_refs: one round, at most 3 tries. Sets
# coop_faults to the workload's major faults from the pass before the
# first reclaim to the pass after the last, and coop_late to the
# reclaims that ended after the next pass had begun (out of step: the
# control's figure would be too low). A try in which kswapd ran is tried
# again (twice at most): MGLRU's aging (which kswapd does without counting a page
# scanned) can put the hot pages whose accessed bits it finds in a
# younger generation than the filler's, where the control's clear_refs
# does not reach them. The workload's passes are stepped by the test
# (kmod_coop with period 0), so the scan and the reclaim end before the
# next pass however slow the host (with a pass every 4 s, a slow CI host
# stretched the reclaims to 7 s and the late ones swapped out hot pages
# the next pass had just touched); a late reclaim would be the harness's
# fault and still fails the check on lateness. Each try prints how long
# each scan and reclaim took. Called directly, not in $(...), so that a
# vt_die in it ends the test.
coop_round() {
	local try n
	for try in 1 2 3; do
		coop_try "$1"
		[ "$coop_kswapd" = 0 ] && [ "$coop_late" = 0 ] && break
		# (It also runs for a boosted watermark after a fragmenting
		# allocation: not a reason to fail; the checks judge the last.)
		echo "# $1: kswapd ran $coop_kswapd times, $coop_late reclaims late during try $try$([ "$try" -lt 3 ] && echo "; again" || echo "; figures kept")"
	done
	# Each reclaim must swap out, else the rounds compare nothing (a
	# late one is failed by its own check: swap-ins during it blur it).
	[ "$coop_late" = 0 ] || return
	for n in $coop_swapped; do
		[ "$n" -ge 16 ] || vt_die "$1: a reclaim of 32 MiB swapped out $n MiB (swappiness $(cat /proc/sys/vm/swappiness); $(tail -n +2 /proc/swaps | tr -s ' \n' ' '))"
	done
}
coop_try() {
	local w p m0 m1 n0 n out acc s0 s1 t0
	coop_faults='' coop_late=0 coop_swapped='' coop_ms=''
	rm -f /tmp/coop.out /tmp/press.out
	# Page cache read over 9p by the boot's earlier tests can bring free
	# memory down to kswapd's watermark.
	echo 1 >/proc/sys/vm/drop_caches
	coop_kswapd=$(vmstat pageoutrun)
	mkdir $CG && [ -e $CG/memory.reclaim ] || vt_die "cannot make memory cgroup $CG with memory.reclaim"
	# The workload's next pass runs when a line arrives on its fifo (fd
	# 7 here): the scan and the reclaim always end before it.
	rm -f /tmp/coop.in && mkfifo /tmp/coop.in && exec 7<>/tmp/coop.in
	(echo $BASHPID >$CG/cgroup.procs && exec $node0 "$helpers/kmod_coop" 128 16 0) \
		</tmp/coop.in >/tmp/coop.out &
	w=$!
	vt_wait_line /tmp/coop.out ready
	wait_pass 1
	(echo $BASHPID >$CG/cgroup.procs && exec $node0 "$helpers/kmod_memload" hold 96) >/tmp/press.out &
	p=$!
	vt_wait_line /tmp/press.out ready
	# Every page idle but the hot set, which the next pass touches.
	echo 1 >/proc/$p/clear_refs && echo 1 >/proc/$w/clear_refs || vt_die "clear_refs failed"
	n0=1
	echo >&7
	wait_pass $((n0 + 1))
	m0=$(awk '{print $12}' /proc/$w/stat)
	for n in $((n0 + 2)) $((n0 + 3)) $((n0 + 4)); do
		echo >&7
		wait_pass $n
		t0=${EPOCHREALTIME/./}
		case $1 in
		scan)
			out=$("$g" scan $w 2>&1) || vt_die "etmem scan of the workload failed: $out"
			# The pass just touched every hot page.
			acc=$(sed -n 's/.* 4k: absent [0-9]* idle [0-9]* accessed \([0-9]*\) .*/\1/p' <<<"$out")
			[ "${acc:-0}" -ge 32768 ] || vt_die "the scan found ${acc:-no} 4 KiB pages accessed, not the 32768 hot ones: $out"
			;;
		clear_refs) echo 1 >/proc/$w/clear_refs || vt_die "clear_refs failed" ;;
		esac
		[ "$n" = $((n0 + 2)) ] && echo "# $1: MGLRU generations before the first reclaim: $(lru_gen_of_cg)"
		# Less than asked is EAGAIN; what it took shows in the swap
		# the cgroup uses and in the faults.
		s0=$(cat $CG/memory.swap.current)
		echo 32M >$CG/memory.reclaim 2>/dev/null
		s1=$(cat $CG/memory.swap.current)
		coop_ms="$coop_ms $(((${EPOCHREALTIME/./} - t0) / 1000))"
		grep -q "^begin $((n + 1))\$" /tmp/coop.out && coop_late=$((coop_late + 1))
		coop_swapped="$coop_swapped $(((s1 - s0) >> 20))"
	done
	echo >&7
	wait_pass $((n0 + 5))
	m1=$(awk '{print $12}' /proc/$w/stat)
	coop_kswapd=$(($(vmstat pageoutrun) - coop_kswapd))
	kill $p $w; wait $p $w 2>/dev/null
	exec 7>&-
	rmdir $CG
	swapoff /dev/zram0 && swapon /dev/zram0 || vt_die "swap off and on again failed: $(cat /proc/swaps)"
	coop_faults=$((m1 - m0))
	echo "# $1: $coop_faults major faults; MiB swapped out by each reclaim:$coop_swapped; ms from the pass to the reclaim's end:$coop_ms; $coop_late late; free kB per node: $(cat /sys/devices/system/node/node*/meminfo | awk '/MemFree/ {printf "%s ", $4}')"
}
# The running kernel's config: Debian 12's in /boot, the fetched one's beside it.
if cat "/boot/config-$(uname -r)" "/usr/local/share/etmem/kernels/$(uname -r)/config" 2>/dev/null |
	grep -q '^CONFIG_PAGE_IDLE_FLAG=y'; then
	coop_round none; without=$coop_faults late=$coop_late
	coop_round clear_refs; control=$coop_faults late=$((late + coop_late))
	coop_round scan; with=$coop_faults late=$((late + coop_late))
	echo "# workload major faults after reclaim: $without without etmem, $control with clear_refs before each reclaim, $with with an etmem scan before each"
	echo "# MGLRU (/sys/kernel/mm/lru_gen/enabled): $(cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null || echo absent)"
	vt_check "every reclaim ended before the workload's next pass ($late of 9 did not)" [ "$late" = 0 ]
	vt_check "control: reclaim reaches the hot set ($control major faults with clear_refs, at least 1024)" \
		[ "$control" -ge 1024 ]
	vt_check "the scan's young flags count: $with major faults with etmem, at most half the control's $control" \
		[ "$with" -le $((control / 2)) ]
	vt_check "scans keep reclaim's access history: $with major faults with etmem vs $without without (at most +10%, +64)" \
		[ "$with" -le $((without * 110 / 100 + 64)) ]
else
	echo "# not measured here: no CONFIG_PAGE_IDLE_FLAG, folio_set_young() does nothing (docs/kernel.md)"
fi

vt_check "modules unload" vt_unload_etmem
vt_done
