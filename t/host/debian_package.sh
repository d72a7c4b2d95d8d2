#!/bin/bash
# dpkg-buildpackage -b -us -uc from a clean copy of the tracked files
# builds the five packages at the version of VERSION, with the files each
# must hold; lintian reports no error. The packages are left in
# build/deb/ for the VM test that installs them (t/vm/systemd_service.sh).
# Then DKMS itself (dkms add, dkms build: the host's dkms, the package's
# /usr/src/etmem-VERSION with its dkms.conf) builds the modules natively
# for every kernel of t/lib/kernels.sh, in a private DKMS tree: the host's
# /var/lib/dkms, /usr/src and /lib/modules stay untouched. That tree, left
# in build/deb/dkms/, is the state DKMS has after building etmem/VERSION for
# those kernels; the VM test installs from it (a build under emulation
# takes about 15 minutes).
set -u
. "$(dirname "$0")/../helpers/daemon_lib.sh"
. "$TOP/t/lib/kernels.sh"

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

# DKMS builds from the package's sources. mok_signing_key and
# mok_certificate (dkms reads them from the environment as from
# framework.conf) keep the signing key DKMS creates on first use in the
# private tree too.
root=$WORK/dkms-root
tree=$WORK/dkms-tree
mkdir -p "$root" "$tree" "$WORK/dkms-lib"
dpkg-deb -x "etmem-dkms_${want}_all.deb" "$root" || fail "dpkg-deb -x etmem-dkms"
touch "$WORK/stamp"
export mok_signing_key=$tree/mok.key mok_certificate=$tree/mok.pub
dk() { dkms "$@" --dkmstree "$tree" --sourcetree "$root/usr/src" --installtree "$WORK/dkms-lib"; }
dk add -m etmem -v "$want" >"$WORK/dkms-add.log" 2>&1 || fail "dkms add: $(cat "$WORK/dkms-add.log")"
for k in $(etmem_kernels); do
	t0=$(date +%s)
	if dk build -m etmem -v "$want" -k "$k" --kernelsourcedir "$(etmem_kernel_build "$k")" \
		>"$WORK/dkms-$k.log" 2>&1; then
		pass "dkms build etmem/$want for $k, natively in a private tree ($(($(date +%s) - t0)) s)"
	else
		fail "dkms build for $k: $(tail -n 20 "$WORK/dkms-$k.log")"
		continue
	fi
	dk status -m etmem -v "$want" -k "$k" 2>/dev/null | grep -q ": built" ||
		fail "dkms status for $k: $(dk status 2>&1)"
	for m in etmem_scan etmem_swap; do
		f=$(ls "$tree/etmem/$want/$k/x86_64/module/$m.ko"* 2>/dev/null | head -n1)
		[ -n "$f" ] && [ "$(modinfo -F version "$f")" = "$want" ] ||
			fail "DKMS built no $m.ko with MODULE_VERSION $want for $k"
	done
done
[ -z "$(find /var/lib/dkms /usr/src /lib/modules/*/updates -newer "$WORK/stamp" 2>/dev/null | head -n1)" ] &&
	pass "the host's /var/lib/dkms, /usr/src and /lib/modules/*/updates are untouched" ||
	fail "the DKMS build wrote outside its tree: $(find /var/lib/dkms /usr/src /lib/modules/*/updates -newer "$WORK/stamp" | head -n3)"
# On the target, dkms add links the package's sources.
ln -sfn "/usr/src/etmem-$want" "$tree/etmem/$want/source"
rm -rf "$BUILD/deb/dkms"
cp -a "$tree" "$BUILD/deb/dkms"
echo "$nr_fail failures"
[ "$nr_fail" = 0 ]
