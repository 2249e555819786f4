/* udevprobe: discovers a VP's devices through libudev the way real programs do, and
 * prints what it found as lines, for tests/integration/test_sysfs_layout.py. Built
 * dynamically against the host's libudev (Debian's systemd 252) and run inside a VP.
 *
 *   udevprobe qt           Qt's evdev discovery (QDeviceDiscoveryUDev::scanConnectedDevices
 *                          for touchscreens, then keyboards): "qt touchscreen NODE", ...
 *   udevprobe xorg         Xorg's config/udev.c (config_udev_init, device_added): every
 *                          input/tty/drm device with a node and ID_INPUT set:
 *                          "xorg NODE name=NAME usb_id=V:P flags=touchscreen,..."
 *   udevprobe fb           the graphics device fb0: "fb NODE parent=SUBSYSTEM driver=D
 *                          initialized=0|1" or "fb none", and Xorg's fbdev probe
 *                          (fbdevhw.c, fbdev_open): "fbdev-probe ok|refused LINK"
 *   udevprobe monitor      Xorg's config_udev_pre_init and Qt's monitor: a monitor of udev's
 *                          events for input, bound: "monitor ok FD" or "monitor failed"
 *   udevprobe devnum MAJ MIN   the char device MAJ:MIN by number (libinput's way):
 *                          "devnum SYSPATH initialized=0|1 NAME=VALUE..."
 */
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *or_none(const char *s)
{
	return s ? s : "(none)";
}

/* Qt: subsystems input and drm, one ID_INPUT_* property; the nodes under /dev/input/event. */
static int qt_scan(struct udev *udev, const char *kind, const char *const *props)
{
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *entry;

	udev_enumerate_add_match_subsystem(e, "input");
	udev_enumerate_add_match_subsystem(e, "drm");
	for (; *props; props++)
		udev_enumerate_add_match_property(e, *props, "1");
	if (udev_enumerate_scan_devices(e) != 0) {
		fprintf(stderr, "udevprobe: scan failed\n");
		return 1;
	}
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e))
	{
		struct udev_device *d =
			udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
		const char *node = d ? udev_device_get_devnode(d) : NULL;
		if (node && strncmp(node, "/dev/input/event", 16) == 0)
			printf("qt %s %s\n", kind, node);
		if (d)
			udev_device_unref(d);
	}
	udev_enumerate_unref(e);
	return 0;
}

static int qt(struct udev *udev)
{
	static const char *const touch[] = {"ID_INPUT_TOUCHSCREEN", NULL};
	static const char *const keyboard[] = {"ID_INPUT_KEYBOARD", "ID_INPUT_KEY", NULL};

	return qt_scan(udev, "touchscreen", touch) || qt_scan(udev, "keyboard", keyboard);
}

static void xorg_device(struct udev_device *d)
{
	static const char *const flags[] = {
		"ID_INPUT_KEY",	   "ID_INPUT_KEYBOARD", "ID_INPUT_MOUSE",	"ID_INPUT_JOYSTICK",
		"ID_INPUT_TABLET", "ID_INPUT_TOUCHPAD", "ID_INPUT_TOUCHSCREEN", NULL};
	const char *node = udev_device_get_devnode(d), *value, *name = NULL, *product = NULL;
	const char *seat = udev_device_get_property_value(d, "ID_SEAT");
	struct udev_device *parent;
	unsigned vendor, model;
	char usb_id[16] = "";

	if (!node || !udev_device_get_syspath(d) || (seat && strcmp(seat, "seat0") != 0))
		return;
	value = udev_device_get_property_value(d, "ID_INPUT");
	if (!value || strcmp(value, "0") == 0)
		return;
	parent = udev_device_get_parent(d);
	if (parent) {
		product = udev_device_get_property_value(parent, "PRODUCT");
		name = udev_device_get_sysattr_value(parent, "name");
		if (!name)
			name = udev_device_get_property_value(parent, "NAME");
	}
	if (product && sscanf(product, "%*x/%4x/%4x/%*x", &vendor, &model) == 2)
		snprintf(usb_id, sizeof(usb_id), "%04x:%04x", vendor, model);
	printf("xorg %s name=%s usb_id=%s flags=", node, name ? name : "(unnamed)", usb_id);
	for (const char *const *f = flags; *f; f++) {
		value = udev_device_get_property_value(d, *f);
		if (value && strcmp(value, "0") != 0)
			printf("%s,", *f + strlen("ID_INPUT_"));
	}
	printf("\n");
}

