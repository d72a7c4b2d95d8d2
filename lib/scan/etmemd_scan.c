// SPDX-License-Identifier: GPL-2.0
/*
 * libetmemd_scan: scanning library for third-party policies, a thin layer
 * over the family client (lib/etmem_genl.c) that keeps openEuler's calling
 * conventions (pids as strings, linked lists) so that policies written for
 * it port by recompiling.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etmem_genl.h"
#include "etmem_kvm.h"
#include "etmem/etmemd_scan.h"

/* Mappings above the user address space ([vsyscall]) cannot be scanned. */
#define USER_ADDR_LIMIT	0x800000000000ULL

static __thread struct etmem_client *thread_client;

static int client_get(struct etmem_client **out)
{
	int err;

	if (!thread_client) {
		err = etmem_client_open(&thread_client);
		if (err)
			return err;
	}
	*out = thread_client;
	return 0;
}

int etmemd_scan_init(void)
{
	struct etmem_client *client;

	return client_get(&client);
}

void etmemd_scan_exit(void)
{
	if (thread_client) {
		etmem_client_close(thread_client);
		thread_client = NULL;
	}
}

static int parse_pid(const char *text, pid_t *pid)
{
	char *end;
	long val;

	if (!text || !*text)
		return -EINVAL;
	errno = 0;
	val = strtol(text, &end, 10);
	if (errno || *end || val <= 0 || val > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)val;
	return 0;
}

/* "VmFlags: rd wr mr mw me ac ht": does it carry every wanted flag? */
static bool vmflags_match(const char *line, char **wanted, int nr_wanted)
{
	char flags[1100];
	int i;

	snprintf(flags, sizeof(flags), " %s ", line + strlen("VmFlags:"));
	flags[strcspn(flags, "\n")] = ' ';
	for (i = 0; i < nr_wanted; i++) {
		char needle[16];

		if (strlen(wanted[i]) != 2)
			return false;
		snprintf(needle, sizeof(needle), " %s ", wanted[i]);
		if (!strstr(flags, needle))
			return false;
	}
	return true;
}

/* Parse one mapping line of maps/smaps; false if it is not one. */
static bool parse_mapping(const char *line, struct vma *vma)
{
	unsigned long long start, end, offset, inode;
	unsigned int major, minor;
	char perms[VMA_PERM_LEN];
	int path_at = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end,
		   perms, &offset, &major, &minor, &inode, &path_at) < 7)
		return false;
	memset(vma, 0, sizeof(*vma));
	vma->start = start;
	vma->end = end;
	memcpy(vma->perms, perms, sizeof(vma->perms));
	vma->offset = offset;
	vma->inode = inode;
	if (path_at > 0)
		snprintf(vma->path, sizeof(vma->path), "%s", line + path_at);
	vma->path[strcspn(vma->path, "\n")] = '\0';
	vma->anon = inode == 0 && (vma->path[0] == '\0' || vma->path[0] == '[');
	return true;
}

static void vmas_append(struct vmas *vmas, struct vma ***tail, struct vma *vma)
{
	**tail = vma;
	*tail = &vma->next;
	vmas->vma_cnt++;
}

