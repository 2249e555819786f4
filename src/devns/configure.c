/* A running VP's config changed: its devices take their new settings. */
#include "devns/core.h"
#include "common/log.h"

#include <string.h>

/* Calls FN(KEY, VALUE) for each setting of device D whose value differs between OLD and
 * NEW, stopping at the first that fails. */
static int each_change(const struct vp_config *old, const struct vp_config *new, unsigned d,
		       int (*fn)(struct devns_vp *, unsigned, const char *, const char *,
				 struct error *),
		       struct devns_vp *dvp, struct error *err)
{
	const struct vp_device_config *after = vp_config_device(new, vdev_registry[d]->name);
	int ret;

	for (unsigned i = 0; after && i < after->nsettings; i++) {
		const char *key = after->settings[i].key;
		const char *was = vp_config_setting(old, vdev_registry[d]->name, key);
		if (was && strcmp(was, after->settings[i].value) == 0)
			continue;
		if ((ret = fn(dvp, d, key, after->settings[i].value, err)) < 0)
			return ret;
	}
	return 0;
}

static int can_take(struct devns_vp *dvp, unsigned d, const char *key, const char *value,
		    struct error *err)
{
	(void)value;
	if (!vdev_registry[d]->configure)
		return error_set(err, 0, "VP %s is running: stop it to change --%s", dvp->name,
				 key);
	return 0;
}

static int take(struct devns_vp *dvp, unsigned d, const char *key, const char *value,
		struct error *err)
{
	return vdev_registry[d]->configure(dvp->core->global[d], dvp->state[d], key, value, err);
}

int devns_vp_configure(struct devns_vp *dvp, const struct vp_config *old,
		       const struct vp_config *new, struct error *err)
{
	unsigned d;
	int ret = 0;

	for (d = 0; d < vdev_count; d++)
		if (dvp->state[d] && (ret = each_change(old, new, d, can_take, dvp, err)) < 0)
			return ret;
	for (d = 0; d < vdev_count; d++)
		if (dvp->state[d] && (ret = each_change(old, new, d, take, dvp, err)) < 0)
			break;
	if (ret == 0)
		return 0;
	/* Back to the old values, for the device that refused and those before it. */
	for (d++; d-- > 0;) {
		struct error ignored = {{0}};
		if (dvp->state[d] && each_change(new, old, d, take, dvp, &ignored) < 0)
			log_warn("VP %s: device %s keeps a setting it refused to undo: %s",
				 dvp->name, vdev_registry[d]->name, ignored.msg);
	}
	return ret;
}
