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
	int dfd, found = 0;
	DIR *dir;

	dfd = open(fd_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return -errno;
	}
	while (!found && (de = readdir(dir))) {
		/* One byte more than the name: a longer link does not match. */
		ssize_t n = readlinkat(dfd, de->d_name, link, sizeof(link));

		found = n == (ssize_t)strlen(ETMEM_KVM_VM_LINK) &&
			!memcmp(link, ETMEM_KVM_VM_LINK, n);
	}
	closedir(dir);
	return found;
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
