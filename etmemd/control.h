/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket (protocol in lib/etmem_proto.h): accepts any number
 * of clients at once, each served by the event loop without blocking it.
 */
#ifndef ETMEMD_CONTROL_H
#define ETMEMD_CONTROL_H

#include <glib.h>

/*
 * Bind and listen on the socket of -s NAME (lib/etmem_proto.h), holding
 * the name's lock; 0 or -errno (-EADDRINUSE: another etmemd has NAME),
 * with the reason in why when errno alone does not say it.
 */
int control_open(const char *name, GString *why);
/*
 * Before control_open(): members of group gid (name for messages) may
 * send the read-only requests (lib/etmem_proto.c's table); the socket
 * file becomes root:gid 0660 and ETMEM_RUN_DIR passable (mode +011).
 */
#include <sys/types.h>
void control_allow_group(gid_t gid, const char *name);

/* Stop listening and remove the socket file; the name stays locked. */
void control_close(void);
/* Release the name's lock (at exit, after the pid file is gone). */
void control_unlock(void);

#endif /* ETMEMD_CONTROL_H */
