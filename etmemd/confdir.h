/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration directory: every NAME.conf in it is added at start
 * and again, by difference, on each reload (SIGHUP). Loop thread only.
 */
#ifndef ETMEMD_CONFDIR_H
#define ETMEMD_CONFDIR_H

#define CONFDIR_DEFAULT	"/etc/etmem/etmemd.d"

struct confdir_stats {
	unsigned int added, changed, removed, unchanged, failed;
};

int confdir_init(const char *dir);
/* Brings the objects in line with the directory; logs every outcome. */
int confdir_load(struct confdir_stats *st);
void confdir_free(void);

#endif /* ETMEMD_CONFDIR_H */
