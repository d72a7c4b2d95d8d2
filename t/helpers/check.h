/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP-style checks for the C test helpers: check() prints "ok - ..." or
 * "not ok - ..." and counts failures in check_failures; a helper exits 1
 * when that is not zero.
 */
#ifndef ETMEM_T_CHECK_H
#define ETMEM_T_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int check_failures;

static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf(cond ? "ok - " : "not ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	check_failures += !cond;
}

#endif
