/* The VP's console: a pty whose slave is cell-init's stdio and /dev/console, and whose
 * master the daemon keeps (to log, and to hand to `cell console`). */
#include "vp/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define TTY_GID 5

static int console_prepare(struct vp_runtime *rt, struct error *err)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	int ret;

	rt->console_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (rt->console_master < 0)
		return error_set(err, errno, "open a pty");
	if (grantpt(rt->console_master) < 0 || unlockpt(rt->console_master) < 0 ||
	    ptsname_r(rt->console_master, rt->console_path, sizeof(rt->console_path)) != 0) {
		ret = error_set(err, errno, "set up the pty");
		goto fail;
	}
	rt->console_slave = open(rt->console_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (rt->console_slave < 0) {
		ret = error_set(err, errno, "open %s", rt->console_path);
		goto fail;
	}
	/* Owned by the VP's root, so it can be reopened by path inside the VP. */
	if (fchown(rt->console_slave, rt->uid_base, rt->uid_base + TTY_GID) < 0) {
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
	if (rt->console_slave >= 0)
		close(rt->console_slave);
	close(rt->console_master);
	rt->console_slave = rt->console_master = -1;
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
	if (rt->console_slave >= 0)
		close(rt->console_slave);
	if (rt->console_master >= 0)
		close(rt->console_master);
	rt->console_slave = rt->console_master = -1;
}

const struct vp_module vp_module_console = {
	.name = "console",
	.prepare = console_prepare,
	.enter = console_enter,
	.teardown = console_teardown,
};
