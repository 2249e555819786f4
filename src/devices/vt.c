/* The virtual terminal: every VP with the device has /dev/tty0 and /dev/tty1, two ptys of
 * a devpts instance of its own whose masters the daemon holds, and the VT and KD ioctls
 * on them are trapped and answered from vt_state.c. Open, read, write and the tty's own
 * ioctls (termios, TIOCSCTTY, TIOCNOTTY) stay native.
 *
 * A foreground switch only changes the state and, when a VT_PROCESS owner is to be told
 * or callers wait, kicks the VP's eventfd: the signal is sent and the waiters answered
 * from the event loop right after, outside the switch, which never waits on a VP. (Not a
 * timerfd due now: measured here, arming one costs 45-60 us, an eventfd write 2-5 us.)
 * The release deadline is a timerfd armed by that work, off the switch's path. The owner is
 * held by a pidfd taken when it set the mode: a dead owner's reused pid gets nothing. */
#include "devices/vt_state.h"
#include "common/clock.h"
#include "common/log.h"
#include "devns/devns.h"
#include "devices/sysfs_layout.h"
#include "devices/vpty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kd.h>
#include <linux/vt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TTY_GID	  5 /* the VP's tty group, mapped as its uids are */
#define TTY_MAJOR 4 /* the kernel's VT driver: /dev/tty0 is (4, 0) */
#define NTTYS	  2 /* tty0, tty1 */

struct vt_dev {
	struct devns *core;
	bool screen_off; /* under the device lock: DEVNS_SCREEN_OFF came last */
};

struct vt_tty {
	int master, slave;
	struct loop_watch drain; /* the master: what the VP writes is read and dropped */
	struct devns *core;
};

struct vt {
	struct vt_dev *dev;
	char name[NAME_MAX_LEN + 1];
	char dir[256];	/* its devpts instance */
	char node[256]; /* /dev/tty0 as the VT driver's node, with --tty0 vt-node */
	struct vt_tty tty[NTTYS];
	struct loop_watch kick;	 /* work to do now */
	struct loop_watch timer; /* the release deadline */
	/* Under the device lock: */
	struct vt_state st;
	int owner_pidfd; /* the VT_PROCESS owner of generation owner_gen, or -1 */
	uint32_t owner_gen;
};

