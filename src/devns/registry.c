/* The registry of virtual devices, each VP's instances of them, and the switch. */
#include "devns/core.h"
#include "devns/internal.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct vdev_ops vdev_power;
extern const struct vdev_ops vdev_display;
extern const struct vdev_ops vdev_input;
extern const struct vdev_ops vdev_vt;
extern const struct vdev_ops vdev_wifi;
extern const struct vdev_ops vdev_net;
extern const struct vdev_ops vdev_tun;
extern const struct vdev_ops vdev_telephony;
extern const struct vdev_ops vdev_telephony;

/* One line per device. The order is the order of activation on a switch: power first, so
 * that a VP held back in the background is thawed before its other devices activate. */
const struct vdev_ops *const vdev_registry[] = {
	&vdev_power,
	&vdev_display,
	&vdev_input,
	&vdev_vt,
	&vdev_wifi,
	&vdev_net,
	&vdev_tun,
	&vdev_telephony,
};
const unsigned vdev_count = sizeof(vdev_registry) / sizeof(vdev_registry[0]);
_Static_assert(sizeof(vdev_registry) / sizeof(vdev_registry[0]) <= DEVNS_MAX_DEVICES,
	       "more devices registered than DEVNS_MAX_DEVICES");

int devns_init(struct devns *core, struct loop *loop, const char *dir,
	       const struct devns_host *host, struct error *err)
{
	int ret;

	memset(core, 0, sizeof(*core));
	core->loop = loop;
	core->host = *host;
	pthread_mutex_init(&core->lock, NULL);
	snprintf(core->dir, sizeof(core->dir), "%s", dir);
	for (unsigned d = 0; d < vdev_count; d++)
		core->kinds[d] = (struct vp_device_kind){
			.name = vdev_registry[d]->name,
			.initial = vdev_registry[d]->initial_access,
			.settings = vdev_registry[d]->settings,
			.check = vdev_registry[d]->check_setting,
		};
	core->catalog = (struct vp_catalog){.devices = core->kinds, .ndevices = vdev_count};
	atomic_store(&core->output_scale, 256);
	if ((ret = vp_catalog_check(&core->catalog, err)) < 0)
		return ret;
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

unsigned devns_option_values(const struct devns *core, const char *name, const char **values,
			     unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < core->host.noptions; i++)
		if (strcmp(core->host.options[i].name, name) == 0) {
			if (n < max)
				values[n] = core->host.options[i].value;
			n++;
		}
	return n;
}

const struct vp_catalog *devns_catalog(const struct devns *core)
{
	return &core->catalog;
}

const char *vdev_setting(const struct vdev_vp *vp, const char *key)
{
	for (unsigned i = 0; vp->config && i < vp->config->nsettings; i++)
		if (strcmp(vp->config->settings[i].key, key) == 0)
			return vp->config->settings[i].value;
	return NULL;
}

void devns_panel_size(const struct devns *core, unsigned *width, unsigned *height)
{
	*width = core->host.screen_width;
	*height = core->host.screen_height;
}

void devns_request_switch(struct devns *core, int direction)
{
	if (core->host.request_switch)
		core->host.request_switch(core->host.ctx, direction);
}

int devns_request_foreground(struct devns *core, const char *vp)
{
	if (!core->host.request_foreground)
		return -ENOSYS;
	return core->host.request_foreground(core->host.ctx, vp);
}

void devns_announce(struct devns *core, const char *device, const char *text)
{
	devns_lock(core);
	for (unsigned d = 0; d < vdev_count; d++)
		if (vdev_registry[d]->announce && core->global[d])
			vdev_registry[d]->announce(core->global[d], device, text);
	devns_unlock(core);
}

const struct vdev_option *devns_find_option(const char *name, const struct vdev_ops **device)
{
	for (unsigned d = 0; d < vdev_count; d++)
		for (const struct vdev_option *o = vdev_registry[d]->options; o && o->name; o++)
			if (strcmp(o->name, name) == 0) {
				*device = vdev_registry[d];
				return o;
			}
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
	struct vdev_vp who = {.name = to ? to->name : NULL, .id = to ? to->id : 0};
	for (unsigned d = 0; d < vdev_count; d++)
		if (vdev_registry[d]->switched && core->global[d])
			vdev_registry[d]->switched(core->global[d], to ? &who : NULL);
	devns_unlock(core);
}
