// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding allocation flags into the names the kernel's own trace output
 * uses. Composite masks are tried first, in the kernel's order, so that
 * GFP_KERNEL shows as GFP_KERNEL rather than as its three bits.
 *
 * Bits 0-22 mean the same on 6.1 and later kernels, except bit 9, which
 * was __GFP_ATOMIC until 6.4. GFP_NOWAIT gained __GFP_NOWARN in 6.17.
 * Higher bits depend on the kernel's configuration and print as hex.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "gfp.h"

#define B(n) (1ULL << (n))
#define G_DMA		B(0)
#define G_HIGHMEM	B(1)
#define G_DMA32		B(2)
#define G_MOVABLE	B(3)
#define G_HIGH		B(5)
#define G_IO		B(6)
#define G_FS		B(7)
#define G_ATOMIC_OLD	B(9)
#define G_DIRECT	B(10)
#define G_KSWAPD	B(11)
#define G_NOWARN	B(13)
#define G_COMP		B(18)
#define G_NOMEMALLOC	B(19)
#define G_HARDWALL	B(20)
#define G_ACCOUNT	B(22)
#define G_RECLAIM	(G_DIRECT | G_KSWAPD)
#define G_KERNEL	(G_RECLAIM | G_IO | G_FS)
#define G_USER		(G_KERNEL | G_HARDWALL)
#define G_HIGHUSER	(G_USER | G_HIGHMEM)
#define G_HIGHUSER_MOV	(G_HIGHUSER | G_MOVABLE)
#define G_THP_LIGHT	((G_HIGHUSER_MOV | G_COMP | G_NOMEMALLOC | G_NOWARN) & ~G_RECLAIM)

struct gfp_name {
	unsigned long long mask;
	const char *name;
};

static const char *const bit_names[] = {
	"__GFP_DMA", "__GFP_HIGHMEM", "__GFP_DMA32", "__GFP_MOVABLE",
	"__GFP_RECLAIMABLE", "__GFP_HIGH", "__GFP_IO", "__GFP_FS",
	"__GFP_ZERO", "__GFP_ATOMIC", "__GFP_DIRECT_RECLAIM",
	"__GFP_KSWAPD_RECLAIM", "__GFP_WRITE", "__GFP_NOWARN",
	"__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL", "__GFP_NORETRY",
	"__GFP_MEMALLOC", "__GFP_COMP", "__GFP_NOMEMALLOC",
	"__GFP_HARDWALL", "__GFP_THISNODE", "__GFP_ACCOUNT",
};

static int kernel_version(void)
{
	static int version = -1;
	struct utsname u;
	int major = 0, minor = 0;

	if (version < 0) {
		if (uname(&u) == 0)
			sscanf(u.release, "%d.%d", &major, &minor);
		version = major * 100 + minor;
	}
	return version;
}

static size_t append(char *buf, size_t len, size_t pos, const char *s)
{
	int n = snprintf(buf + pos, pos < len ? len - pos : 0, "%s%s",
			 pos ? "|" : "", s);

	return n > 0 ? pos + n : pos;
}

void gfp_format(unsigned long long gfp, char *buf, size_t len)
{
	bool old_atomic = kernel_version() < 604;
	unsigned long long atomic = G_HIGH | G_KSWAPD | (old_atomic ? G_ATOMIC_OLD : 0);
	unsigned long long nowait = G_KSWAPD | (kernel_version() >= 617 ? G_NOWARN : 0);
	const struct gfp_name composites[] = {
		{ G_THP_LIGHT | G_DIRECT, "GFP_TRANSHUGE" },
		{ G_THP_LIGHT, "GFP_TRANSHUGE_LIGHT" },
		{ G_HIGHUSER_MOV, "GFP_HIGHUSER_MOVABLE" },
		{ G_HIGHUSER, "GFP_HIGHUSER" },
		{ G_USER, "GFP_USER" },
		{ G_KERNEL | G_ACCOUNT, "GFP_KERNEL_ACCOUNT" },
		{ G_KERNEL, "GFP_KERNEL" },
		{ G_RECLAIM | G_IO, "GFP_NOFS" },
		{ atomic, "GFP_ATOMIC" },
		{ G_RECLAIM, "GFP_NOIO" },
		{ nowait, "GFP_NOWAIT" },
		{ G_DMA, "GFP_DMA" },
		{ G_DMA32, "GFP_DMA32" },
		{ G_RECLAIM, "__GFP_RECLAIM" },
	};
	char hex[32];
	size_t pos = 0, i;

	buf[0] = '\0';
	if (!gfp) {
		snprintf(buf, len, "none");
		return;
	}
	for (i = 0; i < sizeof(composites) / sizeof(composites[0]); i++) {
		if ((gfp & composites[i].mask) == composites[i].mask) {
			pos = append(buf, len, pos, composites[i].name);
			gfp &= ~composites[i].mask;
		}
	}
	for (i = 0; i < sizeof(bit_names) / sizeof(bit_names[0]); i++) {
		if (!(gfp & B(i)) || (i == 9 && !old_atomic))
			continue;
		pos = append(buf, len, pos, bit_names[i]);
		gfp &= ~B(i);
	}
	if (gfp) {
		snprintf(hex, sizeof(hex), "%#llx", gfp);
		append(buf, len, pos, hex);
	}
}
