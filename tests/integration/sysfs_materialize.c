/* sysfs-materialize: writes the /sys and /run/udev a VP would have for its devices
 * (src/devices/sysfs_layout.h) as plain files under DIR, from what the devices answer:
 * it opens /dev/fb0 and /dev/input/event0..N, asks them the ioctls a program asks
 * (FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO, EVIOCGID, EVIOCGNAME, EVIOCGPHYS,
 * EVIOCGUNIQ, EVIOCGPROP, EVIOCGBIT of every type) and lays out what they said. Run in a
 * VP, it proves the layout from the VP's real devices, without the FUSE server that will
 * serve it (tests/integration/test_sysfs_layout.py binds DIR over the VP's /sys and
 * /run/udev and asks udevadm and libudev). Built static, to run in any image.
 *
 *   sysfs-materialize DIR [USEC]      DIR is made if missing; USEC: the "I:" of the udev database
 * (default: now)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/evdev.h"
#include "devices/sysfs_layout.h"

static int die(const char *what)
{
	fprintf(stderr, "sysfs-materialize: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void bits(int fd, unsigned type, uint8_t *out, size_t size)
{
	if (ioctl(fd, EVIOCGBIT(type, size), out) < 0)
		die("EVIOCGBIT");
}

static void string(int fd, unsigned long request, char *out, size_t size)
{
	memset(out, 0, size);
	/* ENOENT: the device has none, which sysfs shows as an empty line. */
	if (ioctl(fd, request, out) < 0 && errno != ENOENT)
		die("EVIOCG string");
	out[size - 1] = '\0';
}

/* DEV as the kernel's evdev describes it to a reader. */
static int describe(const char *path, struct evdev *dev)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	memset(dev, 0, sizeof(*dev));
	if (ioctl(fd, EVIOCGID, &dev->id) < 0)
		die("EVIOCGID");
	string(fd, EVIOCGNAME(sizeof(dev->name)), dev->name, sizeof(dev->name));
	string(fd, EVIOCGPHYS(sizeof(dev->phys)), dev->phys, sizeof(dev->phys));
	string(fd, EVIOCGUNIQ(sizeof(dev->uniq)), dev->uniq, sizeof(dev->uniq));
	if (ioctl(fd, EVIOCGPROP(sizeof(dev->propbit)), dev->propbit) < 0)
		die("EVIOCGPROP");
	bits(fd, 0, dev->evbit, sizeof(dev->evbit));
	bits(fd, EV_KEY, dev->keybit, sizeof(dev->keybit));
	bits(fd, EV_REL, dev->relbit, sizeof(dev->relbit));
	bits(fd, EV_ABS, dev->absbit, sizeof(dev->absbit));
	bits(fd, EV_MSC, dev->mscbit, sizeof(dev->mscbit));
	bits(fd, EV_LED, dev->ledbit, sizeof(dev->ledbit));
	bits(fd, EV_SND, dev->sndbit, sizeof(dev->sndbit));
	bits(fd, EV_FF, dev->ffbit, sizeof(dev->ffbit));
	bits(fd, EV_SW, dev->swbit, sizeof(dev->swbit));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sysfs_tree tree;
	struct error err;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	struct timespec now;
	uint64_t usec;
	unsigned n = 0;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: sysfs-materialize DIR [USEC]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	usec = argc == 3 ? strtoull(argv[2], NULL, 10)
			 : (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
	sysfs_tree_init(&tree);
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST)
		die(argv[1]);
	if ((fd = open("/dev/fb0", O_RDWR | O_CLOEXEC)) < 0)
		die("/dev/fb0");
	if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0)
		die("FBIOGET_*SCREENINFO");
	close(fd);
	if (sysfs_layout_fb(&tree, 0, &var, &fix, usec, &err) < 0)
		goto fail;
	for (;; n++) {
		struct evdev dev;
		char path[64];
		snprintf(path, sizeof(path), "/dev/input/event%u", n);
		if (describe(path, &dev) < 0) {
			if (errno == ENOENT)
				break;
			die(path);
		}
		if (sysfs_layout_input(&tree, &dev, n, n, usec, &err) < 0)
			goto fail;
	}
	if (sysfs_layout_vt(&tree, 1, 1, &err) < 0 || sysfs_tree_write(&tree, argv[1], &err) < 0)
		goto fail;
	printf("nodes %zu inputs %u\n", tree.n, n);
	sysfs_tree_free(&tree);
	return 0;
fail:
	fprintf(stderr, "sysfs-materialize: %s\n", err.msg);
	sysfs_tree_free(&tree);
	return 1;
}
