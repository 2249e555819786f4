/* The VP registry and lifecycle: create -> start -> stop -> destroy (DESIGN.md §3). */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "vp/disk.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VP_UID_RANGE 65536

const char *vp_state_name(enum vp_state s)
{
	switch (s) {
	case VP_RUNNING:
		return "running";
	case VP_STOPPING:
		return "stopping";
	case VP_BROKEN:
		return "broken";
	case VP_STOPPED:
		break;
	}
	return "stopped";
}

struct vp *vp_find(struct daemon *d, const char *name)
{
	for (struct vp *vp = d->vps; vp; vp = vp->next)
		if (strcmp(vp->config.name, name) == 0)
			return vp;
	return NULL;
}

static void vp_dir(struct daemon *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vps/%s", d->state_dir, name);
}

static void vp_config_path(struct daemon *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vps/%s/config.json", d->state_dir, name);
}

/* Present while the VP runs and should run again if cellsd stops or dies: made at its
 * start, removed when it stops for any reason but the daemon's own shutdown. */
static void vp_running_mark_path(struct daemon *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vps/%s/running", d->state_dir, name);
}

/* The mark is there for the next cellsd as soon as it is created: a crash of this one
 * loses nothing. Its fsync, which only a power loss needs, waits for vp_start_finish,
 * after the start's answer. */
static void vp_mark_running(struct vp *vp, bool running)
{
	char path[PATH_MAX];
	int ret;

	vp_running_mark_path(vp->daemon, vp->config.name, path, sizeof(path));
	vp->mark_unsynced = false;
	if (running && (ret = create_flag_file(path, 0600)) < 0)
		log_warn_errno(-ret,
			       "VP %s: write %s; it will not come back after a restart "
			       "of cellsd unless its policy is always",
			       vp->config.name, path);
	else if (running)
		vp->mark_unsynced = true;
	if (!running && unlink(path) < 0 && errno != ENOENT)
		log_warn_errno(errno, "VP %s: remove %s", vp->config.name, path);
}

void vp_start_finish(struct vp *vp)
{
	struct error err = {{0}};
	char path[PATH_MAX];
	int ret;

	if (vp->console_pending) {
		vp->console_pending = false;
		if (console_start(vp, &err) < 0)
			log_warn("VP %s: console: %s", vp->config.name, err.msg);
	}
	if (!vp->mark_unsynced)
		return;
	vp->mark_unsynced = false;
	vp_running_mark_path(vp->daemon, vp->config.name, path, sizeof(path));
	if ((ret = sync_parent_dir(path)) < 0)
		log_warn_errno(-ret, "VP %s: sync %s", vp->config.name, path);
}

bool vp_should_restart(struct vp *vp)
{
	char path[PATH_MAX];

	if (vp->state != VP_STOPPED)
		return false;
	switch (vp->config.restart) {
	case VP_RESTART_ALWAYS:
		return true;
	case VP_RESTART_UNLESS_STOPPED:
		vp_running_mark_path(vp->daemon, vp->config.name, path, sizeof(path));
		return access(path, F_OK) == 0;
	case VP_RESTART_NO:
		break;
	}
	return false;
}

static void vp_run_dir(struct daemon *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vps/%s", d->run_dir, name);
}

static struct vp *vp_new(struct daemon *d)
{
	struct vp *vp = calloc(1, sizeof(*vp));

	if (!vp)
		return NULL;
	vp->daemon = d;
	vp->console_log = -1;
	vp->exit_watch.fd = vp->console_watch.fd = vp->stop_timer.fd = -1;
	vp_runtime_init(&vp->rt);
	return vp;
}

/* Keep the list in id order: `cell list`, next and prev follow it. */
static void vp_insert(struct daemon *d, struct vp *vp)
{
	struct vp **p = &d->vps;

	while (*p && (*p)->config.id <= vp->config.id)
		p = &(*p)->next;
	vp->next = *p;
	*p = vp;
}

