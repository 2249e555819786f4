/* The viewer's process, seen from cellsd. cellsd binds the listeners itself (the unix
 * sockets root-only, 0600, or 0660 for the group cells-view where it exists; TCP only
 * where asked) and hands them, the scanout (read-only) and its end of a socketpair to
 * `cells-viewer`, which drops to its own uid at once (src/viewer/sandbox.c). When the
 * viewer dies, cellsd says so (an event) and starts another, after 0.1 s, doubled up to
 * 30 s while each dies within 10 s of its start; the VPs never notice. */
#include "cellsd/viewer.h"
#include "cellsd/daemon.h"
#include "cellsd/scanout.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESTART_FIRST_MS 100
#define RESTART_MAX_MS	 30000
#define LIVED_LONG_NS	 10000000000ULL
#define LISTEN_BACKLOG	 511
#define VIEWER_GROUP	 "cells-view"

static int listen_unix(const char *path, struct error *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct group *g = getgrnam(VIEWER_GROUP);
	int fd, ret;

	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >= (int)sizeof(sun.sun_path))
		return error_set(err, ENAMETOOLONG, "viewer: %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, errno, "viewer: socket");
	unlink(path);
	/* Created 0600 from the start: no moment where others could connect. */
	mode_t old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ret < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		ret = error_set(err, errno, "viewer: listen on %s", path);
		close(fd);
		return ret;
	}
	if (g && (chown(path, 0, g->gr_gid) < 0 || chmod(path, 0660) < 0))
		log_warn_errno(errno, "viewer: give %s to the group %s", path, VIEWER_GROUP);
	return fd;
}

/* "ADDR:PORT" (IPv4) -> a listening socket. */
static int listen_tcp(const char *spec, struct error *err)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char addr[64], *colon, *end;
	int fd, one = 1, ret;
	long port;

	if (snprintf(addr, sizeof(addr), "%s", spec) >= (int)sizeof(addr) ||
	    !(colon = strrchr(addr, ':')))
		return error_set(err, 0, "'%s' is not ADDR:PORT, unix or none", spec);
	*colon = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return error_set(err, 0, "'%s' is not ADDR:PORT (IPv4), unix or none", spec);
	sin.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		ret = error_set(err, errno, "listen on %s", spec);
		close(fd);
		return ret;
	}
	return fd;
}

/* SPEC of --vnc or --web: "none", "unix" (RUN/viewer/NAME.sock) or ADDR:PORT. */
static int open_listeners(struct viewer *v, const char *spec, const char *name, int unix_slot,
			  char *unix_path, size_t unix_len, char *tcp, size_t tcp_len,
			  struct error *err)
{
	int fd;

	if (strcmp(spec, "none") == 0)
		return 0;
	snprintf(unix_path, unix_len, "%s/viewer/%s.sock", v->daemon->run_dir, name);
	if ((fd = listen_unix(unix_path, err)) < 0)
		return fd;
	v->listeners[unix_slot] = fd;
	if (strcmp(spec, "unix") == 0)
		return 0;
	if ((fd = listen_tcp(spec, err)) < 0)
		return error_set(err, 0, "--%s: %s", name, err->msg);
	v->listeners[unix_slot + 1] = fd;
	snprintf(tcp, tcp_len, "%s", spec);
	return 0;
}

static void on_link(struct loop_watch *w, uint32_t events);
static void on_exit_(struct loop_watch *w, uint32_t events);

static void arm_restart(struct viewer *v)
{
	unsigned shift = v->restarts < 10 ? v->restarts : 10;
	unsigned long ms = (unsigned long)RESTART_FIRST_MS << shift;
	struct itimerspec its = {0};

	if (ms > RESTART_MAX_MS)
		ms = RESTART_MAX_MS;
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	timerfd_settime(v->restart_timer.fd, 0, &its, NULL);
	log_info("viewer: starting again in %lu ms", ms);
}

/* A descriptor at 100 or above, so that the child's dup2 onto 3..9 overwrites none. */
static int high_dup(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 100);
}

