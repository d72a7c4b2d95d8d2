/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket (protocol in lib/etmem_proto.h): accepts any number
 * of clients at once, each served by the event loop without blocking it.
 */
#ifndef ETMEMD_CONTROL_H
#define ETMEMD_CONTROL_H

/* Bind and listen on the abstract socket NAME; 0 or -errno. */
int control_open(const char *name);
void control_close(void);

#endif /* ETMEMD_CONTROL_H */
