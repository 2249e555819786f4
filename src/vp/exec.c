/* `cell exec`: run a command inside a running VP. A helper forked from the daemon joins
 * the VP's cgroup and namespaces through the pidfd of its init and becomes the VP's root;
 * as a new PID namespace applies to children only, it forks a supervisor, the first
 * process of the exec inside the VP, which forks the command.
 *
 * The supervisor is a child subreaper: every process the command starts stays its
 * descendant, however it daemonizes, so when the exec is interrupted (the daemon kills the
 * helper when the user goes) it finds and kills them all, where the command's own death
 * would leave its children to the VP's init; so it does when the command dies of a signal
 * (Ctrl-C on its pty) or the pty hangs up. When the command exits by itself, what it left
 * running goes on, as on any machine. With a terminal (-t), the supervisor opens a pty of
 * the VP's own devpts and the command is a session leader with it as its controlling
 * terminal, so shells have job control. The helper's exit status is the command's.
 *
 * Nothing of the caller's goes in: the command's stdio are pipes the daemon made, and the
 * helper drops every other descriptor of the daemon's before it joins the VP. The daemon
 * waits for nothing either: what the command needs answered (its seccomp listener, the
 * pty) comes on a socket the daemon watches on its loop. */
#include "vp/runtime.h"
#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/fds.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define VP_NAMESPACES                                                                              \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | \
	 CLONE_NEWCGROUP | CLONE_NEWTIME)

#define SUPERVISOR_GRACE_MS 5000

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

void vp_reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

/* The caller's stderr is the user's: errors before exec are written there. */
static void __attribute__((noreturn)) fail(int fd, int status, const struct error *err)
{
	dprintf(fd, "cell: exec: %s\n", err->msg);
	_exit(status);
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The command: STDIO, or with a terminal the pty's side SLAVE, as 0..2. */
static void __attribute__((noreturn))
run_command(const struct vp_runtime *rt, const struct vp_exec_args *a, int slave, int sock)
{
	char env_term[64], env_name[64];
	char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"HOME=/root",
			env_term,
			env_name,
			"container=cells",
			NULL};
	struct error err;
	int listener;

	snprintf(env_term, sizeof(env_term), "TERM=%s", a->term && a->term[0] ? a->term : "linux");
	snprintf(env_name, sizeof(env_name), "CELL_NAME=%s", rt->config->name);
	if (slave >= 0 && (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)) {
		error_set(&err, errno, "make the pty the controlling terminal");
		fail(a->stdio[2], 126, &err);
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave >= 0 ? slave : a->stdio[fd], fd) < 0) {
			error_set(&err, errno, "dup2");
			fail(a->stdio[2], 126, &err);
		}
	if (chdir("/") < 0) {
		error_set(&err, errno, "chdir /");
		fail(2, 126, &err);
	}
	prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
	if (vp_restrict(rt->filter, &listener, &err) < 0)
		fail(2, 126, &err);
	/* The daemon answers this process's device calls, as it does cell-init's. */
	if (listener >= 0 && fd_send(sock, VP_EXEC_LISTENER, listener) < 0) {
		error_set(&err, errno, "hand the seccomp listener to the daemon");
		fail(2, 126, &err);
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	execvpe(a->argv[0], a->argv, envp);
	error_set(&err, errno, "%s", a->argv[0]);
	fail(2, errno == ENOENT ? 127 : 126, &err);
}

/* A pty of the VP's devpts, sized as the caller's terminal. The VP's root may have put
 * something else at /dev/pts/ptmx (a FIFO would block the open): non-blocking, and
 * checked to be a devpts. */
static int open_pty(const struct vp_exec_args *a, int *slave, struct error *err)
{
	struct winsize ws = {.ws_row = a->rows, .ws_col = a->cols};
	int unlock = 0, master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	struct statfs fs;

	if (master < 0)
		return error_set(err, errno, "open /dev/pts/ptmx");
	if (fstatfs(master, &fs) < 0 || fs.f_type != DEVPTS_SUPER_MAGIC ||
	    fcntl(master, F_SETFL, O_RDWR) < 0) {
		close(master);
		return error_set(err, 0, "/dev/pts/ptmx is not the VP's devpts");
	}
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (*slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		close(master);
		return error_set(err, errno, "open the pty's other side");
	}
	if (ws.ws_row && ws.ws_col)
		ioctl(master, TIOCSWINSZ, &ws);
	return master;
}

/* The fields of /proc/.../stat PATH after "PID (COMM)" (the state first), in BUF, or NULL:
 * COMM may hold anything, the last ')' ends it. */
