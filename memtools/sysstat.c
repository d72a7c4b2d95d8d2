// SPDX-License-Identifier: GPL-2.0
/*
 * sysstat: system memory state (LRU lists, dirty and writeback, slab,
 * huge pages...) per NUMA node and in total, read by BPF from each node's
 * pglist_data, or from the per-node meminfo files in sysfs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "sysstat.h"
#include "sysstat.skel.h"

/* Row label, and the /proc/meminfo and node meminfo key it matches. */
static const struct {
	const char *name, *meminfo;
} items[__SYS_CNT] = {
	[SYS_ACTIVE]         = { "active",         "Active" },
	[SYS_INACTIVE]       = { "inactive",       "Inactive" },
	[SYS_ACTIVE_ANON]    = { "anon_active",    "Active(anon)" },
	[SYS_INACTIVE_ANON]  = { "anon_inactive",  "Inactive(anon)" },
	[SYS_ACTIVE_FILE]    = { "file_active",    "Active(file)" },
	[SYS_INACTIVE_FILE]  = { "file_inactive",  "Inactive(file)" },
	[SYS_UNEVICTABLE]    = { "unevictable",    "Unevictable" },
	[SYS_DIRTY]          = { "dirty",          "Dirty" },
	[SYS_WRITEBACK]      = { "writeback",      "Writeback" },
	[SYS_ANONPAGES]      = { "anonpages",      "AnonPages" },
	[SYS_MAPPED]         = { "mapped",         "Mapped" },
	[SYS_SHMEM]          = { "shmem",          "Shmem" },
	[SYS_KRECLAIMABLE]   = { "kreclaimable",   "KReclaimable" },
	[SYS_SLAB]           = { "slab",           "Slab" },
	[SYS_SRECLAIMABLE]   = { "sreclaimable",   "SReclaimable" },
	[SYS_SUNRECLAIM]     = { "sunreclaim",     "SUnreclaim" },
	[SYS_NFS_UNSTABLE]   = { "nfs_unstable",   "NFS_Unstable" },
	[SYS_WRITEBACKTMP]   = { "writebacktmp",   "WritebackTmp" },
	[SYS_ANONHUGEPAGES]  = { "anonhugepages",  "AnonHugePages" },
	[SYS_SHMEMHUGEPAGES] = { "shmemhugepages", "ShmemHugePages" },
};

/* Figures in kB for each node and the total (index nr_nodes). */
struct sys_report {
	int nr_nodes;
	bool valid[SYSSTAT_MAX_NODES + 1];
	unsigned long long kb[SYSSTAT_MAX_NODES + 1][__SYS_CNT];
};

static bool totals_only;
static struct sysstat_bpf *skel;
static struct bpf_link *iter_link;

static int count_nodes(void)
{
	char buf[256], *p;
	int last = 0;

	/* "possible" reads like "0" or "0-3"; nodes are numbered densely. */
	if (mt_read_text("/sys/devices/system/node/possible", buf, sizeof(buf)) <= 0)
		return 1;
	p = strrchr(buf, '-');
	last = atoi(p ? p + 1 : buf);
	return last + 1 > SYSSTAT_MAX_NODES ? SYSSTAT_MAX_NODES : last + 1;
}

/* Parses "Key: N kB" lines, optionally prefixed by "Node N ". */
static void parse_meminfo(char *text, unsigned long long *kb)
{
	char *line, *key, *colon;
	int i;

	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		key = line;
		if (strncmp(key, "Node ", 5) == 0) {
			key = strchr(key + 5, ' ');
			if (!key)
				continue;
			key++;
		}
		colon = strchr(key, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (i = 0; i < __SYS_CNT; i++)
			if (strcmp(key, items[i].meminfo) == 0)
				kb[i] = strtoull(colon + 1, NULL, 10);
	}
}

