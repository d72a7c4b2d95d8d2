#!/bin/bash
# dpkg-buildpackage -b -us -uc from a clean copy of the tracked files
# builds the five packages at the version of VERSION, with the files each
# must hold; lintian reports no error. The packages are left in
# build/deb/ for the VM test that installs them (t/vm/systemd_service.sh).
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"

want=$(cat "$TOP/VERSION")
src=$WORK/pkg/etmem-$want
mkdir -p "$src"
(cd "$TOP" && git ls-files -z | xargs -0 cp -P --parents -t "$src") || fail "copying the tracked files"
cv=$(cd "$src" && dpkg-parsechangelog -S Version)
[ "$cv" = "$want" ] && pass "debian/changelog version $cv is VERSION" ||
	fail "debian/changelog says $cv, VERSION says $want"
if (cd "$src" && dpkg-buildpackage -b -us -uc) >"$WORK/build.log" 2>&1; then
	pass "dpkg-buildpackage -b -us -uc"
else
	fail "dpkg-buildpackage: $(tail -n 20 "$WORK/build.log")"
	exit 1
fi
cd "$WORK/pkg" || exit 1
has() { # has PACKAGE PATH...
	local p=$1 f
	shift
	for f in "$@"; do
		dpkg-deb -c "${p}_${want}_"*.deb | grep -E " \./$f( -> .*)?\$" >/dev/null || fail "$p lacks /$f"
	done
}
has etmem usr/sbin/etmemd usr/bin/etmem lib/systemd/system/etmemd.service \
	etc/etmem/slide_conf.yaml usr/share/man/man8/etmemd.8.gz usr/share/man/man5/etmem.conf.5.gz \
	usr/share/bash-completion/completions/etmem
has etmem-dkms "usr/src/etmem-$want/dkms.conf" "usr/src/etmem-$want/Kbuild" \
	"usr/src/etmem-$want/scan_main.c" "usr/src/etmem-$want/uapi/linux/etmem.h"
has etmem-memtools usr/sbin/etmem-procstat usr/sbin/etmem-pr usr/share/man/man8/etmem-pr.8.gz
has libetmemd-scan1 usr/lib/x86_64-linux-gnu/libetmemd_scan.so.1
has libetmemd-scan-dev usr/include/etmem/etmemd_scan.h usr/lib/x86_64-linux-gnu/libetmemd_scan.so \
	usr/lib/x86_64-linux-gnu/pkgconfig/etmemd_scan.pc
dpkg-deb --ctrl-tarfile "libetmemd-scan1_${want}_"*.deb | tar -t | grep triggers >/dev/null &&
	pass "libetmemd-scan1 runs ldconfig (trigger)" || fail "libetmemd-scan1 has no ldconfig trigger"
dpkg-deb -I "etmem_${want}_"*.deb | grep "^ Depends:.*libsystemd0" >/dev/null || fail "etmem does not depend on libsystemd0"
for p in etmem etmem-dkms etmem-memtools libetmemd-scan1 libetmemd-scan-dev; do
	v=$(dpkg-deb -f "${p}_${want}_"*.deb Version)
	[ "$v" = "$want" ] || fail "$p has version $v"
done
lintian etmem_"$want"_*.changes >"$WORK/lintian.log" 2>&1
errors=$(grep -c '^E:' "$WORK/lintian.log")
[ "$errors" = 0 ] && pass "lintian: no errors ($(grep -c '^W:' "$WORK/lintian.log") warnings)" ||
	fail "lintian: $(grep '^E:' "$WORK/lintian.log")"
mkdir -p "$BUILD/deb"
rm -f "$BUILD"/deb/*.deb
cp ./*.deb "$BUILD/deb/"
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
