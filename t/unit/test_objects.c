// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of configuration validation (etmemd/config.c, objects.c and
 * the slide engine's keys): a table of files and the error each must get.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "damon.h"
#include "log.h"
#include "objects.h"

#define PROJECT "[project]\nname=p\nloop=2\ninterval=1\nsleep=1\n"
#define ENGINE "[engine]\nname=slide\nproject=p\n"
#define TASK_KEYS "project=p\nengine=slide\nname=t\n"
#define TASK "[task]\n" TASK_KEYS "type=pid\nvalue=1\nT=1\n"
#define PSI_PROJECT "[project]\nname=p\nscan_type=psi\ninterval=2\n"
#define PSI_ENGINE "[engine]\nname=psi\nproject=p\n"
#define PSI_TASK "[task]\nproject=p\nengine=psi\nname=t\n"
/* Upstream's damon example, key for key. */
#define DAMON_PROJECT "[project]\nname=p\nscan_type=region\nsample_interval=5000\naggr_interval=100000\n" \
	"update_interval=1000000\nmin_nr_regions=10\nmax_nr_regions=1000\n"
#define DAMON_ENGINE "[engine]\nname=damon\nproject=p\nmin_size=0\nmax_size=4294967295\nmin_acc=0\n" \
	"max_acc=0\nmin_age=10\nmax_age=4294967295\naction=pageout\n"
#define DAMON_TASK "[task]\nproject=p\nengine=damon\nname=t\ntype=name\nvalue=mysql\n"
/* scan_type=auto: slide's keys, which also make the DAMON fallback's. */
#define AUTO_PROJECT "[project]\nname=p\nscan_type=auto\nloop=2\ninterval=1\nsleep=1\n"

struct config_case {
	const char *what;
	const char *text;
	const char *error;	/* expected substring; NULL: must succeed */
};

