/* How the daemon runs a VP's processes when a device asks (devns_vp_schedule): the
 * power device's background policy freezes a VP or caps its CPU. The runtime owns the
 * cgroup; the device names only the VP. */
#include "cellsd/daemon.h"

#include <errno.h>

struct cgroup_limits vp_limits(const struct vp *vp, const struct vp_config *config)
{
	struct cgroup_limits limits = vp_config_limits(config);
	unsigned cap = vp->sched.cpu_percent;

	if (cap && (!limits.cpu_percent || cap < limits.cpu_percent))
		limits.cpu_percent = cap;
	return limits;
}

int vp_schedule(void *ctx, const char *name, const struct devns_vp_sched *s, struct error *err)
{
	struct vp *vp = vp_find(ctx, name);
	struct cgroup_limits limits;
	int ret;

	if (!vp || (vp->state != VP_RUNNING && vp->state != VP_STOPPING))
		return error_set(err, ENOENT, "VP %s is not running", name);
	/* Thawed first, frozen last: a VP is never frozen while its limits change. */
	if (!s->frozen && vp->sched.frozen &&
	    (ret = cgroup_freeze(vp->rt.cgroups, vp->rt.cgroup, false, err)) < 0)
		return ret;
	vp->sched.frozen = s->frozen && vp->sched.frozen;
	if (s->cpu_percent != vp->sched.cpu_percent) {
		unsigned old = vp->sched.cpu_percent;
		vp->sched.cpu_percent = s->cpu_percent;
		limits = vp_limits(vp, &vp->config);
		if ((ret = cgroup_set_limits(vp->rt.cgroups, vp->rt.cgroup, &limits, err)) < 0) {
			vp->sched.cpu_percent = old;
			return ret;
		}
	}
	if (s->frozen && !vp->sched.frozen) {
		if ((ret = cgroup_freeze(vp->rt.cgroups, vp->rt.cgroup, true, err)) < 0)
			return ret;
		vp->sched.frozen = true;
	}
	return 0;
}
