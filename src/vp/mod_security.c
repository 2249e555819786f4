/* The last step before exec: same-page merging for the whole VP, and the restrictions. */
#include "vp/runtime.h"
#include "common/fdpass.h"
#include "common/log.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

static int security_enter(struct vp_runtime *rt, struct error *err)
{
	/* KSM for every process of the VP: the flag is inherited by each child and kept over
	 * exec. Kernels before 6.4 lack it; the VP runs anyway. */
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0 && errno != EINVAL)
		return error_set(err, errno, "enable KSM merging");
	/* If the daemon dies, its VPs die with it; the next daemon cleans up what is left. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return error_set(err, errno, "set the parent-death signal");
	int listener, ret = vp_restrict(rt->filter, &listener, err);

	if (ret < 0 || listener < 0)
		return ret;
	/* The daemon serves the device calls of every process that inherits this filter. */
	ret = fd_send(rt->sync_fd, 'L', listener);
	close(listener);
	if (ret < 0)
		return error_set(err, ret, "hand the seccomp listener to the daemon");
	return 0;
}

const struct vp_module vp_module_security = {
	.name = "security",
	.enter = security_enter,
};
