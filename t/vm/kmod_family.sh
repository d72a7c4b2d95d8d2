#!/bin/bash
# The etmem family: both modules load and unload cleanly, the family shows
# its ops and multicast group, unprivileged callers get EPERM, malformed
# requests are rejected with an extack message, commands of a missing
# etmem_swap fail with EOPNOTSUPP.
. "$ETMEM_TOP/t/lib/vmtest.sh"
g=$helpers/kmod_genl

vt_load_etmem
ctrl=$(genl-ctrl-list --details 2>&1)
fam=$(echo "$ctrl" | sed -n '/^0x[0-9a-f]* etmem /,/^0x/p')
echo "$fam"
vt_check "family etmem is registered" grep -q "etmem version 1" <<<"$fam"
nops=$(grep -c "unknown (0x" <<<"$fam")
vt_check "7 ops listed: the 9 commands less the two retired kernel-swap ones (got $nops)" [ "$nops" = 7 ]
vt_check "the retired kernel-swap commands (0x7, 0x8) are not registered" \
	bash -c "! grep -Eq 'unknown \(0x[78]\)' <<<\"\$1\"" _ "$fam"
vt_check "scan op is a dump with admin_perm" grep -q "0x01.*admin_perm.*has_dump" <<<"$fam"
vt_check "swapflag set op has no admin_perm" bash -c "grep '(0x02)' <<<\"\$1\" | grep -vq admin_perm" _ "$fam"
vt_check "multicast group swapcache" grep -q "swapcache" <<<"$fam"

out=$("$g" status); echo "$out"
vt_check "status: etmem_swap attached" grep -q "swap_loaded 1" <<<"$out"

# Unprivileged: admin commands refused by the netlink core.
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
out=$($nobody "$g" scan 1); echo "$out"
vt_check "unprivileged scan: EPERM" grep -q "error: EPERM" <<<"$out"
out=$($nobody "$g" swapcache-get); echo "$out"
vt_check "unprivileged swapcache-get: EPERM" grep -q "error: EPERM" <<<"$out"
out=$($nobody "$g" swapflag-get 1); echo "$out"
vt_check "unprivileged swapflag-get of pid 1: EPERM + message" \
	grep -q "error: EPERM.*not your process.*need CAP_SYS_ADMIN" <<<"$out"
# No oracle: a pid that does not exist gets the very same answer.
out2=$($nobody "$g" swapflag-get 4000000); echo "$out2"
vt_check "unprivileged swapflag-get of a missing pid: same answer as an existing one" \
	test "$out" = "$out2"
out2=$($nobody "$g" swapflag-set 4000000 1 -r 1000-2000); echo "$out2"
vt_check "unprivileged swapflag-set of a missing pid: same answer" \
	grep -q "error: EPERM.*not your process" <<<"$out2"

# CAP_NET_ADMIN (what GENL_ADMIN_PERM checks) is not enough to read or
# page out another process's memory: CAP_SYS_ADMIN is, as elsewhere.
sleep 1000 & victim=$!
netadm="setpriv --bounding-set -all,+net_admin"
sysadm="setpriv --bounding-set -all,+net_admin,+sys_admin"
for c in "scan $victim" "swap $victim -r 1000-2000" "swapcache-set 5 10 0"; do
	# shellcheck disable=SC2086
	out=$($netadm "$g" $c); echo "# CAP_NET_ADMIN only: $c -> $out"
	vt_check "CAP_NET_ADMIN only: $c -> EPERM naming CAP_SYS_ADMIN" \
		grep -q "error: EPERM.*needs CAP_SYS_ADMIN" <<<"$out"
done
out=$($sysadm "$g" scan $victim); echo "# with CAP_SYS_ADMIN: $(tail -n1 <<<"$out")"
vt_check "CAP_SYS_ADMIN: scan works" bash -c "! grep -q error: <<<\"\$1\"" _ "$out"
out=$($sysadm "$g" swap $victim -r 1000-2000); echo "# with CAP_SYS_ADMIN: $out"
vt_check "CAP_SYS_ADMIN: swap check works" bash -c "! grep -q error: <<<\"\$1\"" _ "$out"
kill $victim; wait $victim 2>/dev/null

