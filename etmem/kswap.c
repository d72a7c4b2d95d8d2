// SPDX-License-Identifier: GPL-2.0
/*
 * etmem kswap show|on|off [-j]: the kernel swap switch (lib/etmem_kswap.h).
 * Needs no daemon: it writes vm.swappiness and the saved value itself.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "etmem_text.h"
#include "etmem_kswap.h"

void etmem_kswap_usage(FILE *out)
{
	fprintf(out,
		"Usage: etmem kswap show [-j] | on | off\n"
		"  The kernel swap switch (openEuler's kernel_swap_enable). 'off' saves\n"
		"  vm.swappiness in " ETMEM_KSWAP_STATE " and sets it to 0, so the\n"
		"  kernel's own reclaim leaves anonymous memory alone while etmem still\n"
		"  pages out; 'on' restores the saved value. With MGLRU enabled, 'off'\n"
		"  means the kernel never reclaims anonymous memory: memory pressure then\n"
		"  ends in OOM kills unless etmem keeps up. A change of vm.swappiness\n"
		"  made while off is overwritten by 'on'. Run as root.\n");
}

static int kswap_show(bool json)
{
	struct etmem_kswap_state st;
	char err[256];

	if (etmem_kswap_get(&st, err, sizeof(err))) {
		fprintf(stderr, "etmem kswap show: %s\n", err);
		return 1;
	}
	if (json) {
		printf("{\"kernel_swap\":\"%s\",\"owner\":\"%s\",\"swappiness\":%d,"
		       "\"saved_swappiness\":%d,\"mglru\":%s}\n",
		       st.off ? "off" : "on",
		       st.owner == ETMEM_KSWAP_OWNER_DAEMON ? "etmemd" :
		       st.owner == ETMEM_KSWAP_OWNER_CLI ? "etmem" : "none",
		       st.swappiness, st.saved, st.mglru ? "true" : "false");
		return 0;
	}
	printf("kernel swap: %s\n", etmem_kswap_owner_name(st.off ? st.owner :
							  ETMEM_KSWAP_OWNER_NONE));
	printf("vm.swappiness: %d", st.swappiness);
	if (st.off)
		printf(" (restored to %d when switched on)", st.saved);
	printf("\nMGLRU: %s\n", st.mglru ?
	       (st.off ? "enabled: the kernel never reclaims anonymous memory now" :
		"enabled") : "disabled");
	return 0;
}

int etmem_cmd_kswap(int argc, char **argv)
{
	char err[256], *safe;
	bool on;

	if (argc < 1 || !strcmp(argv[0], "help")) {
		etmem_kswap_usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (!strcmp(argv[0], "show")) {
		if (argc == 1)
			return kswap_show(false);
		if (argc == 2 && !strcmp(argv[1], "-j"))
			return kswap_show(true);
		safe = etmem_escape(argv[argc == 2 ? 1 : 2]);
		fprintf(stderr, "etmem kswap show: unexpected argument '%s' (only -j)\n", safe);
		g_free(safe);
		return 2;
	}
	if (strcmp(argv[0], "on") && strcmp(argv[0], "off")) {
		safe = etmem_escape(argv[0]);
		fprintf(stderr, "etmem kswap: unknown command '%s' (show, on or off)\n", safe);
		g_free(safe);
		return 2;
	}
	if (argc > 1) {
		safe = etmem_escape(argv[1]);
		fprintf(stderr, "etmem kswap %s: unexpected argument '%s'\n", argv[0], safe);
		g_free(safe);
		return 2;
	}
	on = !strcmp(argv[0], "on");
	if (etmem_kswap_set(on, ETMEM_KSWAP_OWNER_CLI, err, sizeof(err))) {
		fprintf(stderr, "etmem kswap %s: %s\n", argv[0], err);
		return 1;
	}
	return 0;
}
