/* The registry of virtual devices, each VP's instances of them, and the switch. */
#include "devns/devns.h"
#include "devns/internal.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct vdev_ops vdev_display;
extern const struct vdev_ops vdev_input;

/* One line per device. The order is the order of activation on a switch. */
const struct vdev_ops *const vdev_registry[] = {
	&vdev_display,
	&vdev_input,
};
const unsigned vdev_count = sizeof(vdev_registry) / sizeof(vdev_registry[0]);

int devns_init(struct devns *core, struct loop *loop, const char *dir,
	       const struct devns_settings *settings, struct error *err)
{
	int ret;

	memset(core, 0, sizeof(*core));
	core->loop = loop;
	core->settings = *settings;
	pthread_mutex_init(&core->lock, NULL);
	snprintf(core->dir, sizeof(core->dir), "%s", dir);
	if ((ret = devns_notify_sizes(core, err)) < 0)
		return ret;
	/* Device files (a framebuffer) live in memory the daemon owns. The VPs' roots reach
	 * their own files here by path to bind them: searchable, not readable. */
	if ((ret = mkdir_p(dir, 0711)) < 0)
		return error_set(err, ret, "create %s", dir);
	if (mount("cells-dev", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0711") < 0)
		return error_set(err, errno, "mount a tmpfs on %s", dir);
	for (unsigned d = 0; d < vdev_count; d++) {
		if (!vdev_registry[d]->init)
			continue;
		if ((ret = vdev_registry[d]->init(core, &core->global[d], err)) < 0) {
			devns_fini(core);
			return ret;
		}
	}
	return 0;
}

void devns_fini(struct devns *core)
{
	for (unsigned d = 0; d < vdev_count; d++) {
		if (vdev_registry[d]->fini && core->global[d])
			vdev_registry[d]->fini(core->global[d]);
		core->global[d] = NULL;
	}
	if (core->dir[0])
		umount2(core->dir, MNT_DETACH);
}

void *devns_global(struct devns *core, const char *name)
{
	for (unsigned d = 0; d < vdev_count; d++)
		if (strcmp(vdev_registry[d]->name, name) == 0)
			return core->global[d];
	return NULL;
}

unsigned devns_trapped_ioctls(struct ioctl_trap *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned d = 0; d < vdev_count; d++)
		for (unsigned i = 0; i < vdev_registry[d]->nioctls && n < max; i++)
			out[n++] = vdev_registry[d]->ioctls[i];
	return n;
}

/* The VP's directory for its device files: searchable by its root alone, which binds them
 * into its /dev, so that no other host user reaches them, whatever modes the VP gives
 * its own files (a VP may chmod its /dev/fb0 0666). */
static int make_vp_dir(struct devns *core, struct devns_vp *dvp, uid_t uid, struct error *err)
{
	int n = snprintf(dvp->dir, sizeof(dvp->dir), "%s/%s", core->dir, dvp->name);

	if (n < 0 || (size_t)n >= sizeof(dvp->dir)) {
		dvp->dir[0] = '\0';
		return error_set(err, ENAMETOOLONG, "device directory of %s", dvp->name);
	}
	if (mkdir(dvp->dir, 0700) < 0 && errno != EEXIST) {
		error_set(err, errno, "create %s", dvp->dir);
		dvp->dir[0] = '\0';
		return -1;
	}
	if (chown(dvp->dir, uid, uid) < 0 || chmod(dvp->dir, 0700) < 0)
		return error_set(err, errno, "make %s the VP's", dvp->dir);
	return 0;
}

int devns_vp_create(struct devns *core, struct devns_vp *dvp, const struct vp_config *config,
		    const struct vdev_vp *vp_in, struct error *err)
{
	struct vdev_vp vp_copy = *vp_in, *vp = &vp_copy;
	int ret;

	memset(dvp, 0, sizeof(*dvp));
	dvp->core = core;
	snprintf(dvp->name, sizeof(dvp->name), "%s", config->name);
	if ((ret = make_vp_dir(core, dvp, vp->uid, err)) < 0) {
		if (dvp->dir[0])
			rmdir(dvp->dir);
		return ret;
	}
	vp->dir = dvp->dir;
	devns_lock(core);
	for (unsigned d = 0; d < vdev_count; d++) {
		dvp->access[d] = vp_config_device_access(config, vdev_registry[d]->name);
		if (dvp->access[d] == DEV_EXCLUSIVE && core->exclusive[d]) {
			ret = error_set(err, 0, "device %s is held exclusively by VP %s",
					vdev_registry[d]->name, core->exclusive[d]->name);
			goto fail;
		}
	}
	for (unsigned d = 0; d < vdev_count; d++) {
		if (dvp->access[d] == DEV_NONE)
			continue;
		if ((ret = vdev_registry[d]->create(core->global[d], vp, &dvp->state[d],
						    dvp->files[d], &dvp->nfiles[d], err)) < 0)
			goto fail;
		for (unsigned f = 0; f < dvp->nfiles[d]; f++) {
			struct stat st;
			if (dvp->files[d][f].flags & VDEV_FILE_KNOWN_ID)
				continue;
			if (stat(dvp->files[d][f].host_path, &st) < 0) {
				ret = error_set(err, errno, "stat %s", dvp->files[d][f].host_path);
				goto fail;
			}
			dvp->files[d][f].dev = st.st_dev;
			dvp->files[d][f].ino = st.st_ino;
		}
		if (dvp->access[d] == DEV_EXCLUSIVE)
			core->exclusive[d] = dvp;
	}
	devns_unlock(core);
	return 0;
fail:
	devns_unlock(core);
	devns_vp_destroy(dvp);
	return ret;
}

void devns_vp_destroy(struct devns_vp *dvp)
{
	struct devns *core = dvp->core;

	if (!core)
		return;
	if (dvp->active)
		devns_switch(dvp, NULL);
	/* The supervisor threads end first, outside the lock they may be waiting for. */
	devns_vp_close_listeners(dvp);
	devns_lock(core);
	for (unsigned d = vdev_count; d-- > 0;) {
		if (dvp->state[d])
			vdev_registry[d]->destroy(core->global[d], dvp->state[d]);
		dvp->state[d] = NULL;
		dvp->nfiles[d] = 0;
		if (core->exclusive[d] == dvp)
			core->exclusive[d] = NULL;
	}
	devns_unlock(core);
	if (dvp->dir[0])
		rmdir(dvp->dir);
	dvp->core = NULL;
}

void devns_switch(struct devns_vp *from, struct devns_vp *to)
{
	struct devns *core = from && from->core ? from->core : to && to->core ? to->core : NULL;

	if (!core)
		return;
	devns_lock(core);
	if (from && from->core) {
		for (unsigned d = 0; d < vdev_count; d++)
			if (from->state[d] && vdev_registry[d]->deactivate)
				vdev_registry[d]->deactivate(from->core->global[d], from->state[d]);
		from->active = false;
	}
	if (to && to->core) {
		for (unsigned d = 0; d < vdev_count; d++)
			if (to->state[d] && vdev_registry[d]->activate)
				vdev_registry[d]->activate(to->core->global[d], to->state[d]);
		to->active = true;
	}
	devns_unlock(core);
}
