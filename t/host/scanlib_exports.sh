#!/bin/bash
# libetmemd_scan exports exactly the documented functions, versioned, under
# its soname, and its public header declares each of them.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
lib=${BUILD:-$top/build}/lib/libetmemd_scan.so.1
want="etmemd_free_page_refs etmemd_free_vmas etmemd_get_page_refs etmemd_get_vmas etmemd_scan_exit etmemd_scan_init etmemd_swap_out"
fails=0

got=$(nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" || $2 == "D" || $2 == "B" { print $3 }' |
	sort | tr '\n' ' ')
if [ "$got" = "$(echo $want | tr ' ' '\n' | sed 's/$/@@ETMEMD_SCAN_1/' | sort | tr '\n' ' ')" ]; then
	echo "ok: exports exactly: $want (version ETMEMD_SCAN_1)"
else
	echo "FAIL: exports '$got', want '$want' at ETMEMD_SCAN_1"
	fails=1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = libetmemd_scan.so.1 ]; then
	echo "ok: soname $soname"
else
	echo "FAIL: soname '$soname'"
	fails=1
fi
for f in $want; do
	if ! grep -q "\b$f(" "$top/include/etmem/etmemd_scan.h"; then
		echo "FAIL: $f is not declared in include/etmem/etmemd_scan.h"
		fails=1
	fi
done
[ "$fails" = 0 ] && echo "ok: every export is declared in etmemd_scan.h"
exit $fails
