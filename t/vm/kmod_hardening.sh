#!/bin/bash
# vm-timeout: 600
# Hardening of the kernel side: races. etmem_scan and etmem_swap against
# page tables that change under them: a target loops MADV_DONTNEED,
# re-touch and MADV_COLLAPSE over its memory (PTE tables and huge PMDs
# replacing each other) while it is scanned and swap-checked, with
# panic_on_warn set: any WARN (such as a generic page-table helper meeting
# a huge PMD) would end the guest. A process in a fresh network namespace
# marks its own memory. Then the modules must unload.
. "$ETMEM_TOP/t/lib/vmtest.sh"
g=$helpers/kmod_genl
secs=${ETMEM_RACE_SECONDS:-20}

vt_load_etmem
echo 1 >/proc/sys/kernel/panic_on_warn
echo always >/sys/kernel/mm/transparent_hugepage/enabled
echo always >/sys/kernel/mm/transparent_hugepage/defrag

out=/tmp/churn.out
"$helpers/kmod_churn" 32 "$secs" >"$out" 2>&1 &
churn=$!
vt_wait_line "$out" '^ready '
read -r _ addr len <"$out"
end=$(printf '%x' $((addr + len)))
start=${addr#0x}
scans=0 swaps=0 bad=0
while kill -0 $churn 2>/dev/null; do
	o=$("$g" scan $churn -r "$start-$end" 2>&1) || { grep -Eq "exited|no process|No such process|ESRCH" <<<"$o" || { echo "# scan: $o"; bad=$((bad + 1)); }; }
	scans=$((scans + 1))
	o=$("$g" scan $churn -f 1 -r "$start-$end" 2>&1) || { grep -Eq "exited|no process|No such process|ESRCH" <<<"$o" || { echo "# AS_HUGE scan: $o"; bad=$((bad + 1)); }; }
	o=$("$g" swap $churn -r "$start-$end" 2>&1) || { grep -Eq "exited|no process|No such process|ESRCH" <<<"$o" || { echo "# swap: $o"; bad=$((bad + 1)); }; }
	swaps=$((swaps + 1))
done
wait $churn
cat "$out"
echo "# $scans scan rounds, $swaps swap checks in ${secs}s"
vt_check "the target really collapsed huge pages meanwhile" grep -Eq '^collapsed [1-9]' "$out"
vt_check "scans and swap checks ran ($scans, $swaps)" test "$scans" -ge 5 -a "$swaps" -ge 5
vt_check "no scan or swap check failed except for the target's exit ($bad)" test "$bad" = 0
echo 0 >/proc/sys/kernel/panic_on_warn

# A process in its own network namespace (a container) marks its memory.
out=$(unshare -n "$g" swapflag-set 0 1 -r 1000-2000 2>&1)
echo "# fresh netns: $out"
vt_check "swapflag-set from a fresh network namespace works" grep -qx ok <<<"$out"

vt_check "modules unload" vt_unload_etmem
vt_done
