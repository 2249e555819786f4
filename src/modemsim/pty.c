/* The modem's serial line: a pty pair whose slave side plays the modem's device file. */
#include "modemsim/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"

int pty_open(int *master, int *slave, char *path, size_t size, struct error *err)
{
	_cleanup_close_ int m = -1, s = -1;
	struct termios t;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return error_set(err, errno, "posix_openpt");
	if (grantpt(m) < 0 || unlockpt(m) < 0)
		return error_set(err, errno, "unlockpt");
	if (ptsname_r(m, path, size) != 0)
		return error_set(err, errno, "ptsname");
	/* Held open by the simulator itself, so that the master never reads a hang-up while
	 * no one (or a restarting cellsd) has the line open. */
	s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return error_set(err, errno, "open %s", path);
	if (tcgetattr(s, &t) < 0)
		return error_set(err, errno, "tcgetattr %s", path);
	/* A serial line: bytes as they are, no line discipline between the two sides. */
	cfmakeraw(&t);
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(s, TCSANOW, &t) < 0)
		return error_set(err, errno, "tcsetattr %s", path);
	if (fcntl(m, F_SETFL, O_NONBLOCK) < 0)
		return error_set(err, errno, "fcntl");
	*master = take_fd(&m);
	*slave = take_fd(&s);
	return 0;
}

int pty_link(const char *path, const char *link, struct error *err)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", link, (int)getpid()) >= (int)sizeof(tmp))
		return error_set(err, ENAMETOOLONG, "link %s", link);
	unlink(tmp);
	if (symlink(path, tmp) < 0)
		return error_set(err, errno, "symlink %s", tmp);
	if (rename(tmp, link) < 0) {
		int e = errno;

		unlink(tmp);
		return error_set(err, e, "rename to %s", link);
	}
	return 0;
}
