# Shell helpers for VM tests (source it: . "$ETMEM_TOP/t/lib/vmtest.sh").
# Generic on purpose: any engineer's VM test may use them.

top=${ETMEM_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
kver=${ETMEM_KVER:-$(uname -r)}
kmod_dir=$top/build/kmod/$kver
helpers=$top/build/t/helpers
vt_failed=0

# Say what is being checked, then whether it held.
# Each verdict carries the seconds since the test began (bash's SECONDS),
# so that a slow test's log says which wait took its time.
vt_ok() { echo "ok - $* (t=${SECONDS} s)"; }
vt_fail() { echo "not ok - $* (t=${SECONDS} s)"; vt_failed=1; }
vt_check() { # vt_check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then vt_ok "$what"; else vt_fail "$what"; fi
}
vt_die() { echo "not ok - $*"; exit 1; }
vt_done() { # exit with the verdict of the checks so far
	if [ "$vt_failed" = 0 ]; then echo "all checks passed"; exit 0; fi
	echo "some checks failed"; exit 1
}

# Load/unload the etmem modules built for the running kernel.
vt_load_etmem() {
	[ -f "$kmod_dir/etmem_scan.ko" ] || vt_die "no $kmod_dir/etmem_scan.ko (run make modules)"
	insmod "$kmod_dir/etmem_scan.ko" || vt_die "insmod etmem_scan"
	insmod "$kmod_dir/etmem_swap.ko" || vt_die "insmod etmem_swap"
}
vt_unload_etmem() {
	rmmod etmem_swap 2>/dev/null
	rmmod etmem_scan
}

# vt_wait_monitor PID: until the `etmem monitor` of PID listens, so that
# an event or an unload after this cannot come before it: its generic
# netlink socket (protocol 16 in /proc/net/netlink, found by inode) has
# joined the netlink controller's "notify" group, which etmem_events_open()
# joins after etmem's own (that group's id is GENL_ID_CTRL, 16: bit 15 of
# the Groups column). At most 20 s.
vt_wait_monitor() {
	local i ino fd eth groups inode
	for i in $(seq 200); do
		for fd in /proc/"$1"/fd/*; do
			ino=$(readlink "$fd" 2>/dev/null) || continue
			case $ino in socket:\[*\]) ino=${ino#socket:[} ino=${ino%]} ;; *) continue ;; esac
			while read -r _ eth _ groups _ _ _ _ _ inode; do
				[ "$eth" = 16 ] && [ "$inode" = "$ino" ] &&
					(((16#$groups) & 0x8000)) && return 0
			done </proc/net/netlink
		done
		kill -0 "$1" 2>/dev/null || vt_die "etmem monitor (pid $1) exited before it listened"
		sleep 0.1
	done
	vt_die "etmem monitor (pid $1) did not join the netlink groups within 20 s"
}

# Pause DAMON_STAT (on by default from 7.x) for a test that checks exact
# accessed bits: it samples physical memory and clears the accessed bits of
# the pages it samples, so a hot page can read as idle (kmod_swap saw 2049
# approved of 2048 once). The harness's reset between tests turns it back on.
vt_pause_damon_stat() {
	local stat=/sys/module/damon_stat/parameters/enabled
	if [ "$(cat "$stat" 2>/dev/null)" = Y ]; then
		echo N >"$stat" || vt_die "pause DAMON_STAT ($stat)"
		echo "# DAMON_STAT paused for this test"
	fi
}

# Swap on a zram device of SIZE (default 1G).
vt_zram_swap() {
	modprobe zram num_devices=1 || vt_die "modprobe zram"
	echo "${1:-1G}" >/sys/block/zram0/disksize || vt_die "zram disksize"
	mkswap /dev/zram0 >/dev/null || vt_die "mkswap"
	swapon /dev/zram0 || vt_die "swapon"
}

# Swap on a memory-backed null_blk device of SIZE_GB (default 1): a block
# device like a disk, without SWP_SYNCHRONOUS_IO. Swap-ins from it go
# through the swapcache (with read-ahead) and a page read back in stays
# there, mapped, as long as swap is not half full. On zram (synchronous)
# a fault skips the swapcache, and on kernels after 6.12 (7.2's
# should_try_to_free_swap() in mm/memory.c) it also frees the swapcache
# of the page it maps when read-ahead put it there: no mapped swapcache.
vt_blk_swap() {
	modprobe null_blk nr_devices=1 memory_backed=1 discard=1 bs=4096 gb="${1:-1}" ||
		vt_die "modprobe null_blk"
	mkswap /dev/nullb0 >/dev/null || vt_die "mkswap /dev/nullb0"
	swapon --discard /dev/nullb0 || vt_die "swapon /dev/nullb0"
}

# Wait until FILE has a line matching REGEX; give up (failing the test)
# after SECONDS (default 120). Under TCG on a busy host, filling even 64 MiB
# can take several seconds, so waits are long and end in a clear failure
# instead of letting the test go on against a half-started workload.
vt_wait_line() { # vt_wait_line FILE REGEX [SECONDS]
	local i
	for ((i = 0; i < ${3:-120} * 10; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	vt_die "no line /$2/ in $1 after ${3:-120} s: $(head -c 300 "$1" 2>/dev/null)"
}

# Value in kB of a field of /proc/PID/status (VmSwap, VmRSS, ...).
vt_status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# Reserve COUNT 2 MiB huge pages on each of the guest's two nodes.
vt_node_hugepages() { # vt_node_hugepages COUNT
	local n
	for n in 0 1; do
		echo "$1" >/sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages ||
			vt_die "cannot reserve huge pages on node $n"
	done
}

# Huge pages of PID's mapping that starts at ADDR which sit on NODE,
# read from /proc/PID/numa_maps (0 when none).
vt_pages_on() { # vt_pages_on PID ADDR NODE
	awk -v a="${2#0x}" -v n="N$3=" '$1 == a {
		for (i = 2; i <= NF; i++) if (index($i, n) == 1) { sub(n, "", $i); print $i; exit }
		print 0; exit }' "/proc/$1/numa_maps"
}
