/* The VP's console: the daemon drains the pty master into a log (so a VP writing to its
 * console never blocks) until `cell console` takes the master for a while.
 *
 * The log is STATE/vps/NAME/console.log, so `cell logs` shows the last run of a stopped VP,
 * after a restart of cellsd too. It is bounded: at CONSOLE_LOG_MAX bytes it becomes
 * console.log.1 (the older one goes) and a new one starts. Followers (`cell logs -f`) get
 * what comes after through a pipe each; one that does not keep up is dropped.
 *
 * cell-init tells the daemon how the VP's rc ended by a console line "cell-init: note:
 * TEXT". A VP can print such a line itself, but the note is only ever shown as that VP's
 * own, so it can lie about nothing but itself. */
#include "cellsd/daemon.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_LOG_MAX	 (1 << 20)
#define NOTE_PREFIX	 "cell-init: note: "
#define FOLLOWER_PIPE_SZ (1 << 20)

static void log_path(struct vp *vp, bool older, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vps/%s/console.log%s", vp->daemon->state_dir, vp->config.name,
		 older ? ".1" : "");
}

static int log_open(struct vp *vp, int flags)
{
	char path[PATH_MAX];
	int fd;

	log_path(vp, false, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | flags, 0600);
	if (fd < 0)
		log_warn_errno(errno, "open %s", path);
	return fd;
}

/* The log is full: it becomes the older one, and a new one starts. */
static void log_rotate(struct vp *vp)
{
	char path[PATH_MAX], older[PATH_MAX];

	log_path(vp, false, path, sizeof(path));
	log_path(vp, true, older, sizeof(older));
	if (rename(path, older) < 0) {
		log_warn_errno(errno, "rename %s", path);
		if (ftruncate(vp->console_log, 0) == 0)
			vp->console_log_size = 0;
		return;
	}
	close(vp->console_log);
	vp->console_log = log_open(vp, O_TRUNC);
	vp->console_log_size = 0;
}

static void follower_drop(struct vp *vp, int i)
{
	close(vp->log_followers[i]);
	vp->log_followers[i] = vp->log_followers[--vp->nlog_followers];
}

static void followers_send(struct vp *vp, const char *buf, size_t n)
{
	for (int i = vp->nlog_followers; i-- > 0;) {
		ssize_t w = write(vp->log_followers[i], buf, n);
		/* A reader gone (EPIPE) or behind by a whole pipe (EAGAIN, a short write). */
		if (w != (ssize_t)n)
			follower_drop(vp, i);
	}
}

/* Followers whose reader is gone, found without writing to them. */
static void followers_prune(struct vp *vp)
{
	for (int i = vp->nlog_followers; i-- > 0;) {
		struct pollfd p = {.fd = vp->log_followers[i]};
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)))
			follower_drop(vp, i);
	}
}

static void note_line(struct vp *vp)
{
	size_t len = vp->console_line_len, plen = strlen(NOTE_PREFIX);
	char *line = vp->console_line;

	while (len > 0 && line[len - 1] == '\r')
		len--;
	if (len <= plen || memcmp(line, NOTE_PREFIX, plen) != 0)
		return;
	/* Only printable ASCII: the note ends up in one-line listings. */
	for (size_t i = plen; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			line[i] = '?';
	snprintf(vp->note, sizeof(vp->note), "%.*s", (int)(len - plen), line + plen);
	log_info("VP %s: %s", vp->config.name, vp->note);
	event_emit(vp->daemon, json_pack("{s:s, s:s, s:s}", "event", "note", "vp", vp->config.name,
					 "note", vp->note));
}

/* Lines of the console, looked at for notes; a line too long for the buffer is none. */
static void scan_lines(struct vp *vp, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (vp->console_line_len < sizeof(vp->console_line))
				note_line(vp);
			vp->console_line_len = 0;
		} else if (vp->console_line_len < sizeof(vp->console_line)) {
			vp->console_line[vp->console_line_len++] = buf[i];
		}
	}
}

