#include "vp/runtime.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/fdpass.h"
#include "common/fds.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a VP's init may take from clone to exec before its start is given up. */
#define EXEC_TIMEOUT_S 10

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The order matters: the cgroup holds the child before it runs anything, the uid map must
 * exist before the rootfs is idmapped, the stages enter the built root before the seal
 * locks it, and the restrictions come last, just before exec. */
static const struct vp_module *const modules[] = {
	&vp_module_cgroup, &vp_module_console, &vp_module_user, &vp_module_rootfs,
	&vp_module_seal,   &vp_module_machine, &vp_module_net,	&vp_module_security,
};
/* Where the stages come in, in the child: before this module's enter they enter; before
 * the restrictions' they attach (every namespace exists by then). */
#define STAGES_ENTER_BEFORE  4 /* seal */
#define STAGES_ATTACH_BEFORE 7 /* security */

/* What the child tells the daemon, on the sync socket, between its enter hooks. */
#define SYNC_ATTACH   'A' /* every namespace exists: run the stages' attach, then answer */
#define SYNC_LISTENER 'L' /* with its seccomp listener */
#define SYNC_READY    'R' /* held (vp_prepare): all is done but the exec; waiting for go */

#define NMODULES ARRAY_SIZE(modules)

/* Where a start's time goes, for `cellsd --verbose` (docs/BENCHMARKS.md, "Start"): the
 * end of each hook, in CLOCK_MONOTONIC ns. The child writes its marks into a page it
 * shares with the daemon; without --verbose there is no page and nothing is marked. */
struct start_marks {
	uint64_t begin;
	uint64_t prepare[NMODULES];
	uint64_t stage_prepare[VP_STAGES_MAX];
	uint64_t clone;
	uint64_t attach[NMODULES];
	uint64_t woken; /* the child: the daemon's go received */
	uint64_t stages_enter;
	uint64_t enter[NMODULES];
	uint64_t stages_attach; /* the daemon, between the child's enter hooks */
	uint64_t exec;		/* the daemon: the sync socket closed on exec */
};

#define MARK(m, field)                                                                             \
	do {                                                                                       \
		if (m)                                                                             \
			(m)->field = monotonic_ns();                                               \
	} while (0)

static struct start_marks *marks_new(void)
{
	void *p;

