/* What the core offers devices beyond their hooks (DESIGN.md §4): events, commands of
 * their own, their instances by VP name, a persistent directory per VP, how the daemon
 * runs a VP's processes, and the output's brightness. */
#include "devns/core.h"
#include "common/fsutil.h"
#include "devns/fusetree.h"

#include <errno.h>
#include <string.h>

static int device_index(const char *name)
{
	for (unsigned d = 0; d < vdev_count; d++)
		if (strcmp(vdev_registry[d]->name, name) == 0)
			return (int)d;
	return -1;
}

void devns_emit_event(struct devns *core, const char *device, json_t *event)
{
	if (!event)
		return;
	if (!core->host.emit_event) {
		json_decref(event);
		return;
	}
	json_object_set_new(event, "device", json_string(device));
	core->host.emit_event(core->host.ctx, event);
}

void *devns_instance(struct devns *core, const char *vp, const char *device)
{
	int d = device_index(device);

	if (d < 0)
		return NULL;
	for (struct devns_vp *dvp = core->vps; dvp; dvp = dvp->next)
		if (strcmp(dvp->name, vp) == 0)
			return dvp->held ? NULL : dvp->state[d];
	return NULL;
}

json_t *devns_describe(const struct devns *core)
{
	json_t *devices = json_array();

	for (unsigned d = 0; devices && d < vdev_count; d++) {
		const struct vdev_ops *ops = vdev_registry[d];
		json_t *settings = json_array(), *verbs = json_array();

		for (const struct vp_setting_kind *s = ops->settings; s && s->key; s++)
			json_array_append_new(settings, vp_setting_describe(s));
		for (const struct vdev_verb *v = ops->verbs; v && v->name; v++)
			json_array_append_new(verbs, json_pack("{s:s, s:s, s:s}", "name", v->name,
							       "args", v->args ? v->args : "",
							       "help", v->help ? v->help : ""));
		json_array_append_new(devices,
				      json_pack("{s:s, s:s, s:o, s:o}", "name", ops->name,
						"initial", dev_access_name(ops->initial_access),
						"settings", settings, "verbs", verbs));
	}
	(void)core;
	return devices;
}

int devns_run_verb(struct devns *core, const char *device, const char *verb, json_t *args,
		   json_t *reply, struct error *err)
{
	int d = device_index(device);

	if (d < 0)
		return error_set(err, 0, "no device '%s' (`cell device` lists them)", device);
	for (const struct vdev_verb *v = vdev_registry[d]->verbs; v && v->name; v++)
		if (strcmp(v->name, verb) == 0)
			return v->run(core->global[d], args, reply, err);
	return error_set(err, 0, "device %s has no command '%s' (`cell device` lists them)", device,
			 verb);
}

int vdev_persist_dir(const struct vdev_vp *vp, char *out, size_t size, struct error *err)
{
	int ret;

	if (!vp->persist_base || !vp->device)
		return error_set(err, ENOENT, "VP %s has no state directory", vp->name);
	if ((size_t)snprintf(out, size, "%s/%s", vp->persist_base, vp->device) >= size)
		return error_set(err, ENAMETOOLONG, "the state directory of VP %s", vp->name);
	if ((ret = mkdir_p(out, 0700)) < 0)
		return error_set(err, ret, "create %s", out);
	return 0;
}

int devns_watch(struct devns *core, struct loop_watch *w, uint32_t events)
{
	return loop_add(core->loop, w, events);
}

void devns_unwatch(struct devns *core, struct loop_watch *w)
{
	loop_del(core->loop, w);
}

void devns_fusetree_config(struct devns *core, struct fusetree_config *config)
{
	config->loop = core->loop;
	config->lock = &core->lock;
}

int devns_vp_schedule(struct devns *core, const char *vp, const struct devns_vp_sched *s,
		      struct error *err)
{
	if (!core->host.vp_schedule)
		return error_set(err, ENOTSUP, "VP %s: the daemon cannot hold VPs back", vp);
	return core->host.vp_schedule(core->host.ctx, vp, s, err);
}

void devns_vp_hold(struct devns_vp *dvp, bool held)
{
	devns_lock(dvp->core);
	dvp->held = held;
	devns_unlock(dvp->core);
}

int devns_vp_wake(struct devns *core, const char *vp, unsigned ms)
{
	struct devns_vp *dvp;

	for (dvp = core->vps; dvp; dvp = dvp->next)
		if (strcmp(dvp->name, vp) == 0)
			break;
	if (!dvp || dvp->held)
		return -ENOENT;
	for (unsigned d = 0; d < vdev_count; d++)
		if (dvp->state[d] && vdev_registry[d]->wake)
			vdev_registry[d]->wake(core->global[d], dvp->state[d], ms);
	return 0;
}

void devns_system_key(struct devns *core, enum devns_system_key key)
{
	for (unsigned d = 0; d < vdev_count; d++)
		if (core->global[d] && vdev_registry[d]->system_key)
			vdev_registry[d]->system_key(core->global[d], key);
}

void devns_output_brightness(struct devns *core, unsigned level, unsigned max)
{
	atomic_store(&core->output_scale, max ? (level * 256 + max / 2) / max : 256);
}

void devns_dim(const struct devns *core, uint32_t *pixels, size_t n)
{
	unsigned scale = atomic_load(&core->output_scale);

	if (scale >= 256)
		return;
	for (size_t i = 0; i < n; i++) {
		uint32_t p = pixels[i];
		/* Red and blue together, then green: two multiplies a pixel. */
		uint32_t rb = ((p & 0xff00ffu) * scale >> 8) & 0xff00ffu;
		uint32_t g = ((p & 0x00ff00u) * scale >> 8) & 0x00ff00u;
		pixels[i] = (p & 0xff000000u) | rb | g;
	}
}