static void vp_unlink(struct daemon *d, struct vp *vp)
{
	for (struct vp **p = &d->vps; *p; p = &(*p)->next)
		if (*p == vp) {
			*p = vp->next;
			return;
		}
}

/* Broken VPs count too: their files are owned by their id's uid range. */
static bool id_in_use(struct daemon *d, unsigned id)
{
	for (struct vp *vp = d->vps; vp; vp = vp->next)
		if (vp->config.id == id)
			return true;
	return false;
}

/* A VP whose config cannot be read keeps its id, found from the owner of its upper layer,
 * so no new VP is given the uids that own its files. 0 when it cannot be told. */
static unsigned id_from_files(struct daemon *d, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t offset;

	snprintf(path, sizeof(path), "%s/vps/%s/upper", d->state_dir, name);
	if (stat(path, &st) < 0) {
		snprintf(path, sizeof(path), "%s/vps/%s/" VP_DISK_IMAGE, d->state_dir, name);
		if (stat(path, &st) < 0)
			return 0;
	}
	if (st.st_uid < d->uid_base)
		return 0;
	offset = (uint64_t)st.st_uid - d->uid_base;
	if (offset % VP_UID_RANGE || offset / VP_UID_RANGE > VP_ID_MAX)
		return 0;
	return (unsigned)(offset / VP_UID_RANGE);
}

int vps_load(struct daemon *d)
{
	char dir_path[PATH_MAX], path[PATH_MAX];
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int count = 0;

	snprintf(dir_path, sizeof(dir_path), "%s/vps", d->state_dir);
	dir = opendir(dir_path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		struct error err = {{0}};
		struct vp *vp;

		if (de->d_name[0] == '.')
			continue;
		if (!name_is_valid(de->d_name)) {
			log_warn("ignoring %s/%s: not a valid VP name", dir_path, de->d_name);
			continue;
		}
		if (!(vp = vp_new(d)))
			return -ENOMEM;
		vp_config_path(d, de->d_name, path, sizeof(path));
		if (vp_config_load(path, devns_catalog(&d->devns), &vp->config, &err) < 0) {
			/* Kept, with its files, so the user sees why and can repair or destroy it.
			 */
			vp_config_defaults(&vp->config, de->d_name, devns_catalog(&d->devns));
			vp->config.id = id_from_files(d, de->d_name);
			vp->state = VP_BROKEN;
			snprintf(vp->broken_reason, sizeof(vp->broken_reason), "%s", err.msg);
			log_error("VP %s: %s", de->d_name, err.msg);
		} else if (strcmp(vp->config.name, de->d_name) != 0 || vp->config.id == 0 ||
			   id_in_use(d, vp->config.id)) {
			vp->state = VP_BROKEN;
			vp->config.id = 0;
			snprintf(vp->broken_reason, sizeof(vp->broken_reason),
				 "%s: name or id clashes with another VP", path);
			snprintf(vp->config.name, sizeof(vp->config.name), "%s", de->d_name);
			log_error("VP %s: %s", de->d_name, vp->broken_reason);
		}
		vp_insert(d, vp);
		count++;
	}
	log_info("%d VPs loaded from %s", count, dir_path);
	return count;
}

int vp_create(struct daemon *d, const struct vp_config *config, struct error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct vp *vp;
	unsigned id;
	int ret;

	if (!name_is_valid(config->name))
		return error_set(err, 0,
				 "invalid VP name: 1 to %d letters, digits, '_', '.' or "
				 "'-', starting with a letter or digit",
				 NAME_MAX_LEN);
	if (vp_find(d, config->name))
		return error_set(err, 0, "VP %s already exists", config->name);
	if (!image_exists(d, config->image))
		return error_set(err, 0, "unknown image '%s' (see `cell image list`)",
				 config->image);
	for (id = 1; id <= VP_ID_MAX && id_in_use(d, id); id++)
		;
	if (id > VP_ID_MAX)
		return error_set(err, 0, "no free VP id: %d VPs exist", VP_ID_MAX);
	vp_dir(d, config->name, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0)
		return error_set(err, errno, "create %s", dir);
	if (!(vp = vp_new(d))) {
		rmdir(dir);
		return error_set(err, ENOMEM, "create VP");
	}
	vp->config = *config;
	vp->config.id = id;
	vp_config_path(d, config->name, path, sizeof(path));
	if ((ret = vp_config_save(path, &vp->config, err)) < 0) {
		rm_rf(dir);
		free(vp);
		return ret;
	}
	vp_insert(d, vp);
	log_info("VP %s created (id %u, image %s)", vp->config.name, id, vp->config.image);
	event_state(vp, "created");
	vps_prepare_soon(d);
	return 0;
}

