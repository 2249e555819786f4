/* A VP's /sys and /run/udev for its devices: see sysfs_layout.h. The paths, attribute
 * sets and modes are the kernel's (fbsysfs.c's device_attrs, input.c's attribute groups,
 * evdev.c's and vt.c's class devices, the driver core's uevent, subsystem, device,
 * driver links and /sys/dev/char). */
#include "devices/sysfs_layout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/sysfs_format.h"
#include "devices/udev_db.h"

#define FB_DRIVER "cells-fb"

/* The text of a file is never longer than a page. */
typedef char page_t[SYSFS_PAGE];

/* A file at DIR/NAME with TEXT (or the error of the formatter that made it). */
static int file_at(struct sysfs_tree *t, const char *dir, const char *name, unsigned mode, int len,
		   const char *text, struct error *err)
{
	char path[SYSFS_PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return error_set(err, ENAMETOOLONG, "sysfs: %s/%s", dir, name);
	if (len < 0)
		return error_set(err, -len, "sysfs: %s", path);
	return sysfs_tree_file(t, path, mode, text, err);
}

static int link_at(struct sysfs_tree *t, const char *dir, const char *name, const char *target,
		   struct error *err)
{
	char path[SYSFS_PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return error_set(err, ENAMETOOLONG, "sysfs: %s/%s", dir, name);
	return sysfs_tree_link(t, path, target, err);
}

/* A udev database file run/udev/data/ID, and run/udev/tags/TAG/ID for each tag. */
static int udev_db(struct sysfs_tree *t, const char *id, uint64_t usec, const char *const *props,
		   unsigned nprops, const char *const *tags, unsigned ntags, struct error *err)
{
	char path[SYSFS_PATH_MAX];
	page_t text;
	int len = udev_db_text(text, sizeof(text), usec, props, nprops, tags, ntags);
	int ret;

	snprintf(path, sizeof(path), "run/udev/data/%s", id);
	if (len < 0)
		return error_set(err, -len, "udev database %s", id);
	if ((ret = sysfs_tree_file(t, path, 0644, text, err)) < 0)
		return ret;
	for (unsigned i = 0; i < ntags; i++) {
		snprintf(path, sizeof(path), "run/udev/tags/%s/%s", tags[i], id);
		if ((ret = sysfs_tree_file(t, path, 0644, "", err)) < 0)
			return ret;
	}
	return 0;
}

/* What a device with a device node has: dev, uevent, subsystem, and its /sys/dev/char
 * and /sys/class links. */
static int char_device(struct sysfs_tree *t, const char *dir, const char *class, const char *name,
		       unsigned major, unsigned minor, const char *devname, struct error *err)
{
	char path[SYSFS_PATH_MAX], target[SYSFS_PATH_MAX];
	page_t text;
	int ret, len;

	snprintf(text, sizeof(text), "%u:%u\n", major, minor);
	if ((ret = file_at(t, dir, "dev", 0444, 0, text, err)) < 0)
		return ret;
	len = sysfs_devnode_uevent(text, sizeof(text), major, minor, devname);
	if ((ret = file_at(t, dir, "uevent", 0644, len, text, err)) < 0)
		return ret;
	snprintf(target, sizeof(target), "sys/class/%s", class);
	if ((ret = link_at(t, dir, "subsystem", target, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "sys/dev/char/%u:%u", major, minor);
	if ((ret = sysfs_tree_link(t, path, dir, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "sys/class/%s/%s", class, name);
	return sysfs_tree_link(t, path, dir, err);
}

/* fbsysfs.c's device_attrs, with their modes (bl_curve only with a backlight). */
static const struct {
	const char *name;
	unsigned mode;
} fb_attrs[] = {
	{"bits_per_pixel", 0644}, {"blank", 0644},  {"console", 0644}, {"cursor", 0644},
	{"mode", 0644},		  {"modes", 0644},  {"pan", 0644},     {"virtual_size", 0644},
	{"name", 0444},		  {"stride", 0444}, {"rotate", 0644},  {"state", 0644},
};

/* The platform device the framebuffer hangs from, bound to its driver. */
static int fb_parent(struct sysfs_tree *t, const char *dir, const char *device, struct error *err)
{
	char path[SYSFS_PATH_MAX];
	page_t text;
	int ret;

	snprintf(text, sizeof(text), "DRIVER=%s\nMODALIAS=platform:%s\n", FB_DRIVER, FB_DRIVER);
	if ((ret = file_at(t, dir, "uevent", 0644, 0, text, err)) < 0)
		return ret;
	snprintf(text, sizeof(text), "platform:%s\n", FB_DRIVER);
	if ((ret = file_at(t, dir, "modalias", 0444, 0, text, err)) < 0)
		return ret;
	if ((ret = file_at(t, dir, "driver_override", 0644, 0, "(null)\n", err)) < 0 ||
	    (ret = link_at(t, dir, "subsystem", "sys/bus/platform", err)) < 0 ||
	    (ret = link_at(t, dir, "driver", "sys/bus/platform/drivers/" FB_DRIVER, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "sys/bus/platform/devices/%s", device);
	if ((ret = sysfs_tree_link(t, path, dir, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "sys/bus/platform/drivers/%s/%s", FB_DRIVER, device);
	return sysfs_tree_link(t, path, dir, err);
}

int sysfs_layout_fb(struct sysfs_tree *t, unsigned index, const struct fb_var_screeninfo *var,
		    const struct fb_fix_screeninfo *fix, uint64_t usec, struct error *err)
{
	static const char *const tags[] = {"seat"};
	char device[64], parent[SYSFS_PATH_MAX], dir[SYSFS_PATH_MAX], name[32], devname[32], id[32];
	page_t text;
	int ret;

	snprintf(device, sizeof(device), "%s.%u", FB_DRIVER, index);
	snprintf(parent, sizeof(parent), "sys/devices/platform/%s", device);
	snprintf(name, sizeof(name), "fb%u", index);
	snprintf(dir, sizeof(dir), "%s/graphics/%s", parent, name);
	if ((ret = fb_parent(t, parent, device, err)) < 0)
		return ret;
	for (size_t i = 0; i < sizeof(fb_attrs) / sizeof(fb_attrs[0]); i++) {
		int len = sysfs_fb_attr(text, sizeof(text), var, fix, fb_attrs[i].name);
		if ((ret = file_at(t, dir, fb_attrs[i].name, fb_attrs[i].mode, len, text, err)) < 0)
			return ret;
		/* The node just added: its text follows the mode. */
		t->nodes[t->n - 1].live = true;
	}
	snprintf(devname, sizeof(devname), "%s", name);
	if ((ret = char_device(t, dir, "graphics", name, SYSFS_FB_MAJOR, index, devname, err)) < 0)
		return ret;
	snprintf(text, sizeof(text), "sys/devices/platform/%s", device);
	if ((ret = link_at(t, dir, "device", text, err)) < 0)
		return ret;
	snprintf(id, sizeof(id), "c%u:%u", SYSFS_FB_MAJOR, index);
	return udev_db(t, id, usec, NULL, 0, tags, 1, err);
}

/* input.c's attribute groups of an input device. */
static const char *const input_attrs[] = {
	"name",
	"phys",
	"uniq",
	"modalias",
	"properties",
	"id/bustype",
	"id/vendor",
	"id/product",
	"id/version",
	"capabilities/ev",
	"capabilities/key",
	"capabilities/rel",
	"capabilities/abs",
	"capabilities/msc",
	"capabilities/led",
	"capabilities/snd",
	"capabilities/ff",
	"capabilities/sw",
	"uevent",
};

int sysfs_layout_input(struct sysfs_tree *t, const struct evdev *dev, unsigned input,
		       unsigned event, uint64_t usec, struct error *err)
{
	static const char *const tags[] = {"seat"};
	char dir[SYSFS_PATH_MAX], evdir[SYSFS_PATH_MAX], path[SYSFS_PATH_MAX], name[32], evname[32],
		devname[48], id[48];
	const char *props[UDEV_INPUT_PROPS_MAX];
	unsigned nprops = udev_input_props(dev, props);
	page_t text, compat;
	int ret;

	if (event >= SYSFS_EVDEV_MAX)
		return error_set(err, EINVAL, "sysfs: event%u has no fixed minor", event);
	snprintf(name, sizeof(name), "input%u", input);
	snprintf(evname, sizeof(evname), "event%u", event);
	snprintf(dir, sizeof(dir), "sys/devices/virtual/input/%s", name);
	snprintf(evdir, sizeof(evdir), "%s/%s", dir, evname);
	for (size_t i = 0; i < sizeof(input_attrs) / sizeof(input_attrs[0]); i++) {
		int len = sysfs_input_attr(text, sizeof(text), dev, input_attrs[i], false);
		unsigned mode = strcmp(input_attrs[i], "uevent") == 0 ? 0644 : 0444;
		if ((ret = file_at(t, dir, input_attrs[i], mode, len, text, err)) < 0)
			return ret;
		/* A 32-bit reader gets the bitmaps in 32-bit words. */
		len = sysfs_input_attr(compat, sizeof(compat), dev, input_attrs[i], true);
		if (len < 0)
			return error_set(err, -len, "sysfs: %s/%s", dir, input_attrs[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, input_attrs[i]);
		if (strcmp(compat, text) != 0 &&
		    (ret = sysfs_tree_set_compat(t, path, compat, err)) < 0)
			return ret;
	}
	if ((ret = file_at(t, dir, "inhibited", 0644, 0, "0\n", err)) < 0 ||
	    (ret = link_at(t, dir, "subsystem", "sys/class/input", err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "sys/class/input/%s", name);
	if ((ret = sysfs_tree_link(t, path, dir, err)) < 0)
		return ret;

	snprintf(devname, sizeof(devname), "input/%s", evname);
	if ((ret = char_device(t, evdir, "input", evname, SYSFS_INPUT_MAJOR,
			       SYSFS_EVDEV_MINOR + event, devname, err)) < 0 ||
	    (ret = link_at(t, evdir, "device", dir, err)) < 0)
		return ret;

	/* udev's input_id runs on both and finds the same capabilities (the event node's
	 * are its parent's); 71-seat.rules tags the input device only. */
	snprintf(id, sizeof(id), "+input:%s", name);
	if ((ret = udev_db(t, id, usec, props, nprops, tags, 1, err)) < 0)
		return ret;
	snprintf(id, sizeof(id), "c%u:%u", SYSFS_INPUT_MAJOR, SYSFS_EVDEV_MINOR + event);
	return udev_db(t, id, usec, props, nprops, NULL, 0, err);
}

static int tty(struct sysfs_tree *t, unsigned n, unsigned active, struct error *err)
{
	char dir[SYSFS_PATH_MAX], name[16], id[32], text[32];
	int ret;

	snprintf(name, sizeof(name), "tty%u", n);
	snprintf(dir, sizeof(dir), "sys/devices/virtual/tty/%s", name);
	if ((ret = char_device(t, dir, "tty", name, SYSFS_TTY_MAJOR, n, name, err)) < 0)
		return ret;
	if (n == 0) {
		/* vt.c's show_tty_active: the foreground console. */
		snprintf(text, sizeof(text), "tty%u\n", active);
		if ((ret = file_at(t, dir, "active", 0444, 0, text, err)) < 0)
			return ret;
	}
	snprintf(id, sizeof(id), "c%u:%u", SYSFS_TTY_MAJOR, n);
	return udev_db(t, id, 0, NULL, 0, NULL, 0, err);
}

int sysfs_layout_vt(struct sysfs_tree *t, unsigned nr, unsigned active, struct error *err)
{
	int ret;

	if (nr < 1 || nr > 63 || active < 1 || active > nr)
		return error_set(err, EINVAL, "sysfs: %u consoles, tty%u active", nr, active);
	for (unsigned n = 0; n <= nr; n++)
		if ((ret = tty(t, n, active, err)) < 0)
			return ret;
	return 0;
}

int sysfs_layout_modem(struct sysfs_tree *t, const char *name, unsigned major, unsigned minor,
		       struct error *err)
{
	static const char *const props[] = {"ID_MM_CANDIDATE", "ID_MM_DEVICE_PROCESS",
					    "ID_MM_PORT_TYPE_AT_PRIMARY", "OFONO_DRIVER=cinterion"};
	char dir[SYSFS_PATH_MAX], id[32];
	int ret;

	if (!name[0] || strlen(name) > 32 || strchr(name, '/'))
		return error_set(err, EINVAL, "sysfs: a modem port named '%s'", name);
	snprintf(dir, sizeof(dir), "sys/devices/virtual/tty/%s", name);
	if ((ret = char_device(t, dir, "tty", name, major, minor, name, err)) < 0)
		return ret;
	snprintf(id, sizeof(id), "c%u:%u", major, minor);
	return udev_db(t, id, 0, props, sizeof(props) / sizeof(props[0]), NULL, 0, err);
}
