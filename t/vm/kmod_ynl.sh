#!/bin/bash
# vm-kernels: 6.1 newest
# (the oldest and the newest netlink: the spec and ynl are user space, the
# family itself is checked on every kernel by kmod_family)
# The spec works with the kernel's own netlink client: ynl's cli.py reads
# genl-spec/etmem.yaml and talks to the modules (do, dump with nested
# multi-attr ranges, an extack rejection, and a multicast subscription).
. "$ETMEM_TOP/t/lib/vmtest.sh"
ksrc=/usr/local/share/etmem/kernel-src
cli() {
	python3 "$ksrc/tools/net/ynl/cli.py" --spec "$top/genl-spec/etmem.yaml" \
		--schema "$ksrc/Documentation/netlink/genetlink.yaml" "$@" 2>&1
}

vt_load_etmem
out=$(cli --do status); echo "$out"
vt_check "do status: swap module loaded" grep -q "'swap-module-loaded': 1" <<<"$out"

"$helpers/kmod_memload" hold 8 >/tmp/hold &
hold=$!
vt_wait_line /tmp/hold ready
start=$(awk '/^[0-9a-f]+-[0-9a-f]+ rw-p 00000000 00:00 0 *$/ {print $1}' /proc/$hold/maps | head -1)
s=$((16#${start%-*})); e=$((16#${start#*-}))
out=$(cli --dump scan --json "{\"pid\": $hold, \"range\": [{\"start\": $s, \"end\": $e}]}"); echo "$out" | head -5
vt_check "dump scan with a nested range: chunks with states" grep -q "'chunk-states'" <<<"$out"
out=$(cli --do swapflag-set --json "{\"pid\": $hold, \"range\": [{\"start\": $s, \"end\": $e}], \"swapflag-mark\": 1}"); echo "$out"
out=$(cli --do swapflag-get --json "{\"pid\": $hold}"); echo "$out"
vt_check "do swapflag-get returns the marked range" grep -q "'start': $s" <<<"$out"
out=$(cli --do swapcache-set --json '{"swapcache-low": 7, "swapcache-high": 3}'); echo "$out"
vt_check "bad watermarks: error with the kernel's message" grep -q "must be below high" <<<"$out"
out=$(cli --do swapcache-get); echo "$out"
vt_check "do swapcache-get: totalram reported" grep -q "'totalram-bytes'" <<<"$out"
out=$(cli --subscribe swapcache --sleep 1 --do status); echo "$out"
vt_check "subscribe to the swapcache group" grep -q "swap-module-loaded" <<<"$out"
kill $hold; wait $hold 2>/dev/null
vt_check "modules unload" vt_unload_etmem
vt_done