static void timer_disarm(struct vp *vp)
{
	if (vp->stop_timer.fd < 0)
		return;
	loop_del(&vp->daemon->loop, &vp->stop_timer);
	close(vp->stop_timer.fd);
	vp->stop_timer.fd = -1;
}

static void answer_stop_waiters(struct vp *vp)
{
	while (vp->stop_waiters) {
		struct client *c = vp->stop_waiters;
		vp->stop_waiters = c->next_waiter;
		c->next_waiter = NULL;
		if (!c->closed)
			client_reply(c, json_pack("{s:b}", "ok", 1));
		client_release(c);
	}
}

/* cell-init has exited: reap it, empty the cgroup, undo the modules. */
static void vp_finish(struct vp *vp)
{
	struct daemon *d = vp->daemon;
	bool requested = vp->state == VP_STOPPING;
	char reason[128];
	int status = 0;

	if (vp->exit_watch.fd >= 0)
		loop_del(&d->loop, &vp->exit_watch);
	while (waitpid(vp->rt.pid, &status, 0) < 0 && errno == EINTR)
		;
	vp->last_status = status;
	timer_disarm(vp);
	vp->console_pending = false;
	console_stop(vp);
	vp_teardown(&vp->rt); /* its devices too: a stage of its start */
	vp->exit_watch.fd = -1;
	vp->state = VP_STOPPED;
	if (!d->shutting_down)
		vp_mark_running(vp, false);
	if (requested)
		snprintf(reason, sizeof(reason), "stopped");
	else if (WIFSIGNALED(status))
		snprintf(reason, sizeof(reason), "init killed by signal %d", WTERMSIG(status));
	else
		snprintf(reason, sizeof(reason), "init exited with status %d", WEXITSTATUS(status));
	log_info("VP %s: %s", vp->config.name, reason);
	event_state(vp, reason);
	foreground_lost(d, vp);
	scale_vps_changed(d, false);
	/* Last: what a `cell stop` returns to is the daemon's state after the stop. */
	answer_stop_waiters(vp);
	if (d->shutting_down && !vps_any_running(d))
		d->loop.quit = true;
	vps_prepare_soon(d);
}

static void on_init_exit(struct loop_watch *w, uint32_t events)
{
	(void)events;
	vp_finish(container_of(w, struct vp, exit_watch));
}

static void on_stop_timeout(struct loop_watch *w, uint32_t events)
{
	struct vp *vp = container_of(w, struct vp, stop_timer);

	(void)events;
	log_warn("VP %s did not stop in time: killing it", vp->config.name);
	timer_disarm(vp);
	cgroup_kill(vp->rt.cgroups, vp->rt.cgroup);
}

