/* The seccomp user-notification supervisor: each VP process's filter traps the ioctl
 * numbers of the devices (and nothing else); the listener comes to the daemon, which
 * serves every listener from its event loop.
 *
 * Pitfalls it avoids (DESIGN.md §4): the fd is identified by pidfd_getfd + fstat (device,
 * inode), never by path; the caller may be a thread (PIDFD_THREAD); /proc/TID/mem is opened
 * before the ID_VALID check, so the pid cannot have been reused under it; only the low 32
 * bits of the request count; a 32-bit caller has its own syscall number and structs; what
 * is not ours continues natively, which is never a security decision. */
#include "devns/core.h"
#include "devns/internal.h"
#include "devns/budget.h"
#include "devns/mincore.h"
#include "devns/statfs.h"
#include "devns/sysinfo.h"
#include "devns/callers.h"
#include "devns/vma_access.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define NR_IOCTL_X86_64	  16
#define NR_IOCTL_I386	  54
#define NR_MINCORE_X86_64 27
#define NR_MINCORE_I386	  218
#define X32_SYSCALL_BIT	  0x40000000
#define NR_STATFS_X86_64  137
#define NR_FSTATFS_X86_64 138
#define NR_SYSINFO_X86_64 99

struct devns_listener {
	struct devns_listener *next_in_vp, *next_all;
	struct devns_vp *owner;
	struct loop_watch watch; /* for EPOLLHUP only: the filter's tasks are all gone */
	uint64_t serial;
	pthread_t thread;
	atomic_bool stop;
	struct caller_cache callers; /* the thread's own */
};

/* /proc/TID/mem would go through pages the caller itself cannot touch (FOLL_FORCE): its
 * map is asked first, so such a pointer is EFAULT as in the kernel's own ioctls. */
