/* Binding lxcfs's files again into a running VP, from a child of the daemon that enters
 * the VP's mount namespace alone. The files' detached copies are made before it enters
 * (the server is the host's); there every lookup starts at the VP's root and follows no
 * link, so nothing the VP controls leads outside it, and a VP that hangs a lookup (a FUSE
 * mount of its own over /proc) costs the daemon the timeout, not its loop. The daemon has
 * threads: the child calls nothing but system calls. */
#include "vp/proc_views.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const vp_proc_view_files[VP_PROC_VIEWS] = {"meminfo", "cpuinfo",   "stat", "uptime",
						       "loadavg", "diskstats", "swaps"};

enum step { STEP_OPEN, STEP_ATTR, STEP_ENTER, STEP_ROOT, STEP_UNMOUNT, STEP_TARGET, STEP_BIND };

static const char *const step_names[] = {
	[STEP_OPEN] = "open",
	[STEP_ATTR] = "make read-only",
	[STEP_ENTER] = "enter the VP's mount namespace",
	[STEP_ROOT] = "open the VP's root",
	[STEP_UNMOUNT] = "unmount the old",
	[STEP_TARGET] = "open the VP's",
	[STEP_BIND] = "bind",
};

/* What the child reports: 0 in ERR for done, and how many files it bound. */
struct report {
	int err;
	int step;
	int file;
	int bound;
};

static void __attribute__((noreturn)) child_fail(int out, int step, int file, int err)
{
	struct report r = {.err = err ? err : EIO, .step = step, .file = file};

	if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(2);
	_exit(1);
}

/* Whether the file at TARGET is a view of a server that is gone: its FUSE connection
 * answers ENOTCONN. A namespace's own procfs, or a view that works, is left alone. */
static bool view_is_dead(int root, const char *target, struct open_how *how)
{
	struct statfs st;
	int fd = (int)syscall(SYS_openat2, root, target + 1, how, sizeof(*how));
	bool dead;

	if (fd < 0)
		return false;
	dead = fstatfs(fd, &st) < 0 && errno == ENOTCONN;
	close(fd);
	return dead;
}

static void __attribute__((noreturn))
child_main(int pidfd, char sources[][PATH_MAX], char targets[][32], enum vp_views_which which,
	   int out)
{
	const struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
						    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS};
	struct report done = {0};
	int trees[VP_PROC_VIEWS], root;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; i < VP_PROC_VIEWS; i++) {
		trees[i] = (int)syscall(SYS_open_tree, AT_FDCWD, sources[i],
					OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (trees[i] < 0 && errno != ENOENT)
			child_fail(out, STEP_OPEN, i, errno);
		if (trees[i] >= 0 && syscall(SYS_mount_setattr, trees[i], "", AT_EMPTY_PATH, &attr,
					     sizeof(attr)) < 0)
			child_fail(out, STEP_ATTR, i, errno);
	}
	/* Root and working directory become the VP's root. */
	if (setns(pidfd, CLONE_NEWNS) < 0)
		child_fail(out, STEP_ENTER, 0, errno);
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		child_fail(out, STEP_ROOT, 0, errno);
	for (int i = 0; i < VP_PROC_VIEWS; i++) {
		int target;
		if (trees[i] < 0 ||
		    (which == VP_VIEWS_DEAD && !view_is_dead(root, targets[i], &how)))
			continue;
		/* EINVAL: not a mount (the kernel's file) or locked by the seal; either way
		 * what is there is covered. */
		if (umount2(targets[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
			child_fail(out, STEP_UNMOUNT, i, errno);
		target = (int)syscall(SYS_openat2, root, targets[i] + 1, &how, sizeof(how));
		if (target < 0)
			child_fail(out, STEP_TARGET, i, errno);
		if (syscall(SYS_move_mount, trees[i], "", target, "",
			    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			child_fail(out, STEP_BIND, i, errno);
		close(target);
		done.bound++;
	}
	if (write(out, &done, sizeof(done)) != (ssize_t)sizeof(done))
		_exit(2);
	_exit(0);
}

/* The child's report, or ETIMEDOUT after TIMEOUT_MS (then it is killed). */
static int await_report(pid_t pid, int in, int timeout_ms, struct report *r)
{
	struct pollfd p = {.fd = in, .events = POLLIN};
	ssize_t n = 0;
	int ready, status;

	do
		ready = poll(&p, 1, timeout_ms);
	while (ready < 0 && errno == EINTR);
	if (ready > 0)
		n = read(in, r, sizeof(*r));
	if (ready <= 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ready == 0)
		return -ETIMEDOUT;
	if (n != (ssize_t)sizeof(*r))
		return -EPIPE;
	return 0;
}

int vp_proc_views_rebind(int pidfd, const char *dir, enum vp_views_which which, int timeout_ms,
			 unsigned *bound, struct error *err)
{
	char sources[VP_PROC_VIEWS][PATH_MAX], targets[VP_PROC_VIEWS][32];
	_cleanup_close_ int in = -1;
	struct report r;
	int pipefd[2], ret;
	pid_t pid;

	for (int i = 0; i < VP_PROC_VIEWS; i++) {
		if ((size_t)snprintf(sources[i], sizeof(sources[i]), "%s/%s", dir,
				     vp_proc_view_files[i]) >= sizeof(sources[i]))
			return error_set(err, ENAMETOOLONG, "%s/%s", dir, vp_proc_view_files[i]);
		snprintf(targets[i], sizeof(targets[i]), "/proc/%s", vp_proc_view_files[i]);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe");
	in = pipefd[0];
	pid = fork();
	if (pid < 0) {
		ret = error_set(err, errno, "fork");
		close(pipefd[1]);
		return ret;
	}
	if (pid == 0)
		child_main(pidfd, sources, targets, which, pipefd[1]);
	/* Only the child's end stays open: its exit is an end of file here. */
	close(pipefd[1]);
	if ((ret = await_report(pid, in, timeout_ms, &r)) < 0)
		return error_set(err, -ret, "bind the /proc views again");
	if (r.err && (r.step < 0 || r.step > STEP_BIND || r.file < 0 || r.file >= VP_PROC_VIEWS))
		return error_set(err, r.err, "bind the /proc views again");
	if (r.err && (r.step == STEP_ENTER || r.step == STEP_ROOT))
		return error_set(err, r.err, "%s", step_names[r.step]);
	if (r.err)
		return error_set(err, r.err, "%s /proc/%s", step_names[r.step],
				 vp_proc_view_files[r.file]);
	if (bound)
		*bound = r.bound >= 0 && r.bound <= VP_PROC_VIEWS ? (unsigned)r.bound : 0;
	return 0;
}
