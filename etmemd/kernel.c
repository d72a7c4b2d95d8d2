// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "etmem_genl.h"
#include "kernel.h"
#include "log.h"

static struct etmem_client *loop_client;

static int kernel_client(struct etmem_client **client)
{
	int ret;

	if (!loop_client) {
		ret = etmem_client_open(&loop_client);
		if (ret) {
			loop_client = NULL;
			return ret;
		}
	}
	*client = loop_client;
	return 0;
}

int kernel_swapcache_set(unsigned int low_pct, unsigned int high_pct,
			 bool reclaim, char *note, size_t note_size)
{
	struct etmem_client *client;
	int ret = kernel_client(&client);

	if (ret) {
		snprintf(note, note_size, "cannot reach the etmem kernel family (%s; %s)",
			 strerror(-ret), etmem_modules_hint());
		return ret;
	}
	ret = etmem_swapcache_set(client, low_pct, high_pct, reclaim);
	if (ret) {
		const char *why = etmem_client_errmsg(client);

		snprintf(note, note_size, "kernel refused swapcache %u%%..%u%% reclaim %s: %s%s%s",
			 low_pct, high_pct, reclaim ? "on" : "off", strerror(-ret),
			 *why ? ": " : "", why);
		return ret;
	}
	snprintf(note, note_size, "swapcache reclaim %s, watermarks %u%%..%u%% of RAM",
		 reclaim ? "on" : "off", low_pct, high_pct);
	log_info("%s", note);
	return 0;
}

void kernel_close(void)
{
	if (loop_client)
		etmem_client_close(loop_client);
	loop_client = NULL;
}
