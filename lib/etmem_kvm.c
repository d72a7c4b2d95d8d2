// SPDX-License-Identifier: GPL-2.0
/* Finding processes that run a KVM guest, from their descriptors. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "etmem_kvm.h"

int etmem_kvm_guest_fd_dir(const char *fd_dir)
{
	char link[sizeof(ETMEM_KVM_VM_LINK) + 1];
	struct dirent *de;
	int dfd, found = 0, err = 0;
	DIR *dir;

	dfd = open(fd_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return -errno;
	}
	/*
	 * Listing the directory needs its mode; reading a link also passes
	 * the ptrace read check (CAP_SYS_PTRACE for a process with more
	 * capabilities). A link that cannot be read might be the VM's: the
	 * answer is then its error, not "no guest". One closed meanwhile
	 * (ENOENT) is no VM.
	 */
	for (;;) {
		ssize_t n;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno && !err)
				err = -errno;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* One byte more than the name: a longer link does not match. */
		n = readlinkat(dfd, de->d_name, link, sizeof(link));
		if (n < 0) {
			if (errno != ENOENT && !err)
				err = -errno;
			continue;
		}
		if (n == (ssize_t)strlen(ETMEM_KVM_VM_LINK) &&
		    !memcmp(link, ETMEM_KVM_VM_LINK, n)) {
			found = 1;
			break;
		}
	}
	closedir(dir);
	return found ? 1 : err;
}

int etmem_kvm_guest(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return etmem_kvm_guest_fd_dir(path);
}

int etmem_kvm_refuse(pid_t pid, int *err)
{
	int r = etmem_kvm_guest(pid);

	*err = r < 0 ? r : 0;
	if (r == -ENOENT || r == -ESRCH)
		return 0;
	return r != 0;
}
