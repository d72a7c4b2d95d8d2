// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the output layer (lib/etmem_out.c), the task report
 * arithmetic (etmemd/report.c) and the Prometheus converter
 * (lib/etmem_metrics.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-glib/json-glib.h>

#include "etmem_metrics.h"
#include "etmem_out.h"
#include "report.h"

static char *one_task(bool json, const char *name)
{
	struct etmem_out *out = etmem_out_new(json);

	etmem_out_open_array(out, "tasks");
	etmem_out_open_object(out, NULL);
	etmem_out_str(out, "name", "name=%s", name);
	etmem_out_size(out, "bytes", " size=%s", 3 << 20);
	etmem_out_uint(out, NULL, " text-only=%" PRIu64, 7);	/* no key: text only */
	etmem_out_bool(out, "on", " on=%s", true);
	etmem_out_close_object(out);
	etmem_out_close_array(out);
	etmem_out_text(out, "\n");
	return etmem_out_finish(out);
}

/* Text and JSON from the same calls; JSON parses, keeps bytes, versioned. */
static void test_text_and_json(void **state)
{
	char *text = one_task(false, "t1"), *json = one_task(true, "t1");
	JsonParser *p = json_parser_new();
	JsonObject *root, *task;

	(void)state;
	assert_string_equal(text, "name=t1 size=3.0 MiB text-only=7 on=yes\n");
	assert_true(json_parser_load_from_data(p, json, -1, NULL));
	root = json_node_get_object(json_parser_get_root(p));
	assert_int_equal(json_object_get_int_member(root, "format_version"),
			 ETMEM_OUT_FORMAT_VERSION);
	task = json_array_get_object_element(json_object_get_array_member(root, "tasks"), 0);
	assert_string_equal(json_object_get_string_member(task, "name"), "t1");
	assert_int_equal(json_object_get_int_member(task, "bytes"), 3 << 20);
	assert_true(json_object_get_boolean_member(task, "on"));
	assert_int_equal(json_object_get_size(task), 3);
	g_object_unref(p);
	g_free(text);
	g_free(json);
}

/* Bytes that are not UTF-8 or not printable: \xNN in text, valid JSON. */
static void test_escaping(void **state)
{
	char *text, *json;

	(void)state;
	text = etmem_out_escape("a\\b\x01\xff\xc3\xa9");
	assert_string_equal(text, "a\\\\b\\x01\\xff\xc3\xa9");
	g_free(text);
	json = one_task(true, "bad\xff\n\"x\"");
	assert_true(g_utf8_validate(json, -1, NULL));
	assert_non_null(strstr(json, "\\n\\\"x\\\""));
	g_free(json);
	text = etmem_out_format_size(1536);
	assert_string_equal(text, "1.5 KiB");
	g_free(text);
}

/* What stayed after a page-out is put down to the right reason. */
static void test_kept_reasons(void **state)
{
	struct etmem_swap_result r = { .nr_young = 1, .nr_locked = 2, .bytes_out = 8192,
				       .nr_kept_anon = 3, .nr_kept_file = 4, .nr_absent = 5 };
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct task_counts c = { 0 };

	(void)state;
	task_counts_add_swap(&c, &r, 0, 0);
	assert_int_equal(c.bytes_paged_out, 8192);
	assert_int_equal(c.bytes_kept[TASK_KEPT_YOUNG], page);
	assert_int_equal(c.bytes_kept[TASK_KEPT_LOCKED], 2 * page);
	assert_int_equal(c.bytes_kept[TASK_KEPT_NO_SWAP], 3 * page);
	assert_int_equal(c.bytes_kept[TASK_KEPT_REFUSED], 4 * page);
	/* Gone before the page-out: neither paged out by it nor kept. */
	assert_int_equal(c.bytes_gone, 5 * page);
	memset(&c, 0, sizeof(c));
	task_counts_add_swap(&c, &r, 32 << 20, 1 << 20);	/* 1/32 free: full */
	assert_int_equal(c.bytes_kept[TASK_KEPT_SWAP_FULL], 3 * page);
	assert_int_equal(c.bytes_kept[TASK_KEPT_NO_SWAP], 0);
	memset(&c, 0, sizeof(c));
	task_counts_add_swap(&c, &r, 32 << 20, 16 << 20);	/* room: reclaim kept them */
	assert_int_equal(c.bytes_kept[TASK_KEPT_REFUSED], 7 * page);
	assert_string_equal(task_kept_name(TASK_KEPT_SWAP_FULL), "swap_full");
}

static void test_duration_median(void **state)
{
	struct task_stats st = { 0 };

	(void)state;
	assert_int_equal(task_duration_median(&st), 0);
	st.nr_cycles = 3;
	st.duration_ms[0] = 30;
	st.duration_ms[1] = 10;
	st.duration_ms[2] = 20;
	assert_int_equal(task_duration_median(&st), 20);
	st.nr_cycles = 4;
	st.duration_ms[3] = 40;
	assert_int_equal(task_duration_median(&st), 25);
}

/* Labels escaped as the exposition format wants; HELP and TYPE present. */
static void test_metrics(void **state)
{
	const char *show = "{\"format_version\":1,\"projects\":[{\"name\":\"p\\\"q\\\\\","
			   "\"started\":true,\"tasks\":[{\"name\":\"t\\n\",\"engine\":\"slide\","
			   "\"state\":\"failing\",\"processes\":1,\"cycles\":5,\"errors\":2,"
			   "\"cycle_ms_median\":1500,\"cycle_ms_max\":2000,"
			   "\"total\":{\"pages_scanned\":10,\"pages_cold\":4,"
			   "\"bytes_paged_out\":4096,\"bytes_kept\":{\"no_swap\":8192}}}]}]}";
	GError *err = NULL;
	char *m = etmem_metrics_from_show_json(show, &err);

	(void)state;
	assert_non_null(m);
	assert_non_null(strstr(m, "# TYPE etmem_task_paged_out_bytes_total counter\n"));
	assert_non_null(strstr(m, "etmem_task_failing{project=\"p\\\"q\\\\\",engine=\"slide\","
				  "task=\"t\\n\"} 1\n"));
	assert_non_null(strstr(m, "reason=\"no_swap\"} 8192\n"));
	assert_non_null(strstr(m, "etmem_task_cycle_duration_median_seconds{"));
	assert_non_null(strstr(m, "} 1.500\n"));
	g_free(m);
	/* Budget mode's gauges: numbers as they are, booleans as 0 or 1. */
	m = etmem_metrics_from_show_json("{\"format_version\":1,\"projects\":[{\"name\":\"b\","
					 "\"started\":true,\"tasks\":[{\"name\":\"t\",\"engine\":\"slide\","
					 "\"budget\":{\"idle_age\":9,\"probe_share\":0.5,"
					 "\"judging\":true,\"verdict\":\"within\"}}]}]}", &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "etmem_task_budget_idle_age_scans{project=\"b\",engine=\"slide\","
				  "task=\"t\"} 9\n"));
	assert_non_null(strstr(m, "etmem_task_budget_probe_share_ratio{project=\"b\",engine=\"slide\","
				  "task=\"t\"} 0.5\n"));
	assert_non_null(strstr(m, "etmem_task_budget_judging{project=\"b\",engine=\"slide\","
				  "task=\"t\"} 1\n"));
	assert_non_null(strstr(m, "etmem_task_budget_over{project=\"b\",engine=\"slide\","
				  "task=\"t\"} 0\n"));
	g_free(m);
	assert_null(etmem_metrics_from_show_json("{\"x\":1}", &err));
	assert_non_null(err);
	g_error_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_json),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_kept_reasons),
		cmocka_unit_test(test_duration_median),
		cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