	if (!log_verbose())
		return NULL;
	p = mmap(NULL, sizeof(struct start_marks), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* A line of steps, each the µs since the step before it, in the order they ran. */
struct marks_line {
	char text[1024];
	size_t len;
	uint64_t prev;
};

static void marks_step(struct marks_line *l, const char *name, const char *hook, uint64_t at)
{
	int n;

	if (at < l->prev || l->len >= sizeof(l->text))
		return;
	n = snprintf(l->text + l->len, sizeof(l->text) - l->len, " %s%s=%llu", name, hook,
		     (unsigned long long)((at - l->prev) / 1000));
	l->len += n > 0 ? (size_t)n : 0;
	l->prev = at;
}

static void marks_log(const struct start_marks *m, const struct vp_runtime *rt)
{
	struct marks_line l = {.prev = m->begin};

	for (size_t i = 0; i < NMODULES; i++)
		marks_step(&l, modules[i]->name, ".prepare", m->prepare[i]);
	for (unsigned i = 0; i < rt->nstages; i++)
		marks_step(&l, rt->stages[i].name, ".prepare", m->stage_prepare[i]);
	marks_step(&l, "clone", "", m->clone);
	for (size_t i = 0; i < NMODULES; i++)
		marks_step(&l, modules[i]->name, ".attach", m->attach[i]);
	marks_step(&l, "woken", "", m->woken);
	for (size_t i = 0; i < NMODULES; i++) {
		if (i == STAGES_ENTER_BEFORE)
			marks_step(&l, "stages", ".enter", m->stages_enter);
		if (i == STAGES_ATTACH_BEFORE)
			marks_step(&l, "stages", ".attach", m->stages_attach);
		marks_step(&l, modules[i]->name, ".enter", m->enter[i]);
	}
	marks_step(&l, "exec", "", m->exec);
	log_debug("VP %s start, us:%s total=%llu", rt->config->name, l.text,
		  (unsigned long long)((m->exec - m->begin) / 1000));
}

void vp_runtime_init(struct vp_runtime *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->pid = -1;
	rt->pidfd = -1;
	rt->sync_fd = -1;
	rt->rootfs_fd = -1;
	rt->cgroup_fd = -1;
	rt->listener_fd = -1;
	rt->console_master = -1;
	rt->console_slave = -1;
	rt->init_exe_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child: report the error to the daemon and die. Never returns. */
static void child_fail(int sync_fd, const struct error *err)
{
	(void)!write(sync_fd, err->msg, strlen(err->msg));
	_exit(127);
}

/* The kernel drops a signal that has no handler when it is sent to a PID namespace's init
 * from outside, and cellsd answers `cell start` once cell-init is exec'd: a `cell stop`
 * right after (under load, before cell-init watched its signals) was lost, and the VP was
 * killed after the whole grace period. Blocked across exec, the stop signals wait in the
 * queue until cell-init's signalfd reads them; cell-init unblocks them for its children. */
static void block_stop_signals(void)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGPWR);
	sigprocmask(SIG_BLOCK, &stop, NULL);
}

static void stages_enter(struct vp_runtime *rt)
{
	struct error err = {{0}};

	for (unsigned i = 0; i < rt->nstages; i++) {
		if (rt->stages[i].enter && rt->stages[i].enter(rt->stages[i].ctx, &err) < 0) {
			struct error inner = err;
			error_set(&err, 0, "%s: %s", rt->stages[i].name, inner.msg);
			child_fail(rt->sync_fd, &err);
		}
	}
}

/* Let the daemon run the stages' attach hooks, and wait until it has. */
static void await_attach(struct vp_runtime *rt)
{
	char go = SYNC_ATTACH;

	if (write(rt->sync_fd, &go, 1) != 1 || read(rt->sync_fd, &go, 1) != 1)
		_exit(126);
}

static void child_main(struct vp_runtime *rt, struct start_marks *m)
{
	char go;
	struct error err = {{0}};
	char *const argv[] = {"cell-init", NULL};
	char env_name[64];
	char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			      "HOME=/root",
			      "TERM=linux",
			      "container=cells",
			      env_name,
			      NULL};

	vp_reset_signals();
	/* Wait until the daemon has put us in the cgroup, mapped our uids and built the root. */
	if (fd_recv(rt->sync_fd, &go, &rt->rootfs_fd) != 1)
		_exit(126);
	MARK(m, woken);

	for (size_t i = 0; i < ARRAY_SIZE(modules); i++) {
		if (i == STAGES_ENTER_BEFORE) {
			stages_enter(rt);
			MARK(m, stages_enter);
		}
		if (i == STAGES_ATTACH_BEFORE && rt->nstages)
			await_attach(rt);
		if (modules[i]->enter && modules[i]->enter(rt, &err) < 0) {
			struct error inner = err;
			error_set(&err, 0, "%s: %s", modules[i]->name, inner.msg);
			child_fail(rt->sync_fd, &err);
		}
		MARK(m, enter[i]);
	}
	/* Prepared ahead of its start: wait, restricted and in every namespace, until the
	 * daemon releases it; a daemon that goes instead (its end closed) leaves nothing. */
	if (rt->held) {
		char ready = SYNC_READY;
		const int keep[] = {rt->sync_fd, rt->init_exe_fd};
		/* A copy of the daemon's memory, maybe for hours: not for ptrace or /proc of
		 * anyone but the host's root; the exec makes cell-init dumpable again. */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		/* Nor its descriptors: other VPs' device connections and seccomp listeners,
		 * clients' sockets, the listeners and the daemon's lock would live on in this
		 * child (a closed connection never ending, a port still bound after a crash). */
		if (close_all_but(keep, ARRAY_SIZE(keep)) < 0) {
			error_set(&err, errno, "close the daemon's descriptors");
			child_fail(rt->sync_fd, &err);
		}
		if (write(rt->sync_fd, &ready, 1) != 1 || read(rt->sync_fd, &go, 1) != 1 ||
		    go != 'g')
			_exit(0);
	}
	snprintf(env_name, sizeof(env_name), "CELL_NAME=%s", rt->config->name);
	/* Nothing of the daemon's may leak into the VP; the sync socket closing on exec tells
	 * the daemon that cell-init runs. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		error_set(&err, errno, "close_range");
		child_fail(rt->sync_fd, &err);
	}
	block_stop_signals();
	syscall(SYS_execveat, rt->init_exe_fd, "", argv, envp, AT_EMPTY_PATH);
	error_set(&err, errno, "exec cell-init");
	child_fail(rt->sync_fd, &err);
}

static int clone_child(struct vp_runtime *rt, struct start_marks *m, struct error *err)
{
	int pidfd = -1;
	struct clone_args args = {
		/* The user namespace is the VP's root's (vp_user_clone), and so are the
		 * mount, PID and time namespaces made with it. The network, UTS and IPC
		 * namespaces come later, with the nested user namespace that owns them
		 * (seal.c). */
		.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWTIME | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	int sv[2];
	long pid;