static char *stat_fields(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	char *paren;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren ? paren + 1 : NULL;
}

/* Kill the children of this process (as the VP's /proc shows them). */
static void kill_children(void)
{
	DIR *proc = opendir("/proc");
	pid_t self = getpid();
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char path[64], stat[512], *fields;
		int ppid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fields = stat_fields(path, stat, sizeof(stat))) &&
		    sscanf(fields, " %*c %d", &ppid) == 1 && ppid == self)
			kill((pid_t)atoi(de->d_name), SIGKILL);
	}
	closedir(proc);
}

/* Kill every descendant: a child killed hands its own children to this subreaper before
 * it can be reaped, so each round finds the next generation. */
static void kill_descendants(void)
{
	for (;;) {
		kill_children();
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			return;
	}
}

static bool hung_up(int fd)
{
	struct pollfd p = {fd, 0, 0};

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/* In the VP: fork the command and wait for it, reaping the orphans it leaves; if the
 * helper goes first (HELPER_GONE hangs up), kill everything the command started. */
static void __attribute__((noreturn))
supervise(const struct vp_runtime *rt, const struct vp_exec_args *a, int helper_gone, int sock)
{
	struct error err;
	sigset_t chld;
	int sigfd, master = -1, slave = -1, status;
	pid_t cmd;

	prctl(PR_SET_NAME, "cell-exec", 0, 0, 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		error_set(&err, errno, "become a subreaper");
		fail(a->stdio[2], 126, &err);
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	if ((sigfd = signalfd(-1, &chld, SFD_CLOEXEC)) < 0) {
		error_set(&err, errno, "signalfd");
		fail(a->stdio[2], 126, &err);
	}
	if (a->tty) {
		if ((master = open_pty(a, &slave, &err)) < 0)
			fail(a->stdio[2], 126, &err);
		if (fd_send(sock, VP_EXEC_PTY, master) < 0) {
			error_set(&err, errno, "hand the pty to the daemon");
			fail(a->stdio[2], 126, &err);
		}
		close(master);
	}
	cmd = fork();
	if (cmd < 0) {
		error_set(&err, errno, "fork");
		fail(a->stdio[2], 126, &err);
	}
	if (cmd == 0) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		run_command(rt, a, slave, sock);
	}
	close(sock);
	for (int fd = 0; fd < 3; fd++)
		if (a->stdio[fd] >= 0)
			close(a->stdio[fd]);
	/* The slave is kept (never read) to see the terminal hang up: the user closing it
	 * interrupts the exec, even when its SIGHUP ended the command before the helper told. */
	for (;;) {
		struct pollfd p[3] = {{helper_gone, POLLIN, 0}, {sigfd, POLLIN, 0}, {slave, 0, 0}};
		struct signalfd_siginfo si;
		pid_t pid;

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents || (p[2].revents & POLLHUP)) {
			kill_descendants();
			_exit(128 + SIGKILL);
		}
		if (p[1].revents && read(sigfd, &si, sizeof(si)) < 0)
			continue;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != cmd)
				continue;
			/* Ctrl-C on the pty (or any signal) ended the command: that is an
			 * interruption too, and what it left behind goes with it. */
			if (WIFSIGNALED(status) || hung_up(slave))
				kill_descendants();
			_exit(exit_code(status));
		}
	}
	kill_descendants();
	_exit(126);
}

/* The exit code of the supervisor SUP. SIGTERM (the daemon: the user went) interrupts the
 * exec: the supervisor is told by the pipe ALIVE and given SUPERVISOR_GRACE_MS to end the
 * command's processes; a supervisor the VP stopped is killed then. The supervisor is
 * reaped here either way, never left a zombie to whatever would adopt it. */
static int wait_supervisor(pid_t sup, int alive, int sigfd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, sup, 0), status;
	struct pollfd p[2] = {{pidfd, POLLIN, 0}, {sigfd, POLLIN, 0}};

	while (pidfd >= 0 && poll(p, 2, -1) < 0 && errno == EINTR)
		;
	if (pidfd >= 0 && p[1].revents) {
		close(alive);
		if (poll(p, 1, SUPERVISOR_GRACE_MS) == 0)
			kill(sup, SIGKILL);
	}
	while (waitpid(sup, &status, 0) < 0)
		if (errno != EINTR)
			return 126;
	return exit_code(status);
}

/* The supervisor is a process of the VP, whose `ps` would show the daemon's command line
 * (host paths) in this copy of its memory: the copy's arguments are overwritten with a
 * name of its own. Where they are, /proc/self/stat says (fields 48 and 49). */