static int xorg(struct udev *udev)
{
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *entry;

	udev_enumerate_add_match_subsystem(e, "input");
	udev_enumerate_add_match_subsystem(e, "tty");
	udev_enumerate_add_match_subsystem(e, "drm");
	udev_enumerate_scan_devices(e);
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e))
	{
		struct udev_device *d =
			udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
		if (!d)
			continue;
		xorg_device(d);
		udev_device_unref(d);
	}
	udev_enumerate_unref(e);
	return 0;
}

static int fb(struct udev *udev)
{
	struct udev_device *d = udev_device_new_from_subsystem_sysname(udev, "graphics", "fb0");
	struct udev_device *parent;
	char buf[PATH_MAX] = "";
	ssize_t n;

	if (d) {
		parent = udev_device_get_parent(d);
		printf("fb %s parent=%s driver=%s initialized=%d\n",
		       or_none(udev_device_get_devnode(d)),
		       parent ? or_none(udev_device_get_subsystem(parent)) : "(none)",
		       parent ? or_none(udev_device_get_driver(parent)) : "(none)",
		       udev_device_get_is_initialized(d));
		udev_device_unref(d);
	} else
		printf("fb none\n");
	/* fbdevhw.c's fbdev_open: only a framebuffer whose device is not on the PCI bus. */
	n = readlink("/sys/class/graphics/fb0/device/subsystem", buf, sizeof(buf) - 1);
	if (n >= 0)
		buf[n] = '\0';
	printf("fbdev-probe %s %s\n", n >= 0 && !strstr(buf, "bus/pci") ? "ok" : "refused", buf);
	return 0;
}

static int monitor(struct udev *udev)
{
	struct udev_monitor *m = udev_monitor_new_from_netlink(udev, "udev");

	if (!m || udev_monitor_filter_add_match_subsystem_devtype(m, "input", NULL) < 0 ||
	    udev_monitor_enable_receiving(m) < 0) {
		printf("monitor failed\n");
		if (m)
			udev_monitor_unref(m);
		return 0;
	}
	printf("monitor ok %d\n", udev_monitor_get_fd(m) >= 0);
	udev_monitor_unref(m);
	return 0;
}

static int devnum(struct udev *udev, unsigned maj, unsigned min)
{
	struct udev_device *d = udev_device_new_from_devnum(udev, 'c', makedev(maj, min));
	struct udev_list_entry *entry;

	if (!d) {
		printf("devnum none\n");
		return 0;
	}
	printf("devnum %s initialized=%d", udev_device_get_syspath(d),
	       udev_device_get_is_initialized(d));
	udev_list_entry_foreach(entry, udev_device_get_properties_list_entry(d))
	{
		printf(" %s=%s", udev_list_entry_get_name(entry),
		       or_none(udev_list_entry_get_value(entry)));
	}
	printf("\n");
	udev_device_unref(d);
	return 0;
}

int main(int argc, char **argv)
{
	struct udev *udev = udev_new();
	int ret = 2;

	if (!udev) {
		perror("udev_new");
		return 1;
	}
	if (argc == 2 && strcmp(argv[1], "qt") == 0)
		ret = qt(udev);
	else if (argc == 2 && strcmp(argv[1], "xorg") == 0)
		ret = xorg(udev);
	else if (argc == 2 && strcmp(argv[1], "fb") == 0)
		ret = fb(udev);
	else if (argc == 2 && strcmp(argv[1], "monitor") == 0)
		ret = monitor(udev);
	else if (argc == 4 && strcmp(argv[1], "devnum") == 0)
		ret = devnum(udev, (unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	else
		fprintf(stderr, "usage: udevprobe qt | xorg | fb | monitor | devnum MAJOR MINOR\n");
	udev_unref(udev);
	return ret;
}