	/* On cgroup v2 the child is born in its group; moving it there later costs an RCU
	 * grace period (cgroup_threadgroup_rwsem), milliseconds on a small VM. */
	if (rt->cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)rt->cgroup_fd;
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set(err, errno, "socketpair");
	if (rt->around_clone)
		rt->around_clone(rt->around_clone_ctx, true);
	pid = vp_user_clone(rt, &args, err);
	if (pid != 0 && rt->around_clone)
		rt->around_clone(rt->around_clone_ctx, false);
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return (int)pid;
	}
	if (pid == 0) {
		close(sv[0]);
		rt->sync_fd = sv[1];
		child_main(rt, m);
		_exit(127);
	}
	close(sv[1]);
	rt->sync_fd = sv[0];
	rt->pid = (pid_t)pid;
	rt->pidfd = pidfd;
	return 0;
}

static int stages_attach(struct vp_runtime *rt, struct error *err)
{
	int ret;

	for (unsigned i = 0; i < rt->nstages; i++)
		if (rt->stages[i].attach &&
		    (ret = rt->stages[i].attach(rt->stages[i].ctx, rt, err)) < 0) {
			struct error inner = *err;
			return error_set(err, -ret, "%s: %s", rt->stages[i].name, inner.msg);
		}
	return 0;
}

/* Wait for the child's verdict: end of stream means exec succeeded, text is its error;
 * on the way it may hand over its seccomp listener ('L' with a descriptor). A held child
 * says it is ready ('R') instead of exec'ing: 1. A child that takes longer than
 * EXEC_TIMEOUT_S (milliseconds are usual) is given up: the daemon's loop waits here, and
 * must not wait forever. */
static int await_child(struct vp_runtime *rt, struct start_marks *m, struct error *err)
{
	char msg[sizeof(err->msg)];
	int ret;

	for (;;) {
		int fd, n = fd_recv_msg(rt->sync_fd, msg, sizeof(msg) - 1, &fd);
		if (n == -EAGAIN)
			return error_set(err, 0, "the VP's init was not running after %d s",
					 EXEC_TIMEOUT_S);
		if (n < 0)
			return error_set(err, n, "read the VP's start status");
		if (n == 0) {
			MARK(m, exec);
			return 0;
		}
		if (fd < 0 && n == 1 && msg[0] == SYNC_READY && rt->held) {
			MARK(m, exec);
			return 1;
		}
		if (fd >= 0 && n == 1 && msg[0] == SYNC_LISTENER && rt->listener_fd < 0) {
			rt->listener_fd = fd;
			continue;
		}
		if (fd < 0 && n == 1 && msg[0] == SYNC_ATTACH) {
			if ((ret = stages_attach(rt, err)) < 0)
				return ret;
			MARK(m, stages_attach);
			if (write(rt->sync_fd, "g", 1) != 1)
				return error_set(err, errno, "wake the VP's init");
			continue;
		}
		if (fd >= 0)
			close(fd);
		msg[n] = '\0';
		return error_set(err, 0, "%s", msg);
	}
}

static int wake_child(struct vp_runtime *rt, struct error *err)
{
	struct timeval limit = {.tv_sec = EXEC_TIMEOUT_S};
	int ret = fd_send(rt->sync_fd, 'g', rt->rootfs_fd);

	if (ret < 0)
		return error_set(err, ret, "wake the VP's init");
	if (setsockopt(rt->sync_fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) < 0)
		return error_set(err, errno, "time the VP's start");
	return 0;
}

