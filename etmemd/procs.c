// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "etmem_kvm.h"
#include "procs.h"

int proc_read_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024];
	char *open_paren, *close_paren, *field;
	FILE *f;
	size_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	n = close_paren - open_paren - 1;
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open_paren + 1, n);
	st->comm[n] = '\0';
	/* Fields after comm: 3 state, 4 ppid, ... 12 majflt, ... 22 starttime. */
	field = close_paren + 2;
	st->state = *field;
	for (i = 3; i < 22 && field; i++) {
		if (i == 4)
			st->ppid = strtol(field, NULL, 10);
		else if (i == 12)
			st->majflt = strtoull(field, NULL, 10);
		field = strchr(field, ' ');
		if (field)
			field++;
	}
	if (!field)
		return -EINVAL;
	st->start_time = strtoull(field, NULL, 10);
	return 0;
}

bool proc_alive(const struct proc_id *id)
{
	struct proc_stat st;

	return !proc_read_stat(id->pid, &st) && st.start_time == id->start_time &&
	       st.state != 'Z' && st.state != 'X';
}

int proc_open_pidfd(const struct proc_id *id)
{
	int pidfd = pidfd_open(id->pid, 0);

	if (pidfd >= 0 && !proc_alive(id)) {
		close(pidfd);
		pidfd = -1;
	}
	return pidfd;
}

void proc_gone_reason(const struct proc_id *id, char *buf, size_t size)
{
	struct proc_stat st;

	if (proc_read_stat(id->pid, &st))
		snprintf(buf, size, "process %d exited", (int)id->pid);
	else if (st.start_time != id->start_time)
		snprintf(buf, size, "process %d exited and pid %d now belongs to another process (pid reused)",
			 (int)id->pid, (int)id->pid);
	else if (st.state == 'Z' || st.state == 'X')
		snprintf(buf, size, "process %d exited (a zombie its parent has not reaped)",
			 (int)id->pid);
	else
		snprintf(buf, size, "process %d is running", (int)id->pid);
}

bool pinned_proc_find(struct pinned_proc *pin, pid_t pid, GArray *out)
{
	struct proc_stat st;

	if (!pin->valid) {
		if (proc_read_stat(pid, &st))
			return false;
		pin->id.pid = pid;
		pin->id.start_time = st.start_time;
		pin->valid = true;
	}
	if (!proc_alive(&pin->id)) {
		return false;
	}
	g_array_append_val(out, pin->id);
	return true;
}

struct proc_entry {
	pid_t pid;
	struct proc_stat st;
};

static GArray *procs_snapshot(void)
{
	GArray *all = g_array_new(FALSE, FALSE, sizeof(struct proc_entry));
	DIR *dir = opendir("/proc");
	struct dirent *de;

	if (!dir)
		return all;
	while ((de = readdir(dir))) {
		struct proc_entry e;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		e.pid = atoi(de->d_name);
		if (!proc_read_stat(e.pid, &e.st) && e.st.state != 'Z' && e.st.state != 'X')
			g_array_append_val(all, e);
	}
	closedir(dir);
	return all;
}

unsigned int procs_find_by_name(const char *name, GArray *out)
{
	GArray *all = procs_snapshot();
	GHashTable *chosen = g_hash_table_new(g_direct_hash, g_direct_equal);
	unsigned int added;
	bool grew = true;

	for (guint i = 0; i < all->len; i++) {
		struct proc_entry *e = &g_array_index(all, struct proc_entry, i);

		if (!strcmp(e->st.comm, name))
			g_hash_table_add(chosen, GINT_TO_POINTER(e->pid));
	}
	/* Children, grandchildren, ...: until a pass adds nobody. */
	while (grew) {
		grew = false;
		for (guint i = 0; i < all->len; i++) {
			struct proc_entry *e = &g_array_index(all, struct proc_entry, i);

			if (!g_hash_table_contains(chosen, GINT_TO_POINTER(e->pid)) &&
			    g_hash_table_contains(chosen, GINT_TO_POINTER(e->st.ppid))) {
				g_hash_table_add(chosen, GINT_TO_POINTER(e->pid));
				grew = true;
			}
		}
	}
	for (guint i = 0; i < all->len; i++) {
		struct proc_entry *e = &g_array_index(all, struct proc_entry, i);
		struct proc_id id = { e->pid, e->st.start_time };

		if (g_hash_table_contains(chosen, GINT_TO_POINTER(e->pid)))
			g_array_append_val(out, id);
	}
	added = g_hash_table_size(chosen);
	g_hash_table_destroy(chosen);
	g_array_free(all, TRUE);
	return added;
}

unsigned int procs_drop_kvm_guests(GArray *found, char *why, size_t len)
{
	unsigned int dropped = 0;
	int err;

	why[0] = '\0';
	for (guint i = found->len; i-- > 0;) {
		pid_t pid = g_array_index(found, struct proc_id, i).pid;

		if (!etmem_kvm_refuse(pid, &err))
			continue;
		/* Walking backwards: ends at the first. */
		if (err == -EACCES || err == -EPERM)
			snprintf(why, len,
				 "%d: cannot tell whether it runs a KVM guest: /proc/%d/fd: %s ("
				 ETMEM_KVM_UNCHECKED_NEEDS ")", (int)pid, (int)pid, strerror(-err));
		else if (err)
			snprintf(why, len, "%d: cannot tell whether it runs a KVM guest: /proc/%d/fd: %s",
				 (int)pid, (int)pid, strerror(-err));
		else
			snprintf(why, len, "%d: " ETMEM_KVM_REFUSAL, (int)pid);
		dropped++;
		g_array_remove_index(found, i);
	}
	return dropped;
}

uint64_t proc_rss_bytes(pid_t pid)
{
	char path[64], line[256];
	uint64_t kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %" SCNu64 " kB", &kib) == 1)
			break;
	fclose(f);
	return kib << 10;
}

int meminfo_available_pct(void)
{
	char line[256];
	uint64_t total = 0, avail = 0, v;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %" SCNu64 " kB", &v) == 1)
			total = v;
		else if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &v) == 1)
			avail = v;
	}
	fclose(f);
	if (!total)
		return -EINVAL;
	return (int)(avail * 100 / total);
}

int meminfo_swap(uint64_t *total, uint64_t *free)
{
	char line[256];
	uint64_t v;
	FILE *f = fopen("/proc/meminfo", "re");

	*total = *free = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "SwapTotal: %" SCNu64 " kB", &v) == 1)
			*total = v << 10;
		else if (sscanf(line, "SwapFree: %" SCNu64 " kB", &v) == 1)
			*free = v << 10;
	}
	fclose(f);
	return 0;
}

int cgroup2_mount(char *root, size_t size, bool *v1_memory)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int ret = -ENOENT;

	*v1_memory = false;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], fstype[64];
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!strcmp(fstype, "cgroup2") && ret) {
			snprintf(root, size, "%s", mnt);
			ret = 0;
		} else if (!strcmp(fstype, "cgroup") && strstr(sep, "memory")) {
			*v1_memory = true;
		}
	}
	fclose(f);
	return ret;
}
