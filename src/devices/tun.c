/* /dev/net/tun in a VP (`--device tun=shared`): the host's own node, bound in. The
 * interfaces it makes are the VP's network namespace's (the kernel's tun is per
 * namespace), so a VPN client in the VP routes only the VP's traffic, and only as the
 * VP's own routes say. None by default: a VP asks for it. */
#include "devns/devns.h"

#include <stdio.h>

#define TUN_PATH "/dev/net/tun"

static int tun_prepare(void *global, const struct vdev_vp *vp, void **state,
		       struct vdev_file *files, unsigned *nfiles, struct error *err)
{
	(void)global, (void)vp, (void)err;
	*state = (void *)1; /* nothing of its own to keep */
	snprintf(files[0].vp_path, sizeof(files[0].vp_path), TUN_PATH);
	snprintf(files[0].host_path, sizeof(files[0].host_path), TUN_PATH);
	*nfiles = 1;
	return 0;
}

static void tun_teardown(void *global, void *state)
{
	(void)global, (void)state;
}

const struct vdev_ops vdev_tun = {
	.name = "tun",
	.initial_access = DEV_NONE,
	.prepare = tun_prepare,
	.teardown = tun_teardown,
};
