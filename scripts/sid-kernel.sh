#!/bin/sh
# Fetch the newest kernel of Debian unstable (suite sid) as a third test
# kernel, without touching the system's packages: nothing is installed with
# dpkg. Run as root by scripts/deps.sh; silent and quick once done.
#
# Into $ETMEM_KERNELS/KVER (see t/lib/kernels.sh) go:
#   vmlinuz, config               the image and its configuration
#   lib/modules/KVER/             its modules, indexed by this system's depmod
#   build/                        a module build tree: linux-source-X.Y (same
#                                 package version as the image) configured with
#                                 the image's config, prepared with Debian 12's
#                                 gcc, with the image's Module.symvers
#   package-version, .done
#
# Why a source tree and not unstable's linux-headers-KVER: its headers expect
# gcc-16, and its prebuilt kbuild tools (modpost, objtool, genksyms) need
# GLIBC_2.38 while Debian 12 has 2.36, so they do not run here. Only its
# Module.symvers is taken from it.
#
# The version is resolved now from the archive (the newest
# linux-image-N.N.N+debNN-amd64 in sid), never hard-coded. The archive is
# the one the system's bookworm lines use; sid is added only to a private
# apt configuration in a temporary directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/t/lib/kernels.sh"
kroot=$ETMEM_KERNELS

for f in "$kroot"/*/.done; do
	[ -e "$f" ] && exit 0
done
if [ "$(id -u)" != 0 ]; then
	echo "deps: the unstable kernel is not prepared; run 'make deps' as root" >&2
	exit 1
fi

work=$(mktemp -d /var/tmp/etmem-sid.XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/log
fail() {
	echo "deps: unstable kernel: $*" >&2
	[ -s "$log" ] && tail -n 30 "$log" | sed 's/^/    /' >&2
	exit 1
}

mirror=$(apt-cache policy 2>/dev/null |
	awk '$3 ~ /^bookworm\/main$/ && $2 ~ /^https?:/ { print $2; exit }')
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
: >"$work/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" \
	>"$work/sources.list"
apt_sid() { # apt_sid apt-get|apt-cache ARGS...
	cmd=$1
	shift
	"$cmd" -q -o Dir::Etc::sourcelist="$work/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" \
		-o Dir::State::status="$work/status" -o APT::Sandbox::User=root \
		"$@"
}
pkg_field() { # pkg_field PACKAGE FIELD
	apt_sid apt-cache show --no-all-versions "$1" 2>>"$log" | sed -n "s/^$2: //p" | head -n 1
}

apt_sid apt-get update >>"$log" 2>&1 || fail "apt-get update of sid from $mirror failed"
img=$(apt_sid apt-cache search --names-only '^linux-image-[0-9][0-9.]*\+deb[0-9]+-amd64$' |
	awk '{ print $1 }' | sort -V | tail -n 1)
[ -n "$img" ] || fail "no linux-image-N.N.N+debNN-amd64 in sid at $mirror"
kver=${img#linux-image-}
majmin=$(echo "$kver" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
# The image package is a meta package over linux-binary-KVER (the kernel),
# linux-modules-KVER and linux-base-KVER (config, System.map); older ones
# hold the kernel themselves. Take it and whatever of those it names.
parts=$(pkg_field "$img" Depends | sed 's/[,|]/\n/g' | sed 's/(.*//; s/ //g' |
	grep -E "^linux-(binary|modules|base)-$(echo "$kver" | sed 's/[.+]/\\&/g')\$" || true)
ver=$(pkg_field "linux-headers-$kver" Version)
src_ver=$(pkg_field "linux-source-$majmin" Version)
[ -n "$ver" ] || fail "sid has no linux-headers-$kver"
[ "$src_ver" = "$ver" ] ||
	fail "linux-source-$majmin is at '${src_ver:-absent}', not at $ver like linux-headers-$kver"
echo "deps: fetching Debian unstable's kernel $kver ($ver) into $kroot/$kver" >&2

# shellcheck disable=SC2086
(cd "$work/debs" && apt_sid apt-get download "$img" $parts "linux-headers-$kver" \
	"linux-source-$majmin") >>"$log" 2>&1 || fail "downloading the packages failed"

kdir=$kroot/$kver
tmp=$kroot/.$kver.tmp
rm -rf "$tmp"
mkdir -p "$tmp/unpack" "$tmp/headers" "$tmp/lib/modules" "$tmp/build"
for deb in "$work"/debs/*.deb; do
	case $(basename "$deb") in
	linux-headers-*) dpkg-deb -x "$deb" "$tmp/headers" ;;
	*) dpkg-deb -x "$deb" "$tmp/unpack" ;;
	esac
done
moddir=$(find "$tmp/unpack" -maxdepth 4 -type d -path "*/lib/modules/$kver" | head -n 1)
if [ -z "$moddir" ] || [ ! -d "$moddir/kernel" ]; then
	fail "no modules for $kver in the packages"
fi
mv "$moddir" "$tmp/lib/modules/$kver"
for f in vmlinuz config; do
	p=$(find "$tmp/unpack" "$tmp/lib/modules/$kver" -maxdepth 4 -type f \
		\( -name "$f" -o -name "$f-$kver" \) | head -n 1)
	[ -n "$p" ] || fail "no $f for $kver in the packages"
	cp "$p" "$tmp/$f"
done
depmod -b "$tmp" "$kver" >>"$log" 2>&1 || fail "depmod failed"

tarball=$(find "$tmp/unpack" -name "linux-source-$majmin.tar.*" | head -n 1)
[ -n "$tarball" ] || fail "linux-source-$majmin has no tarball"
tar -xf "$tarball" -C "$tmp/build" --strip-components=1 || fail "unpacking $tarball failed"
symvers=$(find "$tmp/headers" -name Module.symvers | head -n 1)
[ -n "$symvers" ] || fail "linux-headers-$kver has no Module.symvers"

# The image's config with this system's compiler: olddefconfig recomputes
# only what depends on the toolchain (compiler version and features); Rust
# is off, the modules need none of it and its toolchain varies by machine.
(
	cd "$tmp/build"
	cp "$tmp/config" .config
	scripts/config --disable RUST
	make -s olddefconfig
	make -s -j"$(nproc)" KERNELRELEASE="$kver" modules_prepare
) >>"$log" 2>&1 || fail "preparing the module build tree failed"
cp "$symvers" "$tmp/build/Module.symvers"
[ "$(cat "$tmp/build/include/config/kernel.release")" = "$kver" ] ||
	fail "the prepared tree says $(cat "$tmp/build/include/config/kernel.release"), not $kver"

rm -rf "$tmp/unpack" "$tmp/headers"
echo "$ver" >"$tmp/package-version"
rm -rf "$kdir"
mv "$tmp" "$kdir"
touch "$kdir/.done"