/* Have the loop do the VP's work now: one system call, fine under the lock. */
static void kick(struct vt *vt)
{
	uint64_t one = 1;

	if (write(vt->kick.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "vt: %s: kick the loop", vt->name);
}

/* The deadline at AT (ns, CLOCK_MONOTONIC), none if 0. Only the loop's work arms it. */
static void arm_deadline(struct vt *vt, long long at)
{
	struct itimerspec its = {0};

	its.it_value.tv_sec = at / 1000000000LL;
	its.it_value.tv_nsec = at % 1000000000LL;
	timerfd_settime(vt->timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Signal the owner: a pidfd, never a pid number, which may be another process's by now.
 * The signal is the process's (the kernel's kill_pid on a VT_PROCESS switch is too). */
static int signal_owner(int pidfd, int sig)
{
	if (pidfd < 0)
		return -ESRCH;
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

/* On the loop's thread, after a switch, a call that pushed a waiter out, or a deadline. */
static void do_work(struct vt *vt)
{
	struct devns *core = vt->dev->core;
	struct vt_work work;
	int pidfd = -1, ret = 0;

	devns_lock(core);
	vt_take_work(&vt->st, (long long)monotonic_ns(), &work);
	if (work.send && vt->owner_gen == work.gen && vt->owner_pidfd >= 0)
		pidfd = fcntl(vt->owner_pidfd, F_DUPFD_CLOEXEC, 0);
	devns_unlock(core);
	/* Nothing else arms it: outside the lock, which it would hold for a VM exit. */
	arm_deadline(vt, work.next);
	if (work.send) {
		ret = signal_owner(pidfd, work.signal);
		if (pidfd >= 0)
			close(pidfd);
	}
	if (ret == -ESRCH) {
		int gone = -1;
		log_info("vt: %s: the VT_PROCESS owner is gone: back to VT_AUTO", vt->name);
		devns_lock(core);
		vt_owner_gone(&vt->st, work.gen);
		if (vt->owner_gen == work.gen) {
			gone = vt->owner_pidfd;
			vt->owner_pidfd = -1;
		}
		devns_unlock(core);
		if (gone >= 0)
			close(gone);
		devns_emit_event(core, "vt",
				 json_pack("{s:s, s:s}", "event", "vt-owner-gone", "vp", vt->name));
	} else if (ret < 0) {
		log_warn_errno(-ret, "vt: %s: signal the VT's owner", vt->name);
	}
	if (work.expired) {
		log_info("vt: %s: the VT_PROCESS owner did not release the VT in %lld ms", vt->name,
			 VT_RELEASE_DEADLINE_NS / 1000000);
		devns_emit_event(core, "vt",
				 json_pack("{s:s, s:s, s:I}", "event", "vt-release-late", "vp",
					   vt->name, "deadline_ms",
					   (json_int_t)(VT_RELEASE_DEADLINE_NS / 1000000)));
	}
	for (unsigned i = 0; i < work.ninterrupt; i++)
		devns_reply(core, work.interrupt[i].listener, work.interrupt[i].id, 0, EINTR);
	for (unsigned i = 0; i < work.nwake; i++)
		devns_reply(core, work.wake[i].listener, work.wake[i].id, 0, 0);
}

static void on_timer(struct loop_watch *w, uint32_t events)
{
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	do_work(container_of(w, struct vt, timer));
}

static void on_kick(struct loop_watch *w, uint32_t events)
{
	uint64_t n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	do_work(container_of(w, struct vt, kick));
}

/* What a VP writes to its VT is nobody's to read: dropped, so that its writers never
 * block on a full pty. A few reads a wake-up, never "until empty": a VP writing without
 * pause on another CPU would hold the loop here. A hung-up master (the VP called
 * vhangup) is left alone: only that VP's writers can block then. */
#define DRAIN_READS 8

static void on_drain(struct loop_watch *w, uint32_t events)
{
	struct vt_tty *tty = container_of(w, struct vt_tty, drain);
	char buf[4096];
	ssize_t n = 0;

	for (unsigned i = 0; i < DRAIN_READS && (n = read(w->fd, buf, sizeof(buf))) > 0; i++)
		;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || (events & EPOLLHUP)) {
		devns_unwatch(tty->core, &tty->drain);
		tty->drain.fd = -1;
	}
}

/* vt_requests (vt_state.c), all old-style numbers: exact. vt_init checks they agree. */
static const struct ioctl_trap vt_ioctls[] = {
	IOCTL_TRAP(VT_OPENQRY),	   IOCTL_TRAP(VT_GETMODE),     IOCTL_TRAP(VT_SETMODE),
	IOCTL_TRAP(VT_GETSTATE),   IOCTL_TRAP(VT_RELDISP),     IOCTL_TRAP(VT_ACTIVATE),
	IOCTL_TRAP(VT_WAITACTIVE), IOCTL_TRAP(VT_DISALLOCATE), IOCTL_TRAP(KDGETMODE),
	IOCTL_TRAP(KDSETMODE),	   IOCTL_TRAP(KDGKBMODE),      IOCTL_TRAP(KDSKBMODE),
	IOCTL_TRAP(KDGKBTYPE),	   IOCTL_TRAP(TIOCLINUX),
};
#define NIOCTLS (sizeof(vt_ioctls) / sizeof(vt_ioctls[0]))

static int vt_init(struct devns *core, void **global, struct error *err)
{
	struct vt_dev *dev;

	if (NIOCTLS != vt_nrequests)
		return error_set(err, EINVAL, "vt: the trap list is not the decoder's");
	for (unsigned i = 0; i < NIOCTLS; i++)
		if (!vt_traps(vt_ioctls[i].request))
			return error_set(err, EINVAL, "vt: ioctl %#x is not the decoder's",
					 vt_ioctls[i].request);
	if (!(dev = calloc(1, sizeof(*dev))))
		return error_set(err, ENOMEM, "vt");
	dev->core = core;
	*global = dev;
	return 0;
}

static void vt_fini(void *global)
{
	free(global);
}

static void release(struct vt *vt)
{
	struct devns *core = vt->dev->core;

	/* Unwatching a descriptor never watched is harmless (ENOENT). */
	struct loop_watch *watches[] = {&vt->kick, &vt->timer};
	for (unsigned i = 0; i < 2; i++)
		if (watches[i]->fd >= 0) {
			devns_unwatch(core, watches[i]);
			close(watches[i]->fd);
		}
	for (unsigned i = 0; i < NTTYS; i++) {
		if (vt->tty[i].drain.fd >= 0)
			devns_unwatch(core, &vt->tty[i].drain);
		if (vt->tty[i].master >= 0)
			close(vt->tty[i].master);
		if (vt->tty[i].slave >= 0)
			close(vt->tty[i].slave);
	}
	if (vt->owner_pidfd >= 0)
		close(vt->owner_pidfd);
	if (vt->node[0] && unlink(vt->node) < 0)
		log_warn_errno(errno, "vt: remove %s", vt->node);
	if (vt->dir[0])
		vpty_unmount(vt->dir);
	free(vt);
}

/* One pty of the VP's devpts: the master ours, the slave the VP's root's (root:tty 0620,
 * as a console's ttys are), kept open here so that the master never sees a hang-up when
 * the VP closes its last descriptor. */
static int open_tty(struct vt *vt, const struct vdev_vp *vp, struct vt_tty *tty,
		    struct vdev_file *file, const char *name, struct error *err)
{
	int ret;

	if ((ret = vpty_open(vt->dir, vp->uid, vp->uid + TTY_GID, 0620, &tty->master, &tty->slave,
			     file->host_path, sizeof(file->host_path), err)) < 0)
		return ret;
	snprintf(file->vp_path, sizeof(file->vp_path), "/dev/%s", name);
	tty->drain = (struct loop_watch){.fd = tty->master, .handle = on_drain};
	tty->core = vt->dev->core;
	ret = devns_watch(tty->core, &tty->drain, EPOLLIN);
	if (ret < 0) {
		tty->drain.fd = -1;
		return error_set(err, ret, "vt: watch %s", name);
	}
	return 0;
}

/* --tty0 vt-node: /dev/tty0 is a character device of the VT driver's number, (4, 0), as
 * Xorg wants it before it takes a VT (xf86HasTTYs), which nobody can open: mode 0 and
 * owned by the host's root, whom the VP's user namespace does not map, on the daemon's
 * nodev tmpfs (its bind in the VP is nodev too). Xorg, told `vt1`, goes on to the VP's
 * /dev/tty1; programs that open /dev/tty0 itself get EACCES in such a VP. */
static int make_vt_node(struct vt *vt, const struct vdev_vp *vp, struct vdev_file *file,
			struct error *err)
{
	if ((size_t)snprintf(vt->node, sizeof(vt->node), "%s/%s.tty0", vp->dir, vp->name) >=
	    sizeof(vt->node)) {
		vt->node[0] = '\0';
		return error_set(err, ENAMETOOLONG, "vt: the tty0 node of %s", vp->name);
	}
	if (mknod(vt->node, S_IFCHR, makedev(TTY_MAJOR, 0)) < 0) {
		int e = errno;
		vt->node[0] = '\0';
		return error_set(err, e, "vt: make a tty0 node for %s", vp->name);
	}
	snprintf(file->vp_path, sizeof(file->vp_path), "/dev/tty0");
	snprintf(file->host_path, sizeof(file->host_path), "%s", vt->node);
	return 0;
}

static int vt_prepare(void *global, const struct vdev_vp *vp, void **state, struct vdev_file *files,
		      unsigned *nfiles, struct error *err)
{
	static const char *const names[NTTYS] = {"tty0", "tty1"};
	struct vt_dev *dev = global;
	struct vt *vt = calloc(1, sizeof(*vt));
	int ret;

	if (!vt)
		return error_set(err, ENOMEM, "vt");
	vt->dev = dev;
	vt->owner_pidfd = -1;
	vt->kick.fd = vt->timer.fd = -1;
	for (unsigned i = 0; i < NTTYS; i++)
		vt->tty[i] = (struct vt_tty){.master = -1, .slave = -1, .drain.fd = -1};
	vt_state_init(&vt->st);
	snprintf(vt->name, sizeof(vt->name), "%s", vp->name);
	if ((size_t)snprintf(vt->dir, sizeof(vt->dir), "%s/%s.vt", vp->dir, vp->name) >=
	    sizeof(vt->dir)) {
		vt->dir[0] = '\0';
		ret = error_set(err, ENAMETOOLONG, "vt: directory of %s", vp->name);
		goto fail;
	}
	if ((ret = vpty_mount(vt->dir, NTTYS, err)) < 0) {
		vt->dir[0] = '\0';
		goto fail;
	}
	for (unsigned i = 0; i < NTTYS; i++) {
		const char *tty0 = vdev_setting(vp, "tty0");
		if (i == 0 && tty0 && strcmp(tty0, "vt-node") == 0)
			ret = make_vt_node(vt, vp, &files[i], err);
		else
			ret = open_tty(vt, vp, &vt->tty[i], &files[i], names[i], err);
		if (ret < 0)
			goto fail;
	}
	vt->kick = (struct loop_watch){eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), on_kick};
	if (vt->kick.fd < 0) {
		ret = error_set(err, errno, "vt: eventfd");
		goto fail;
	}
	vt->timer = (struct loop_watch){timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
					on_timer};
	if (vt->timer.fd < 0) {
		ret = error_set(err, errno, "vt: timerfd");
		goto fail;
	}
	if ((ret = devns_watch(dev->core, &vt->kick, EPOLLIN)) < 0 ||
	    (ret = devns_watch(dev->core, &vt->timer, EPOLLIN)) < 0) {
		ret = error_set(err, ret, "vt: watch the eventfd and the timer");
		goto fail;
	}
	*nfiles = NTTYS;
	*state = vt;
	return 0;
fail:
	release(vt);
	return ret;
}

static void vt_teardown(void *global, void *state)
{
	(void)global;
	release(state);
}

static void vt_activate_ops(void *global, void *state)
{
	struct vt *vt = state;

	(void)global;
	if (vt_activate(&vt->st, (long long)monotonic_ns()))
		kick(vt);
}

static void vt_deactivate_ops(void *global, void *state)
{
	struct vt *vt = state;

	(void)global;
	if (vt_deactivate(&vt->st, (long long)monotonic_ns()))
		kick(vt);
}

/* The process of the calling thread, as a pidfd. The thread is found from its memory
 * file (/proc/TID/mem, opened before the core checked that the call is still pending);
 * between that check and this open the caller could die and its number be reused, which
 * would take pid_max new tasks in microseconds. The framework's caller already holds a
 * pidfd of the thread opened before the check: handed in the call, it closes that gap. */
static int caller_pidfd(const struct vdev_call *call)
{
	char link[64], path[64], buf[1024];
	ssize_t n;
	pid_t tid, tgid = 0;
	int fd;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", call->mem_fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	if (sscanf(path, "/proc/%d/mem", &tid) != 1)
		return -ESRCH;
	snprintf(link, sizeof(link), "/proc/%d/status", tid);
	if ((fd = open(link, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	char *p = strstr(buf, "\nTgid:");
	if (!p || sscanf(p + 6, "%d", &tgid) != 1 || tgid <= 0)
		return -ESRCH;
	fd = (int)syscall(SYS_pidfd_open, tgid, 0);
	return fd < 0 ? -errno : fd;
}

static void reply(struct vdev_call *call, int error)
{
	call->error = error < 0 ? -error : error;
	call->ret = 0;
}

static void vt_ioctl_ops(void *global, void *state, unsigned file, struct vdev_call *call)
{
	struct vt_dev *dev = global;
	struct vt *vt = state;
	struct vt_call c = {.request = call->request,
			    .arg = call->arg,
			    .listener = call->listener_serial,
			    .id = call->notify_id};
	size_t need = vt_input_size(call->request);
	int ret, pidfd = -1, old = -1;

	(void)file;
	if (need &&
	    (ret = vdev_read(call, call->arg,
			     call->request == TIOCLINUX ? (void *)&c.subcode : &c.in, need)) < 0) {
		reply(call, ret);
		return;
	}
	/* The owner's pidfd is taken before the lock: a system call and /proc. */
	if (call->request == VT_SETMODE && c.in.mode == VT_PROCESS &&
	    (pidfd = caller_pidfd(call)) < 0) {
		reply(call, pidfd);
		return;
	}
	devns_lock(dev->core);
	c.screen_off = dev->screen_off;
	vt_ioctl(&vt->st, &c);
	if (c.owner_set) {
		old = vt->owner_pidfd;
		vt->owner_pidfd = pidfd;
		vt->owner_gen = vt->st.owner_gen;
		pidfd = -1;
	}
	devns_unlock(dev->core);
	if (c.work)
		kick(vt);
	if (old >= 0)
		close(old);
	if (pidfd >= 0)
		close(pidfd);
	if (c.deferred) {
		call->deferred = true;
		return;
	}
	ret = -c.error;
	for (unsigned i = 0; i < c.nout && ret == 0; i++)
		ret = vdev_write(call, c.out[i].addr, c.out[i].bytes, c.out[i].len);
	reply(call, ret);
	if (ret == 0)
		call->ret = c.ret; /* TIOCLINUX answers in its return value */
}

/* The screen went off or on (the power device's answer to the power key): a VT in front
 * reads it back as the kernel's console's blank (TIOCLINUX TIOCL_BLANKEDSCREEN). */
static void vt_system_key(void *global, enum devns_system_key key)
{
	struct vt_dev *dev = global;

	if (key != DEVNS_SCREEN_OFF && key != DEVNS_SCREEN_ON)
		return;
	devns_lock(dev->core);
	dev->screen_off = key == DEVNS_SCREEN_OFF;
	devns_unlock(dev->core);
}

/* Its /sys: tty0 and tty1, tty1 the active one (a VP has one VT). */
static int vt_sysfs(void *global, void *state, struct sysfs_tree *tree, struct error *err)
{
	(void)global, (void)state;
	return sysfs_layout_vt(tree, 1, 1, err);
}

static const char *kb_mode_name(int mode)
{
	switch (mode) {
	case K_RAW:
		return "raw";
	case K_XLATE:
		return "xlate";
	case K_MEDIUMRAW:
		return "mediumraw";
	case K_UNICODE:
		return "unicode";
	case K_OFF:
		return "off";
	}
	return "?";
}

static const char *release_name(enum vt_release r)
{
	static const char *const names[] = {"none", "queued", "sent", "late"};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* `cell device vt show VP`: the VT as the VP's programs left it, for whoever wonders why a
 * switch looked the way it did. */
static int vt_show(void *global, json_t *args, json_t *reply, struct error *err)
{
	struct vt_dev *dev = global;
	const char *name = json_string_value(json_array_get(args, 0));
	struct vt_state st;
	struct vt *vt;
	char text[512];

	if (json_array_size(args) != 1 || !name)
		return error_set(err, 0, "vt show wants one VP name");
	if (!(vt = devns_instance(dev->core, name, "vt")))
		return error_set(err, 0, "VP %s is not running with a VT", name);
	devns_lock(dev->core);
	st = vt->st;
	devns_unlock(dev->core);
	json_object_set_new(reply, "vp", json_string(name));
	json_object_set_new(reply, "active", json_boolean(st.active));
	json_object_set_new(reply, "shown", json_boolean(vt_shown(&st)));
	json_object_set_new(reply, "kd_mode",
			    json_string(st.kd_mode == KD_GRAPHICS ? "graphics" : "text"));
	json_object_set_new(reply, "kb_mode", json_string(kb_mode_name(st.kb_mode)));
	json_object_set_new(reply, "vt_mode",
			    json_string(st.mode.mode == VT_PROCESS ? "process" : "auto"));
	json_object_set_new(reply, "release", json_string(release_name(st.release)));
	json_object_set_new(reply, "releases_acked", json_integer((json_int_t)st.releases_acked));
	json_object_set_new(reply, "acquires_acked", json_integer((json_int_t)st.acquires_acked));
	snprintf(text, sizeof(text),
		 "vp        %s\nactive    %s\nshown     %s\nkd mode   %s\nkb mode   %s\n"
		 "vt mode   %s\nrelease   %s\nacked     %lu releases, %lu acquires\n",
		 name, st.active ? "yes" : "no", vt_shown(&st) ? "yes" : "no",
		 st.kd_mode == KD_GRAPHICS ? "graphics" : "text", kb_mode_name(st.kb_mode),
		 st.mode.mode == VT_PROCESS ? "process" : "auto", release_name(st.release),
		 st.releases_acked, st.acquires_acked);
	json_object_set_new(reply, "text", json_string(text));
	return 0;
}

static const struct vp_setting_kind vt_settings[] = {
	{"tty0", "pty|vt-node",
	 "/dev/tty0: the VT's pty, or a VT node nobody opens (for Xorg, with vt1)", "pty"},
	{NULL, NULL, NULL, NULL},
};

static int vt_check_setting(const char *key, const char *value, struct error *err)
{
	if (strcmp(key, "tty0") == 0 && strcmp(value, "pty") != 0 && strcmp(value, "vt-node") != 0)
		return error_set(err, 0, "--tty0 wants pty or vt-node, not '%s'", value);
	return 0;
}

static const struct vdev_verb vt_verbs[] = {
	{"show", "VP", "the VP's VT: modes, and a release under way", vt_show},
	{NULL, NULL, NULL, NULL},
};

const struct vdev_ops vdev_vt = {
	.verbs = vt_verbs,
	.settings = vt_settings,
	.check_setting = vt_check_setting,
	.sysfs = vt_sysfs,
	.name = "vt",
	.initial_access = DEV_SHARED,
	.init = vt_init,
	.fini = vt_fini,
	.prepare = vt_prepare,
	.teardown = vt_teardown,
	.activate = vt_activate_ops,
	.deactivate = vt_deactivate_ops,
	.ioctls = vt_ioctls,
	.nioctls = NIOCTLS,
	.ioctl = vt_ioctl_ops,
	.system_key = vt_system_key,
};
