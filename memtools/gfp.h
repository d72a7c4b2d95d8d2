/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MEMTOOLS_GFP_H
#define MEMTOOLS_GFP_H

#include <stddef.h>

/* Writes gfp as the kernel's trace output would name it, for example
 * "GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_NOWARN"; unknown bits as hex. */
void gfp_format(unsigned long long gfp, char *buf, size_t len);

#endif
