#!/bin/bash
# vm-timeout: 400
# etmem_swap swap requests on zram: cold pages really go to swap (VmSwap),
# young/locked/shared/hugetlb pages are refused and counted, data survive;
# swap flags: unprivileged marking of own memory, EPERM on another
# process, SWAPFLAG_ONLY, marks vanishing with the process.
. "$ETMEM_TOP/t/lib/vmtest.sh"
g=$helpers/kmod_genl
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"

vt_load_etmem
vt_zram_swap 1G
vt_pause_damon_stat
echo 16 >/proc/sys/vm/nr_hugepages
echo always >/sys/kernel/mm/transparent_hugepage/enabled

"$helpers/kmod_swap_check" || vt_fail "kmod_swap_check"

# Swap flags of an unprivileged process, and their lifetime.
fifo=/tmp/marker.out
$nobody "$helpers/kmod_swap_check" marker >"$fifo" &
marker=$!
vt_wait_line "$fifo" marked
cat "$fifo"
vt_check "unprivileged process marks its own memory" grep -q "^marked 0x" "$fifo"
range=$(sed -n 's/^marked 0x\(.*\)-0x\(.*\)/\1-\2/p' "$fifo")
out=$("$g" swapflag-get $marker); echo "$out"
vt_check "swapflag-get shows the marked range" grep -q "range 0x${range%-*}-0x${range#*-}" <<<"$out"
out=$("$g" status); echo "$out"
vt_check "one process has marks" grep -q "swapflag_procs 1" <<<"$out"
out=$("$g" scan $marker -f 4); echo "$out"
vt_check "SWAPFLAG_ONLY scan of it: exactly the 256 marked pages" grep -q "absent 0 idle 0 accessed 256 2m" <<<"$out"
out=$($nobody "$g" swapflag-set 1 1 -r 1000-2000); echo "$out"
vt_check "unprivileged marking of another process: EPERM + message" \
	grep -q "error: EPERM.*CAP_SYS_ADMIN" <<<"$out"
kill $marker; wait $marker 2>/dev/null
out=$("$g" status); echo "$out"
vt_check "marks vanish with the process" grep -q "swapflag_procs 0" <<<"$out"

vt_check "modules unload" vt_unload_etmem
vt_done
