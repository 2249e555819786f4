#include "devns/statfs.h"

#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The caller's path, if it names the VP's /sys ("/sys", "/sys/..."): anything else is
 * the kernel's to answer. */
static bool read_sys_path(const struct sysfs_statfs_call *call, char *path, size_t size)
{
	ssize_t n;

	if (vma_access(call->maps_fd, call->path, 5, false) < 0)
		return false;
	n = pread(call->mem_fd, path, size - 1, (off_t)call->path);
	if (n < 5)
		return false;
	path[n] = '\0';
	if (strnlen(path, (size_t)n) == (size_t)n)
		return false; /* longer than PATH_MAX, or unreadable past a page: the kernel's */
	return strncmp(path, "/sys", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

/* PATH as the caller sees it, from its root: absolute links stay inside it. */
static int open_in_callers_root(pid_t tid, const char *path)
{
	char root[64];
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	int dir, fd;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)tid);
	if ((dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dir, path + 1, &how, sizeof(how));
	close(dir);
	return fd;
}

int sysfs_statfs_answer(const struct sysfs_statfs_call *call, int *error)
{
	char path[4096];
	struct stat st;
	struct statfs fs;
	int fd;

	if (call->by_path)
		fd = read_sys_path(call, path, sizeof(path)) ? open_in_callers_root(call->tid, path)
							     : -1;
	else
		fd = (int)syscall(SYS_pidfd_getfd, call->pidfd, call->fd, 0);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || st.st_dev != call->sys_dev || fstatfs(fd, &fs) < 0) {
		close(fd);
		return 0;
	}
	close(fd);
	fs.f_type = SYSFS_MAGIC;
	*error = 0;
	if (vma_access(call->maps_fd, call->buf, sizeof(fs), true) < 0 ||
	    pwrite(call->mem_fd, &fs, sizeof(fs), (off_t)call->buf) != (ssize_t)sizeof(fs))
		*error = EFAULT;
	return 1;
}
