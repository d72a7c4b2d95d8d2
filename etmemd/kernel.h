/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event-loop thread's own netlink client, for the few kernel calls
 * that are not per-process work (swapcache watermarks). Workers open
 * their own clients (workers.c): a client is not thread-safe.
 */
#ifndef ETMEMD_KERNEL_H
#define ETMEMD_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Set the swapcache watermarks and the reclaim switch. Returns 0 or
 * -errno; note receives a one-line description of the outcome, with the
 * kernel's own reason when it refused.
 */
int kernel_swapcache_set(unsigned int low_pct, unsigned int high_pct,
			 bool reclaim, char *note, size_t note_size);
void kernel_close(void);

#endif /* ETMEMD_KERNEL_H */
