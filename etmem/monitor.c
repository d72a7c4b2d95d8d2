// SPDX-License-Identifier: GPL-2.0
/*
 * etmem monitor [-n COUNT] [-t SECONDS]
 *
 * Joins the "swapcache" multicast group of the etmem family and prints one
 * JSON object a line for each swapcache watermark event, straight from the
 * kernel (no daemon needed). Stops after COUNT events, after SECONDS
 * without an event (exit 1), or on SIGINT/SIGTERM (exit 0).
 */
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etmem_genl.h"
#include "etmem_text.h"
#include "monitor.h"

static volatile sig_atomic_t monitor_stop;

static void on_signal(int sig)
{
	monitor_stop = 1;
}

static void monitor_usage(FILE *out)
{
	fprintf(out,
		"usage: etmem monitor [-n COUNT] [-t SECONDS]\n"
		"  print swapcache watermark events of the etmem kernel modules\n"
		"  as JSON lines; -n: stop after COUNT events, -t: give up after\n"
		"  SECONDS without an event (exit 1)\n");
}

static void print_event(const struct etmem_swapcache_ntf *ev)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	printf("{\"time\":%lld.%03ld,\"event\":\"%s\",\"swapcache_bytes\":%" PRIu64
	       ",\"totalram_bytes\":%" PRIu64 ",\"low_pct\":%u,\"high_pct\":%u}\n",
	       (long long)now.tv_sec, now.tv_nsec / 1000000,
	       ev->type == ETMEM_SWAPCACHE_EVENT_HIGH ? "high" :
	       ev->type == ETMEM_SWAPCACHE_EVENT_LOW ? "low" : "unknown",
	       ev->swapcache_bytes, ev->totalram_bytes, ev->low_pct, ev->high_pct);
	fflush(stdout);
}

static void bad_value(const char *opt, const char *value, const char *allowed)
{
	char *safe = etmem_escape(value);

	fprintf(stderr, "etmem monitor: %s '%s' is not %s\n", opt, safe, allowed);
	g_free(safe);
}

int etmem_cmd_monitor(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct etmem_swapcache_ntf ev;
	struct etmem_client *client;
	long count = -1, nr_seen = 0;
	bool seen[128] = { false };
	int timeout_ms = -1, opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, ":n:t:h")) != -1) {
		char *end = NULL;
		double secs;

		if (opt != '?' && opt != ':' && (unsigned int)opt < sizeof(seen) && seen[opt]) {
			fprintf(stderr, "etmem monitor: option -%c given twice (each option may be given once)\n",
				opt);
			return 2;
		}
		if ((unsigned int)opt < sizeof(seen))
			seen[opt] = true;
		switch (opt) {
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (!*optarg || *end || errno || count < 1 || count > INT_MAX) {
				bad_value("-n", optarg, "a number of events, 1 or more");
				return 2;
			}
			break;
		case 't':
			errno = 0;
			secs = strtod(optarg, &end);
			if (!*optarg || *end || errno || !(secs > 0) || secs > 86400 * 365) {
				bad_value("-t", optarg, "seconds, more than 0 (fractions allowed)");
				return 2;
			}
			timeout_ms = secs * 1000 < 1 ? 1 : (int)(secs * 1000);
			break;
		case 'h':
			monitor_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "etmem monitor: option -%c needs a value\n", optopt);
			return 2;
		default:
			fprintf(stderr, "etmem monitor: unknown option '%s'\n", argv[optind - 1]);
			monitor_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		char *safe = etmem_escape(argv[optind]);

		fprintf(stderr, "etmem monitor: unexpected argument '%s'\n", safe);
		g_free(safe);
		return 2;
	}
	ret = etmem_events_open(&client);
	if (ret) {
		fprintf(stderr, "etmem monitor: %s: %s\n", strerror(-ret),
			etmem_client_errmsg(NULL));
		return 1;
	}
	/* No SA_RESTART: a signal ends the wait in poll(). */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!monitor_stop && (count < 0 || nr_seen < count)) {
		ret = etmem_events_next(client, &ev, timeout_ms);
		if (ret == -EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "etmem monitor: %s%s%s\n",
				ret == -ETIMEDOUT ? "no event in time" : strerror(-ret),
				*etmem_client_errmsg(client) ? ": " : "",
				etmem_client_errmsg(client));
			etmem_client_close(client);
			return 1;
		}
		print_event(&ev);
		nr_seen++;
	}
	etmem_client_close(client);
	return 0;
}