struct vmas *etmemd_get_vmas(const char *pid, char **vmflags_array,
			     int vmflags_num, bool anon_only)
{
	char path[64], line[1024];
	struct vma **tail, *cur = NULL;
	struct vmas *vmas;
	bool keep = false;
	pid_t target;
	FILE *file;
	int err;

	if (parse_pid(pid, &target) || vmflags_num < 0 ||
	    (vmflags_num > 0 && !vmflags_array)) {
		errno = EINVAL;
		return NULL;
	}
	if (etmem_kvm_refuse(target, &err)) {
		errno = err ? -err : EOPNOTSUPP;
		return NULL;
	}
	/* VmFlags exist only in smaps, which is much slower to read. */
	snprintf(path, sizeof(path), "/proc/%d/%s", target,
		 vmflags_num > 0 ? "smaps" : "maps");
	file = fopen(path, "re");
	if (!file)
		return NULL;
	vmas = calloc(1, sizeof(*vmas));
	if (!vmas)
		goto fail;
	tail = &vmas->vma_list;

	while (fgets(line, sizeof(line), file)) {
		struct vma parsed;

		if (strncmp(line, "VmFlags:", 8) == 0) {
			if (cur && keep)
				cur->hugetlb = strstr(line, " ht") != NULL;
			if (cur && keep && !vmflags_match(line, vmflags_array, vmflags_num))
				keep = false;
			if (cur && keep) {
				vmas_append(vmas, &tail, cur);
				cur = NULL;
			}
			continue;
		}
		if (!parse_mapping(line, &parsed))
			continue;
		free(cur);
		cur = NULL;
		keep = parsed.end <= USER_ADDR_LIMIT && !(anon_only && !parsed.anon);
		if (!keep)
			continue;
		cur = malloc(sizeof(*cur));
		if (!cur)
			goto fail;
		*cur = parsed;
		if (vmflags_num == 0) {
			vmas_append(vmas, &tail, cur);
			cur = NULL;
		}
	}
	free(cur);
	fclose(file);
	return vmas;

fail:
	free(cur);
	etmemd_free_vmas(vmas);
	fclose(file);
	errno = ENOMEM;
	return NULL;
}

void etmemd_free_vmas(struct vmas *vmas)
{
	struct vma *vma, *next;

	if (!vmas)
		return;
	for (vma = vmas->vma_list; vma; vma = next) {
		next = vma->next;
		free(vma);
	}
	free(vmas);
}

void etmemd_free_page_refs(struct page_refs *page_refs)
{
	struct page_refs *next;

	for (; page_refs; page_refs = next) {
		next = page_refs->next;
		free(page_refs);
	}
}

struct pass_state {
	struct page_refs *head, **tail;
	int err;
};

/* Run by run (the kernel sends runs where shorter): absent runs cost nothing. */
static int collect_chunk(const struct etmem_chunk *chunk, void *arg)
{
	struct pass_state *pass = arg;
	uint64_t size = 1ULL << chunk->page_shift;
	struct etmem_chunk_cursor cur = { 0 };
	struct etmem_unit_run run;

	while (etmem_chunk_next_run(chunk, &cur, &run)) {
		if (run.state == ETMEM_PAGE_STATE_ABSENT)
			continue;
		for (uint32_t i = run.first; i < run.first + run.nr_units; i++) {
			struct page_refs *ref = malloc(sizeof(*ref));

			if (!ref) {
				pass->err = -ENOMEM;
				return -ENOMEM;
			}
			ref->addr = chunk->addr + i * size;
			ref->count = etmem_state_accessed(run.state);
			ref->type = chunk->page_shift == 12 ? PTE_TYPE : PMD_TYPE;
			ref->next = NULL;
			ref->idle_age = run.idle_age == ETMEM_IDLE_AGE_UNKNOWN ? -1 : run.idle_age;
			*pass->tail = ref;
			pass->tail = &ref->next;
		}
	}
	return 0;
}

/* Fold one pass (address order) into the running list (address order). */
static void merge_pass(struct page_refs **list, struct page_refs *pass)
{
	struct page_refs **pos = list, *next;

	for (; pass; pass = next) {
		next = pass->next;
		while (*pos && (*pos)->addr < pass->addr)
			pos = &(*pos)->next;
		if (*pos && (*pos)->addr == pass->addr) {
			(*pos)->count += pass->count;
			(*pos)->type = pass->type;
			(*pos)->idle_age = pass->idle_age;	/* the latest scan's */
			free(pass);
		} else {
			pass->next = *pos;
			*pos = pass;
		}
		pos = &(*pos)->next;
	}
}

static uint32_t scan_flags_of(int flags)
{
	uint32_t scan_flags = ETMEM_SCAN_FLAGS_IDLE_AGES | ETMEM_SCAN_FLAGS_RUNS;

	if (flags & ETMEMD_SCAN_AS_HUGE)
		scan_flags |= ETMEM_SCAN_FLAGS_AS_HUGE;
	if (flags & ETMEMD_SCAN_SWAPFLAG)
		scan_flags |= ETMEM_SCAN_FLAGS_SWAPFLAG_ONLY;
	return scan_flags;
}

