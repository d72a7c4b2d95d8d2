// SPDX-License-Identifier: GPL-2.0
/* The table of engines a configuration can name. */
#include <string.h>

#include "engine.h"

const char *const engine_names[] = { "slide", "cslide", "thirdparty", "damon", "psi", NULL };

/* In the order of engine_names, one entry each. */
static const struct engine_ops *const engine_table[] = {
	&slide_engine_ops,
	&cslide_engine_ops,
	&thirdparty_engine_ops,
	&damon_engine_ops,
	&psi_engine_ops,
};

_Static_assert(G_N_ELEMENTS(engine_table) + 1 == G_N_ELEMENTS(engine_names),
	       "every engine name has its operations");

const struct engine_ops *engine_ops_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(engine_table); i++)
		if (!strcmp(engine_table[i]->name, name))
			return engine_table[i];
	return NULL;
}

void engine_scan_types_text(const struct engine_ops *ops, GString *out)
{
	bool first = true;

	g_string_append_printf(out, "engine %s needs scan_type=", ops->name);
	/* UNSET reads as "page", which PAGE names already. */
	for (int t = SCAN_TYPE_PAGE; t < __SCAN_TYPE_CNT; t++) {
		if (!(ops->scan_types & (1u << t)))
			continue;
		g_string_append_printf(out, "%s%s", first ? "" : " or ", scan_type_name(t));
		first = false;
	}
}