int vp_runtime_setup(struct vp *vp, struct error *err)
{
	struct daemon *d = vp->daemon;
	struct vp_runtime *rt = &vp->rt;
	int ret;

	vp_runtime_init(rt);
	vp->sched = (struct devns_vp_sched){0}; /* a new cgroup: nothing held back */
	rt->config = &vp->config;
	rt->cgroups = &d->cgroups;
	rt->init_exe_fd = d->init_exe_fd;
	rt->filter = &d->filter;
	rt->uid_base = d->uid_base + vp->config.id * VP_UID_RANGE;
	snprintf(rt->cgroup, sizeof(rt->cgroup), "%s/%s", d->cgroup_parent, vp->config.name);
	image_path(d, vp->config.image, rt->base_rootfs, sizeof(rt->base_rootfs));
	vp_dir(d, vp->config.name, rt->vp_state_dir, sizeof(rt->vp_state_dir));
	vp_run_dir(d, vp->config.name, rt->vp_run_dir, sizeof(rt->vp_run_dir));
	/* The VP's root's alone: it attaches its root file system at vp_run_dir/root from
	 * inside its user namespace; no other host user may look in. */
	if ((ret = mkdir_p(rt->vp_run_dir, 0711)) < 0 ||
	    chown(rt->vp_run_dir, rt->uid_base, rt->uid_base) < 0 ||
	    chmod(rt->vp_run_dir, 0700) < 0)
		return error_set(err, ret < 0 ? ret : errno, "create %s", rt->vp_run_dir);

	devns_vp_stage(&d->devns, &vp->devns, &rt->stages[rt->nstages++]);
	if (devns_sys_dir(&d->devns, vp->config.name, rt->sys_dir, sizeof(rt->sys_dir)) < 0)
		rt->sys_dir[0] = '\0';
	scale_prepare_vp(vp);
	rt->around_clone = devns_hold_for_clone;
	rt->around_clone_ctx = &d->devns;
	return 0;
}

int vp_start(struct vp *vp, struct error *err)
{
	struct daemon *d = vp->daemon;
	struct vp_runtime *rt = &vp->rt;
	bool released = false;
	int ret;

	if (vp->state == VP_BROKEN)
		return error_set(err, 0, "VP %s cannot start: %s", vp->config.name,
				 vp->broken_reason);
	if (vp->state != VP_STOPPED)
		return error_set(err, 0, "VP %s is already %s", vp->config.name,
				 vp_state_name(vp->state));
	if (d->shutting_down)
		return error_set(err, 0, "cellsd is shutting down");
	if (!image_exists(d, vp->config.image))
		return error_set(err, 0, "VP %s: unknown image '%s'", vp->config.name,
				 vp->config.image);
	if (jobs_busy_with(d, vp->config.image))
		return error_set(err, 0, "image %s is being built", vp->config.image);

	/* A prepared VP holds no device exclusively (prepare.c): one that this VP's start
	 * would be refused for goes first. */
	vps_unprepare_conflicting(d, &vp->config);
	if (vp->prepared) {
		vp->prepared = false;
		devns_vp_hold(&vp->devns, false);
		if ((ret = vp_release(rt, err)) == 0)
			released = true;
		else
			log_warn("VP %s: its prepared start was lost (%s): starting anew",
				 vp->config.name, err->msg);
	}
	if (!released) {
		if ((ret = vp_runtime_setup(vp, err)) < 0)
			return ret;
		ret = vp_spawn(rt, err);
	}
	if (ret < 0) {
		struct error inner = *err;
		return error_set(err, 0, "start %s: %s", vp->config.name, inner.msg);
	}
	if (rt->listener_fd >= 0) {
		int fd = rt->listener_fd;
		rt->listener_fd = -1;
		if (devns_vp_listen(&vp->devns, fd, err) < 0)
			log_warn("VP %s: %s", vp->config.name, err->msg);
	}
	vp->state = VP_RUNNING;
	vp->started_ns = monotonic_ns();
	vp->exit_watch = (struct loop_watch){.fd = rt->pidfd, .handle = on_init_exit};
	if ((ret = loop_add(&d->loop, &vp->exit_watch, EPOLLIN)) < 0) {
		error_set(err, ret, "watch the init of %s", vp->config.name);
		cgroup_kill(rt->cgroups, rt->cgroup);
		vp_finish(vp);
		return ret;
	}
	/* Its output waits in the pty until vp_start_finish watches it. */
	vp->console_pending = true;
	vp_mark_running(vp, true);
	log_info("VP %s started (init pid %d)", vp->config.name, (int)rt->pid);
	event_state(vp, "started");
	scale_vps_changed(d, true);
	if (!d->foreground)
		foreground_switch(d, vp, NULL);
	if (released)
		vps_prepare_soon(d); /* its place may go to another stopped VP */
	return 0;
}

