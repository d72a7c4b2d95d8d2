/* SPDX-License-Identifier: GPL-2.0 */
/* Reading /proc: finding a task's processes and their memory. */
#ifndef ETMEMD_PROCS_H
#define ETMEMD_PROCS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <poll.h>
#include <sys/types.h>

/* A process as identified across cycles: a pid alone can be reused. */
struct proc_id {
	pid_t pid;
	uint64_t start_time;	/* field 22 of /proc/PID/stat, clock ticks */
};

struct proc_stat {
	pid_t ppid;
	uint64_t start_time;
	char state;		/* field 3: R, S, D, Z (zombie), X (dead), ... */
	uint64_t majflt;	/* field 12: major faults of all its threads */
	char comm[16];
};

/* 0, -ENOENT when the process is gone, or -errno. */
int proc_read_stat(pid_t pid, struct proc_stat *st);

/*
 * True when pid still names the process first seen as id and that
 * process has not exited (a zombie has no memory left to work on).
 */
bool proc_alive(const struct proc_id *id);

/*
 * A pidfd of the process first seen as @id, or -1 when it is not alive.
 * Opened first and checked after, so it cannot be another process's: a
 * pid is not reused while its process exists, zombie included.
 */
int proc_open_pidfd(const struct proc_id *id);

/*
 * proc_alive() for a caller holding @pidfd from proc_open_pidfd() (or
 * -1: then it is proc_alive()): one poll() instead of reading
 * /proc/PID/stat. A pidfd turns readable once its process has exited,
 * zombie included, as proc_alive() says; unlike a signal 0 it needs no
 * permission over the process (the unit has no CAP_KILL).
 */
static inline bool proc_alive_pidfd(const struct proc_id *id, int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd < 0)
		return proc_alive(id);
	return poll(&p, 1, 0) == 0;
}

/*
 * Why the process first seen as @id is not alive, for a note:
 * "process 42 exited", "process 42 exited (a zombie its parent has not
 * reaped)", "process 42 exited and pid 42 now belongs to another process".
 */
void proc_gone_reason(const struct proc_id *id, char *buf, size_t size);

/* The process a type=pid task follows: the first one seen under its pid. */
struct pinned_proc {
	struct proc_id id;
	bool valid;		/* seen at least once */
};

/*
 * A type=pid task's process: pins the process now under @pid at first
 * sight, then follows only that one, so a pid given to a new process is
 * never taken for it. Appends it to @out (GArray of struct proc_id) and
 * returns true while it lives.
 */
bool pinned_proc_find(struct pinned_proc *pin, pid_t pid, GArray *out);

/*
 * Every process whose comm equals name plus all their descendants that
 * have not exited (zombies left out),
 * appended to out (GArray of struct proc_id). Returns the count.
 */
unsigned int procs_find_by_name(const char *name, GArray *out);

/*
 * Removes from @found (GArray of struct proc_id) the processes that run a
 * KVM guest (lib/etmem_kvm.h says why a page-table scan must not touch
 * them), and those for which that cannot be checked (etmem_kvm_refuse());
 * returns how many. @why (@len bytes) gets the first one's pid and why
 * ("PID: reason"), "" when none.
 */
unsigned int procs_drop_kvm_guests(GArray *found, char *why, size_t len);
/* Room for that reason, and for it in a task's 256-byte note. */
#define PROCS_KVM_WHY_SIZE	208

/* Resident bytes of a process (VmRSS); 0 when it is gone. */
uint64_t proc_rss_bytes(pid_t pid);

/* MemAvailable as a percentage of MemTotal; -errno on failure. */
int meminfo_available_pct(void);

/* SwapTotal and SwapFree in bytes; -errno on failure. */
int meminfo_swap(uint64_t *total, uint64_t *free);

/*
 * The first cgroup v2 mount point of /proc/self/mountinfo into @root;
 * *@v1_memory tells whether the memory controller is on a cgroup v1
 * hierarchy. 0, -ENOENT when no cgroup v2 is mounted, or -errno.
 */
int cgroup2_mount(char *root, size_t size, bool *v1_memory);

#endif /* ETMEMD_PROCS_H */