static int proc_collect(struct sys_report *r)
{
	char path[96], buf[8192];
	int nid;

	for (nid = 0; nid < r->nr_nodes; nid++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", nid);
		if (mt_read_text(path, buf, sizeof(buf)) <= 0)
			continue;	/* node possible but not online */
		parse_meminfo(buf, r->kb[nid]);
		r->valid[nid] = true;
	}
	if (mt_read_text("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -errno;
	parse_meminfo(buf, r->kb[r->nr_nodes]);
	r->valid[r->nr_nodes] = true;
	return 0;
}

static int bpf_collect(struct sys_report *r);

static int bpf_start(enum mt_mode mode)
{
	struct sys_report probe = { .nr_nodes = count_nodes() };
	int err;

	(void)mode;	/* the task iterator is sysstat's only BPF mode */
	skel = sysstat_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->nr_nodes = count_nodes();
	skel->rodata->mt_nr_cpus = mt_bpf_nr_cpus();
	err = sysstat_bpf__load(skel);
	if (err)
		goto destroy;
	iter_link = bpf_program__attach_iter(skel->progs.sample_nodes, NULL);
	if (!iter_link) {
		err = -errno;
		goto destroy;
	}
	/* Nodes are reached through the memory cgroup controller; with it
	 * disabled (cgroup_disable=memory) nothing comes back. */
	err = bpf_collect(&probe);
	if (err) {
		bpf_link__destroy(iter_link);
		iter_link = NULL;
		goto destroy;
	}
	return 0;
destroy:
	sysstat_bpf__destroy(skel);
	skel = NULL;
	return err;
}

static int bpf_collect(struct sys_report *r)
{
	long pkb = mt_page_kb();
	char buf[64];
	int fd, nid, i;

	fd = bpf_iter_create(bpf_link__fd(iter_link));
	if (fd < 0)
		return -errno;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	for (nid = 0; nid < r->nr_nodes; nid++) {
		const struct sysstat_node *n = &skel->bss->nodes[nid];

		if (!n->valid)
			continue;
		r->valid[nid] = r->valid[r->nr_nodes] = true;
		for (i = 0; i < __SYS_CNT; i++) {
			r->kb[nid][i] = n->pages[i] * pkb;
			r->kb[r->nr_nodes][i] += n->pages[i] * pkb;
		}
	}
	return r->valid[r->nr_nodes] ? 0 : -ENODATA;
}

static void print_json(const struct sys_report *r, int col)
{
	char scope[16];
	int i;

	if (col == r->nr_nodes)
		snprintf(scope, sizeof(scope), "total");
	else
		snprintf(scope, sizeof(scope), "node%d", col);
	mt_json_begin(stdout, "sysstat");
	mt_json_str(stdout, "scope", scope);
	for (i = 0; i < __SYS_CNT; i++) {
		char key[40];

		snprintf(key, sizeof(key), "%s_kb", items[i].name);
		mt_json_u64(stdout, key, r->kb[col][i]);
	}
	mt_json_end(stdout);
}

/* A block per report: one row per item, one column per node + total. */
static void print_table(const struct sys_report *r)
{
	char clock[16] = "", val[32], label[16];
	int i, col, first = totals_only ? r->nr_nodes : 0;

	if (mt_env.timestamps)
		mt_fmt_clock(clock, sizeof(clock));
	printf("%-8s %-15s", clock, "ITEM");
	for (col = first; col <= r->nr_nodes; col++) {
		if (!r->valid[col])
			continue;
		snprintf(label, sizeof(label), "node%d", col);
		printf(" %10s", col == r->nr_nodes ? "total" : label);
	}
	putchar('\n');
	for (i = 0; i < __SYS_CNT; i++) {
		printf("%-8s %-15s", "", items[i].name);
		for (col = first; col <= r->nr_nodes; col++) {
			if (!r->valid[col])
				continue;
			mt_fmt_kb(val, sizeof(val), r->kb[col][i]);
			printf(" %10s", val);
		}
		putchar('\n');
	}
	putchar('\n');
}

static int report(enum mt_mode mode)
{
	struct sys_report r = { .nr_nodes = count_nodes() };
	int err, col;

	err = mode == MT_MODE_PROC ? proc_collect(&r) : bpf_collect(&r);
	if (err) {
		fprintf(stderr, "sysstat: cannot read memory state: %s\n", strerror(-err));
		return err;
	}
	if (!mt_env.json)
		print_table(&r);
	else
		for (col = totals_only ? r.nr_nodes : 0; col <= r.nr_nodes; col++)
			if (r.valid[col])
				print_json(&r, col);
	fflush(stdout);
	return 0;
}

static const enum mt_mode bpf_modes[] = { MT_MODE_ITER };
static const struct mt_sources sources = {
	.tool = "sysstat",
	.bpf_modes = bpf_modes,
	.nr_bpf_modes = sizeof(bpf_modes) / sizeof(bpf_modes[0]),
	.bpf_start = bpf_start,
	.fallback = "/sys and /proc",
	.fallback_start = NULL,
};

static int parse_extra(int opt, const char *arg)
{
	if (opt != 't')
		return -1;
	totals_only = true;
	return 0;
}

static const struct mt_tool sysstat_tool = {
	.name = "sysstat",
	.summary = "System memory state per NUMA node and in total.",
	.columns =
		"Rows (kB, or K/M/G), as in /proc/meminfo: active/inactive LRU,\n"
		"anon_* and file_* LRU halves, unevictable, dirty, writeback,\n"
		"anonpages, mapped, shmem, kreclaimable, slab, sreclaimable,\n"
		"sunreclaim, nfs_unstable, writebacktmp, anonhugepages, shmemhugepages.\n",
	.modes = MT_MODE_BIT(MT_MODE_ITER) | MT_MODE_BIT(MT_MODE_PROC),
	.extra_opts = "t",
	.extra_help = "  -t              totals only, no per-node columns\n",
	.parse_extra = parse_extra,
};

int main(int argc, char **argv)
{
	enum mt_mode mode;
	long round;
	int err = 0;

	err = mt_parse_args(&sysstat_tool, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	mt_quiet_libbpf();
	mt_install_signals();
	mode = mt_choose_mode(&sources);
	if (mode == MT_MODE_AUTO)
		return 1;
	if (mt_env.verbose)
		fprintf(stderr, "sysstat: mode %s\n", mt_mode_name(mode));
	for (round = 1; !mt_exiting; round++) {
		err = report(mode);
		if (err || (mt_env.count && round >= mt_env.count))
			break;
		if (!mt_sleep(mt_env.interval_s))
			break;
	}
	bpf_link__destroy(iter_link);
	sysstat_bpf__destroy(skel);
	return err ? 1 : 0;
}
