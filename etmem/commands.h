/* SPDX-License-Identifier: GPL-2.0 */
/* The etmem subcommand groups, one file each. */
#ifndef ETMEM_COMMANDS_H
#define ETMEM_COMMANDS_H

#include <stdio.h>

/* argv[0] is the group's verb ("add", "show", ...); return an exit code. */
int etmem_cmd_obj(int argc, char **argv);
int etmem_cmd_project(int argc, char **argv);
int etmem_cmd_engine(int argc, char **argv);
int etmem_cmd_kswap(int argc, char **argv);

void etmem_obj_usage(FILE *out);
void etmem_project_usage(FILE *out);
void etmem_engine_usage(FILE *out);
void etmem_kswap_usage(FILE *out);

#endif /* ETMEM_COMMANDS_H */