# A page-out the kernel approves but the caller could not count is
# refused before anything leaves RAM: the caller may page out (CAP_SYS_NICE
# and CAP_SYS_PTRACE, as process_madvise() asks) but not read the pagemap
# of another user's process (mode 0400, no CAP_DAC_READ_SEARCH). The
# kernel's own refusal above still came first.
vt_zram_swap 64M
$nobody "$helpers/hotcold" --cold-mib 16 --hot-mib 1 >/tmp/hc.out & hc=$!
vt_wait_line /tmp/hc.out "^ready"
cold=$(sed -n 's/^ready .* cold=0x\([0-9a-f]*\)-0x\([0-9a-f]*\) .*/\1-\2/p' /tmp/hc.out)
nodac="setpriv --bounding-set -all,+net_admin,+sys_admin,+sys_nice,+sys_ptrace"
$nodac "$g" scan $hc >/dev/null
sleep 1
$nodac "$g" scan $hc >/dev/null
out=$($nodac "$g" swap $hc -r "$cold"); echo "# without CAP_DAC_READ_SEARCH: $out"
vt_check "uncountable page-out: refused, naming the pagemap and the capabilities" \
	grep -q "error: EACCES (13): cannot open /proc/$hc/pagemap to count the page-out: Permission denied (another user.s process needs CAP_DAC_READ_SEARCH" <<<"$out"
vt_check "uncountable page-out: nothing left RAM (VmSwap $(vt_status_kb $hc VmSwap) kB)" \
	[ "$(vt_status_kb $hc VmSwap)" = 0 ]
out=$("$g" swap $hc -r "$cold"); echo "# as root: $out"
vt_check "the same page-out as root: no error" bash -c "! grep -q error: <<<\"\$1\"" _ "$out"
vt_check "the same page-out as root: at least 12 MiB left RAM (VmSwap $(vt_status_kb $hc VmSwap) kB)" \
	[ "$(vt_status_kb $hc VmSwap)" -ge 12288 ]
kill $hc; wait $hc
vt_check "workload data intact after the page-out" grep -q "^verify ok" /tmp/hc.out
swapoff /dev/zram0

# Malformed requests: strict policies answer with extack text.
out=$("$g" raw unknown-attr); echo "$out"
vt_check "unknown attribute: EINVAL + message" grep -Eq "error: EINVAL.*: .+" <<<"$out"
out=$("$g" raw wrong-type); echo "$out"
vt_check "wrong attribute type: EINVAL/ERANGE + message" grep -Eq "error: E(INVAL|RANGE).*: .+" <<<"$out"
out=$("$g" raw unsupported-attr); echo "$out"
vt_check "attribute of another command: EINVAL + message" grep -Eq "error: EINVAL.*: .+" <<<"$out"
out=$("$g" raw flat-nest); echo "$out"
vt_check "nest without NLA_F_NESTED: EINVAL + message" grep -Eq "error: EINVAL.*: .+" <<<"$out"

# Without etmem_swap: its commands say so.
rmmod etmem_swap || vt_fail "rmmod etmem_swap"
out=$("$g" swapcache-get); echo "$out"
vt_check "swap commands without etmem_swap: EOPNOTSUPP" \
	grep -q "error: EOPNOTSUPP.*etmem_swap module is not loaded" <<<"$out"
out=$("$g" status); echo "$out"
vt_check "status: etmem_swap not attached" grep -q "swap_loaded 0" <<<"$out"
vt_check "rmmod etmem_scan once etmem_swap is gone" rmmod etmem_scan
vt_check "family gone after unload" bash -c "! genl-ctrl-list 2>&1 | grep -q ' etmem '"
# Load again: a second round must be as clean as the first.
vt_load_etmem
vt_check "etmem_scan cannot go before etmem_swap" bash -c "! rmmod etmem_scan 2>/dev/null"
vt_unload_etmem
vt_done