static void hide_command_line(void)
{
	static const char name[] = "cell-exec";
	char stat[1024], *p, *save = NULL;
	unsigned long start = 0, end = 0;
	int field = 3;

	if (!(p = stat_fields("/proc/self/stat", stat, sizeof(stat))))
		return;
	for (p = strtok_r(p, " ", &save); p; p = strtok_r(NULL, " ", &save), field++) {
		if (field == 48)
			start = strtoul(p, NULL, 10);
		else if (field == 49)
			end = strtoul(p, NULL, 10);
	}
	if (!start || end <= start + sizeof(name))
		return;
	memset((void *)start, 0, end - start);
	memcpy((void *)start, name, sizeof(name));
}

/* The helper, then its supervisor in the VP, hold only FDS (N, moved above 2 where they
 * were not) and /dev/null as 0..2: nothing else of the daemon's, above all no descriptor
 * a client passed with its request, goes into the VP. Returns 0 or -1 (errno set). */
static int keep_only(int *fds, size_t n)
{
	int null;

	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0 && fds[i] <= 2 && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
			return -1;
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	for (int fd = 0; fd <= 2; fd++)
		if (fd != null && dup2(null, fd) < 0)
			return -1;
	return close_all_but(fds, n);
}

static void __attribute__((noreturn))
helper_main(const struct vp_runtime *rt, const struct vp_exec_args *args, int sock)
{
	struct vp_exec_args copy = *args, *a = &copy;
	int keep[5] = {sock, rt->pidfd, args->stdio[0], args->stdio[1], args->stdio[2]};
	struct error err;
	int alive[2], sigfd, pidfd;
	sigset_t term;
	pid_t pid;

	vp_reset_signals();
	if (keep_only(keep, ARRAY_SIZE(keep)) < 0) {
		error_set(&err, errno, "close the daemon's descriptors");
		fail(args->stdio[2], 126, &err);
	}
	sock = keep[0];
	pidfd = keep[1];
	memcpy(a->stdio, &keep[2], sizeof(a->stdio));
	hide_command_line();
	if (cgroup_enter(rt->cgroups, rt->cgroup, &err) < 0)
		fail(a->stdio[2], 126, &err);
	if (setns(pidfd, VP_NAMESPACES) < 0) {
		error_set(&err, errno, "enter the namespaces of %s", rt->config->name);
		fail(a->stdio[2], 126, &err);
	}
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		error_set(&err, errno, "become the VP's root");
		fail(a->stdio[2], 126, &err);
	}
	if (vp_set_rlimits(&err) < 0)
		fail(a->stdio[2], 126, &err);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The supervisor learns that the exec is interrupted when the pipe hangs up. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	if (pipe2(alive, O_CLOEXEC) < 0 || (sigfd = signalfd(-1, &term, SFD_CLOEXEC)) < 0) {
		error_set(&err, errno, "pipe or signalfd");
		fail(a->stdio[2], 126, &err);
	}
	pid = fork();
	if (pid < 0) {
		error_set(&err, errno, "fork");
		fail(a->stdio[2], 126, &err);
	}
	if (pid == 0) {
		close(alive[1]);
		close(sigfd);
		supervise(rt, a, alive[0], sock);
	}
	close(alive[0]);
	close(sock);
	for (int fd = 0; fd < 3; fd++)
		if (a->stdio[fd] >= 0)
			close(a->stdio[fd]);
	_exit(wait_supervisor(pid, alive[1], sigfd));
}

pid_t vp_exec(const struct vp_runtime *rt, const struct vp_exec_args *args, int *sock,
	      struct error *err)
{
	int sv[2];
	pid_t pid;

	*sock = -1;
	if (!args->argv[0])
		return error_set(err, 0, "no command given");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set(err, errno, "socketpair");
	/* The helper runs on without exec: no thread of the daemon may hold a libc lock. */
	if (rt->around_clone)
		rt->around_clone(rt->around_clone_ctx, true);
	pid = fork();
	if (pid != 0 && rt->around_clone)
		rt->around_clone(rt->around_clone_ctx, false);
	if (pid < 0) {
		int ret = error_set(err, errno, "fork");
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(rt, args, sv[1]);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		int ret = error_set(err, errno, "fcntl");
		close(sv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return ret;
	}
	*sock = sv[0];
	return pid;
}

int vp_exec_receive(int sock, enum vp_exec_message *kind, int *fd)
{
	char byte;
	int ret = fd_recv(sock, &byte, fd);

	if (ret == 1)
		*kind = (enum vp_exec_message)byte;
	return ret;
}