static const struct config_case cases[] = {
	{ "full valid file", PROJECT ENGINE TASK, NULL },
	{ "documented spelling vmark", "[project]\nname=p\nloop=1\ninterval=1\nsleep=1\n"
	  "swapcache_high_vmark=10\nswapcache_low_vmark=6\n", NULL },
	{ "wmark spelling", PROJECT "swapcache_high_wmark=5\nswapcache_low_wmark=4\n", NULL },
	{ "size suffixes any case", PROJECT ENGINE "[task]\n" TASK_KEYS
	  "type=name\nvalue=my.app-1_x/%\nT=6\nswap_threshold=10G\nmax_threads=2\nswap_flag=yes\n", NULL },
	{ "loop 0", "[project]\nname=p\nloop=0\ninterval=1\nsleep=1\n",
	  "t.conf:3: [project] loop='0' is not an integer in 1..120" },
	{ "loop 121", "[project]\nname=p\nloop=121\ninterval=1\nsleep=1\n", "loop='121' is not an integer in 1..120" },
	{ "loop not a number", "[project]\nname=p\nloop=2x\ninterval=1\nsleep=1\n", "loop='2x'" },
	{ "interval 0", "[project]\nname=p\nloop=1\ninterval=0\nsleep=1\n", "interval='0' is not an integer in 1..1200" },
	{ "interval 1201", "[project]\nname=p\nloop=1\ninterval=1201\nsleep=1\n", "interval='1201'" },
	{ "sleep 0", "[project]\nname=p\nloop=1\ninterval=1\nsleep=0\n", "sleep='0' is not an integer in 1..1200" },
	{ "sleep 1201", "[project]\nname=p\nloop=1\ninterval=1\nsleep=1201\n", "sleep='1201'" },
	{ "sleep_max", "[project]\nname=p\nloop=1\ninterval=1\nsleep=2\nsleep_max=16\n", NULL },
	{ "sleep_max below sleep", "[project]\nname=p\nloop=1\ninterval=1\nsleep=2\nsleep_max=1\n",
	  "sleep_max='1' is not an integer in 2..1200" },
	{ "sleep_max 1201", PROJECT "sleep_max=1201\n", "sleep_max='1201' is not an integer in 1..1200" },
	{ "sysmem_threshold 101", PROJECT "sysmem_threshold=101\n", "sysmem_threshold='101' is not an integer in 0..100" },
	{ "high wmark 0", PROJECT "swapcache_high_wmark=0\nswapcache_low_wmark=1\n", "swapcache_high_wmark='0' is not an integer in 1..100" },
	{ "high wmark 101", PROJECT "swapcache_high_wmark=101\nswapcache_low_wmark=1\n", "1..100" },
	{ "low not below high", PROJECT "swapcache_high_wmark=5\nswapcache_low_wmark=5\n", "swapcache_low_wmark='5' is not an integer in 1..4" },
	{ "low 0", PROJECT "swapcache_high_wmark=5\nswapcache_low_wmark=0\n", "swapcache_low_wmark='0'" },
	{ "high without low", PROJECT "swapcache_high_wmark=5\n", "swapcache_high_wmark given without swapcache_low_wmark" },
	{ "low without high", PROJECT "swapcache_low_vmark=5\n", "swapcache_low_wmark given without swapcache_high_wmark" },
	{ "both spellings", PROJECT "swapcache_high_wmark=5\nswapcache_high_vmark=5\nswapcache_low_wmark=1\n", "not both" },
	{ "project name 65", "[project]\nname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nloop=1\ninterval=1\nsleep=1\n",
	  "must be 1 to 64 characters long (it has 65)" },
	{ "missing loop", "[project]\nname=p\ninterval=1\nsleep=1\n", "t.conf:1: [project] missing required key 'loop'" },
	{ "missing name", "[project]\nloop=1\ninterval=1\nsleep=1\n", "missing required key 'name'" },
	{ "unknown project key", PROJECT "colour=red\n", "t.conf:6: [project] unknown key 'colour'" },
	{ "unknown group", "[projekt]\nname=p\n", "t.conf:1: unknown group [projekt]" },
	{ "key before group", "name=p\n[project]\n", "t.conf:1: 'name=p' appears before any group" },
	{ "not key=value", PROJECT "justtext\n", "t.conf:6: [project] 'justtext' is not a key=value line" },
	{ "duplicate key", "[project]\nname=p\nname=q\n", "t.conf:3: [project] key 'name' given twice (first on line 2)" },
	{ "empty file", "# nothing\n", "no [project], [engine] or [task] group" },
	{ "unknown engine", PROJECT "[engine]\nname=fast\nproject=p\n", "name='fast' is not allowed (allowed: slide, cslide, thirdparty, damon, psi)" },
	{ "engine without project", PROJECT "[engine]\nname=slide\n", "missing required key 'project'" },
	{ "engine of missing project", "[engine]\nname=slide\nproject=nope\n", "project 'nope' does not exist" },
	{ "unknown engine key", PROJECT "[engine]\nname=slide\nproject=p\nT=1\n", "t.conf:9: [engine] unknown key 'T'" },
	{ "duplicate engine", PROJECT ENGINE ENGINE, "engine 'slide' already exists in project 'p'" },
	{ "duplicate project", PROJECT PROJECT, "project 'p' is defined twice in this file (first on line 2)" },
	{ "task of missing engine", PROJECT TASK, "engine 'slide' does not exist in project 'p'" },
	{ "task of missing project", "[task]\nproject=q\nengine=slide\nname=t\ntype=pid\nvalue=1\nT=1\n", "project 'q' does not exist" },
	{ "duplicate task", PROJECT ENGINE TASK TASK, "task 't' already exists in engine 'slide' of project 'p'" },
	{ "T above loop*3", PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nvalue=1\nT=7\n", "T='7' is not an integer in 0..6" },
	{ "T missing", PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nvalue=1\n", "missing required key 'T'" },
	{ "max_threads 0", PROJECT ENGINE TASK "max_threads=0\n", "max_threads='0' is not an integer in 1.." },
	{ "max_threads huge", PROJECT ENGINE TASK "max_threads=100000\n", "max_threads='100000'" },
	{ "swap_threshold bad unit", PROJECT ENGINE TASK "swap_threshold=10t\n", "swap_threshold='10t' is not a size" },
	{ "swap_flag maybe", PROJECT ENGINE TASK "swap_flag=maybe\n", "swap_flag='maybe' is not allowed (allowed: no, yes)" },
	{ "type other", PROJECT ENGINE "[task]\n" TASK_KEYS "type=uid\nvalue=1\nT=1\n", "type='uid' is not allowed (allowed: pid, name)" },
	{ "pid not a number", PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nvalue=12ab\nT=1\n", "value='12ab' is not a pid" },
	{ "pid 0", PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nvalue=0\nT=1\n", "value='0' is not a pid" },
	{ "name 16 chars", PROJECT ENGINE "[task]\n" TASK_KEYS "type=name\nvalue=abcdefghijklmnop\nT=1\n", "is not a process name" },
	{ "name bad char", PROJECT ENGINE "[task]\n" TASK_KEYS "type=name\nvalue=my$app\nT=1\n", "value='my$app' is not a process name" },
	{ "task name 65", PROJECT ENGINE "[task]\nproject=p\nengine=slide\nname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ntype=pid\nvalue=1\nT=1\n",
	  "name='aaaa" },
	{ "unknown task key", PROJECT ENGINE TASK "colour=red\n", "unknown key 'colour'" },
	/* scan_type: upstream's key, checked against the engine. */
	{ "scan_type=page with slide", "[project]\nname=p\nscan_type=page\nloop=2\ninterval=1\nsleep=1\n" ENGINE TASK, NULL },
	{ "scan_type other", PROJECT "scan_type=pmu\n", "t.conf:6: [project] scan_type='pmu' is not allowed (allowed: page, region, psi, auto)" },
	{ "scan_type=page needs loop", "[project]\nname=p\nscan_type=page\ninterval=1\nsleep=1\n", "missing required key 'loop'" },
	{ "region project, upstream's keys", DAMON_PROJECT, NULL },
	/* scan_type=auto: the page keys, DAMON's attributes, slide only. */
	{ "auto project with slide", AUTO_PROJECT "sysmem_threshold=50\nkernel_swap=off\n" ENGINE "[task]\n" TASK_KEYS
	  "type=name\nvalue=mysql\nT=1\nmax_threads=1\nswap_threshold=10g\nswap_flag=no\n", NULL },
	{ "auto project with DAMON attributes", AUTO_PROJECT "sample_interval=10000\naggr_interval=200000\n"
	  "update_interval=2000000\nmin_nr_regions=20\nmax_nr_regions=500\n" ENGINE TASK, NULL },
	{ "auto needs loop", "[project]\nname=p\nscan_type=auto\ninterval=1\nsleep=1\n",
	  "t.conf:1: [project] missing required key 'loop'" },
	{ "auto needs sleep", "[project]\nname=p\nscan_type=auto\nloop=1\ninterval=1\n", "missing required key 'sleep'" },
	{ "auto, aggr_interval below sample_interval", AUTO_PROJECT "sample_interval=5000\naggr_interval=4999\n",
	  "t.conf:8: [project] aggr_interval='4999' is not an integer in 5000..60000000" },
	{ "auto with swapcache watermarks", AUTO_PROJECT "swapcache_high_wmark=10\nswapcache_low_wmark=6\n",
	  "t.conf:7: [project] key 'swapcache_high_wmark' needs the etmem modules' swapcache reclaim, and scan_type=auto "
	  "runs the damon engine where they are not loaded (use scan_type=page to keep it)" },
	{ "auto with swapcache vmark", AUTO_PROJECT "swapcache_low_vmark=6\n",
	  "key 'swapcache_low_vmark' needs the etmem modules' swapcache reclaim" },
	{ "auto with swap_flag=yes", AUTO_PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nvalue=1\nT=1\nswap_flag=yes\n",
	  "t.conf:17: [task] swap_flag=yes needs the etmem modules' swap marks, and scan_type=auto runs the damon engine "
	  "where they are not loaded (use swap_flag=no, or scan_type=page)" },
	{ "auto, T above loop*3", AUTO_PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nvalue=1\nT=7\n",
	  "T='7' is not an integer in 0..6" },
	{ "damon in an auto project", AUTO_PROJECT DAMON_ENGINE,
	  "t.conf:8: [engine] engine 'damon' does not work with scan_type=auto of project 'p' (engine damon needs scan_type=region)" },
	{ "psi in an auto project", AUTO_PROJECT PSI_ENGINE,
	  "engine 'psi' does not work with scan_type=auto of project 'p' (engine psi needs scan_type=psi)" },
	{ "slide in a region project names auto", "[project]\nname=p\nscan_type=region\n" ENGINE,
	  "(engine slide needs scan_type=page or auto)" },
	{ "auto project with a psi key", AUTO_PROJECT "cg_dir=x\n", "t.conf:7: [project] unknown key 'cg_dir'" },
	{ "region project without the optional keys", "[project]\nname=p\nscan_type=region\n", NULL },
	{ "region project with loop", "[project]\nname=p\nscan_type=region\nloop=1\n",
	  "t.conf:4: [project] key 'loop' belongs to scan_type=page or auto (this project has scan_type=region)" },
	{ "region project with kernel_swap", "[project]\nname=p\nscan_type=region\nkernel_swap=off\n",
	  "t.conf:4: [project] key 'kernel_swap' belongs to scan_type=page or auto (this project has scan_type=region)" },
	{ "region project with sleep_max", "[project]\nname=p\nscan_type=region\nsleep_max=4\n",
	  "t.conf:4: [project] key 'sleep_max' belongs to scan_type=page or auto (this project has scan_type=region)" },
	{ "page project with a DAMON key", PROJECT "aggr_interval=100000\n",
	  "t.conf:6: [project] key 'aggr_interval' belongs to scan_type=region or auto (this project has scan_type=page)" },
	{ "aggr_interval below sample_interval", "[project]\nname=p\nscan_type=region\nsample_interval=5000\naggr_interval=4999\n",
	  "t.conf:5: [project] aggr_interval='4999' is not an integer in 5000..60000000" },
	{ "sample_interval 0", "[project]\nname=p\nscan_type=region\nsample_interval=0\n", "sample_interval='0' is not an integer in 1..60000000" },
	{ "min_nr_regions 2", "[project]\nname=p\nscan_type=region\nmin_nr_regions=2\n", "min_nr_regions='2' is not an integer in 3..1000000" },
	{ "max_nr_regions below min", "[project]\nname=p\nscan_type=region\nmin_nr_regions=20\nmax_nr_regions=19\n",
	  "max_nr_regions='19' is not an integer in 20..1000000" },
	{ "slide in a region project", "[project]\nname=p\nscan_type=region\n" ENGINE,
	  "t.conf:5: [engine] engine 'slide' does not work with scan_type=region of project 'p' (engine slide needs scan_type=page or auto)" },
	{ "damon in a page project", PROJECT DAMON_ENGINE,
	  "t.conf:7: [engine] engine 'damon' does not work with scan_type=page of project 'p' (engine damon needs scan_type=region)" },
	{ "slide in a psi project", "[project]\nname=p\nscan_type=psi\n" ENGINE,
	  "engine 'slide' does not work with scan_type=psi of project 'p' (engine slide needs scan_type=page or auto)" },
	{ "PMU key sample_period", PROJECT "sample_period=100\n",
	  "t.conf:6: [project] key 'sample_period' belongs to upstream etmem's PMU sampling (hardware performance counters), which this etmem does not have" },
	{ "PMU key vma_updata_rate", PROJECT "vma_updata_rate=1\n", "key 'vma_updata_rate' belongs to upstream etmem's PMU sampling" },
	{ "PMU key cpu_set_size", PROJECT "cpu_set_size=1\n", "key 'cpu_set_size' belongs to upstream etmem's PMU sampling" },
	{ "PMU key cooling_interval", PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nvalue=1\nT=1\ncooling_interval=3\n",
	  "[task] key 'cooling_interval' belongs to upstream etmem's PMU sampling" },
	/* The damon engine's keys. */
	{ "damon, upstream's example", DAMON_PROJECT DAMON_ENGINE DAMON_TASK, NULL },
	{ "damon, defaults and quotas", "[project]\nname=p\nscan_type=region\n[engine]\nname=damon\nproject=p\naction=cold\n"
	  "quota_ms=10\nquota_bytes=64m\nquota_reset_ms=500\n" DAMON_TASK, NULL },
	{ "damon without action", DAMON_PROJECT "[engine]\nname=damon\nproject=p\n", "[engine] missing required key 'action'" },
	{ "damon action other", DAMON_PROJECT "[engine]\nname=damon\nproject=p\naction=swapout\n",
	  "action='swapout' is not allowed (allowed: pageout, cold, lru_prio, lru_deprio, willneed, hugepage, nohugepage, stat)" },
	{ "damon max_acc below min_acc", DAMON_PROJECT "[engine]\nname=damon\nproject=p\naction=pageout\nmin_acc=3\nmax_acc=2\n",
	  "t.conf:14: [engine] max_acc='2' is not an integer in 3..4294967295" },
	{ "damon max_age below min_age", DAMON_PROJECT "[engine]\nname=damon\nproject=p\naction=pageout\nmin_age=5\nmax_age=4\n",
	  "max_age='4' is not an integer in 5.." },
	{ "damon max_size below min_size", DAMON_PROJECT "[engine]\nname=damon\nproject=p\naction=pageout\nmin_size=8k\nmax_size=4k\n",
	  "t.conf:14: [engine] max_size=4096 is below min_size=8192" },
	{ "damon min_size not a size", DAMON_PROJECT "[engine]\nname=damon\nproject=p\naction=pageout\nmin_size=big\n",
	  "min_size='big' is not a size" },
	{ "damon quota_reset_ms 0", DAMON_PROJECT "[engine]\nname=damon\nproject=p\naction=pageout\nquota_reset_ms=0\n",
	  "quota_reset_ms='0' is not an integer in 1..3600000" },
	{ "damon task key", DAMON_PROJECT DAMON_ENGINE DAMON_TASK "T=1\n", "[task] unknown key 'T'" },
	/* The psi engine's keys. */
	{ "psi, upstream's keys", PSI_PROJECT PSI_ENGINE PSI_TASK "cg_dir=etmem/*\npressure=0.1\nlimit_min_bytes=128m\n", NULL },
	{ "psi without interval", "[project]\nname=p\nscan_type=psi\n" PSI_ENGINE PSI_TASK "cg_dir=/sys/fs/cgroup/a\npressure=1\nlimit_min_bytes=0\n", NULL },
	{ "psi interval 0", "[project]\nname=p\nscan_type=psi\ninterval=0\n", "interval='0' is not an integer in 1..1200" },
	{ "psi project with sleep", PSI_PROJECT "sleep=1\n", "key 'sleep' belongs to scan_type=page or auto (this project has scan_type=psi)" },
	{ "psi without cg_dir", PSI_PROJECT PSI_ENGINE PSI_TASK "pressure=0.1\nlimit_min_bytes=1m\n", "[task] missing required key 'cg_dir'" },
	{ "psi cg_dir with ..", PSI_PROJECT PSI_ENGINE PSI_TASK "cg_dir=a/../../etc\npressure=0.1\nlimit_min_bytes=1m\n",
	  "t.conf:12: [task] cg_dir='a/../../etc' must not contain '..'" },
	{ "psi pressure 0", PSI_PROJECT PSI_ENGINE PSI_TASK "cg_dir=a\npressure=0\nlimit_min_bytes=1m\n",
	  "t.conf:13: [task] pressure='0' is not a fraction in (0, 1]" },
	{ "psi pressure 1.5", PSI_PROJECT PSI_ENGINE PSI_TASK "cg_dir=a\npressure=1.5\nlimit_min_bytes=1m\n", "pressure='1.5' is not a fraction" },
	{ "psi pressure text", PSI_PROJECT PSI_ENGINE PSI_TASK "cg_dir=a\npressure=low\nlimit_min_bytes=1m\n", "pressure='low' is not a fraction" },
	{ "psi limit not a size", PSI_PROJECT PSI_ENGINE PSI_TASK "cg_dir=a\npressure=0.1\nlimit_min_bytes=lots\n", "limit_min_bytes='lots' is not a size" },
	{ "psi task with type", PSI_PROJECT PSI_ENGINE PSI_TASK "type=pid\nvalue=1\ncg_dir=a\npressure=0.1\nlimit_min_bytes=1m\n",
	  "t.conf:12: [task] keys 'type' and 'value' do not apply to engine psi (its tasks name cgroups with cg_dir)" },
	{ "slide task without type", PROJECT ENGINE "[task]\n" TASK_KEYS "T=1\n", "t.conf:9: [task] missing required key 'type'" },
	{ "slide task without value", PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nT=1\n", "t.conf:9: [task] missing required key 'value'" },
	{ "eng_name of a built-in engine", PROJECT "[engine]\nname=thirdparty\nproject=p\neng_name=damon\nlibname=/x.so\nops_name=o\n",
	  "eng_name 'damon' is the name of a built-in engine" },
	{ "doc's cslide typo: name twice", PROJECT ENGINE "[task]\n" TASK_KEYS "type=pid\nname=23456\nT=1\n", "key 'name' given twice" },
};

static void test_config_case(void **state)
{
	const struct config_case *c = *state;
	GString *reply = g_string_new(NULL);
	int ret = objects_add("t.conf", c->text, strlen(c->text), reply);

	if (!c->error) {
		if (ret)
			fail_msg("%s: unexpected error: %s", c->what, reply->str);
	} else {
		if (!ret)
			fail_msg("%s: accepted, expected '%s'", c->what, c->error);
		if (!strstr(reply->str, c->error))
			fail_msg("%s: got '%s', expected '%s'", c->what, reply->str, c->error);
		/* A failing file changes nothing. */
		assert_null(projects_all());
	}
	objects_free_all();
	g_string_free(reply, TRUE);
}

/* A file that adds to an existing project, then a failing one: no change. */
static void test_add_then_fail(void **state)
{
	GString *reply = g_string_new(NULL);
	const char *bad = ENGINE TASK "[task]\nproject=p\nengine=slide\nname=u\ntype=pid\nvalue=1\nT=9\n";

	assert_int_equal(objects_add("a.conf", PROJECT, strlen(PROJECT), reply), 0);
	assert_int_not_equal(objects_add("b.conf", bad, strlen(bad), reply), 0);
	assert_null(project_find("p")->engines);
	g_string_truncate(reply, 0);
	assert_int_equal(objects_add("c.conf", ENGINE TASK, strlen(ENGINE TASK), reply), 0);
	assert_non_null(task_find(engine_find(project_find("p"), "slide"), "t"));
	assert_int_equal(objects_del("c.conf", TASK, strlen(TASK), reply), 0);
	assert_null(task_find(engine_find(project_find("p"), "slide"), "t"));
	assert_int_not_equal(objects_del("c.conf", TASK, strlen(TASK), reply), 0);
	assert_non_null(strstr(reply->str, "task 't' does not exist"));
	objects_free_all();
	g_string_free(reply, TRUE);
}

struct size_case {
	const char *text;
	int ret;
	uint64_t bytes;
};

/* scan_type=auto: DAMON's attributes default as for region projects. */
static void test_auto_attrs(void **state)
{
	const char *text = AUTO_PROJECT "aggr_interval=200000\n";
	GString *reply = g_string_new(NULL);
	const struct damon_attrs *da;

	assert_int_equal(objects_add("a.conf", text, strlen(text), reply), 0);
	da = &project_find("p")->params.damon;
	assert_int_equal(project_find("p")->params.scan_type, SCAN_TYPE_AUTO);
	assert_int_equal(da->sample_us, 5000);
	assert_int_equal(da->aggr_us, 200000);
	assert_int_equal(da->update_us, 1000000);
	assert_int_equal(da->min_nr_regions, 10);
	assert_int_equal(da->max_nr_regions, 1000);
	objects_free_all();
	g_string_free(reply, TRUE);
}

/* slide's cold criterion as a DAMOS scheme: a table of cases. */
static void test_scheme_from_slide(void **state)
{
	static const struct {
		unsigned int loop, interval_s, T;
		int sysmem;
		unsigned long aggr_us;
		const char *action;
		unsigned long max_acc, min_age, wmark;
	} scheme_cases[] = {
		/* untouched for 1 s: 10 aggregations of 100 ms without access */
		{ 1, 1, 1, -1, 100000, "pageout", 0, 10, 0 },
		/* accessed in fewer than 2 of 3 scans 2 s apart: 1/3 of 20 samples, 6 s */
		{ 3, 2, 2, -1, 100000, "pageout", 6, 60, 0 },
		/* T above loop: everything is cold */
		{ 2, 1, 3, -1, 100000, "pageout", 20, 20, 0 },
		/* T=0: nothing is cold, DAMON only monitors */
		{ 2, 1, 0, 50, 100000, "stat", 0, 20, 500 },
		/* a window shorter than one aggregation: one */
		{ 1, 1, 1, 100, 2000000, "pageout", 0, 1, 1000 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(scheme_cases); i++) {
		struct project_params pp = { .loop = scheme_cases[i].loop, .interval_s = scheme_cases[i].interval_s,
					     .sysmem_threshold = scheme_cases[i].sysmem };
		struct damon_scheme ds;

		pp.damon.sample_us = scheme_cases[i].aggr_us / 20;
		pp.damon.aggr_us = scheme_cases[i].aggr_us;
		damon_scheme_from_slide(&pp, scheme_cases[i].T, &ds);
		assert_int_equal(ds.action, damon_action_index(scheme_cases[i].action));
		assert_int_equal(ds.min_acc, 0);
		assert_int_equal(ds.max_acc, scheme_cases[i].max_acc);
		assert_int_equal(ds.min_age, scheme_cases[i].min_age);
		assert_int_equal(ds.min_size, 0);
		assert_true(ds.max_age == UINT32_MAX && ds.max_size == UINT64_MAX);
		assert_int_equal(ds.quota_ms + ds.quota_bytes, 0);
		if (scheme_cases[i].sysmem < 0) {
			assert_int_equal(ds.wmark_metric, DAMON_WMARK_NONE);
		} else {
			assert_int_equal(ds.wmark_metric, DAMON_WMARK_FREE_MEM_RATE);
			assert_int_equal(ds.wmark_high, scheme_cases[i].wmark);
			assert_int_equal(ds.wmark_mid, scheme_cases[i].wmark);
			assert_int_equal(ds.wmark_low, 0);
			assert_int_equal(ds.wmark_interval_us, scheme_cases[i].interval_s * 1000000UL);
		}
	}
}

static void test_sizes(void **state)
{
	static const struct size_case sizes[] = {
		{ "10g", 0, 10ull << 30 }, { "10G", 0, 10ull << 30 }, { "5m", 0, 5ull << 20 },
		{ "5M", 0, 5ull << 20 }, { "7k", 0, 7ull << 10 }, { "7K", 0, 7ull << 10 },
		{ "4096", 0, 4096 }, { "", -1, 0 }, { "g", -1, 0 }, { "1t", -1, 0 },
		{ "-1g", -1, 0 }, { "1gb", -1, 0 }, { "99999999999999999999g", -1, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		uint64_t bytes = 0;
		int ret = cfg_parse_size(sizes[i].text, &bytes);

		if ((ret != 0) != (sizes[i].ret != 0) || (!ret && bytes != sizes[i].bytes))
			fail_msg("size '%s': ret %d bytes %llu", sizes[i].text, ret,
				 (unsigned long long)bytes);
	}
}

int main(void)
{
	struct CMUnitTest tests[G_N_ELEMENTS(cases) + 4];

	log_init("test_objects", LOG_LEVEL_ERROR, true);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(test_config_case,
									 (void *)&cases[i]);
		tests[i].name = cases[i].what;
	}
	tests[G_N_ELEMENTS(cases)] = (struct CMUnitTest)cmocka_unit_test(test_add_then_fail);
	tests[G_N_ELEMENTS(cases) + 1] = (struct CMUnitTest)cmocka_unit_test(test_sizes);
	tests[G_N_ELEMENTS(cases) + 2] = (struct CMUnitTest)cmocka_unit_test(test_auto_attrs);
	tests[G_N_ELEMENTS(cases) + 3] = (struct CMUnitTest)cmocka_unit_test(test_scheme_from_slide);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