/* The loaded module refused ETMEM_SCAN_FLAGS_RUNS once (it is older). */
static atomic_bool runs_refused;

#define KNOWN_FLAGS (ETMEMD_SCAN_AS_HUGE | ETMEMD_SCAN_IGN_HOST | ETMEMD_SCAN_SWAPFLAG)

int etmemd_get_page_refs(const struct vmas *vmas, const char *pid,
			 struct page_refs **page_refs, int flags)
{
	struct pass_state pass = { .head = NULL, .err = 0 };
	struct etmem_client *client;
	struct etmem_range *ranges;
	const struct vma *vma;
	size_t nr = 0, done, batch;
	pid_t target;
	int err;

	if (!vmas || !page_refs || parse_pid(pid, &target) || (flags & ~KNOWN_FLAGS))
		return -EINVAL;
	if (etmem_kvm_refuse(target, &err))
		return err ? err : -EOPNOTSUPP;
	if (vmas->vma_cnt == 0)
		return 0;
	err = client_get(&client);
	if (err)
		return err;
	ranges = calloc(vmas->vma_cnt, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	for (vma = vmas->vma_list; vma && nr < vmas->vma_cnt; vma = vma->next) {
		ranges[nr].start = vma->start;
		ranges[nr].end = vma->end;
		nr++;
	}
	pass.tail = &pass.head;
	/* The family takes a bounded number of ranges a request. */
	for (done = 0; done < nr && !err; done += batch) {
		batch = nr - done < ETMEM_MAX_RANGES ? nr - done : ETMEM_MAX_RANGES;
		uint32_t scan_flags = scan_flags_of(flags);

		if (atomic_load(&runs_refused))
			scan_flags &= ~ETMEM_SCAN_FLAGS_RUNS;
		err = etmem_scan(client, target, ranges + done, batch,
				 scan_flags, collect_chunk, &pass);
		/*
		 * A module older than run-length replies refuses the flag by
		 * its policy, before any of the request is applied: ask again
		 * without it, and from now on.
		 */
		if (err == -EINVAL && (scan_flags & ETMEM_SCAN_FLAGS_RUNS)) {
			err = etmem_scan(client, target, ranges + done, batch,
					 scan_flags & ~ETMEM_SCAN_FLAGS_RUNS, collect_chunk, &pass);
			/* Only a request that then goes through says the module is older. */
			if (!err)
				atomic_store(&runs_refused, true);
		}
	}
	free(ranges);
	if (pass.err)
		err = pass.err;
	if (err) {
		etmemd_free_page_refs(pass.head);
		return err;
	}
	merge_pass(page_refs, pass.head);
	return 0;
}

long long etmemd_swap_out(const char *pid, const struct page_refs *page_refs,
			  int cold_threshold, int flags)
{
	struct etmem_swap_result result = { 0 };
	struct etmem_range *ranges = NULL, *grown;
	const struct page_refs *ref;
	size_t nr = 0, cap = 0;
	struct etmem_client *client;
	pid_t target;
	int err;

	if (parse_pid(pid, &target) || (flags & ~KNOWN_FLAGS))
		return -EINVAL;
	if (etmem_kvm_refuse(target, &err))
		return err ? err : -EOPNOTSUPP;
	for (ref = page_refs; ref; ref = ref->next) {
		uint64_t size = ref->type == PTE_TYPE ? 4096 : 2 << 20;

		if (ref->count >= cold_threshold)
			continue;
		if (nr && ranges[nr - 1].end == ref->addr) {
			ranges[nr - 1].end += size;
			continue;
		}
		if (nr == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(ranges, cap * sizeof(*ranges));
			if (!grown) {
				free(ranges);
				return -ENOMEM;
			}
			ranges = grown;
		}
		ranges[nr].start = ref->addr;
		ranges[nr].end = ref->addr + size;
		nr++;
	}
	if (nr == 0)
		return 0;
	err = client_get(&client);
	if (!err)
		err = etmem_swap_out(client, target, ranges, nr,
				     flags & ETMEMD_SCAN_SWAPFLAG ?
				     ETMEM_SWAP_FLAGS_SWAPFLAG_ONLY : 0, &result);
	free(ranges);
	return err ? err : (long long)result.bytes_advised;
}
