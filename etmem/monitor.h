/* SPDX-License-Identifier: GPL-2.0 */
/* `etmem monitor`: print the family's swapcache events as JSON lines. */
#ifndef ETMEM_MONITOR_H
#define ETMEM_MONITOR_H

/* argv[0] is "monitor"; returns an exit code. */
int etmem_cmd_monitor(int argc, char **argv);

#endif /* ETMEM_MONITOR_H */
