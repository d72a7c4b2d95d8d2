/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel swap switch: etmem's stand-in for openEuler's
 * /sys/kernel/mm/swap/kernel_swap_enable, in user space.
 *
 * "Off" keeps the kernel's own reclaim (kswapd, direct and cgroup reclaim)
 * away from anonymous memory while etmem's page-outs (MADV_PAGEOUT, which
 * ignores swappiness) go on: it saves vm.swappiness and sets it to 0.
 * "On" restores the saved value. The saved value lives in a file under
 * /run/etmem (ETMEM_KSWAP_STATE; a dot file, so that no control socket
 * name can collide with it), written before the sysctl changes, so a
 * crash between the two, or of the daemon that switched it off, never
 * loses the operator's value: the next `etmem kswap on`, or etmemd's
 * start, restores it.
 *
 * With MGLRU enabled (/sys/kernel/mm/lru_gen/enabled, Debian 6.12's
 * default) swappiness 0 means the kernel never reclaims anonymous memory
 * at all: memory pressure then ends in OOM kills unless etmem keeps up.
 */
#ifndef ETMEM_KSWAP_H
#define ETMEM_KSWAP_H

#include <stdbool.h>
#include <stddef.h>

#define ETMEM_KSWAP_STATE	"/run/etmem/.kernel-swap.saved"
#define ETMEM_SWAPPINESS_FILE	"/proc/sys/vm/swappiness"

/* Who switched it off: kept with the saved value. */
enum etmem_kswap_owner {
	ETMEM_KSWAP_OWNER_NONE,		/* switched on */
	ETMEM_KSWAP_OWNER_CLI,		/* `etmem kswap off` */
	ETMEM_KSWAP_OWNER_DAEMON,	/* a project of etmemd (kernel_swap=off) */
};

struct etmem_kswap_state {
	bool off;			/* a saved value exists */
	enum etmem_kswap_owner owner;
	int swappiness;			/* vm.swappiness now */
	int saved;			/* what "on" restores; -1 when on */
	bool mglru;			/* MGLRU enabled: off starves anon reclaim */
};

/*
 * Read the switch. Returns 0, or -errno with a message in @err
 * (@errlen bytes) naming the file that could not be read.
 */
int etmem_kswap_get(struct etmem_kswap_state *st, char *err, size_t errlen);

/*
 * Switch off (save vm.swappiness, set 0) or on (restore it). Switching
 * off when already off, or on when already on, changes nothing. Returns 0
 * or -errno with a message in @err.
 */
int etmem_kswap_set(bool on, enum etmem_kswap_owner owner, char *err,
		    size_t errlen);

/*
 * Switch on only if @owner switched it off (checked under the same lock):
 * *restored is the value put back, or -1 when nothing was done. Returns 0
 * or -errno with a message in @err.
 */
int etmem_kswap_set_if_owner(bool on, enum etmem_kswap_owner owner,
			     int *restored, char *err, size_t errlen);

/* "on", "off (etmem CLI)", ... for reports. */
const char *etmem_kswap_owner_name(enum etmem_kswap_owner owner);

#endif /* ETMEM_KSWAP_H */
