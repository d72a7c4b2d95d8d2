/* SPDX-License-Identifier: GPL-2.0 */
/* Layout shared by paf.bpf.c and paf.c. */
#ifndef MEMTOOLS_PAF_H
#define MEMTOOLS_PAF_H

#define PAF_MAX_NODES 4
#define PAF_MAX_ZONES 6
#define PAF_MAX_ORDER 16	/* failures of higher orders count here */

/* A zone at the moment an allocation failed, in pages. */
struct paf_zone {
	unsigned long long min, low, high;	/* watermarks, boost included */
	unsigned long long present, managed, free;
	char name[12];
	unsigned int valid;
};

struct paf_event {
	unsigned long long ts_ns;
	unsigned long long gfp;
	unsigned int order, pid, tgid;
	int migratetype;
	int local_nid;		/* node of the CPU that failed */
	unsigned int failed;	/* 0 only with -a: a successful allocation */
	char comm[16];
	struct paf_zone zones[PAF_MAX_NODES][PAF_MAX_ZONES];
};

#endif
