#include "scale/views.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

#define READY_WAIT_MS 3000
/* An instance that ran this long is restarted at once; one that died sooner waits
 * RESTART_MS, then twice as long after each quick death, up to RESTART_MAX_MS: an lxcfs
 * that cannot stay up costs a start every half minute, not a busy loop. */
#define STABLE_MS      10000
#define RESTART_MS     500
#define RESTART_MAX_MS 30000
/* lxcfs's loadavg thread sleeps seconds at a time: it exits 2 to 4 s after a SIGTERM,
 * which every daemon's stop waited. Its mount detached and the VPs gone, nothing of its
 * state is worth waiting for: a short wait, then SIGKILL. */
#define STOP_WAIT_MS 200

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* lxcfs on PATH, as the package installs it. */
static bool find_exe(const char *given, char *buf, size_t len)
{
	const char *dirs[] = {"/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"};

	if (given) {
		snprintf(buf, len, "%s", given);
		return access(buf, X_OK) == 0;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, len, "%s/lxcfs", dirs[i]);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

static bool mounted(const struct views *v)
{
	char path[PATH_MAX + 16];
	struct statfs sf;

	snprintf(path, sizeof(path), "%s/proc/meminfo", v->mount);
	return statfs(v->mount, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC &&
	       access(path, R_OK) == 0;
}

/* After a quick death or a failed start: the next try, later than the last one. */
static unsigned schedule_restart(struct views *v)
{
	unsigned ms = v->backoff_ms ? v->backoff_ms * 2 : RESTART_MS;
	struct itimerspec its;

	if (ms > RESTART_MAX_MS)
		ms = RESTART_MAX_MS;
	v->backoff_ms = ms;
	its = (struct itimerspec){.it_value = {ms / 1000, (long)(ms % 1000) * 1000000L}};
	if (v->restart.fd >= 0 && timerfd_settime(v->restart.fd, 0, &its, NULL) < 0)
		log_warn_errno(errno, "lxcfs: timer");
	return ms;
}

/* A dead instance leaves its mount behind (ENOTCONN): gone before the next one. */
static void clear_mount(struct views *v)
{
	if (umount2(v->mount, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_warn_errno(errno, "lxcfs: unmount %s", v->mount);
}

static void reap(struct views *v)
{
	int status = 0;

	if (v->exit_watch.fd >= 0) {
		loop_del(v->loop, &v->exit_watch);
		close(v->exit_watch.fd);
		v->exit_watch.fd = -1;
	}
	if (v->pid > 0)
		while (waitpid(v->pid, &status, 0) < 0 && errno == EINTR)
			;
	v->pid = 0;
	v->ready = false;
}

static void on_exit_(struct loop_watch *w, uint32_t events);

static int spawn(struct views *v)
{
	const char *argv[] = {v->exe,	   "--foreground", "--enable-loadavg",
			      "--pidfile", v->pidfile,	   v->mount,
			      NULL};
	sigset_t none;
	pid_t pid;
	int ret;

	v->parent = getpid();
	clear_mount(v);
	if ((ret = mkdir_p(v->mount, 0755)) < 0) {
		log_warn_errno(-ret, "lxcfs: create %s", v->mount);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		log_warn_errno(errno, "lxcfs: fork");
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int log = open(v->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		/* It tells much of itself at each start: its own file, not the daemon's log. */
		if (log >= 0)
			dup2(log, STDERR_FILENO);
		/* Its own session: a ^C to the daemon's terminal is the daemon's to handle. A
		 * daemon killed outright takes it along (it unmounts on SIGTERM). */
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != v->parent)
			_exit(1);
		execv(v->exe, (char *const *)argv);
		_exit(127);
	}
	v->pid = pid;
	v->starts++;
	v->started_ns = monotonic_ns();
	v->exit_watch.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	v->exit_watch.handle = on_exit_;
	if (v->exit_watch.fd < 0 || loop_add(v->loop, &v->exit_watch, EPOLLIN) < 0) {
		log_warn_errno(errno, "lxcfs: watch pid %d", (int)pid);
		if (v->exit_watch.fd >= 0)
			close(v->exit_watch.fd);
		v->exit_watch.fd = -1;
	}
	/* VPs started before it answers would get no views: a short wait, once per start. */
	for (int waited = 0; waited < READY_WAIT_MS; waited += 10) {
		if (mounted(v)) {
			char dir[PATH_MAX + 8];
			v->ready = true;
			log_info("lxcfs: pid %d serves the VPs' /proc views at %s (start %u)",
				 (int)pid, v->mount, v->starts);
			snprintf(dir, sizeof(dir), "%s/proc", v->mount);
			if (v->starts > 1 && v->host.restarted)
				v->host.restarted(v->host.ctx, pid, dir);
			return 0;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			v->pid = 0;
			break;
		}
		sleep_ms(10);
	}
	log_warn("lxcfs: %s did not mount %s (see %s); VPs start without /proc views", v->exe,
		 v->mount, v->log);
	/* Gone before the next try, so that its exit is not taken for another death. */
	if (v->pid > 0)
		kill(v->pid, SIGKILL);
	reap(v);
	return -EIO;
}

static void on_exit_(struct loop_watch *w, uint32_t events)
{
	struct views *v = container_of(w, struct views, exit_watch);
	uint64_t lived_ms = (monotonic_ns() - v->started_ns) / 1000000;
	pid_t pid = v->pid;
	unsigned delay = 0;

	(void)events;
	reap(v);
	if (v->stopping)
		return;
	if (lived_ms >= STABLE_MS)
		v->backoff_ms = 0;
	else
		delay = schedule_restart(v);
	log_warn("lxcfs: pid %d exited after %llu ms; restarting it in %u ms", (int)pid,
		 (unsigned long long)lived_ms, delay);
	if (v->host.exited)
		v->host.exited(v->host.ctx, pid, delay);
	if (delay == 0 && spawn(v) < 0)
		schedule_restart(v);
}

static void on_restart(struct loop_watch *w, uint32_t events)
{
	struct views *v = container_of(w, struct views, restart);
	uint64_t count;

	(void)events;
	if (read(w->fd, &count, sizeof(count)) < 0)
		return;
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		reap(v);
	}
	if (!v->stopping && spawn(v) < 0)
		schedule_restart(v);
}

/* An instance of a daemon that was killed before PR_SET_PDEATHSIG could reach it (an older
 * cellsd): its pid file names it. Only an lxcfs serving MOUNT is killed. */
static void kill_stale(const struct views *v)
{
	char *text = NULL, path[64], cmdline[PATH_MAX * 2];
	long pid = 0;
	ssize_t n;
	int fd;

	if (read_file(v->pidfile, 64, &text, NULL) < 0)
		return;
	pid = strtol(text, NULL, 10);
	free(text);
	if (pid <= 1)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n <= 0)
		return;
	cmdline[n] = '\0';
	/* argv is NUL-separated: its last word is the mount point. */
	for (ssize_t i = 0; i < n; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	if (strstr(cmdline, "lxcfs") && strstr(cmdline, v->mount)) {
		log_info("lxcfs: stopping pid %ld, left by an earlier cellsd", pid);
		kill((pid_t)pid, SIGKILL);
	}
}

void views_start(struct views *v, struct loop *loop, const struct views_host *host,
		 const char *run_dir, const char *exe, bool enabled)
{
	memset(v, 0, sizeof(*v));
	v->loop = loop;
	v->host = *host;
	v->exit_watch.fd = v->restart.fd = -1;
	if (!enabled)
		return;
	if (!find_exe(exe, v->exe, sizeof(v->exe))) {
		log_info("notice: no lxcfs (%s); VPs' /proc shows the host's memory and CPUs",
			 exe ? exe : "apt-get install lxcfs");
		return;
	}
	snprintf(v->mount, sizeof(v->mount), "%s/lxcfs", run_dir);
	snprintf(v->pidfile, sizeof(v->pidfile), "%s/lxcfs.pid", run_dir);
	snprintf(v->log, sizeof(v->log), "%s/lxcfs.log", run_dir);
	v->restart.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	v->restart.handle = on_restart;
	if (v->restart.fd < 0 || loop_add(loop, &v->restart, EPOLLIN) < 0) {
		log_warn_errno(errno, "lxcfs: timer");
		if (v->restart.fd >= 0)
			close(v->restart.fd);
		v->restart.fd = -1;
	}
	kill_stale(v);
	if (spawn(v) < 0)
		schedule_restart(v);
}

const char *views_proc_dir(struct views *v, char *buf, size_t len)
{
	if (!v->ready)
		return NULL;
	snprintf(buf, len, "%s/proc", v->mount);
	return buf;
}

void views_stop(struct views *v)
{
	v->stopping = true;
	if (v->restart.fd >= 0) {
		loop_del(v->loop, &v->restart);
		close(v->restart.fd);
		v->restart.fd = -1;
	}
	if (v->mount[0])
		clear_mount(v);
	if (v->pid > 0) {
		kill(v->pid, SIGTERM);
		for (int waited = 0; waited < STOP_WAIT_MS; waited += 10) {
			if (waitpid(v->pid, NULL, WNOHANG) == v->pid) {
				v->pid = 0;
				break;
			}
			sleep_ms(10);
		}
		if (v->pid > 0)
			kill(v->pid, SIGKILL);
		reap(v);
	}
	if (v->mount[0]) {
		clear_mount(v);
		rmdir(v->mount);
		unlink(v->pidfile);
		unlink(v->log);
	}
}
