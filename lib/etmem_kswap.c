// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel swap switch in user space (see etmem_kswap.h for what it
 * means). The state file holds two lines, "swappiness=N" and
 * "owner=cli|daemon"; it is replaced atomically (write, fsync, rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "etmem_kswap.h"

static const char *state_path(void)
{
	/* Tests point it elsewhere; etmemd and etmem run as root either way. */
	const char *p = getenv("ETMEM_KSWAP_STATE");

	return p && *p ? p : ETMEM_KSWAP_STATE;
}

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int read_int_file(const char *path, int *value)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", value) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int write_swappiness(int value)
{
	int fd = open(ETMEM_SWAPPINESS_FILE, O_WRONLY | O_CLOEXEC);
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d\n", value), ret = 0;

	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, buf, len) != len)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

/* 1 with the saved value and owner, 0 when there is none, or -errno. */
static int read_state(int *saved, enum etmem_kswap_owner *owner)
{
	FILE *f = fopen(state_path(), "r");
	char line[64], who[16] = "";
	int value = -1;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "swappiness=%d", &value) == 1)
			continue;
		sscanf(line, "owner=%15s", who);
	}
	fclose(f);
	if (value < 0 || value > 200)
		return -EINVAL;
	*saved = value;
	*owner = !strcmp(who, "daemon") ? ETMEM_KSWAP_OWNER_DAEMON : ETMEM_KSWAP_OWNER_CLI;
	return 1;
}

static int write_state(int saved, enum etmem_kswap_owner owner)
{
	const char *path = state_path();
	char tmp[4096], dir[4096], *slash;
	int fd, len, ret = 0;
	char buf[64];

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "swappiness=%d\nowner=%s\n", saved,
		       owner == ETMEM_KSWAP_OWNER_DAEMON ? "daemon" : "cli");
	errno = 0;
	if (write(fd, buf, len) != len || fsync(fd))
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static bool mglru_enabled(void)
{
	FILE *f = fopen("/sys/kernel/mm/lru_gen/enabled", "r");
	unsigned int mask = 0;

	if (!f)
		return false;
	if (fscanf(f, "%x", &mask) != 1)
		mask = 0;
	fclose(f);
	return mask != 0;
}

const char *etmem_kswap_owner_name(enum etmem_kswap_owner owner)
{
	switch (owner) {
	case ETMEM_KSWAP_OWNER_CLI:
		return "off (etmem kswap off)";
	case ETMEM_KSWAP_OWNER_DAEMON:
		return "off (an etmemd project with kernel_swap=off)";
	default:
		return "on";
	}
}

int etmem_kswap_get(struct etmem_kswap_state *st, char *err, size_t errlen)
{
	int ret;

	memset(st, 0, sizeof(*st));
	st->saved = -1;
	ret = read_int_file(ETMEM_SWAPPINESS_FILE, &st->swappiness);
	if (ret)
		return fail(err, errlen, ret, "cannot read %s: %s",
			    ETMEM_SWAPPINESS_FILE, strerror(-ret));
	ret = read_state(&st->saved, &st->owner);
	if (ret < 0)
		return fail(err, errlen, ret, "cannot read %s: %s", state_path(),
			    ret == -EINVAL ? "not a saved swappiness" : strerror(-ret));
	st->off = ret == 1;
	st->mglru = mglru_enabled();
	return 0;
}

/*
 * The CLI and etmemd may switch at the same time: the read of the state
 * and the writes that follow happen under an exclusive lock on a file
 * beside the state file, or a value could be lost between them.
 */
static int kswap_lock(char *err, size_t errlen)
{
	char path[4096], dir[4096], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s.lock", state_path());
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return fail(err, errlen, -errno, "cannot create %s: %s", dir,
				    strerror(errno));
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX)) {
		int e = errno;

		close(fd);
		return fail(err, errlen, -e, "cannot lock %s: %s", path, strerror(e));
	}
	return fd;
}

static int kswap_set_locked(bool on, enum etmem_kswap_owner owner, char *err,
			    size_t errlen)
{
	struct etmem_kswap_state st;
	int ret = etmem_kswap_get(&st, err, errlen);

	if (ret)
		return ret;
	if (on) {
		if (!st.off)
			return 0;
		ret = write_swappiness(st.saved);
		if (ret)
			return fail(err, errlen, ret, "cannot restore %s to %d: %s",
				    ETMEM_SWAPPINESS_FILE, st.saved, strerror(-ret));
		if (unlink(state_path()) && errno != ENOENT)
			return fail(err, errlen, -errno, "cannot remove %s: %s",
				    state_path(), strerror(errno));
		return 0;
	}
	/*
	 * Saved first: a crash after this point still knows the old value.
	 * Off already: the operator's `etmem kswap off` takes the switch over
	 * from a daemon's project, so the project's stop leaves it off.
	 */
	if (!st.off || (owner == ETMEM_KSWAP_OWNER_CLI && st.owner != owner)) {
		ret = write_state(st.off ? st.saved : st.swappiness, owner);
		if (ret)
			return fail(err, errlen, ret, "cannot save vm.swappiness in %s: %s",
				    state_path(), strerror(-ret));
	}
	ret = write_swappiness(0);
	if (ret) {
		/* Nothing changed: do not claim it is off. */
		if (!st.off)
			unlink(state_path());
		return fail(err, errlen, ret, "cannot set %s to 0: %s",
			    ETMEM_SWAPPINESS_FILE, strerror(-ret));
	}
	return 0;
}

int etmem_kswap_set(bool on, enum etmem_kswap_owner owner, char *err,
		    size_t errlen)
{
	int lock = kswap_lock(err, errlen), ret;

	if (lock < 0)
		return lock;
	ret = kswap_set_locked(on, owner, err, errlen);
	close(lock);
	return ret;
}

int etmem_kswap_set_if_owner(bool on, enum etmem_kswap_owner owner,
			     int *restored, char *err, size_t errlen)
{
	struct etmem_kswap_state st;
	int lock = kswap_lock(err, errlen), ret;

	*restored = -1;
	if (lock < 0)
		return lock;
	ret = etmem_kswap_get(&st, err, errlen);
	if (!ret && st.off && st.owner == owner) {
		ret = kswap_set_locked(on, owner, err, errlen);
		if (!ret)
			*restored = st.saved;
	}
	close(lock);
	return ret;
}
