/* sysfs_magic_preload.so: a stand-in, for tests/integration/test_sysfs_layout.py, of what
 * the daemon would do with a trapped fstatfs: a file under /sys says SYSFS_MAGIC, as the
 * kernel's sysfs would. Loaded with LD_PRELOAD into a dynamically linked program, it shows
 * whether that answer alone makes libudev take the VP's /sys (the daemon cannot preload
 * anything into a VP's programs, statically linked ones included: it would trap the
 * call). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#define SYSFS_MAGIC 0x62656572

/* FD is a file under /sys. */
static int in_sys(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strcmp(path, "/sys") == 0 || strncmp(path, "/sys/", 5) == 0;
}

int fstatfs(int fd, struct statfs *st)
{
	static int (*real)(int, struct statfs *);
	int ret;

	if (!real)
		real = (int (*)(int, struct statfs *))dlsym(RTLD_NEXT, "fstatfs");
	ret = real(fd, st);
	if (ret == 0 && in_sys(fd))
		st->f_type = SYSFS_MAGIC;
	return ret;
}

int fstatfs64(int fd, struct statfs64 *st)
{
	static int (*real)(int, struct statfs64 *);
	int ret;

	if (!real)
		real = (int (*)(int, struct statfs64 *))dlsym(RTLD_NEXT, "fstatfs64");
	ret = real(fd, st);
	if (ret == 0 && in_sys(fd))
		st->f_type = SYSFS_MAGIC;
	return ret;
}

/* PATH, its links followed, is under /sys. */
static int path_in_sys(const char *path)
{
	char real[4096];

	if (!realpath(path, real))
		return 0;
	return strcmp(real, "/sys") == 0 || strncmp(real, "/sys/", 5) == 0;
}

int statfs(const char *path, struct statfs *st)
{
	static int (*real)(const char *, struct statfs *);
	int ret;

	if (!real)
		real = (int (*)(const char *, struct statfs *))dlsym(RTLD_NEXT, "statfs");
	ret = real(path, st);
	if (ret == 0 && path_in_sys(path))
		st->f_type = SYSFS_MAGIC;
	return ret;
}

int statfs64(const char *path, struct statfs64 *st)
{
	static int (*real)(const char *, struct statfs64 *);
	int ret;

	if (!real)
		real = (int (*)(const char *, struct statfs64 *))dlsym(RTLD_NEXT, "statfs64");
	ret = real(path, st);
	if (ret == 0 && path_in_sys(path))
		st->f_type = SYSFS_MAGIC;
	return ret;
}
