/* Prepared VPs (`cellsd --prepare`): a stopped VP's start run ahead up to the exec of its
 * init, as an OCI runtime's `create` (vp_prepare), so that `cell start` only releases it
 * (vp_release) and does the bookkeeping of a start. A prepared VP is stopped in every way
 * the user sees: no running mark, no exec, never the foreground, its devices never
 * activated. It holds its cgroup, namespaces, mounts and device instances, and no device
 * exclusively: a VP whose config asks for one is not prepared, and a start that asks for
 * one takes it from the prepared VPs first. Anything that would make its start differ
 * (its config, its image) tears it down, as a failed start is torn down; a daemon killed
 * leaves its waiting child in its cgroup, where the next daemon's stale_cleanup kills it
 * with the rest. */
#include "cellsd/daemon.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* How soon after what made it due: the answer to the request that did goes first. */
#define PREPARE_DELAY_NS 1000000

static bool wants_exclusive(const struct vp_config *c)
{
	for (unsigned i = 0; i < c->ndevices; i++)
		if (c->devices[i].access == DEV_EXCLUSIVE)
			return true;
	return false;
}

static bool may_prepare(struct daemon *d, struct vp *vp)
{
	return vp->state == VP_STOPPED && !vp->prepared && !wants_exclusive(&vp->config) &&
	       image_exists(d, vp->config.image) && !jobs_busy_with(d, vp->config.image);
}

static int vp_prepare_one(struct vp *vp)
{
	struct error err = {{0}};
	int ret;

	if ((ret = vp_runtime_setup(vp, &err)) < 0 || (ret = vp_prepare(&vp->rt, &err)) < 0) {
		/* It starts the normal way. */
		log_info("VP %s not prepared: %s", vp->config.name, err.msg);
		return ret;
	}
	vp->prepared = true;
	devns_vp_hold(&vp->devns, true);
	log_info("VP %s prepared (init pid %d, waiting for its start)", vp->config.name,
		 (int)vp->rt.pid);
	return 0;
}

static void prepare_due(struct daemon *d)
{
	unsigned prepared = 0;

	for (struct vp *vp = d->vps; vp; vp = vp->next)
		prepared += vp->prepared;
	for (struct vp *vp = d->vps; vp && !d->shutting_down; vp = vp->next) {
		if (d->prepare_max >= 0 && prepared >= (unsigned)d->prepare_max)
			break;
		if (may_prepare(d, vp) && vp_prepare_one(vp) == 0)
			prepared++;
	}
}

static void on_prepare_timer(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, prepare_timer);
	uint64_t n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "read the prepare timer");
	prepare_due(d);
}

void vps_prepare_soon(struct daemon *d)
{
	struct itimerspec its = {.it_value.tv_nsec = PREPARE_DELAY_NS};

	if (d->prepare_max == 0 || d->shutting_down)
		return;
	if (d->prepare_timer.fd < 0) {
		d->prepare_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		d->prepare_timer.handle = on_prepare_timer;
		if (d->prepare_timer.fd < 0 || loop_add(&d->loop, &d->prepare_timer, EPOLLIN) < 0) {
			log_warn_errno(errno, "prepare timer: no VP is prepared");
			if (d->prepare_timer.fd >= 0)
				close(d->prepare_timer.fd);
			d->prepare_timer.fd = -1;
			return;
		}
	}
	if (timerfd_settime(d->prepare_timer.fd, 0, &its, NULL) < 0)
		log_warn_errno(errno, "arm the prepare timer");
}

void vp_unprepare(struct vp *vp)
{
	if (!vp->prepared)
		return;
	vp->prepared = false;
	vp_spawn_discard(&vp->rt);
	log_info("VP %s: prepared start torn down", vp->config.name);
}

void vps_unprepare_image(struct daemon *d, const char *image)
{
	for (struct vp *vp = d->vps; vp; vp = vp->next)
		if (!image || strcmp(vp->config.image, image) == 0)
			vp_unprepare(vp);
}

void vps_unprepare_conflicting(struct daemon *d, const struct vp_config *config)
{
	for (unsigned i = 0; i < config->ndevices; i++) {
		if (config->devices[i].access != DEV_EXCLUSIVE)
			continue;
		for (struct vp *vp = d->vps; vp; vp = vp->next)
			if (vp->prepared && &vp->config != config &&
			    vp_config_device_access(&vp->config, config->devices[i].name) !=
				    DEV_NONE)
				vp_unprepare(vp);
	}
}
