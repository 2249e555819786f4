/* The VP's console: a pty whose slave is cell-init's stdio and /dev/console, and whose
 * master the daemon keeps (to log, and to hand to `cell console`).
 *
 * The pty comes from a devpts instance of the VP's own, mounted in its run directory (the
 * VP's root's alone, 0700), not from the host's /dev/pts: the slave is the VP's root's
 * file, and a VP that made it 0666 would otherwise open its console to every host user. */
#include "vp/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define TTY_GID 5

static void pts_dir(const struct vp_runtime *rt, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pts", rt->vp_run_dir);
}

static int open_pty(struct vp_runtime *rt, struct error *err)
{
	char dir[PATH_MAX], ptmx[PATH_MAX + 8];
	unsigned n;
	int unlock = 0;

	pts_dir(rt, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_set(err, errno, "create %s", dir);
	if (mount("cells-console", dir, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0600,mode=0600,max=4") < 0)
		return error_set(err, errno, "mount a devpts on %s", dir);
	snprintf(ptmx, sizeof(ptmx), "%s/ptmx", dir);
	rt->console_master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (rt->console_master < 0)
		return error_set(err, errno, "open %s", ptmx);
	/* ptsname() names the host's /dev/pts: the number is the instance's. */
	if (ioctl(rt->console_master, TIOCSPTLCK, &unlock) < 0 ||
	    ioctl(rt->console_master, TIOCGPTN, &n) < 0)
		return error_set(err, errno, "set up the pty");
	if ((size_t)snprintf(rt->console_path, sizeof(rt->console_path), "%s/%u", dir, n) >=
	    sizeof(rt->console_path))
		return error_set(err, ENAMETOOLONG, "path of the console");
	return 0;
}

static void close_pty(struct vp_runtime *rt)
{
	char dir[PATH_MAX];

	if (rt->console_slave >= 0)
		close(rt->console_slave);
	if (rt->console_master >= 0)
		close(rt->console_master);
	rt->console_slave = rt->console_master = -1;
	/* The daemon's descriptors of the pty (a `cell console`) keep it alive. */
	pts_dir(rt, dir, sizeof(dir));
	if (umount2(dir, MNT_DETACH) == 0 || errno == EINVAL)
		rmdir(dir);
}

static int console_prepare(struct vp_runtime *rt, struct error *err)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	int ret;

	rt->console_master = rt->console_slave = -1;
	if ((ret = open_pty(rt, err)) < 0)
		goto fail;
	rt->console_slave = open(rt->console_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (rt->console_slave < 0) {
		ret = error_set(err, errno, "open %s", rt->console_path);
		goto fail;
	}
	/* Owned by the VP's root, so it can be reopened by path inside the VP. */
	if (fchown(rt->console_slave, rt->uid_base, rt->uid_base + TTY_GID) < 0 ||
	    fchmod(rt->console_slave, 0620) < 0) {
		ret = error_set(err, errno, "chown %s", rt->console_path);
		goto fail;
	}
	ioctl(rt->console_master, TIOCSWINSZ, &ws);
	if (fcntl(rt->console_master, F_SETFL, O_NONBLOCK) < 0) {
		ret = error_set(err, errno, "make the pty master non-blocking");
		goto fail;
	}
	return 0;
fail:
	close_pty(rt);
	return ret;
}

static int console_enter(struct vp_runtime *rt, struct error *err)
{
	for (int fd = 0; fd < 3; fd++)
		if (dup2(rt->console_slave, fd) < 0)
			return error_set(err, errno, "dup the console to fd %d", fd);
	return 0;
}

static void console_teardown(struct vp_runtime *rt)
{
	close_pty(rt);
}

const struct vp_module vp_module_console = {
	.name = "console",
	.prepare = console_prepare,
	.enter = console_enter,
	.teardown = console_teardown,
};
