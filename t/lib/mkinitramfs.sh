#!/bin/sh
# Build the tiny initramfs that boots a kernel of t/lib/kernels.sh into the
# host's own root file system (9p, read-only) with a tmpfs overlay on top.
# A kernel fetched into $ETMEM_KERNELS gets its modules mounted on
# /lib/modules/KVER, where the guest's modprobe looks.
# Usage: mkinitramfs.sh KVER OUT.gz
set -eu
kver=$1 out=$2
. "$(dirname "$0")/kernels.sh"
modroot=$(etmem_kernel_modroot "$kver")
[ -d "$modroot/lib/modules/$kver/kernel" ] ||
	{ echo "mkinitramfs: no modules for $kver in $modroot/lib/modules" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/bin" "$work/mods" "$work/proc" "$work/sys" "$work/dev" \
	"$work/mnt" "$work/ovl" "$work/newroot"
cp /bin/busybox "$work/bin/busybox"
for app in sh mount insmod switch_root sed mkdir cat echo sleep umount; do
	ln -s busybox "$work/bin/$app"
done

# The guest's 9p and overlay modules, in load order, decompressed because
# busybox insmod reads only plain .ko files.
: >"$work/mods/order"
n=0
for m in 9pnet_virtio 9p virtio_pci overlay; do
	modprobe -d "$modroot" -S "$kver" --show-depends "$m" | while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		base=$(basename "$path")
		base=${base%.xz}
		grep -qx "$base" "$work/mods/order" && continue
		case "$path" in
		*.xz) xz -dc "$path" >"$work/mods/$base" ;;
		*) cp "$path" "$work/mods/$base" ;;
		esac
		echo "$base" >>"$work/mods/order"
	done
	n=$((n + 1))
done

# Where the guest finds this kernel's modules when the host has none in
# /lib/modules (empty: nothing to mount).
modsrc=""
[ "$modroot" = / ] || modsrc=$modroot/lib/modules/$kver
echo "$kver $modsrc" >"$work/kernel"

cat >"$work/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# What to run comes from the kernel command line; read it before the
# mounts move.
cmd=$(sed -n 's/.* etmem_init=\([^ ]*\).*/\1/p' /proc/cmdline)
for m in $(cat /mods/order); do
	insmod /mods/$m 2>/dev/null
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /mnt ||
	{ echo "ETMEM-VM: cannot mount the host root"; echo o >/proc/sysrq-trigger; while :; do :; done; }
mount -t tmpfs -o size=75% tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay -o lowerdir=/mnt,upperdir=/ovl/upper,workdir=/ovl/work overlay /newroot
read -r kver modsrc </kernel
if [ -n "$modsrc" ]; then
	mkdir -p "/newroot/lib/modules/$kver"
	mount -o bind "/newroot$modsrc" "/newroot/lib/modules/$kver" ||
		echo "ETMEM-VM: cannot mount $modsrc on /lib/modules/$kver"
fi
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$cmd"
INIT
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
