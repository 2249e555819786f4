/* `cell exec`: run a command inside a running VP. A helper forked from the daemon joins
 * the VP's cgroup and namespaces through the pidfd of its init, becomes the VP's root and
 * forks the command (a new PID namespace applies to children only); the helper's exit
 * status is the command's. */
#include "vp/runtime.h"
#include "common/fdpass.h"
#include "common/log.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define VP_NAMESPACES                                                                              \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | \
	 CLONE_NEWCGROUP | CLONE_NEWTIME)

#define LISTENER_WAIT_MS 2000

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

static void __attribute__((noreturn)) run_command(const struct vp_runtime *rt, char *const argv[],
						  const int stdio[3], const char *term, int sock)
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

	snprintf(env_term, sizeof(env_term), "TERM=%s", term && term[0] ? term : "linux");
	snprintf(env_name, sizeof(env_name), "CELL_NAME=%s", rt->config->name);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(stdio[fd], fd) < 0) {
			error_set(&err, errno, "dup2");
			fail(stdio[2], 126, &err);
		}
	if (chdir("/") < 0) {
		error_set(&err, errno, "chdir /");
		fail(2, 126, &err);
	}
	prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
	if (vp_restrict(rt->filter, &listener, &err) < 0)
		fail(2, 126, &err);
	/* The daemon answers this process's device calls, as it does cell-init's. */
	if (listener >= 0 && fd_send(sock, 'L', listener) < 0) {
		error_set(&err, errno, "hand the seccomp listener to the daemon");
		fail(2, 126, &err);
	}
	/* The command dies with the helper: the daemon kills the helper if the user goes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	syscall(SYS_close_range, 3, ~0U, 0);
	execvpe(argv[0], argv, envp);
	error_set(&err, errno, "%s", argv[0]);
	fail(2, errno == ENOENT ? 127 : 126, &err);
}

static void __attribute__((noreturn)) helper_main(const struct vp_runtime *rt, char *const argv[],
						  const int stdio[3], const char *term, int sock)
{
	struct error err;
	int status;
	pid_t pid;

	vp_reset_signals();
	if (cgroup_enter(rt->cgroups, rt->cgroup, &err) < 0)
		fail(stdio[2], 126, &err);
	if (setns(rt->pidfd, VP_NAMESPACES) < 0) {
		error_set(&err, errno, "enter the namespaces of %s", rt->config->name);
		fail(stdio[2], 126, &err);
	}
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		error_set(&err, errno, "become the VP's root");
		fail(stdio[2], 126, &err);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	pid = fork();
	if (pid < 0) {
		error_set(&err, errno, "fork");
		fail(stdio[2], 126, &err);
	}
	if (pid == 0)
		run_command(rt, argv, stdio, term, sock);
	close(sock);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Wait (briefly) for the command's seccomp listener: it comes before the command runs. */
static int receive_listener(int sock)
{
	struct pollfd p = {sock, POLLIN, 0};
	char byte;
	int fd = -1;

	if (poll(&p, 1, LISTENER_WAIT_MS) == 1 && fd_recv(sock, &byte, &fd) == 1 && byte != 'L' &&
	    fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

pid_t vp_exec(const struct vp_runtime *rt, char *const argv[], const int stdio[3], const char *term,
	      int *listener, struct error *err)
{
	int sv[2];
	pid_t pid;

	*listener = -1;
	if (!argv[0])
		return error_set(err, 0, "no command given");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set(err, errno, "socketpair");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return error_set(err, errno, "fork");
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(rt, argv, stdio, term, sv[1]);
	}
	close(sv[1]);
	*listener = receive_listener(sv[0]);
	close(sv[0]);
	return pid;
}
