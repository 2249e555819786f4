/* The VP's cgroup: limits from its config; the child is born in it (see cgroup_enter). */
#include "vp/runtime.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>

/* v1: the daemon stood in the VP's group for the clone; it goes back to its own. */
static int daemon_step_out(struct vp_runtime *rt, struct error *err)
{
	if (!rt->daemon_in_cgroup)
		return 0;
	rt->daemon_in_cgroup = false;
	return cgroup_leave(rt->cgroups, err);
}

static void cgroup_teardown(struct vp_runtime *rt)
{
	daemon_step_out(rt, NULL);
	if (rt->cgroup_fd >= 0)
		close(rt->cgroup_fd);
	rt->cgroup_fd = -1;
	cgroup_destroy(rt->cgroups, rt->cgroup);
}

static int cgroup_prepare(struct vp_runtime *rt, struct error *err)
{
	struct cgroup_limits limits = vp_config_limits(rt->config);
	int ret = cgroup_create(rt->cgroups, rt->cgroup, &limits, err);

	if (ret < 0)
		return ret;
	/* v2 has CLONE_INTO_CGROUP; on v1 the daemon steps into the group around clone. */
	if (rt->cgroups->v2) {
		rt->cgroup_fd = cgroup_open(rt->cgroups, rt->cgroup, err);
		ret = rt->cgroup_fd < 0 ? rt->cgroup_fd : 0;
	} else {
		rt->daemon_in_cgroup = true;
		ret = cgroup_enter(rt->cgroups, rt->cgroup, err);
	}
	if (ret < 0)
		cgroup_teardown(rt);
	return ret;
}

/* A cgroup namespace rooted at the VP's own group: /proc/self/cgroup shows "/". */
static int cgroup_ns_enter(struct vp_runtime *rt, struct error *err)
{
	(void)rt;
	if (unshare(CLONE_NEWCGROUP) < 0)
		return error_set(err, errno, "unshare cgroup namespace");
	return 0;
}

const struct vp_module vp_module_cgroup = {
	.name = "cgroup",
	.prepare = cgroup_prepare,
	.attach = daemon_step_out,
	.enter = cgroup_ns_enter,
	.teardown = cgroup_teardown,
};
