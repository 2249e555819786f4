/* The VP's console: the daemon drains the pty master into a log (so a VP writing to its
 * console never blocks) until `cell console` takes the master for a while. */
#include "cellsd/daemon.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#define CONSOLE_LOG_MAX (1 << 20)

static void on_console(struct loop_watch *w, uint32_t events)
{
	struct vp *vp = container_of(w, struct vp, console_watch);
	char buf[4096];
	ssize_t n = read(w->fd, buf, sizeof(buf));

	if (n > 0 && vp->console_log >= 0) {
		/* A bounded log: start over rather than let a chatty VP fill the disk. */
		if (vp->console_log_size + (size_t)n > CONSOLE_LOG_MAX) {
			if (ftruncate(vp->console_log, 0) == 0)
				vp->console_log_size = 0;
		}
		if (write(vp->console_log, buf, (size_t)n) == n)
			vp->console_log_size += (size_t)n;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    (n <= 0 && (events & EPOLLHUP))) {
		/* No slave open (the VP is ending): stop watching until the VP restarts. */
		loop_del(&vp->daemon->loop, w);
	}
}

int console_start(struct vp *vp, struct error *err)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/console.log", vp->rt.vp_run_dir);
	vp->console_log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (vp->console_log < 0)
		log_warn_errno(errno, "open %s", path);
	vp->console_log_size = 0;
	vp->console_watch = (struct loop_watch){.fd = vp->rt.console_master, .handle = on_console};
	if ((ret = loop_add(&vp->daemon->loop, &vp->console_watch, EPOLLIN)) < 0)
		return error_set(err, ret, "watch the console");
	return 0;
}

void console_stop(struct vp *vp)
{
	if (vp->console_client)
		vp->console_client->console_vp = NULL;
	vp->console_client = NULL;
	if (vp->console_watch.fd >= 0)
		loop_del(&vp->daemon->loop, &vp->console_watch);
	vp->console_watch.fd = -1;
	if (vp->console_log >= 0)
		close(vp->console_log);
	vp->console_log = -1;
}

int console_attach(struct vp *vp, struct client *c, int *fd, struct error *err)
{
	if (vp->state != VP_RUNNING)
		return error_set(err, 0, "VP %s is not running", vp->config.name);
	if (vp->console_client)
		return error_set(err, 0, "the console of %s is in use", vp->config.name);
	*fd = fcntl(vp->rt.console_master, F_DUPFD_CLOEXEC, 3);
	if (*fd < 0)
		return error_set(err, errno, "dup the console");
	loop_del(&vp->daemon->loop, &vp->console_watch);
	vp->console_client = c;
	c->console_vp = vp;
	return 0;
}

void console_detach(struct vp *vp)
{
	vp->console_client = NULL;
	if (vp->state == VP_RUNNING && vp->console_watch.fd >= 0)
		loop_add(&vp->daemon->loop, &vp->console_watch, EPOLLIN);
}