static void kill_child(struct vp_runtime *rt)
{
	if (rt->pid <= 0)
		return;
	kill(rt->pid, SIGKILL);
	while (waitpid(rt->pid, NULL, 0) < 0 && errno == EINTR)
		;
	rt->pid = -1;
	close_fd(&rt->pidfd);
}

/* Everything up to the child's exec (or, held, to its SYNC_READY). */
static int spawn_until(struct vp_runtime *rt, struct error *err)
{
	struct start_marks *m = marks_new();
	int ret = 0;

	MARK(m, begin);
	rt->modules_ready = 0;
	for (size_t i = 0; i < ARRAY_SIZE(modules); i++) {
		if (modules[i]->prepare && (ret = modules[i]->prepare(rt, err)) < 0)
			goto fail;
		rt->modules_ready = (unsigned)i + 1;
		MARK(m, prepare[i]);
	}
	rt->stages_ready = 0;
	for (unsigned i = 0; i < rt->nstages; i++) {
		if (rt->stages[i].prepare &&
		    (ret = rt->stages[i].prepare(rt->stages[i].ctx, rt, err)) < 0)
			goto fail;
		rt->stages_ready = i + 1;
		MARK(m, stage_prepare[i]);
	}
	if ((ret = clone_child(rt, m, err)) < 0)
		goto fail;
	MARK(m, clone);
	for (size_t i = 0; i < ARRAY_SIZE(modules); i++) {
		if (modules[i]->attach && (ret = modules[i]->attach(rt, err)) < 0)
			goto fail;
		MARK(m, attach[i]);
	}
	if ((ret = wake_child(rt, err)) < 0 || (ret = await_child(rt, m, err)) < 0)
		goto fail;
	close_fd(&rt->rootfs_fd);
	close_fd(&rt->console_slave);
	if (!rt->held)
		close_fd(&rt->sync_fd);
	if (m) {
		marks_log(m, rt);
		munmap(m, sizeof(*m));
	}
	return 0;
fail:
	vp_spawn_discard(rt);
	if (m)
		munmap(m, sizeof(*m));
	return ret;
}

int vp_spawn(struct vp_runtime *rt, struct error *err)
{
	rt->held = false;
	return spawn_until(rt, err);
}

int vp_prepare(struct vp_runtime *rt, struct error *err)
{
	rt->held = true;
	return spawn_until(rt, err);
}

/* A pidfd polls readable once its process has exited. */
static bool child_alive(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	return pidfd >= 0 && poll(&p, 1, 0) == 0;
}

int vp_release(struct vp_runtime *rt, struct error *err)
{
	uint64_t begin = monotonic_ns();
	int ret;

	/* A held child that died meanwhile (killed, out of memory) closed its end too: its
	 * end of stream would read as an exec. */
	if (child_alive(rt->pidfd)) {
		if (write(rt->sync_fd, "g", 1) != 1)
			ret = error_set(err, errno, "release the VP's init");
		else
			ret = await_child(rt, NULL, err);
	} else {
		ret = error_set(err, ESRCH, "the prepared VP's init is gone");
	}
	rt->held = false;
	if (ret < 0) {
		vp_spawn_discard(rt);
		return ret;
	}
	close_fd(&rt->sync_fd);
	if (log_verbose())
		log_debug("VP %s release, us: %llu", rt->config->name,
			  (unsigned long long)((monotonic_ns() - begin) / 1000));
	return 0;
}

void vp_spawn_discard(struct vp_runtime *rt)
{
	kill_child(rt);
	vp_teardown(rt);
	rt->held = false;
}

void vp_teardown(struct vp_runtime *rt)
{
	for (unsigned i = rt->stages_ready; i-- > 0;)
		if (rt->stages[i].teardown)
			rt->stages[i].teardown(rt->stages[i].ctx);
	rt->stages_ready = 0;
	for (size_t i = rt->modules_ready; i-- > 0;)
		if (modules[i]->teardown)
			modules[i]->teardown(rt);
	rt->modules_ready = 0;
	close_fd(&rt->sync_fd);
	close_fd(&rt->rootfs_fd);
	close_fd(&rt->listener_fd);
	close_fd(&rt->pidfd);
	rt->pid = -1;
}
