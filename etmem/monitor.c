// SPDX-License-Identifier: GPL-2.0
/*
 * etmem monitor [-n COUNT] [-t SECONDS] [-x]
 *
 * Joins the "swapcache" multicast group of the etmem family and prints one
 * JSON object a line for each swapcache watermark event, straight from the
 * kernel (no daemon needed). Stops after COUNT events, after SECONDS
 * without an event (exit 1), or on SIGINT/SIGTERM (exit 0).
 *
 * When the modules are unloaded it says so ({"event":"family_removed"})
 * and waits for them; once loaded again ({"event":"family_added"}) it
 * receives their events. With -x it exits 1 instead of waiting.
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
#include "etmem_out.h"
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
		"usage: etmem monitor [-n COUNT] [-t SECONDS] [-x]\n"
		"  print swapcache watermark events of the etmem kernel modules\n"
		"  as JSON lines; -n: stop after COUNT events, -t: give up after\n"
		"  SECONDS without an event (exit 1); the modules' unloading and\n"
		"  loading are events too (family_removed, family_added); -x: exit 1\n"
		"  when the modules are unloaded instead of waiting for them\n");
}

/* One JSON line: the time, the event, and for watermarks their figures. */
static void print_event(const char *name, const struct etmem_swapcache_ntf *ev)
{
	struct etmem_out *out = etmem_out_new(true);
	struct timespec now;
	char *line;

	clock_gettime(CLOCK_REALTIME, &now);
	etmem_out_uint(out, "time_ms", NULL,
		       (uint64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	etmem_out_str(out, "event", NULL, name);
	if (ev) {
		etmem_out_uint(out, "swapcache_bytes", NULL, ev->swapcache_bytes);
		etmem_out_uint(out, "totalram_bytes", NULL, ev->totalram_bytes);
		etmem_out_uint(out, "low_pct", NULL, ev->low_pct);
		etmem_out_uint(out, "high_pct", NULL, ev->high_pct);
	}
	line = etmem_out_finish(out);
	fputs(line, stdout);
	fflush(stdout);
	g_free(line);
}

static const char *event_name(const struct etmem_swapcache_ntf *ev)
{
	return ev->type == ETMEM_SWAPCACHE_EVENT_HIGH ? "high" :
	       ev->type == ETMEM_SWAPCACHE_EVENT_LOW ? "low" : "unknown";
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
	bool exit_on_reload = false, gone = false;

	/* "etmem monitor help", as the other commands take it. */
	if (argc == 2 && !strcmp(argv[1], "help")) {
		monitor_usage(stdout);
		return 0;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, ":n:t:xh")) != -1) {
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
		case 'x':
			exit_on_reload = true;
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
		if (ret == ETMEM_EVENTS_FAMILY_GONE) {
			print_event("family_removed", NULL);
			fprintf(stderr, "etmem monitor: the etmem family went away (modules unloaded)%s\n",
				exit_on_reload ? "" : "; waiting for it to come back");
			if (exit_on_reload) {
				etmem_client_close(client);
				return 1;
			}
			gone = true;
			continue;
		}
		if (ret == ETMEM_EVENTS_FAMILY_BACK) {
			/* Announced once per family and once per group: say it once. */
			if (gone)
				print_event("family_added", NULL);
			gone = false;
			continue;
		}
		if (ret) {
			fprintf(stderr, "etmem monitor: %s%s%s\n",
				ret == -ETIMEDOUT ? "no event in time" : strerror(-ret),
				*etmem_client_errmsg(client) ? ": " : "",
				etmem_client_errmsg(client));
			etmem_client_close(client);
			return 1;
		}
		print_event(event_name(&ev), &ev);
		nr_seen++;
	}
	etmem_client_close(client);
	return 0;
}
