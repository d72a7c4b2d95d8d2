#!/bin/bash
# vm-timeout: 300
# The etmem family against random requests (t/helpers/genl_fuzz.c): every
# command number with random attribute sets, types, sizes and nested
# ranges, as root (with a process that has memory, pid 1 and random pids
# as targets, swap on zram) and as an unprivileged user, with
# panic_on_warn set. Each request must be answered, the family must still
# answer afterwards, the console stays clean (the harness checks it) and
# the modules unload.
. "$ETMEM_TOP/t/lib/vmtest.sh"
secs=${ETMEM_GENL_FUZZ_SECONDS:-20}
seed=${ETMEM_GENL_FUZZ_SEED:-$(date +%s)}

vt_load_etmem
vt_zram_swap 256M
echo 1 >/proc/sys/kernel/panic_on_warn
python3 -c 'import time; b = bytearray(64 << 20); b[::4096] = b"x" * (64 << 8); time.sleep(600)' &
victim=$!
sleep 0.5
echo "seed $seed"
if "$helpers/genl_fuzz" "$secs" "$seed" "$victim" 1 $$ >/tmp/fuzz.out 2>&1; then
	vt_ok "root: $(head -n 1 /tmp/fuzz.out)"
else
	vt_fail "root: genl_fuzz failed"
fi
cat /tmp/fuzz.out
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
if $nobody "$helpers/genl_fuzz" $((secs / 4 + 1)) "$((seed + 1))" "$victim" 1 >/tmp/fuzz2.out 2>&1; then
	vt_ok "unprivileged: $(head -n 1 /tmp/fuzz2.out)"
else
	vt_fail "unprivileged: genl_fuzz failed"
fi
cat /tmp/fuzz2.out
vt_check "the victim process survived" kill -0 "$victim"
kill "$victim"; wait "$victim" 2>/dev/null
# Leave the kernel as we found it before unloading.
"$helpers/kmod_genl" swapcache-set 0 0 0 >/dev/null 2>&1
"$helpers/kmod_genl" kswap-set 1 >/dev/null 2>&1
vt_check "etmem_swap unloads" rmmod etmem_swap
vt_check "etmem_scan unloads" rmmod etmem_scan
vt_done
