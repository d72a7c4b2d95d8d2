// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding allocation flags into the names the kernel's own trace output
 * uses (show_gfp_flags): entries are tried in the kernel's order, each
 * printed when all its bits are set and then removed, composites first,
 * so that GFP_KERNEL shows as GFP_KERNEL rather than as its three bits.
 *
 * Bits 0-22 mean the same from 6.1 on, except bit 9 (__GFP_ATOMIC until
 * 6.4). Kernels up to 6.16 list single bits in a historical order with
 * __GFP_RECLAIM near the end (checked against 6.1 and 6.12); 6.17 and
 * later list them in bit order (checked against 6.18). From 6.9 to 6.16 bit 23 and up depend on the
 * kernel's configuration, so they print as hex.
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

#define N(bit, name) { B(bit), name }
static const struct gfp_name bits_before_617[] = {
	{ G_DMA, "GFP_DMA" }, N(1, "__GFP_HIGHMEM"), { G_DMA32, "GFP_DMA32" },
	N(5, "__GFP_HIGH"), N(9, "__GFP_ATOMIC"), N(6, "__GFP_IO"),
	N(7, "__GFP_FS"), N(13, "__GFP_NOWARN"), N(14, "__GFP_RETRY_MAYFAIL"),
	N(15, "__GFP_NOFAIL"), N(16, "__GFP_NORETRY"), N(18, "__GFP_COMP"),
	N(8, "__GFP_ZERO"), N(19, "__GFP_NOMEMALLOC"), N(17, "__GFP_MEMALLOC"),
	N(20, "__GFP_HARDWALL"), N(21, "__GFP_THISNODE"),
	N(4, "__GFP_RECLAIMABLE"), N(3, "__GFP_MOVABLE"), N(22, "__GFP_ACCOUNT"),
	N(12, "__GFP_WRITE"), { G_RECLAIM, "__GFP_RECLAIM" },
	N(10, "__GFP_DIRECT_RECLAIM"), N(11, "__GFP_KSWAPD_RECLAIM"),
	N(23, "__GFP_ZEROTAGS"),
};

static const struct gfp_name bits_since_617[] = {
	{ G_DMA, "GFP_DMA" }, { G_DMA32, "GFP_DMA32" }, { G_RECLAIM, "__GFP_RECLAIM" },
	N(0, "__GFP_DMA"), N(1, "__GFP_HIGHMEM"), N(2, "__GFP_DMA32"),
	N(3, "__GFP_MOVABLE"), N(4, "__GFP_RECLAIMABLE"), N(5, "__GFP_HIGH"),
	N(6, "__GFP_IO"), N(7, "__GFP_FS"), N(8, "__GFP_ZERO"),
	N(10, "__GFP_DIRECT_RECLAIM"), N(11, "__GFP_KSWAPD_RECLAIM"),
	N(12, "__GFP_WRITE"), N(13, "__GFP_NOWARN"), N(14, "__GFP_RETRY_MAYFAIL"),
	N(15, "__GFP_NOFAIL"), N(16, "__GFP_NORETRY"), N(17, "__GFP_MEMALLOC"),
	N(18, "__GFP_COMP"), N(19, "__GFP_NOMEMALLOC"), N(20, "__GFP_HARDWALL"),
	N(21, "__GFP_THISNODE"), N(22, "__GFP_ACCOUNT"), N(23, "__GFP_ZEROTAGS"),
};
#undef N

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

/*
 * Whether GFP_NOWAIT includes __GFP_NOWARN: mainline added it in 6.17,
 * and stable kernels took it (Debian's 6.12 has it, its 6.1 not). The
 * kernel's own flag table in the mm_page_alloc trace format tells; when
 * tracefs cannot be read, guess from the version.
 */
static bool nowait_has_nowarn(int version)
{
	static const char *const formats[] = {
		"/sys/kernel/tracing/events/kmem/mm_page_alloc/format",
		"/sys/kernel/debug/tracing/events/kmem/mm_page_alloc/format",
	};
	static int known = -1;
	static char text[16384];
	char *name, *entry;
	size_t i, n;
	FILE *f;

	for (i = 0; known < 0 && i < sizeof(formats) / sizeof(formats[0]); i++) {
		f = fopen(formats[i], "r");
		if (!f)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		name = strstr(text, "\"GFP_NOWAIT\"");
		if (!name)
			continue;
		*name = '\0';
		entry = strrchr(text, '{');
		if (entry)
			known = strstr(entry, "(13)") || strstr(entry, "0x2000") ||
				strstr(entry, "NOWARN");
	}
	return known < 0 ? version >= 612 : known;
}

static size_t append(char *buf, size_t len, size_t pos, const char *s)
{
	int n = snprintf(buf + pos, pos < len ? len - pos : 0, "%s%s",
			 pos ? "|" : "", s);

	return n > 0 ? pos + n : pos;
}

/* __print_flags: print each entry whose bits are all set, then drop them. */
static size_t apply(const struct gfp_name *names, size_t n, unsigned long long *gfp,
		    char *buf, size_t len, size_t pos)
{
	size_t i;

	for (i = 0; i < n && *gfp; i++) {
		if ((*gfp & names[i].mask) != names[i].mask)
			continue;
		pos = append(buf, len, pos, names[i].name);
		*gfp &= ~names[i].mask;
	}
	return pos;
}

void gfp_format(unsigned long long gfp, char *buf, size_t len)
{
	int v = kernel_version();
	unsigned long long atomic = G_HIGH | G_KSWAPD | (v < 604 ? G_ATOMIC_OLD : 0);
	unsigned long long nowait = G_KSWAPD | (nowait_has_nowarn(v) ? G_NOWARN : 0);
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
	};
	/* Which bits have a name on this kernel (see the top comment). */
	unsigned long long named = B(23) - 1;
	const struct gfp_name *bits = v >= 617 ? bits_since_617 : bits_before_617;
	size_t nr_bits = v >= 617 ? sizeof(bits_since_617) / sizeof(bits_since_617[0]) :
			 sizeof(bits_before_617) / sizeof(bits_before_617[0]);
	unsigned long long rest;
	char hex[32];
	size_t pos;

	if (!gfp) {
		snprintf(buf, len, "none");
		return;
	}
	buf[0] = '\0';
	if (v < 609 || v >= 617)
		named |= B(23);
	if (v >= 604)
		named &= ~G_ATOMIC_OLD;
	rest = gfp & ~named;
	gfp &= named;
	pos = apply(composites, sizeof(composites) / sizeof(composites[0]), &gfp, buf, len, 0);
	pos = apply(bits, nr_bits, &gfp, buf, len, pos);
	if (gfp | rest) {
		snprintf(hex, sizeof(hex), "%#llx", gfp | rest);
		append(buf, len, pos, hex);
	}
}
