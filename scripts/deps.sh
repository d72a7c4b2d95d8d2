#!/bin/sh
# Install, as root with apt-get, every Debian package etmem needs to build and
# test. Silent and quick when everything is already there.
set -eu

pkgs="build-essential pkg-config libnl-3-dev libnl-genl-3-dev libnuma-dev
libcmocka-dev libglib2.0-dev qemu-system-x86 busybox-static libnl-utils
python3-yaml python3-jsonschema kmod xz-utils util-linux
linux-image-amd64 linux-headers-amd64 systemd libbpf-dev bpftool clang llvm libclang-rt-dev
numactl cpio e2fsprogs linux-source-6.12 redis-server redis-tools gnuplot-nox
libsystemd-dev debhelper dh-dkms dkms lintian fakeroot bash-completion libelf-dev zlib1g-dev
libjson-glib-dev prometheus bc bison flex libssl-dev"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done

# The 6.12 kernel comes from bookworm-security under a name that carries its
# build number: find the newest one the archive offers right now. A 6.12
# image already there without its headers gets the headers of that image.
need_612=1
for img in /boot/vmlinuz-6.12.*; do
	[ -e "$img" ] || continue
	k=${img#/boot/vmlinuz-}
	if [ -d "/lib/modules/$k/build" ]; then
		need_612=0
		break
	fi
	dpkg-query -W -f='${Status}' "linux-headers-$k" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing linux-headers-$k"
	need_612=0
done

# QEMU 7.2 (bookworm's) runs a vCPU now and then on a stale translation of
# kernel text another vCPU has just live-patched: the guest dies of
# "Oops: int3" when a static key or tracepoint flips (t/vm-run explains).
# QEMU 10 from bookworm-backports does not; older ones make t/vm-run fall
# back to one host thread for both vCPUs, about twice as slow.
qemu_major() {
	qemu-system-x86_64 --version 2>/dev/null |
		sed -n '1s/^QEMU emulator version \([0-9]*\)\..*/\1/p'
}
need_qemu=0
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ "$codename" = bookworm ] && [ "$(qemu_major)" -lt 10 ] 2>/dev/null; then
	need_qemu=1
fi
[ -z "$(qemu_major)" ] && [ "$codename" = bookworm ] && need_qemu=1

ynl_dir=/usr/local/share/etmem/kernel-src
. "$(dirname "$0")/../t/lib/kernels.sh"
need_sid=1
for f in "$ETMEM_KERNELS"/*/.done; do
	[ -e "$f" ] && need_sid=0
done
[ -z "$missing" ] && [ "$need_612" = 0 ] && [ "$need_qemu" = 0 ] && [ -e "$ynl_dir/.done" ] &&
	[ -e "$ynl_dir/.done-scripts" ] && [ "$need_sid" = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run 'make deps' as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_q="-q -y -o Dpkg::Use-Pty=0 --no-install-recommends"
[ "$need_612" = 1 ] && missing_612=" linux-image-6.12 (newest)" || missing_612=""
[ -z "$missing$missing_612" ] || echo "deps: installing:$missing$missing_612" >&2
[ -z "$missing" ] && [ "$need_612" = 0 ] || apt-get update -q >/dev/null
if [ "$need_612" = 1 ]; then
	ver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
		awk '{print $1}' | sed 's/^linux-image-//; s/-amd64-unsigned$//' |
		sort -V | tail -n 1)
	if [ -z "$ver" ]; then
		echo "deps: no linux-image-6.12.*+deb12-amd64-unsigned in the archive" >&2
		exit 1
	fi
	missing="$missing linux-image-$ver-amd64-unsigned linux-headers-$ver-amd64"
fi
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	apt-get install $apt_q $missing >/dev/null
fi
if [ "$need_qemu" = 1 ]; then
	echo "deps: installing qemu-system-x86 from bookworm-backports (QEMU >= 10)" >&2
	bpo=/etc/apt/sources.list.d/etmem-bookworm-backports.list
	if ! grep -rqs '^deb .* bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ &&
		! grep -rqs 'bookworm-backports' /etc/apt/sources.list.d/*.sources; then
		echo "deb http://deb.debian.org/debian bookworm-backports main" >"$bpo"
	fi
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install $apt_q -t bookworm-backports qemu-system-x86 >/dev/null
	[ "$(qemu_major)" -ge 10 ] || { echo "deps: QEMU is still older than 10" >&2; exit 1; }
fi

# The kernel's netlink schemas and its ynl tools ship only in the kernel
# source package: unpack just those parts, once.
if [ ! -e "$ynl_dir/.done" ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || { echo "deps: linux-source-6.12 has no tarball" >&2; exit 1; }
	rm -rf "$ynl_dir" && mkdir -p "$ynl_dir"
	tar -xJf "$tarball" -C "$ynl_dir" --strip-components=1 --wildcards \
		'*/Documentation/netlink/*' '*/tools/net/ynl/*'
	touch "$ynl_dir/.done"
fi

# The kernel's own style and documentation checkers (checkpatch.pl,
# kernel-doc) for the modules' test, from the same source package.
if [ ! -e "$ynl_dir/.done-scripts" ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || { echo "deps: linux-source-6.12 has no tarball" >&2; exit 1; }
	tar -xJf "$tarball" -C "$ynl_dir" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc'
	touch "$ynl_dir/.done-scripts"
fi

# The third kernel, Debian unstable's newest, fetched without installing it.
"$(dirname "$0")/sid-kernel.sh"
