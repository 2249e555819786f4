/* Ptys for a VP's device files (vpty.h). */
#include "devices/vpty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int vpty_mount(const char *dir, unsigned max, struct error *err)
{
	char opts[64];

	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return error_set(err, errno, "create %s", dir);
	snprintf(opts, sizeof(opts), "newinstance,ptmxmode=0600,mode=0600,max=%u", max);
	if (mount("cells-pty", dir, "devpts", MS_NOSUID | MS_NOEXEC, opts) < 0) {
		int ret = error_set(err, errno, "mount a devpts on %s", dir);
		rmdir(dir);
		return ret;
	}
	return 0;
}

void vpty_unmount(const char *dir)
{
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

int vpty_open(const char *dir, uid_t uid, gid_t gid, mode_t mode, int *master, int *slave,
	      char *path, size_t size, struct error *err)
{
	char ptmx[300];
	unsigned n;
	int unlock = 0, m, s, ret;

	snprintf(ptmx, sizeof(ptmx), "%s/ptmx", dir);
	if ((m = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return error_set(err, errno, "open %s", ptmx);
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
		ret = error_set(err, errno, "set up a pty");
		goto fail;
	}
	if ((size_t)snprintf(path, size, "%s/%u", dir, n) >= size) {
		ret = error_set(err, ENAMETOOLONG, "path of pty %u", n);
		goto fail;
	}
	if ((s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		ret = error_set(err, errno, "open %s", path);
		goto fail;
	}
	if (fchown(s, uid, gid) < 0 || fchmod(s, mode) < 0) {
		ret = error_set(err, errno, "give %s to the VP", path);
		close(s);
		goto fail;
	}
	if (slave)
		*slave = s;
	else
		close(s);
	*master = m;
	return 0;
fail:
	close(m);
	return ret;
}
