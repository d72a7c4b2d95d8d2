#!/bin/bash
# vm-timeout: 400
# libetmemd_scan through its public header, as a third-party policy uses
# it (t/scanlib/scanlib_check.c, built here against the header and the
# built library): VMA listing with the anon_only and vmflags filters,
# hugetlb pages as 2 MiB, ETMEMD_SCAN_AS_HUGE folding, access counts over
# two passes, the kernel's idle ages across calls, ETMEMD_SCAN_SWAPFLAG, IGN_HOST accepted, etmemd_swap_out
# paging out exactly the cold marked pages, bad pids refused. Both
# workloads verify their checksums afterwards.
. "$ETMEM_TOP/t/lib/vmtest.sh"
. "$ETMEM_TOP/t/helpers/daemon_lib.sh"

vt_load_etmem
vt_zram_swap 256M
vt_node_hugepages 4
gcc -Wall -Wextra -Werror -I"$top/include" -o "$WORK/scanlib_check" \
	"$top/t/scanlib/scanlib_check.c" -L"$top/build/lib" -letmemd_scan \
	-Wl,-rpath,"$top/build/lib" 2>"$WORK/cc.log" || vt_die "build: $(cat "$WORK/cc.log")"

"$helpers/hotcold" --cold-mib 8 --hot-mib 2 --swapflag cold --interval-ms 1000 >"$WORK/a.out" 2>&1 &
a=$!
OTHER_PIDS+=("$a")
"$helpers/hotcold" --hugetlb --node 0 --cold-mib 4 --hot-mib 0 --interval-ms 1000 >"$WORK/b.out" 2>&1 &
b=$!
OTHER_PIDS+=("$b")
vt_wait_line "$WORK/a.out" '^ready'
vt_wait_line "$WORK/b.out" '^ready'
field() { sed -n "s/^ready.* $2=\\(0x[0-9a-f]*-0x[0-9a-f]*\\).*/\\1/p" "$1"; }

"$WORK/scanlib_check" "$a" "$(field "$WORK/a.out" cold)" "$(field "$WORK/a.out" hot)" \
	"$b" "$(field "$WORK/b.out" cold)" | tee "$WORK/check.out"
grep -q '^not ok' "$WORK/check.out" && vt_failed=1
[ "$(grep -c '^ok' "$WORK/check.out")" -ge 17 ] || vt_fail "scanlib_check ran fewer checks than it has"
for w in a b; do
	p=${!w}
	kill -TERM "$p"; wait "$p"
	vt_check "workload $w: data intact" grep -q '^verify ok' "$WORK/$w.out"
done
vt_unload_etmem
vt_done
