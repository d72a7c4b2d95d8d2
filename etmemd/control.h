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
/* Stop listening and remove the socket file; the name stays locked. */
void control_close(void);
/* Release the name's lock (at exit, after the pid file is gone). */
void control_unlock(void);

#endif /* ETMEMD_CONTROL_H */