int vp_stop(struct vp *vp, unsigned timeout_s, struct client *client, struct error *err)
{
	struct daemon *d = vp->daemon;
	struct itimerspec its = {.it_value.tv_sec = timeout_s};

	if (vp->state != VP_RUNNING && vp->state != VP_STOPPING)
		return error_set(err, 0, "VP %s is not running", vp->config.name);
	if (client) {
		client->busy = true;
		client->next_waiter = vp->stop_waiters;
		vp->stop_waiters = client;
	}
	if (vp->state == VP_STOPPING)
		return 0;
	vp->state = VP_STOPPING;
	event_state(vp, "stopping");
	/* A frozen VP could not hear its SIGTERM: it stops as any other. */
	if (vp->sched.frozen) {
		struct error ignored = {{0}};
		struct devns_vp_sched run = {.cpu_percent = vp->sched.cpu_percent};
		if (vp_schedule(d, vp->config.name, &run, &ignored) < 0)
			log_warn("VP %s: %s", vp->config.name, ignored.msg);
	}
	if (syscall(SYS_pidfd_send_signal, vp->rt.pidfd, SIGTERM, NULL, 0) < 0)
		log_warn_errno(errno, "VP %s: signal init", vp->config.name);
	vp->stop_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	vp->stop_timer.handle = on_stop_timeout;
	if (vp->stop_timer.fd < 0 || timerfd_settime(vp->stop_timer.fd, 0, &its, NULL) < 0 ||
	    loop_add(&d->loop, &vp->stop_timer, EPOLLIN) < 0) {
		/* Without a timer there is no grace period: kill now. */
		log_warn_errno(errno, "VP %s: grace timer", vp->config.name);
		timer_disarm(vp);
		cgroup_kill(vp->rt.cgroups, vp->rt.cgroup);
	}
	return 0;
}

int vp_destroy(struct vp *vp, bool force, struct error *err)
{
	struct daemon *d = vp->daemon;
	char dir[PATH_MAX];
	int ret;

	if (vp->state == VP_RUNNING || vp->state == VP_STOPPING) {
		if (!force)
			return error_set(err, 0, "VP %s is running: stop it first, or use --force",
					 vp->config.name);
		cgroup_kill(vp->rt.cgroups, vp->rt.cgroup);
		vp_finish(vp);
	}
	vp_unprepare(vp);
	vp_dir(d, vp->config.name, dir, sizeof(dir));
	if ((ret = rm_rf(dir)) < 0)
		return error_set(err, ret, "remove %s", dir);
	vp_run_dir(d, vp->config.name, dir, sizeof(dir));
	rm_rf(dir);
	devns_vp_forget(&d->devns, vp->config.name);
	vp_unlink(d, vp);
	log_info("VP %s destroyed", vp->config.name);
	event_state(vp, "destroyed");
	free(vp);
	return 0;
}

static bool same_devices(const struct vp_config *a, const struct vp_config *b)
{
	if (a->ndevices != b->ndevices)
		return false;
	for (unsigned i = 0; i < a->ndevices; i++)
		if (strcmp(a->devices[i].name, b->devices[i].name) != 0 ||
		    a->devices[i].access != b->devices[i].access)
			return false;
	return true;
}

/* A disk grows at the VP's next start; it does not shrink, nor lose its quota, since ext4
 * cannot shrink online and the files would have to move. */
static int check_disk_change(struct vp *vp, const struct vp_config *config, struct error *err)
{
	char dir[PATH_MAX];
	int64_t size;

	if (vp->state == VP_RUNNING || vp->state == VP_STOPPING)
		return error_set(err, 0, "VP %s is running: stop it to change its disk",
				 vp->config.name);
	vp_dir(vp->daemon, vp->config.name, dir, sizeof(dir));
	size = vp_disk_size(dir);
	if (size < 0)
		return error_set(err, (int)size, "size of the disk of %s", vp->config.name);
	if (size > 0 && config->disk == 0)
		return error_set(err, 0, "VP %s has a disk image: its quota cannot be removed",
				 vp->config.name);
	if (config->disk < (uint64_t)size)
		return error_set(err, 0,
				 "VP %s's disk is %lld MiB: it can grow, not shrink (to %llu MiB)",
				 vp->config.name, (long long)(size >> 20),
				 (unsigned long long)(config->disk >> 20));
	return 0;
}