/* One read of the console into the log, the followers and the note scanner. */
static ssize_t console_read(struct vp *vp)
{
	char buf[4096];
	ssize_t n = read(vp->console_watch.fd, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 ? -errno : 0;
	scan_lines(vp, buf, (size_t)n);
	followers_send(vp, buf, (size_t)n);
	if (vp->console_log >= 0) {
		if (vp->console_log_size + (size_t)n > CONSOLE_LOG_MAX)
			log_rotate(vp);
		if (vp->console_log >= 0 && write(vp->console_log, buf, (size_t)n) == n)
			vp->console_log_size += (size_t)n;
	}
	return n;
}

static void on_console(struct loop_watch *w, uint32_t events)
{
	struct vp *vp = container_of(w, struct vp, console_watch);
	ssize_t n = console_read(vp);

	if (n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR) || (n <= 0 && (events & EPOLLHUP))) {
		/* No slave open (the VP is ending): stop watching until the VP restarts. */
		loop_del(&vp->daemon->loop, w);
	}
}

int console_start(struct vp *vp, struct error *err)
{
	char older[PATH_MAX];
	int ret;

	/* A new run, a new log. */
	log_path(vp, true, older, sizeof(older));
	if (unlink(older) < 0 && errno != ENOENT)
		log_warn_errno(errno, "remove %s", older);
	vp->console_log = log_open(vp, O_TRUNC);
	vp->console_log_size = 0;
	vp->console_line_len = 0;
	vp->note[0] = '\0';
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
	if (vp->console_watch.fd >= 0) {
		/* What the VP wrote last goes to the log before its followers hear the end;
		 * bounded, as a process of the VP may still hold the console open. */
		for (int i = 0; i < 64 && console_read(vp) > 0; i++)
			;
		loop_del(&vp->daemon->loop, &vp->console_watch);
	}
	vp->console_watch.fd = -1;
	if (vp->console_log >= 0)
		close(vp->console_log);
	vp->console_log = -1;
	while (vp->nlog_followers > 0)
		follower_drop(vp, vp->nlog_followers - 1);
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

/* Opens one log file for reading: its descriptor (or -1 if there is none) and size. */
static int log_open_read(struct vp *vp, bool older, int *fd, json_int_t *size, struct error *err)
{
	char path[PATH_MAX];
	struct stat st;

	log_path(vp, older, path, sizeof(path));
	*size = 0;
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT ? 0 : error_set(err, errno, "open %s", path);
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return error_set(err, errno ? errno : EINVAL, "%s is not a log", path);
	}
	*size = st.st_size;
	return 0;
}

int console_logs(struct vp *vp, bool follow, int fds[3], int *nfds, json_t *sizes,
		 struct error *err)
{
	int pipefd[2], fd, ret = 0;
	json_int_t size;

	*nfds = 0;
	/* The sizes are taken now: what the VP writes later comes through the pipe only. */
	for (int older = 1; older >= 0; older--) {
		if ((ret = log_open_read(vp, older, &fd, &size, err)) < 0)
			goto fail;
		if (fd < 0)
			continue;
		fds[(*nfds)++] = fd;
		json_array_append_new(sizes, json_integer(size));
	}
	if (!follow || vp->state != VP_RUNNING)
		return 0;
	followers_prune(vp);
	if (vp->nlog_followers == CONSOLE_FOLLOWERS_MAX) {
		ret = error_set(err, 0, "VP %s has %d followers already", vp->config.name,
				CONSOLE_FOLLOWERS_MAX);
		goto fail;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = error_set(err, errno, "pipe");
		goto fail;
	}
	if (fcntl(pipefd[1], F_SETFL, O_NONBLOCK) < 0) {
		ret = error_set(err, errno, "pipe");
		close(pipefd[0]);
		close(pipefd[1]);
		goto fail;
	}
	/* Room for a burst; the default (64 KiB) is fine too. */
	fcntl(pipefd[1], F_SETPIPE_SZ, FOLLOWER_PIPE_SZ);
	vp->log_followers[vp->nlog_followers++] = pipefd[1];
	fds[(*nfds)++] = pipefd[0];
	return 0;
fail:
	while (*nfds > 0)
		close(fds[--*nfds]);
	return ret;
}
