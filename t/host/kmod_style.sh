#!/bin/bash
# The modules' sources pass the kernel's own checkers: checkpatch.pl
# --strict and kernel-doc -Wall (every non-static function documented,
# with Return: where it returns a value), both from Debian's kernel source
# package (unpacked by scripts/deps.sh). Ignored: the checks against
# LINUX_VERSION_CODE, which an out-of-tree module serving several kernels
# needs for its version branches (tabled in docs/kernel.md).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ksrc=${ETMEM_KERNEL_SRC:-/usr/local/share/etmem/kernel-src}
cd "$top" || exit 1
fail=0
for tool in scripts/checkpatch.pl scripts/kernel-doc; do
	[ -x "$ksrc/$tool" ] || { echo "not ok - no $ksrc/$tool (run make deps)"; exit 1; }
done
out=$("$ksrc/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kmod/*.c kmod/*.h 2>&1 |
	grep -v '^total:')
if [ -n "$out" ]; then
	echo "$out"
	echo "not ok - checkpatch.pl --strict"
	fail=1
else
	echo "ok - checkpatch.pl --strict: kmod/ is clean"
fi
out=$("$ksrc/scripts/kernel-doc" -Wall -none kmod/*.c kmod/*.h 2>&1)
if [ -n "$out" ]; then
	echo "$out"
	echo "not ok - kernel-doc -Wall"
	fail=1
else
	echo "ok - kernel-doc -Wall: kmod/ is clean"
fi
# Every non-static function of kmod/ has a kernel-doc comment.
missing=$(awk 'FNR == 1 { doc = 0 }
	/^\/\*\*/ { doc = 1 }
	/^[a-z].*\(/ && !/^static/ && !/^module_/ && !/^MODULE_/ && !/^EXPORT/ {
		if (!doc) print FILENAME ": " $0
		doc = 0 }
	/^}/ { doc = 0 }' kmod/*.c)
if [ -n "$missing" ]; then
	echo "$missing"
	echo "not ok - non-static functions without kernel-doc"
	fail=1
else
	echo "ok - every non-static function has kernel-doc"
fi
exit $fail