int vp_reconfigure(struct vp *vp, const struct vp_config *config, struct error *err)
{
	struct daemon *d = vp->daemon;
	bool running = vp->state == VP_RUNNING || vp->state == VP_STOPPING;
	struct cgroup_limits limits = vp_limits(vp, config);
	struct cgroup_limits old = vp_limits(vp, &vp->config);
	char path[PATH_MAX];
	int ret;

	if (vp->state == VP_BROKEN)
		return error_set(err, 0, "VP %s cannot be configured: %s", vp->config.name,
				 vp->broken_reason);
	if (running &&
	    (strcmp(config->image, vp->config.image) != 0 || !same_devices(config, &vp->config)))
		return error_set(err, 0, "VP %s is running: stop it to change its image or devices",
				 vp->config.name);
	if (strcmp(config->image, vp->config.image) != 0 && !image_exists(d, config->image))
		return error_set(err, 0, "unknown image '%s' (see `cell image list`)",
				 config->image);
	if (config->disk != vp->config.disk && (ret = check_disk_change(vp, config, err)) < 0)
		return ret;
	if (running && (ret = cgroup_set_limits(vp->rt.cgroups, vp->rt.cgroup, &limits, err)) < 0)
		return ret;
	if (running && (ret = devns_vp_configure(&vp->devns, &vp->config, config, err)) < 0)
		goto undo_limits;
	vp_config_path(d, vp->config.name, path, sizeof(path));
	if ((ret = vp_config_save(path, config, err)) < 0) {
		struct error ignored = {{0}};
		if (running)
			devns_vp_configure(&vp->devns, config, &vp->config, &ignored);
		goto undo_limits;
	}
	vp_unprepare(vp); /* made with the old config */
	vp->config = *config;
	vps_prepare_soon(d);
	/* A device may have changed its cap meanwhile (the power device's throttle), against
	 * the old config: the limits again, against the new one. */
	limits = vp_limits(vp, config);
	if (running && cgroup_set_limits(vp->rt.cgroups, vp->rt.cgroup, &limits, err) < 0)
		log_warn("VP %s: %s", vp->config.name, err->msg);
	log_info("VP %s: config changed", vp->config.name);
	event_state(vp, "configured");
	return 0;
undo_limits:
	if (running) {
		struct error ignored = {{0}};
		cgroup_set_limits(vp->rt.cgroups, vp->rt.cgroup, &old, &ignored);
	}
	return ret;
}

void vps_stop_all(struct daemon *d)
{
	for (struct vp *vp = d->vps; vp; vp = vp->next)
		if (vp->state == VP_RUNNING)
			vp_stop(vp, d->stop_timeout_s, NULL, NULL);
}

bool vps_any_running(struct daemon *d)
{
	for (struct vp *vp = d->vps; vp; vp = vp->next)
		if (vp->state == VP_RUNNING || vp->state == VP_STOPPING)
			return true;
	return false;
}

json_t *vp_describe(struct vp *vp)
{
	json_t *j = vp_config_to_json(&vp->config);

	if (!j)
		return NULL;
	json_object_del(j, "version");
	json_object_set_new(j, "state", json_string(vp_state_name(vp->state)));
	json_object_set_new(j, "foreground", json_boolean(vp->daemon->foreground == vp));
	json_object_set_new(j, "prepared", json_boolean(vp->prepared));
	if (vp->state == VP_RUNNING || vp->state == VP_STOPPING)
		json_object_set_new(j, "pid", json_integer(vp->rt.pid));
	if (vp->state == VP_BROKEN)
		json_object_set_new(j, "error", json_string(vp->broken_reason));
	return j;
}