static int spawn(struct viewer *v, struct error *err)
{
	struct daemon *d = v->daemon;
	char exe[PATH_MAX], uid[16], gid[16], root[PATH_MAX];
	char *argv[] = {exe, uid, gid, root, log_verbose() ? "--verbose" : NULL, NULL};
	int pair[2] = {-1, -1}, src[VIEWER_FD_COUNT], pidfd, ret = 0;
	pid_t pid;

	for (int i = 0; i < VIEWER_FD_COUNT; i++)
		src[i] = -1;
	snprintf(exe, sizeof(exe), "%s/cells-viewer", d->lib_dir);
	snprintf(uid, sizeof(uid), "%u", (unsigned)v->uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)v->gid);
	snprintf(root, sizeof(root), "%s/viewer/root", d->run_dir);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return error_set(err, errno, "viewer: socketpair");
	/* Room for the answer to a list of every VP (a packet each). */
	int sndbuf = 4 << 20;
	setsockopt(pair[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	src[VIEWER_FD_LINK] = high_dup(pair[1]);
	ret = scanout_open_readonly(v->scanout, err);
	if (ret < 0)
		goto out;
	src[VIEWER_FD_SCANOUT] = high_dup(ret);
	close(ret);
	ret = 0;
	src[VIEWER_FD_FRAME] = high_dup(scanout_frame_fd(v->scanout));
	for (int i = 0; i < VIEWER_LISTENERS; i++)
		src[VIEWER_FD_VNC_UNIX + i] = high_dup(v->listeners[i]);
	for (int i = VIEWER_FD_LINK; i < VIEWER_FD_COUNT; i++)
		if (src[i] < 0 &&
		    (i < VIEWER_FD_VNC_UNIX || v->listeners[i - VIEWER_FD_VNC_UNIX] >= 0)) {
			ret = error_set(err, errno, "viewer: dup");
			goto out;
		}
	pid = fork();
	if (pid < 0) {
		ret = error_set(err, errno, "viewer: fork");
		goto out;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		for (int i = VIEWER_FD_LINK; i < VIEWER_FD_COUNT; i++)
			if (src[i] < 0 ? close(i) < 0 && errno != EBADF : dup2(src[i], i) < 0)
				_exit(127);
		syscall(SYS_close_range, VIEWER_FD_COUNT, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Nothing of the daemon's environment: the viewer needs none. */
		execve(exe, argv, (char *[]){NULL});
		_exit(127);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ret = error_set(err, errno, "viewer: pidfd_open");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	v->pid = pid;
	v->started_ns = monotonic_ns();
	v->link = (struct loop_watch){.fd = pair[0], .handle = on_link};
	v->pidfd = (struct loop_watch){.fd = pidfd, .handle = on_exit_};
	pair[0] = -1;
	if (loop_add(&d->loop, &v->link, EPOLLIN) < 0 || loop_add(&d->loop, &v->pidfd, EPOLLIN) < 0)
		log_warn_errno(errno, "viewer: watch");
	viewer_send_hello(v);
	log_info("viewer: started, pid %d, uid %u", (int)pid, (unsigned)v->uid);
out:
	for (int i = 0; i < VIEWER_FD_COUNT; i++)
		if (src[i] >= 0)
			close(src[i]);
	if (pair[0] >= 0)
		close(pair[0]);
	close(pair[1]);
	return ret;
}

/* The process is gone (or going): forget it; clients see no more VNC until the next. */
static void reap(struct viewer *v)
{
	struct daemon *d = v->daemon;
	siginfo_t si = {0};
	char how[64];

	if (v->pid <= 0)
		return;
	loop_del(&d->loop, &v->link);
	if (v->link.fd >= 0)
		close(v->link.fd);
	v->link.fd = -1;
	kill(v->pid, SIGKILL);
	while (waitid(P_PID, (id_t)v->pid, &si, WEXITED) < 0 && errno == EINTR)
		;
	loop_del(&d->loop, &v->pidfd);
	close(v->pidfd.fd);
	v->pidfd.fd = -1;
	v->pid = 0;
	v->bytes_before += v->bytes_sent;
	v->bytes_sent = v->clients = 0;
	scanout_set_watching(v->scanout, false);
	if (si.si_code == CLD_EXITED)
		snprintf(how, sizeof(how), "exit status %d", si.si_status);
	else
		snprintf(how, sizeof(how), "signal %d (%s)", si.si_status, strsignal(si.si_status));
	if (v->stopping)
		return;
	log_warn("viewer: pid %d ended (%s)", (int)si.si_pid, how);
	event_emit(d, json_pack("{s:s, s:i, s:s}", "event", "viewer", "pid", (int)si.si_pid,
				"ended", how));
	v->restarts = monotonic_ns() - v->started_ns >= LIVED_LONG_NS ? 0 : v->restarts + 1;
	arm_restart(v);
}

static void on_exit_(struct loop_watch *w, uint32_t events)
{
	(void)events;
	reap(container_of(w, struct viewer, pidfd));
}

static void on_restart(struct loop_watch *w, uint32_t events)
{
	struct viewer *v = container_of(w, struct viewer, restart_timer);
	struct error err = {{0}};
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (spawn(v, &err) < 0) {
		log_error("%s", err.msg);
		v->restarts++;
		arm_restart(v);
		return;
	}
	event_emit(v->daemon, json_pack("{s:s, s:i, s:s}", "event", "viewer", "pid", (int)v->pid,
					"started", "again"));
}

/* Messages from the viewer: a bounded number per wake-up, so that a viewer that sends
 * without end cannot keep the loop from everything else. */
static void on_link(struct loop_watch *w, uint32_t events)
{
	struct viewer *v = container_of(w, struct viewer, link);
	union viewer_msg msg;
	char buf[sizeof(msg) + 1];

	for (int i = 0; i < 64; i++) {
		struct error err = {{0}};
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* Gone: the pidfd says when it is reaped; stop reading. */
			loop_del(&v->daemon->loop, w);
			close(w->fd);
			w->fd = -1;
			kill(v->pid, SIGKILL);
			return;
		}
		if (viewer_parse(buf, (size_t)n, &msg, &err) < 0) {
			log_warn("%s: stopping the viewer", err.msg);
			kill(v->pid, SIGKILL);
			return;
		}
		viewer_link_handle(v, &msg);
	}
	(void)events;
}

int viewer_start(struct daemon *d, const char *vnc, const char *web, struct viewer **out,
		 struct error *err)
{
	struct viewer *v;
	char path[PATH_MAX];
	int ret;

	*out = NULL;
	if (strcmp(vnc, "none") == 0 && strcmp(web, "none") == 0)
		return 0;
	if (!(v = calloc(1, sizeof(*v))))
		return error_set(err, ENOMEM, "viewer");
	v->daemon = d;
	v->link.fd = v->pidfd.fd = -1;
	for (int i = 0; i < VIEWER_LISTENERS; i++)
		v->listeners[i] = -1;
	snprintf(path, sizeof(path), "%s/cells-viewer", d->lib_dir);
	if (access(path, X_OK) < 0) {
		ret = error_set(err, errno, "viewer: %s (VNC and the web page need it)", path);
		goto fail;
	}
	/* Its own uid, just below the VPs' range: no host user's, no VP's. */
	v->uid = d->uid_base - 1;
	v->gid = d->uid_base - 1;
	snprintf(v->secrets_path, sizeof(v->secrets_path), "%s/viewer.secret", d->state_dir);
	if ((ret = viewer_secrets_load(v->secrets_path, &v->secrets, err)) < 0)
		goto fail;
	/* RUN/viewer: the sockets, and root/, the viewer's empty root directory. */
	snprintf(path, sizeof(path), "%s/viewer/root", d->run_dir);
	if ((ret = mkdir_p(path, 0755)) < 0) {
		ret = error_set(err, -ret, "create %s", path);
		goto fail;
	}
	if ((ret = open_listeners(v, vnc, "vnc", 0, v->vnc_unix, sizeof(v->vnc_unix), v->vnc_tcp,
				  sizeof(v->vnc_tcp), err)) < 0 ||
	    (ret = open_listeners(v, web, "web", 2, v->web_unix, sizeof(v->web_unix), v->web_tcp,
				  sizeof(v->web_tcp), err)) < 0)
		goto fail;
	if ((ret = scanout_start(&v->scanout, devns_screen(&d->devns), &d->devns, err)) < 0)
		goto fail;
	v->restart_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	v->restart_timer.handle = on_restart;
	if (v->restart_timer.fd < 0 || loop_add(&d->loop, &v->restart_timer, EPOLLIN) < 0) {
		ret = error_set(err, errno, "viewer: timerfd");
		goto fail;
	}
	if ((ret = spawn(v, err)) < 0)
		goto fail;
	if (v->vnc_tcp[0])
		log_info("viewer: VNC on %s (password: `cell viewer`)", v->vnc_tcp);
	if (v->web_tcp[0])
		log_info("viewer: web page on http://%s/ (token: `cell viewer`)", v->web_tcp);
	*out = v;
	return 0;
fail:
	viewer_stop(v);
	return ret;
}

void viewer_stop(struct viewer *v)
{
	if (!v)
		return;
	v->stopping = true;
	reap(v);
	if (v->restart_timer.fd > 0) {
		loop_del(&v->daemon->loop, &v->restart_timer);
		close(v->restart_timer.fd);
	}
	scanout_stop(v->scanout);
	for (int i = 0; i < VIEWER_LISTENERS; i++)
		if (v->listeners[i] >= 0)
			close(v->listeners[i]);
	if (v->vnc_unix[0])
		unlink(v->vnc_unix);
	if (v->web_unix[0])
		unlink(v->web_unix);
	free(v);
}

void viewer_switch_begin(struct viewer *v)
{
	if (v)
		scanout_switch_begin(v->scanout);
}

void viewer_switch_end(struct viewer *v)
{
	if (v)
		scanout_switch_end(v->scanout, v->clients > 0);
}

void viewer_refresh(struct viewer *v)
{
	if (v && v->clients > 0)
		scanout_refresh(v->scanout);
}
