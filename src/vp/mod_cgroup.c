/* The VP's cgroup: limits from its config; the child is placed in it before it runs. */
#include "vp/runtime.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>

static int cgroup_prepare(struct vp_runtime *rt, struct error *err)
{
	const struct vp_config *c = rt->config;
	struct cgroup_limits limits = {
		.memory = c->memory, .pids = c->pids, .cpu_percent = c->cpu_percent};

	int ret = cgroup_create(rt->cgroups, rt->cgroup, &limits, err);

	if (ret == 0 && rt->cgroups->v2 &&
	    (rt->cgroup_fd = cgroup_open(rt->cgroups, rt->cgroup, err)) < 0) {
		ret = rt->cgroup_fd;
		cgroup_destroy(rt->cgroups, rt->cgroup);
	}
	return ret;
}

/* v1 has no CLONE_INTO_CGROUP: move the waiting child in before it runs anything. */
static int cgroup_attach_child(struct vp_runtime *rt, struct error *err)
{
	if (rt->cgroup_fd >= 0)
		return 0;
	return cgroup_attach(rt->cgroups, rt->cgroup, rt->pid, err);
}

/* A cgroup namespace rooted at the VP's own group: /proc/self/cgroup shows "/". */
static int cgroup_enter(struct vp_runtime *rt, struct error *err)
{
	(void)rt;
	if (unshare(CLONE_NEWCGROUP) < 0)
		return error_set(err, errno, "unshare cgroup namespace");
	return 0;
}

static void cgroup_teardown(struct vp_runtime *rt)
{
	if (rt->cgroup_fd >= 0)
		close(rt->cgroup_fd);
	rt->cgroup_fd = -1;
	cgroup_destroy(rt->cgroups, rt->cgroup);
}

const struct vp_module vp_module_cgroup = {
	.name = "cgroup",
	.prepare = cgroup_prepare,
	.attach = cgroup_attach_child,
	.enter = cgroup_enter,
	.teardown = cgroup_teardown,
};
