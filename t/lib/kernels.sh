# Shared by the test scripts: which Debian kernels are installed, and where
# the modules built for each one live.

# Installed Debian kernels that have both an image and headers, oldest first.
etmem_kernels() {
	for img in /boot/vmlinuz-*; do
		[ -e "$img" ] || continue
		k=${img#/boot/vmlinuz-}
		[ -d "/lib/modules/$k/build" ] && echo "$k"
	done | sort -V | tr '\n' ' '
}