int vdev_read(const struct vdev_call *call, uint64_t addr, void *buf, size_t len)
{
	ssize_t n;

	if (vma_access(call->maps_fd, addr, len, false) < 0)
		return -EFAULT;
	n = pread(call->mem_fd, buf, len, (off_t)addr);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int vdev_write(const struct vdev_call *call, uint64_t addr, const void *buf, size_t len)
{
	ssize_t n;

	if (vma_access(call->maps_fd, addr, len, true) < 0)
		return -EFAULT;
	n = pwrite(call->mem_fd, buf, len, (off_t)addr);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

static bool traps(unsigned dev, uint32_t request)
{
	for (unsigned i = 0; i < vdev_registry[dev]->nioctls; i++)
		if (ioctl_trap_matches(&vdev_registry[dev]->ioctls[i], request))
			return true;
	return false;
}

static void answer(int fd, struct seccomp_notif_resp *resp)
{
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
		log_warn_errno(errno, "seccomp: answer a notification");
}

/* A call to finish once the lock is dropped: an ioctl on the caller's open file. */
struct forward {
	int fd;
	uint32_t request;
	int value;
};

static bool is_mincore(const struct seccomp_notif *req)
{
	if (req->data.arch == AUDIT_ARCH_I386)
		return req->data.nr == NR_MINCORE_I386;
	return req->data.arch == AUDIT_ARCH_X86_64 &&
	       (req->data.nr & ~X32_SYSCALL_BIT) == NR_MINCORE_X86_64;
}

/* For the rare calls the supervisor answers itself (mincore, statfs): the caller's
 * descriptors opened afresh, since a cached memory or map descriptor names the memory of
 * before an exec, and before the ID_VALID check, so not a reused pid's. NULL if the task is
 * gone or its call no longer pending (then any answer is dropped). */
static struct devns_caller *fresh_caller(struct devns_listener *l, struct seccomp_notif *req)
{
	bool fresh;
	struct devns_caller *caller = caller_open(&l->callers, (pid_t)req->pid, &fresh);

	if (caller && !fresh) {
		caller_drop(caller);
		caller = caller_open(&l->callers, (pid_t)req->pid, &fresh);
	}
	if (!caller || ioctl(l->watch.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return NULL;
	return caller;
}

static void answer_mincore(struct devns_listener *l, struct seccomp_notif *req,
			   struct seccomp_notif_resp *resp)
{
	bool compat = req->data.arch == AUDIT_ARCH_I386 || (req->data.nr & X32_SYSCALL_BIT);
	struct devns_caller *caller = fresh_caller(l, req);

	resp->flags = 0; /* never the kernel's: its answer is the page cache's */
	if (!caller) {
		resp->val = -1;
		resp->error = -ESRCH;
		return;
	}
	struct mincore_call call = {
		.addr = compat ? (uint32_t)req->data.args[0] : req->data.args[0],
		.len = compat ? (uint32_t)req->data.args[1] : req->data.args[1],
		.vec = compat ? (uint32_t)req->data.args[2] : req->data.args[2],
		.compat = compat,
		.mem_fd = caller->mem_fd,
		.maps_fd = caller->maps_fd,
		.tid = (pid_t)req->pid,
	};
	int ret = mincore_answer(&call);
	resp->val = ret < 0 ? -1 : 0;
	resp->error = ret < 0 ? ret : 0;
}

/* statfs/fstatfs of a 64-bit or x32 caller (an i386 caller's are the kernel's). */
static bool is_statfs(const struct seccomp_notif *req)
{
	int nr = req->data.nr & ~X32_SYSCALL_BIT;

	return req->data.arch == AUDIT_ARCH_X86_64 &&
	       (nr == NR_STATFS_X86_64 || nr == NR_FSTATFS_X86_64);
}

static void answer_statfs(struct devns_listener *l, struct seccomp_notif *req,
			  struct seccomp_notif_resp *resp)
{
	struct devns_caller *caller;
	int error = 0;

	if (!l->owner->sys_dev || !(caller = fresh_caller(l, req)))
		return; /* continued: the kernel's answer */
	struct sysfs_statfs_call call = {
		.by_path = (req->data.nr & ~X32_SYSCALL_BIT) == NR_STATFS_X86_64,
		.path = req->data.args[0],
		.fd = (int)req->data.args[0],
		.buf = req->data.args[1],
		.tid = (pid_t)req->pid,
		.pidfd = caller->pidfd,
		.mem_fd = caller->mem_fd,
		.maps_fd = caller->maps_fd,
		.sys_dev = l->owner->sys_dev,
	};
	if (sysfs_statfs_answer(&call, &error) == 1) {
		resp->flags = 0;
		resp->val = error ? -1 : 0;
		resp->error = -error;
	}
}

/* sysinfo of a 64-bit caller (an i386 or x32 caller's struct differs: the kernel's). */
static void answer_sysinfo(struct devns_listener *l, struct seccomp_notif *req,
			   struct seccomp_notif_resp *resp)
{
	struct devns_caller *caller;
	int error = 0;

	if (req->data.arch != AUDIT_ARCH_X86_64 || req->data.nr != NR_SYSINFO_X86_64 ||
	    !(caller = fresh_caller(l, req)))
		return; /* continued: the kernel's answer */
	struct sysinfo_call call = {
		.buf = req->data.args[0],
		.tid = (pid_t)req->pid,
		.mem_fd = caller->mem_fd,
		.maps_fd = caller->maps_fd,
	};
	if (sysinfo_answer(&call, &error) == 1) {
		resp->flags = 0;
		resp->val = error ? -1 : 0;
		resp->error = -error;
	}
}

static void handle(struct devns_listener *l, struct seccomp_notif *req,
		   struct seccomp_notif_resp *resp, struct forward *fwd)
{
	struct devns_vp *owner = l->owner;
	struct devns *core = owner->core;
	bool compat = req->data.arch == AUDIT_ARCH_I386;
	unsigned dev, file;
	struct devns_caller *caller;
	struct vdev_call call;
	bool fresh, found;
	int fd = (int)req->data.args[0];

	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	atomic_fetch_add(&core->calls, 1);
	if (is_mincore(req)) {
		answer_mincore(l, req, resp);
		return;
	}
	if (is_statfs(req)) {
		answer_statfs(l, req, resp);
		return;
	}
	if ((req->data.nr & ~X32_SYSCALL_BIT) == NR_SYSINFO_X86_64 &&
	    req->data.arch == AUDIT_ARCH_X86_64) {
		answer_sysinfo(l, req, resp);
		return;
	}
	if (!(req->data.arch == AUDIT_ARCH_X86_64 && req->data.nr == NR_IOCTL_X86_64) &&
	    !(compat && req->data.nr == NR_IOCTL_I386))
		return;
	caller = caller_open(&l->callers, (pid_t)req->pid, &fresh);
	found = caller && caller_find_file(&l->callers, owner, caller, fd, &dev, &file, &fwd->fd);
	if (caller && !found && !fresh) {
		/* Perhaps an earlier task with this tid: look again with fresh descriptors. */
		caller_drop(caller);
		caller = caller_open(&l->callers, (pid_t)req->pid, &fresh);
		found = caller &&
			caller_find_file(&l->callers, owner, caller, fd, &dev, &file, &fwd->fd);
	}
	if (!found || !traps(dev, (uint32_t)req->data.args[1]))
		return;
	/* From here the call is ours: it is answered, never continued. */
	resp->flags = 0;
	for (;;) {
		/* The memory and map descriptors were opened before this check: they cannot
		 * be a reused pid's. */
		if (ioctl(l->watch.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
			resp->error = -EINTR;
			return;
		}
		call = (struct vdev_call){
			.request = (uint32_t)req->data.args[1], /* bionic sign-extends */
			.arg = compat ? (uint32_t)req->data.args[2] : req->data.args[2],
			.compat = compat,
			.mem_fd = caller->mem_fd,
			.maps_fd = caller->maps_fd,
			.notify_id = req->id,
			.listener_serial = l->serial,
		};
		vdev_registry[dev]->ioctl(core->global[dev], owner->state[dev], file, &call);
		/* A cached memory descriptor is of the task's memory before an exec: once. */
		if (call.error != EFAULT || fresh || call.deferred)
			break;
		caller_drop(caller);
		if (!(caller = caller_open(&l->callers, (pid_t)req->pid, &fresh))) {
			resp->error = -EFAULT;
			return;
		}
	}
	atomic_fetch_add(&core->calls_emulated, 1);
	if (call.forward.on && fwd->fd >= 0) {
		fwd->request = call.forward.request;
		fwd->value = call.forward.value;
		return; /* answered by supervise() */
	}
	if (call.forward.on) {
		resp->val = -1;
		resp->error = -EBADF; /* only a transient file's call can be forwarded */
		return;
	}
	if (call.deferred) {
		resp->id = 0;
		return;
	}
	resp->val = call.error ? -1 : call.ret;
	resp->error = call.error ? -call.error : 0;
}

void devns_lock(struct devns *core)
{
	pthread_mutex_lock(&core->lock);
}

void devns_unlock(struct devns *core)
{
	pthread_mutex_unlock(&core->lock);
}

/* Sleep out the VP's window once it has had its share of the daemon's time; a signal
 * (the listener's end) cuts the sleep short. */
static void wait_for_budget(struct devns_listener *l)
{
	long long wait =
		budget_wait(&l->owner->core->budget, &l->owner->budget, (long long)monotonic_ns());
	struct timespec ts = {wait / 1000000000LL, wait % 1000000000LL};

	if (wait > 0)
		nanosleep(&ts, NULL);
}

/* One thread per listener, blocked in RECV: the caller's wake-up then runs the supervisor
 * on the caller's CPU (SYNC_WAKE_UP), which an epoll wait loses (measured: 4.7 us against
 * 24-58 us a call). The thread holds no lock of the daemon's while it reads or writes the
 * caller's memory or closes the caller's files: either may wait as long as the VP
 * likes (a page of a FUSE file the loop serves, the VP's own mmap lock, a lingering
 * socket's release), and then only this VP's calls wait. */
static void *supervise(void *arg)
{
	struct devns_listener *l = arg;
	struct devns *core = l->owner->core;
	/* Freed at the one exit, not by _cleanup_free_: clang 14's analyzer does not run
	 * cleanup attributes and would report them leaked. */
	struct seccomp_notif *req = calloc(1, core->notif_size);
	struct seccomp_notif_resp *resp = calloc(1, core->resp_size);
	struct budget_meter meter;
	long long start;

	budget_meter_init(&meter, budget_thread_cpu);
	caller_cache_init(&l->callers);
	if (!req || !resp) {
		log_error("seccomp: no memory for a supervisor's buffers");
		goto out;
	}
	while (!atomic_load(&l->stop)) {
		wait_for_budget(l);
		memset(req, 0, core->notif_size);
		memset(resp, 0, core->resp_size);
		if (ioctl(l->watch.fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			break;
		}
		start = (long long)monotonic_ns();
		struct forward fwd = {.fd = -1};
		handle(l, req, resp, &fwd);
		if (fwd.fd >= 0 && fwd.request) {
			long r = ioctl(fwd.fd, fwd.request, &fwd.value);
			resp->val = r < 0 ? -1 : r;
			resp->error = r < 0 ? -errno : 0;
		}
		if (fwd.fd >= 0)
			close(fwd.fd);
		if (resp->id)
			answer(l->watch.fd, resp);
		/* What the calls cost this thread, RECV's wake-ups included: CPU time, not
		 * wall time, which would count a busy machine's preemptions too. */
		long long end = (long long)monotonic_ns();
		budget_meter_call(&meter, &core->budget, &l->owner->budget, end - start, end);
	}
out:
	caller_cache_fini(&l->callers);
	free(req);
	free(resp);
	return NULL;
}

static void wake_thread(int sig)
{
	(void)sig;
}

/* Called by the loop, never with the lock held: the thread may be waiting for it. */
static void listener_free(struct devns_listener *l)
{
	struct devns *core = l->owner->core;
	struct timespec ts;

	loop_del(core->loop, &l->watch);
	atomic_store(&l->stop, true);
	/* RECV sleeps until a call comes or a signal interrupts it; a signal that lands
	 * before the sleep is lost, so it is sent again until the thread is gone. */
	for (;;) {
		pthread_kill(l->thread, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(l->thread, NULL, &ts) == 0)
			break;
		/* It may be in a forwarded call that this thread serves (FUSE). */
		for (unsigned d = 0; d < vdev_count; d++)
			if (vdev_registry[d]->pump && core->global[d])
				vdev_registry[d]->pump(core->global[d]);
	}
	close(l->watch.fd);
	for (struct devns_listener **p = &l->owner->listeners; *p; p = &(*p)->next_in_vp)
		if (*p == l) {
			*p = l->next_in_vp;
			break;
		}
	for (struct devns_listener **p = &core->all_listeners; *p; p = &(*p)->next_all)
		if (*p == l) {
			*p = l->next_all;
			break;
		}
	free(l);
}

static void on_listener_hup(struct loop_watch *w, uint32_t events)
{
	(void)events;
	listener_free(container_of(w, struct devns_listener, watch));
}

static int start_thread(struct devns_listener *l)
{
	struct sigaction sa = {.sa_handler = wake_thread}; /* no SA_RESTART: RECV returns */
	pthread_attr_t attr;
	int ret;

	sigaction(SIGUSR1, &sa, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	ret = pthread_create(&l->thread, &attr, supervise, l);
	pthread_attr_destroy(&attr);
	return ret;
}

int devns_vp_listen(struct devns_vp *dvp, int fd, struct error *err)
{
	struct devns *core = dvp->core;
	struct devns_listener *l = calloc(1, sizeof(*l));
	uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
	int ret;

	if (!l) {
		close(fd);
		return error_set(err, ENOMEM, "listener");
	}
	/* The caller sleeps until we answer: waking it on our CPU saves ~40 µs a call. */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) < 0)
		log_debug("seccomp: no SYNC_WAKE_UP on this kernel: %s", strerror(errno));
	l->owner = dvp;
	l->serial = ++core->next_serial;
	l->watch = (struct loop_watch){.fd = fd, .handle = on_listener_hup};
	atomic_init(&l->stop, false);
	/* Events 0: epoll still reports EPOLLHUP, when the filter's last task is gone. */
	if ((ret = loop_add(core->loop, &l->watch, 0)) < 0) {
		close(fd);
		free(l);
		return error_set(err, ret, "watch a seccomp listener");
	}
	if ((ret = start_thread(l)) != 0) {
		loop_del(core->loop, &l->watch);
		close(fd);
		free(l);
		return error_set(err, ret, "start a supervisor thread");
	}
	l->next_in_vp = dvp->listeners;
	dvp->listeners = l;
	l->next_all = core->all_listeners;
	core->all_listeners = l;
	return 0;
}

void devns_vp_close_listeners(struct devns_vp *dvp)
{
	for (struct devns_listener *l = dvp->listeners, *next; l; l = next) {
		next = l->next_in_vp;
		listener_free(l);
	}
}

void devns_reply(struct devns *core, uint64_t listener_serial, uint64_t notify_id, long ret,
		 int error)
{
	struct seccomp_notif_resp resp = {
		.id = notify_id, .val = error ? -1 : ret, .error = error ? -error : 0};

	for (struct devns_listener *l = core->all_listeners; l; l = l->next_all)
		if (l->serial == listener_serial) {
			answer(l->watch.fd, &resp);
			return;
		}
}

void devns_vp_usage(struct devns_vp *dvp, struct devns_usage *usage)
{
	usage->calls = atomic_load(&dvp->budget.calls);
	usage->busy_ns = atomic_load(&dvp->budget.busy_ns);
	usage->throttled = atomic_load(&dvp->budget.throttled);
}

int devns_notify_sizes(struct devns *core, struct error *err)
{
	struct seccomp_notif_sizes sizes;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return error_set(err, errno, "seccomp: notification sizes");
	core->notif_size = sizes.seccomp_notif > sizeof(struct seccomp_notif)
				   ? sizes.seccomp_notif
				   : sizeof(struct seccomp_notif);
	core->resp_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
				  ? sizes.seccomp_notif_resp
				  : sizeof(struct seccomp_notif_resp);
	return 0;
}
