/* A VP's power files on the core's FUSE tree server: one mount, shown at
 * /sys/devices/platform/cells-power, which the VP's /sys links to (/sys/power,
 * /sys/class/backlight/panel, /sys/class/leds/NAME). Every handler runs with the device
 * lock held (the tree's rule) and hands the text to power.c. */
#include "devices/power_internal.h"
#include "devns/devns.h"
#include "devns/fusetree.h"

#include <errno.h>
#include <stdio.h>

#define MAX_OPENS 64 /* a VP's open power files at most */

static ssize_t attr_show(void *data, char *buf, size_t size)
{
	return power_show(data, buf, size);
}

static ssize_t attr_store(void *data, const char *buf, size_t len)
{
	return power_store(data, buf, len);
}

static const struct fusetree_attr_ops rw_ops = {.show = attr_show, .store = attr_store};
static const struct fusetree_attr_ops ro_ops = {.show = attr_show};

static int add(struct power_vp *v, struct fusetree_node *dir, unsigned *n, const char *name,
	       enum power_file file, unsigned led, bool writable, struct error *err)
{
	struct power_attr *a = &v->attrs[(*n)++];

	*a = (struct power_attr){.v = v, .file = file, .led = led};
	return fusetree_add_attr(dir, name, writable ? 0644 : 0444, writable ? &rw_ops : &ro_ops, a,
				 NULL, err);
}

static int add_nodes(struct power_vp *v, struct error *err)
{
	struct fusetree_node *root = fusetree_root(v->tree), *dir;
	unsigned n = 0;
	char path[32];
	int ret;

	if ((ret = fusetree_add_dirs(root, "power", 0755, &dir, err)) < 0 ||
	    (ret = add(v, dir, &n, "wake_lock", PF_WAKE_LOCK, 0, true, err)) < 0 ||
	    (ret = add(v, dir, &n, "wake_unlock", PF_WAKE_UNLOCK, 0, true, err)) < 0 ||
	    (ret = add(v, dir, &n, "state", PF_STATE, 0, true, err)) < 0)
		return ret;
	if ((ret = fusetree_add_dirs(root, "backlight/panel", 0755, &dir, err)) < 0 ||
	    (ret = add(v, dir, &n, "brightness", PF_BRIGHTNESS, 0, true, err)) < 0 ||
	    (ret = add(v, dir, &n, "max_brightness", PF_MAX_BRIGHTNESS, 0, false, err)) < 0 ||
	    (ret = add(v, dir, &n, "actual_brightness", PF_ACTUAL_BRIGHTNESS, 0, false, err)) < 0 ||
	    (ret = add(v, dir, &n, "bl_power", PF_BL_POWER, 0, true, err)) < 0 ||
	    (ret = add(v, dir, &n, "type", PF_TYPE, 0, false, err)) < 0)
		return ret;
	for (unsigned i = 0; i < POWER_LEDS; i++) {
		snprintf(path, sizeof(path), "leds/%s", power_led_names[i]);
		if ((ret = fusetree_add_dirs(root, path, 0755, &dir, err)) < 0 ||
		    (ret = add(v, dir, &n, "brightness", PF_LED_BRIGHTNESS, i, true, err)) < 0 ||
		    (ret = add(v, dir, &n, "max_brightness", PF_LED_MAX_BRIGHTNESS, i, false,
			       err)) < 0)
			return ret;
	}
	return 0;
}

int power_fs_create(struct power_vp *v, uid_t uid, struct error *err)
{
	struct fusetree_config tc = {
		.mountpoint = v->mountpoint,
		.name = "cells-power",
		.uid = uid,
		.gid = uid,
		.root_mode = 0755,
		.max_opens = MAX_OPENS,
	};
	int ret;

	devns_fusetree_config(v->dev->core, &tc);
	if ((ret = fusetree_create(&v->tree, &tc, err)) < 0)
		return ret;
	if ((ret = add_nodes(v, err)) < 0) {
		power_fs_destroy(v);
		return ret;
	}
	return 0;
}

void power_fs_destroy(struct power_vp *v)
{
	if (v->tree)
		fusetree_destroy(v->tree);
	v->tree = NULL;
}
