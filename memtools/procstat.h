/* SPDX-License-Identifier: GPL-2.0 */
/* Layout shared by procstat.bpf.c and procstat.c. */
#ifndef MEMTOOLS_PROCSTAT_H
#define MEMTOOLS_PROCSTAT_H

#define PROCSTAT_MAX_PROCS 16384

/* One process's memory figures, in pages unless the name says bytes. */
struct procstat_snap {
	unsigned long long gen;		/* report round that wrote it */
	unsigned long long total_vm;	/* VmSize */
	unsigned long long hiwater_rss;	/* peak rss seen by the kernel */
	long long rss_file;
	long long rss_anon;
	long long swap_ents;
	long long rss_shmem;
	unsigned long long data_vm;
	unsigned long long stack_vm;
	unsigned long long pgtables_bytes;
	unsigned int tgid;
	unsigned int from_switch;	/* 1: sched_switch, 0: task iterator */
	char comm[16];
};

#endif
