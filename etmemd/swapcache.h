/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Swapcache reclaim: etmemd's half of the swapcache watermarks. The
 * module (kmod/swapcache.c) only watches and tells; the project that owns
 * the watermarks listens, and on a high event pages out the swapcache
 * pages that the processes of the started tasks map, in rounds, until the
 * swapcache is below the low mark or nothing mapped is left to take.
 */
#ifndef ETMEMD_SWAPCACHE_H
#define ETMEMD_SWAPCACHE_H

#include <stdbool.h>
#include <stddef.h>

struct project;

/* Start listening for @proj (the owner); 0 or -errno with @err filled. */
int swapcache_reclaim_start(struct project *proj, char *err, size_t errlen);
/* Stop listening; a round in flight finishes without touching @proj. */
void swapcache_reclaim_stop(struct project *proj);
/* The project that owns the watermarks in this daemon, or NULL. */
struct project *swapcache_owner(void);

#endif /* ETMEMD_SWAPCACHE_H */
