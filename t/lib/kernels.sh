# Shared by the build and the test scripts (POSIX sh): which kernels the
# modules are built and tested for, and where each one's pieces live.
#
# Two kinds of kernel:
#  - Debian 12's installed kernels: /boot/vmlinuz-KVER, modules in
#    /lib/modules/KVER, build tree /lib/modules/KVER/build (headers package);
#  - kernels fetched without installing them (scripts/sid-kernel.sh: Debian
#    unstable's newest), each in $ETMEM_KERNELS/KVER with vmlinuz,
#    lib/modules/KVER and a prepared build tree in build/. The VM harness
#    mounts their modules on /lib/modules/KVER inside the guest.

ETMEM_KERNELS=${ETMEM_KERNELS:-/usr/local/share/etmem/kernels}

# Every kernel with an image and a build tree, oldest first, on one line.
etmem_kernels() {
	{
		for img in /boot/vmlinuz-*; do
			[ -e "$img" ] || continue
			k=${img#/boot/vmlinuz-}
			[ -d "/lib/modules/$k/build" ] && echo "$k"
		done
		for done_file in "$ETMEM_KERNELS"/*/.done; do
			[ -e "$done_file" ] || continue
			k=$(basename "$(dirname "$done_file")")
			[ -e "/boot/vmlinuz-$k" ] || echo "$k"
		done
	} | sort -V | tr '\n' ' '
}

# Whether KVER was fetched into $ETMEM_KERNELS rather than installed.
etmem_kernel_fetched() {
	[ ! -e "/boot/vmlinuz-$1" ] && [ -e "$ETMEM_KERNELS/$1/.done" ]
}

# The kernel image to boot.
etmem_kernel_image() {
	if etmem_kernel_fetched "$1"; then
		echo "$ETMEM_KERNELS/$1/vmlinuz"
	else
		echo "/boot/vmlinuz-$1"
	fi
}

# The tree to build external modules against (make -C DIR M=...).
etmem_kernel_build() {
	if etmem_kernel_fetched "$1"; then
		echo "$ETMEM_KERNELS/$1/build"
	else
		echo "/lib/modules/$1/build"
	fi
}

# The directory holding lib/modules/KVER (modprobe -d, depmod -b).
etmem_kernel_modroot() {
	if etmem_kernel_fetched "$1"; then
		echo "$ETMEM_KERNELS/$1"
	else
		echo /
	fi
}
