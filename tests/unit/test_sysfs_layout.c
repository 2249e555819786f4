/* The VP's /sys and udev database (src/devices/sysfs_*.c, udev_db.c): every attribute's
 * text as the kernel prints it, udev's classification of input devices, the database
 * format, and the tree's shape (paths, links, what each link leads to). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/evdev.h"
#include "common/keymap.h"
#include "devices/sysfs_format.h"
#include "devices/sysfs_layout.h"
#include "devns/sysfs_tree.h"
#include "devices/udev_db.h"

/* A touchscreen as input_mt_init_slots(INPUT_MT_DIRECT) and the axes make one. */
static void touchscreen(struct evdev *dev)
{
	evdev_init(dev, 64);
	snprintf(dev->name, sizeof(dev->name), "Cells touchscreen");
	snprintf(dev->phys, sizeof(dev->phys), "cells/work/input0");
	dev->id = (struct input_id){BUS_VIRTUAL, 0x1d6b, 0x0001, 0x0001};
	evdev_enable_prop(dev, INPUT_PROP_DIRECT);
	evdev_enable(dev, EV_KEY, BTN_TOUCH);
	evdev_enable_abs(dev, ABS_X, 0, 719, 0);
	evdev_enable_abs(dev, ABS_Y, 0, 1279, 0);
	evdev_enable_abs(dev, ABS_MT_SLOT, 0, 9, 0);
	evdev_enable_abs(dev, ABS_MT_TRACKING_ID, 0, 65535, 0);
	evdev_enable_abs(dev, ABS_MT_POSITION_X, 0, 719, 0);
	evdev_enable_abs(dev, ABS_MT_POSITION_Y, 0, 1279, 0);
}

/* A keyboard with the keys of the VP's keys device (keymap.c), its switches, LEDs and
 * sounds. */
static void keys(struct evdev *dev)
{
	const unsigned *codes;
	unsigned n = keymap_keys(&codes);

	evdev_init(dev, 64);
	snprintf(dev->name, sizeof(dev->name), "Cells keys");
	dev->id = (struct input_id){BUS_VIRTUAL, 0x1d6b, 0x0002, 0x0001};
	for (unsigned i = 0; i < n; i++)
		evdev_enable(dev, EV_KEY, codes[i]);
	evdev_enable(dev, EV_SW, SW_LID);
	evdev_enable(dev, EV_LED, LED_CAPSL);
	evdev_enable(dev, EV_SND, SND_BELL);
	evdev_enable(dev, EV_REP, REP_DELAY);
}

/* Bits from the kernel's text of a bitmap (longs in hex, highest first). */
static void parse_bitmap(const char *text, uint8_t *bits, size_t nbytes)
{
	char copy[SYSFS_PAGE], *words[64];
	unsigned n = 0;

	memset(bits, 0, nbytes);
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *w = strtok(copy, " "); w; w = strtok(NULL, " "))
		words[n++] = w;
	for (unsigned i = 0; i < n; i++) {
		unsigned long long v = strtoull(words[n - 1 - i], NULL, 16);
		for (unsigned b = 0; b < 64; b++)
			if (v >> b & 1 && (i * 64 + b) / 8 < nbytes)
				bits[(i * 64 + b) / 8] |= (uint8_t)(1u << b % 8);
	}
}

static void expect_attr(const struct evdev *dev, const char *name, const char *want)
{
	char buf[SYSFS_PAGE];
	int len = sysfs_input_attr(buf, sizeof(buf), dev, name, false);

	assert_int_equal(len, (int)strlen(want));
	assert_string_equal(buf, want);
}

/* TEXT, a bitmap of MAX + 1 bits as a 64-bit kernel prints it, printed for a 64-bit
 * reader or (COMPAT) a 32-bit one, is WANT. */
static void expect_bitmap(const char *text, unsigned max, bool compat, const char *want)
{
	uint8_t bits[EVDEV_BITS(KEY_CNT)];
	char buf[SYSFS_PAGE];

	parse_bitmap(text, bits, EVDEV_BITS(max + 1));
	assert_int_equal(sysfs_bitmap(buf, sizeof(buf), bits, max, compat), (int)strlen(want));
	assert_string_equal(buf, want);
}

/* Bitmaps as /proc/bus/input/devices and sysfs print them on x86-64: an AT keyboard
 * (i8042) and a touchscreen, taken from real machines. */
static void bitmaps_print_as_the_kernel_does(void **state)
{
	static const struct {
		const char *text;
		unsigned max;
	} real[] = {
		{"402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe", KEY_MAX},
		{"120013", EV_MAX},
		{"10", MSC_MAX},
		{"7", LED_MAX},
		{"400 0 0 0 0 0", KEY_MAX},
		{"260800000000003", ABS_MAX},
		{"0", SW_MAX},
		/* A long of zeros between set ones is printed; FF has two longs. */
		{"1 0", FF_MAX},
	};
	uint8_t bits[EVDEV_BITS(KEY_CNT)];
	char buf[SYSFS_PAGE];

	(void)state;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
		expect_bitmap(real[i].text, real[i].max, false, real[i].text);
	/* Too small a buffer is an error, never a cut text. */
	parse_bitmap(real[0].text, bits, sizeof(bits));
	assert_int_equal(sysfs_bitmap(buf, 10, bits, KEY_MAX, false), -ENOSPC);
}

/* The same bitmaps as a 64-bit kernel prints them to a 32-bit reader, which is also
 * what a 32-bit kernel prints: each long as two words, a zero high word skipped only
 * before anything was printed. */
static void bitmaps_print_to_32_bit_readers_in_words(void **state)
{
	static const struct {
		const char *text, *compat;
		unsigned max;
	} real[] = {
		{"402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe",
		 "4 2000000 3803078 f800d001 feffffdf ffefffff ffffffff fffffffe", KEY_MAX},
		{"120013", "120013", EV_MAX},
		{"400 0 0 0 0 0", "400 0 0 0 0 0 0 0 0 0 0", KEY_MAX},
		{"260800000000003", "2608000 3", ABS_MAX},
		{"0", "0", SW_MAX},
		{"1 0", "1 0 0", FF_MAX},
		{"100000000", "1 0", ABS_MAX},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
		expect_bitmap(real[i].text, real[i].max, true, real[i].compat);
}

/* The modalias of that AT keyboard, as its uevent shows it. */
static void modalias_lists_bits_as_the_kernel_does(void **state)
{
	struct evdev dev;
	char buf[SYSFS_PAGE];

	(void)state;
	memset(&dev, 0, sizeof(dev));
	dev.id = (struct input_id){BUS_I8042, 0x0001, 0x0001, 0xab41};
	parse_bitmap("120013", dev.evbit, sizeof(dev.evbit));
	parse_bitmap("402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe", dev.keybit,
		     sizeof(dev.keybit));
	parse_bitmap("10", dev.mscbit, sizeof(dev.mscbit));
	parse_bitmap("7", dev.ledbit, sizeof(dev.ledbit));
	assert_true(sysfs_input_modalias(buf, sizeof(buf), &dev) > 0);
	assert_string_equal(buf, "input:b0011v0001p0001eAB41-e0,1,4,11,14,k71,72,73,74,75,76,77,"
				 "79,7A,7B,7C,7D,7E,7F,80,8C,8E,8F,9B,9C,9D,9E,9F,A3,A4,A5,A6,"
				 "AC,AD,B7,B8,B9,D9,E2,ram4,l0,1,2,sfw");
}

static void touchscreen_attributes(void **state)
{
	struct evdev dev;

	(void)state;
	touchscreen(&dev);
	expect_attr(&dev, "name", "Cells touchscreen\n");
	expect_attr(&dev, "phys", "cells/work/input0\n");
	expect_attr(&dev, "uniq", "\n");
	expect_attr(&dev, "id/bustype", "0006\n");
	expect_attr(&dev, "id/vendor", "1d6b\n");
	expect_attr(&dev, "id/product", "0001\n");
	expect_attr(&dev, "id/version", "0001\n");
	expect_attr(&dev, "properties", "2\n");
	expect_attr(&dev, "capabilities/ev", "b\n");
	expect_attr(&dev, "capabilities/key", "400 0 0 0 0 0\n");
	expect_attr(&dev, "capabilities/abs", "260800000000003\n");
	expect_attr(&dev, "capabilities/rel", "0\n");
	expect_attr(&dev, "capabilities/msc", "0\n");
	expect_attr(&dev, "capabilities/led", "0\n");
	expect_attr(&dev, "capabilities/snd", "0\n");
	expect_attr(&dev, "capabilities/ff", "0\n");
	expect_attr(&dev, "capabilities/sw", "0\n");
	expect_attr(&dev, "inhibited", "0\n");
	expect_attr(&dev, "modalias",
		    "input:b0006v1D6Bp0001e0001-e0,1,3,k14A,ra0,1,2F,35,36,39,mlsfw\n");
	expect_attr(&dev, "uevent",
		    "PRODUCT=6/1d6b/1/1\n"
		    "NAME=\"Cells touchscreen\"\n"
		    "PHYS=\"cells/work/input0\"\n"
		    "PROP=2\n"
		    "EV=b\n"
		    "KEY=400 0 0 0 0 0\n"
		    "ABS=260800000000003\n"
		    "MODALIAS=input:b0006v1D6Bp0001e0001-e0,1,3,k14A,ra0,1,2F,35,36,39,mlsfw\n");
	char buf[64];
	assert_int_equal(sysfs_input_attr(buf, sizeof(buf), &dev, "capabilities/pwr", false),
			 -ENOENT);
	assert_int_equal(sysfs_input_attr(buf, sizeof(buf), &dev, "power", false), -ENOENT);
}

/* The keys device: every type it has gets its line in the uevent, none it lacks; no PHYS
 * line without a phys. */
static void keys_uevent(void **state)
{
	struct evdev dev;
	char buf[SYSFS_PAGE], want[SYSFS_PAGE], key[SYSFS_PAGE], modalias[SYSFS_PAGE];

	(void)state;
	keys(&dev);
	assert_true(sysfs_bitmap(key, sizeof(key), dev.keybit, KEY_MAX, false) > 0);
	assert_true(sysfs_input_modalias(modalias, sizeof(modalias), &dev) > 0);
	/* EV_SYN, EV_KEY, EV_LED, EV_SND, EV_REP, EV_SW */
	expect_attr(&dev, "capabilities/ev", "160023\n");
	expect_attr(&dev, "capabilities/sw", "1\n");
	expect_attr(&dev, "capabilities/led", "2\n");
	expect_attr(&dev, "capabilities/snd", "2\n");
	snprintf(want, sizeof(want),
		 "PRODUCT=6/1d6b/2/1\nNAME=\"Cells keys\"\nPROP=0\nEV=160023\nKEY=%s\nLED=2\n"
		 "SND=2\nSW=1\nMODALIAS=%s\n",
		 key, modalias);
	assert_true(sysfs_input_uevent(buf, sizeof(buf), &dev, false) > 0);
	assert_string_equal(buf, want);
	/* The kernel's uevent buffer holds it. */
	assert_true(strlen(buf) < SYSFS_UEVENT_MAX);
	assert_non_null(strstr(modalias, "-e0,1,5,11,12,14,k"));
	/* No relative or absolute axis, no MSC; CAPSL, BELL and LID are code 1, 1, 0. */
	assert_non_null(strstr(modalias, ",raml1,s1,fw0,"));
}

/* A device with every key does not fit the kernel's uevent buffer: an error, not a cut
 * text that would parse as fewer keys. */
static void uevent_too_long_is_an_error(void **state)
{
	struct evdev dev;
	char buf[SYSFS_PAGE];

	(void)state;
	evdev_init(&dev, 64);
	for (unsigned k = 1; k < KEY_CNT; k++)
		evdev_enable(&dev, EV_KEY, k);
	assert_int_equal(sysfs_input_uevent(buf, sizeof(buf), &dev, false), -ENOSPC);
}

static void expect_fb(const struct fb_var_screeninfo *var, const struct fb_fix_screeninfo *fix,
		      const char *name, const char *want)
{
	char buf[SYSFS_PAGE];

	assert_int_equal(sysfs_fb_attr(buf, sizeof(buf), var, fix, name), (int)strlen(want));
	assert_string_equal(buf, want);
}

/* The VP's mode as display.c makes it: 720x1280, two pages, 32 bpp, 60 Hz. */
static void mode(struct fb_var_screeninfo *var, struct fb_fix_screeninfo *fix)
{
	memset(var, 0, sizeof(*var));
	memset(fix, 0, sizeof(*fix));
	var->xres = var->xres_virtual = 720;
	var->yres = 1280;
	var->yres_virtual = 2560;
	var->bits_per_pixel = 32;
	var->pixclock = 1000000000u / (720u * 1280u / 1000u * 60u);
	var->vmode = FB_VMODE_NONINTERLACED;
	snprintf(fix->id, sizeof(fix->id), "cells mux_fb");
	fix->line_length = 720 * 4;
}

static void fb_attributes(void **state)
{
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	char buf[8];

	(void)state;
	mode(&var, &fix);
	expect_fb(&var, &fix, "name", "cells mux_fb\n");
	/* fb_var_to_videomode: 18096 ps -> 55260 kHz; / 720 / 1280 -> 59 Hz, rounded down. */
	expect_fb(&var, &fix, "modes", "U:720x1280p-59\n");
	expect_fb(&var, &fix, "mode", "");
	expect_fb(&var, &fix, "virtual_size", "720,2560\n");
	expect_fb(&var, &fix, "bits_per_pixel", "32\n");
	expect_fb(&var, &fix, "stride", "2880\n");
	expect_fb(&var, &fix, "pan", "0,0\n");
	expect_fb(&var, &fix, "rotate", "0\n");
	expect_fb(&var, &fix, "state", "0\n");
	expect_fb(&var, &fix, "blank", "");
	var.yoffset = 1280;
	expect_fb(&var, &fix, "pan", "0,1280\n");
	var.vmode = FB_VMODE_INTERLACED;
	var.pixclock = 0;
	expect_fb(&var, &fix, "modes", "U:720x1280i-0\n");
	/* A 16-byte id without its NUL stays in bounds. */
	memset(fix.id, 'x', sizeof(fix.id));
	expect_fb(&var, &fix, "name", "xxxxxxxxxxxxxxxx\n");
	assert_int_equal(sysfs_fb_attr(buf, sizeof(buf), &var, &fix, "dev"), -ENOENT);
	assert_int_equal(sysfs_fb_attr(buf, 4, &var, &fix, "name"), -ENOSPC);
}

static unsigned props(const struct evdev *dev, const char **names)
{
	return udev_input_props(dev, names);
}

static void expect_props(const struct evdev *dev, const char *want)
{
	const char *names[UDEV_INPUT_PROPS_MAX];
	unsigned n = props(dev, names);
	char got[256] = "";

	for (unsigned i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 names[i]);
	assert_string_equal(got, want);
}

/* udev's input_id rules (systemd 252). */
static void udev_classifies_as_input_id_does(void **state)
{
	struct evdev dev;

	(void)state;
	touchscreen(&dev);
	expect_props(&dev, "ID_INPUT ID_INPUT_TOUCHSCREEN");
	/* BTN_TOOL_FINGER on a direct device: still a touchscreen for udev ... */
	evdev_enable(&dev, EV_KEY, BTN_TOOL_FINGER);
	expect_props(&dev, "ID_INPUT ID_INPUT_TOUCHSCREEN");
	/* ... an indirect one is a touchpad. */
	memset(dev.propbit, 0, sizeof(dev.propbit));
	expect_props(&dev, "ID_INPUT ID_INPUT_TOUCHPAD");

	keys(&dev);
	expect_props(&dev, "ID_INPUT ID_INPUT_KEY ID_INPUT_KEYBOARD ID_INPUT_SWITCH");
	/* Without Q the keys are no keyboard. */
	memset(dev.keybit, 0, sizeof(dev.keybit));
	evdev_enable(&dev, EV_KEY, KEY_POWER);
	expect_props(&dev, "ID_INPUT ID_INPUT_KEY ID_INPUT_SWITCH");

	evdev_init(&dev, 64);
	evdev_enable(&dev, EV_KEY, BTN_LEFT);
	evdev_enable(&dev, EV_REL, REL_X);
	evdev_enable(&dev, EV_REL, REL_Y);
	evdev_enable(&dev, EV_REL, REL_WHEEL);
	expect_props(&dev, "ID_INPUT ID_INPUT_MOUSE");

	evdev_init(&dev, 64);
	evdev_enable(&dev, EV_REL, REL_WHEEL);
	expect_props(&dev, "ID_INPUT ID_INPUT_KEY");

	evdev_init(&dev, 64);
	evdev_enable_abs(&dev, ABS_X, 0, 1, 0);
	evdev_enable_abs(&dev, ABS_Y, 0, 1, 0);
	evdev_enable_abs(&dev, ABS_Z, 0, 1, 0);
	expect_props(&dev, "ID_INPUT ID_INPUT_ACCELEROMETER");

	evdev_init(&dev, 64);
	evdev_enable(&dev, EV_KEY, BTN_TOOL_PEN);
	evdev_enable_abs(&dev, ABS_X, 0, 1, 0);
	evdev_enable_abs(&dev, ABS_Y, 0, 1, 0);
	expect_props(&dev, "ID_INPUT ID_INPUT_TABLET");
}

static void udev_database_format(void **state)
{
	static const char *const p[] = {"ID_INPUT", "ID_INPUT_TOUCHSCREEN"};
	static const char *const tags[] = {"seat"};
	char buf[256];

	(void)state;
	int len = udev_db_text(buf, sizeof(buf), 1234567, p, 2, tags, 1);

	assert_int_equal(len, (int)strlen(buf));
	assert_string_equal(buf, "I:1234567\nE:ID_INPUT=1\nE:ID_INPUT_TOUCHSCREEN=1\n"
				 "G:seat\nQ:seat\nV:1\n");
	assert_true(udev_db_text(buf, sizeof(buf), 0, p, 1, NULL, 0) > 0);
	assert_string_equal(buf, "E:ID_INPUT=1\nV:1\n");
	/* Nothing to say: udevd leaves the file of a device with a node empty. */
	assert_int_equal(udev_db_text(buf, sizeof(buf), 99, NULL, 0, NULL, 0), 0);
	assert_string_equal(buf, "");
	assert_int_equal(udev_db_text(buf, 8, 1234567, p, 2, tags, 1), -ENOSPC);
	/* A property with a value of its own keeps it. */
	static const char *const v[] = {"OFONO_DRIVER=cinterion", "ID_MM_CANDIDATE"};
	assert_true(udev_db_text(buf, sizeof(buf), 0, v, 2, NULL, 0) > 0);
	assert_string_equal(buf, "E:OFONO_DRIVER=cinterion\nE:ID_MM_CANDIDATE=1\nV:1\n");
}

static const char *text_of(const struct sysfs_tree *t, const char *path)
{
	const struct sysfs_node *node = sysfs_tree_find(t, path);

	if (!node) {
		fail_msg("missing %s", path);
		return NULL;
	}
	assert_int_equal(node->kind, SYSFS_FILE);
	return node->text;
}

static void expect_link(const struct sysfs_tree *t, const char *path, const char *rel,
			const char *to)
{
	const struct sysfs_node *node = sysfs_tree_find(t, path);
	char target[PATH_MAX];

	if (!node) {
		fail_msg("missing %s", path);
		return;
	}
	assert_int_equal(node->kind, SYSFS_LINK);
	assert_string_equal(node->text, rel);
	assert_int_equal(sysfs_tree_resolve(node, target, sizeof(target)), 0);
	assert_string_equal(target, to);
}

static void expect_dir(const struct sysfs_tree *t, const char *path)
{
	const struct sysfs_node *node = sysfs_tree_find(t, path);

	if (!node) {
		fail_msg("missing %s", path);
		return;
	}
	assert_int_equal(node->kind, SYSFS_DIR);
}

/* Every node's parent is a directory that comes before it; every link under sys/ leads
 * to a node of the tree. */
static void expect_whole(const struct sysfs_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct sysfs_node *node = &t->nodes[i];
		char parent[PATH_MAX], target[PATH_MAX];
		char *slash;

		snprintf(parent, sizeof(parent), "%s", node->path);
		slash = strrchr(parent, '/');
		if (slash) {
			*slash = '\0';
			const struct sysfs_node *p = sysfs_tree_find(t, parent);
			if (!p || p->kind != SYSFS_DIR || p > node)
				fail_msg("%s: parent %s missing or after it", node->path, parent);
		}
		if (node->kind != SYSFS_LINK)
			continue;
		assert_int_equal(sysfs_tree_resolve(node, target, sizeof(target)), 0);
		if (!sysfs_tree_find(t, target))
			fail_msg("%s -> %s leads nowhere", node->path, target);
	}
}

static struct sysfs_tree whole_vp(void)
{
	struct sysfs_tree t;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	struct evdev ts, kb;
	struct error err;

	mode(&var, &fix);
	touchscreen(&ts);
	keys(&kb);
	sysfs_tree_init(&t);
	assert_int_equal(sysfs_layout_fb(&t, 0, &var, &fix, 5000000, &err), 0);
	assert_int_equal(sysfs_layout_input(&t, &ts, 0, 0, 5000000, &err), 0);
	assert_int_equal(sysfs_layout_input(&t, &kb, 1, 1, 5000000, &err), 0);
	assert_int_equal(sysfs_layout_vt(&t, 1, 1, &err), 0);
	return t;
}

static void fb_tree(void **state)
{
	struct sysfs_tree t = whole_vp();
	const char *fb = "sys/devices/platform/cells-fb.0/graphics/fb0";
	char path[PATH_MAX];

	(void)state;
	expect_link(&t, "sys/class/graphics/fb0", "../../devices/platform/cells-fb.0/graphics/fb0",
		    fb);
	expect_link(&t, "sys/dev/char/29:0", "../../devices/platform/cells-fb.0/graphics/fb0", fb);
	snprintf(path, sizeof(path), "%s/dev", fb);
	assert_string_equal(text_of(&t, path), "29:0\n");
	snprintf(path, sizeof(path), "%s/uevent", fb);
	assert_string_equal(text_of(&t, path), "MAJOR=29\nMINOR=0\nDEVNAME=fb0\n");
	snprintf(path, sizeof(path), "%s/modes", fb);
	assert_string_equal(text_of(&t, path), "U:720x1280p-59\n");
	assert_true(sysfs_tree_find(&t, path)->live);
	snprintf(path, sizeof(path), "%s/stride", fb);
	assert_string_equal(text_of(&t, path), "2880\n");
	assert_int_equal(sysfs_tree_find(&t, path)->mode, 0444);
	snprintf(path, sizeof(path), "%s/virtual_size", fb);
	assert_string_equal(text_of(&t, path), "720,2560\n");
	assert_int_equal(sysfs_tree_find(&t, path)->mode, 0644);
	snprintf(path, sizeof(path), "%s/subsystem", fb);
	expect_link(&t, path, "../../../../../class/graphics", "sys/class/graphics");
	snprintf(path, sizeof(path), "%s/device", fb);
	expect_link(&t, path, "../../../cells-fb.0", "sys/devices/platform/cells-fb.0");
	/* What Xorg's fbdev probe reads: fb0/device/subsystem, which must not be PCI. */
	expect_link(&t, "sys/devices/platform/cells-fb.0/subsystem", "../../../bus/platform",
		    "sys/bus/platform");
	expect_link(&t, "sys/devices/platform/cells-fb.0/driver",
		    "../../../bus/platform/drivers/cells-fb", "sys/bus/platform/drivers/cells-fb");
	assert_string_equal(text_of(&t, "sys/devices/platform/cells-fb.0/uevent"),
			    "DRIVER=cells-fb\nMODALIAS=platform:cells-fb\n");
	assert_string_equal(text_of(&t, "sys/devices/platform/cells-fb.0/modalias"),
			    "platform:cells-fb\n");
	expect_link(&t, "sys/bus/platform/devices/cells-fb.0",
		    "../../../devices/platform/cells-fb.0", "sys/devices/platform/cells-fb.0");
	assert_string_equal(text_of(&t, "run/udev/data/c29:0"), "I:5000000\nG:seat\nQ:seat\nV:1\n");
	assert_string_equal(text_of(&t, "run/udev/tags/seat/c29:0"), "");
	sysfs_tree_free(&t);
}

static void input_tree(void **state)
{
	struct sysfs_tree t = whole_vp();
	const char *in0 = "sys/devices/virtual/input/input0";
	static const char *const files[] = {
		"name",
		"phys",
		"uniq",
		"modalias",
		"properties",
		"inhibited",
		"uevent",
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
	};
	char path[PATH_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", in0, files[i]);
		text_of(&t, path);
		assert_false(sysfs_tree_find(&t, path)->live);
	}
	expect_dir(&t, "sys/devices/virtual/input/input0/id");
	expect_dir(&t, "sys/devices/virtual/input/input0/capabilities");
	snprintf(path, sizeof(path), "%s/capabilities/abs", in0);
	assert_string_equal(text_of(&t, path), "260800000000003\n");
	assert_string_equal(sysfs_tree_find(&t, path)->compat_text, "2608000 3\n");
	snprintf(path, sizeof(path), "%s/uevent", in0);
	assert_non_null(strstr(sysfs_tree_find(&t, path)->compat_text,
			       "\nKEY=400 0 0 0 0 0 0 0 0 0 0\nABS=2608000 3\nMODALIAS="));
	/* Where both read the same, there is one text. */
	snprintf(path, sizeof(path), "%s/capabilities/ev", in0);
	assert_null(sysfs_tree_find(&t, path)->compat_text);
	snprintf(path, sizeof(path), "%s/name", in0);
	assert_null(sysfs_tree_find(&t, path)->compat_text);
	snprintf(path, sizeof(path), "%s/name", in0);
	assert_string_equal(text_of(&t, "sys/devices/virtual/input/input1/name"), "Cells keys\n");
	expect_link(&t, "sys/class/input/input0", "../../devices/virtual/input/input0", in0);
	expect_link(&t, "sys/class/input/event0", "../../devices/virtual/input/input0/event0",
		    "sys/devices/virtual/input/input0/event0");
	expect_link(&t, "sys/class/input/event1", "../../devices/virtual/input/input1/event1",
		    "sys/devices/virtual/input/input1/event1");
	expect_link(&t, "sys/dev/char/13:64", "../../devices/virtual/input/input0/event0",
		    "sys/devices/virtual/input/input0/event0");
	expect_link(&t, "sys/dev/char/13:65", "../../devices/virtual/input/input1/event1",
		    "sys/devices/virtual/input/input1/event1");
	expect_link(&t, "sys/devices/virtual/input/input0/subsystem", "../../../../class/input",
		    "sys/class/input");
	expect_link(&t, "sys/devices/virtual/input/input0/event0/subsystem",
		    "../../../../../class/input", "sys/class/input");
	expect_link(&t, "sys/devices/virtual/input/input0/event0/device", "../../input0", in0);
	assert_string_equal(text_of(&t, "sys/devices/virtual/input/input0/event0/dev"), "13:64\n");
	assert_string_equal(text_of(&t, "sys/devices/virtual/input/input1/event1/uevent"),
			    "MAJOR=13\nMINOR=65\nDEVNAME=input/event1\n");
	assert_string_equal(text_of(&t, "run/udev/data/c13:64"),
			    "I:5000000\nE:ID_INPUT=1\nE:ID_INPUT_TOUCHSCREEN=1\nV:1\n");
	assert_string_equal(text_of(&t, "run/udev/data/+input:input0"),
			    "I:5000000\nE:ID_INPUT=1\nE:ID_INPUT_TOUCHSCREEN=1\n"
			    "G:seat\nQ:seat\nV:1\n");
	assert_string_equal(text_of(&t, "run/udev/data/c13:65"),
			    "I:5000000\nE:ID_INPUT=1\nE:ID_INPUT_KEY=1\nE:ID_INPUT_KEYBOARD=1\n"
			    "E:ID_INPUT_SWITCH=1\nV:1\n");
	assert_string_equal(text_of(&t, "run/udev/tags/seat/+input:input1"), "");
	assert_null(sysfs_tree_find(&t, "run/udev/tags/seat/c13:64"));
	sysfs_tree_free(&t);
}

static void vt_tree(void **state)
{
	struct sysfs_tree t = whole_vp();
	struct error err;

	(void)state;
	expect_link(&t, "sys/class/tty/tty0", "../../devices/virtual/tty/tty0",
		    "sys/devices/virtual/tty/tty0");
	expect_link(&t, "sys/dev/char/4:1", "../../devices/virtual/tty/tty1",
		    "sys/devices/virtual/tty/tty1");
	assert_string_equal(text_of(&t, "sys/devices/virtual/tty/tty0/active"), "tty1\n");
	assert_null(sysfs_tree_find(&t, "sys/devices/virtual/tty/tty1/active"));
	assert_string_equal(text_of(&t, "sys/devices/virtual/tty/tty0/dev"), "4:0\n");
	assert_string_equal(text_of(&t, "sys/devices/virtual/tty/tty1/uevent"),
			    "MAJOR=4\nMINOR=1\nDEVNAME=tty1\n");
	assert_string_equal(text_of(&t, "run/udev/data/c4:0"), "");
	sysfs_tree_free(&t);

	sysfs_tree_init(&t);
	assert_int_equal(sysfs_layout_vt(&t, 6, 3, &err), 0);
	assert_string_equal(text_of(&t, "sys/devices/virtual/tty/tty0/active"), "tty3\n");
	text_of(&t, "sys/devices/virtual/tty/tty6/dev");
	assert_int_equal(sysfs_layout_vt(&t, 2, 3, &err), -EINVAL);
	assert_int_equal(sysfs_layout_vt(&t, 0, 0, &err), -EINVAL);
	sysfs_tree_free(&t);
}

/* ttyM0 where ModemManager's and oFono's udev enumeration of "tty" finds it: a class
 * device with its node's numbers and the properties they select a modem by. */
static void modem_tree(void **state)
{
	struct sysfs_tree t;
	struct error err;

	(void)state;
	sysfs_tree_init(&t);
	assert_int_equal(sysfs_layout_modem(&t, "ttyM0", 136, 3, &err), 0);
	expect_link(&t, "sys/class/tty/ttyM0", "../../devices/virtual/tty/ttyM0",
		    "sys/devices/virtual/tty/ttyM0");
	expect_link(&t, "sys/dev/char/136:3", "../../devices/virtual/tty/ttyM0",
		    "sys/devices/virtual/tty/ttyM0");
	expect_link(&t, "sys/devices/virtual/tty/ttyM0/subsystem", "../../../../class/tty",
		    "sys/class/tty");
	assert_string_equal(text_of(&t, "sys/devices/virtual/tty/ttyM0/dev"), "136:3\n");
	assert_string_equal(text_of(&t, "sys/devices/virtual/tty/ttyM0/uevent"),
			    "MAJOR=136\nMINOR=3\nDEVNAME=ttyM0\n");
	assert_string_equal(text_of(&t, "run/udev/data/c136:3"),
			    "E:ID_MM_CANDIDATE=1\nE:ID_MM_DEVICE_PROCESS=1\n"
			    "E:ID_MM_PORT_TYPE_AT_PRIMARY=1\nE:OFONO_DRIVER=cinterion\nV:1\n");
	/* Beside the VTs, as a VP with both has them. */
	assert_int_equal(sysfs_layout_vt(&t, 1, 1, &err), 0);
	text_of(&t, "sys/devices/virtual/tty/tty1/dev");
	assert_int_equal(sysfs_layout_modem(&t, "", 136, 0, &err), -EINVAL);
	assert_int_equal(sysfs_layout_modem(&t, "../x", 136, 0, &err), -EINVAL);
	sysfs_tree_free(&t);
}

static void tree_is_whole(void **state)
{
	struct sysfs_tree t = whole_vp();

	(void)state;
	expect_whole(&t);
	/* Nothing else than the VP's devices: no power/, no PCI. */
	for (size_t i = 0; i < t.n; i++)
		assert_null(strstr(t.nodes[i].path, "pci"));
	sysfs_tree_free(&t);
}

static void tree_refuses_bad_nodes(void **state)
{
	struct sysfs_tree t;
	struct error err;
	struct evdev dev;

	(void)state;
	sysfs_tree_init(&t);
	assert_int_equal(sysfs_tree_file(&t, "/abs", 0444, "", &err), -EINVAL);
	assert_int_equal(sysfs_tree_file(&t, "a//b", 0444, "", &err), -EINVAL);
	assert_int_equal(sysfs_tree_file(&t, "a/../b", 0444, "", &err), -EINVAL);
	assert_int_equal(sysfs_tree_file(&t, "a/./b", 0444, "", &err), -EINVAL);
	assert_int_equal(sysfs_tree_file(&t, "a/", 0444, "", &err), -EINVAL);
	assert_int_equal(sysfs_tree_file(&t, "", 0444, "", &err), -EINVAL);
	char longer[SYSFS_PATH_MAX + 1];
	memset(longer, 'a', SYSFS_PATH_MAX);
	longer[SYSFS_PATH_MAX] = '\0';
	assert_int_equal(sysfs_tree_file(&t, longer, 0444, "", &err), -EINVAL);
	longer[SYSFS_PATH_MAX - 1] = '\0';
	assert_int_equal(sysfs_tree_file(&t, longer, 0444, "", &err), 0);
	assert_int_equal(sysfs_tree_file(&t, "a/b", 0444, "x", &err), 0);
	assert_int_equal(sysfs_tree_file(&t, "a/b", 0444, "x", &err), -EEXIST);
	assert_int_equal(sysfs_tree_dir(&t, "a/b", &err), -EEXIST);
	assert_int_equal(sysfs_tree_file(&t, "a/b/c", 0444, "x", &err), -EEXIST);
	assert_int_equal(sysfs_tree_link(&t, "a/l", "a/b", &err), 0);
	assert_int_equal(sysfs_tree_link(&t, "a/l", "a/b", &err), 0);
	assert_int_equal(sysfs_tree_link(&t, "a/l", "c", &err), -EEXIST);
	assert_int_equal(sysfs_tree_link(&t, "a/m", "../etc", &err), -EINVAL);
	assert_int_equal(sysfs_tree_dir(&t, "a", &err), 0);
	touchscreen(&dev);
	assert_int_equal(sysfs_layout_input(&t, &dev, 0, SYSFS_EVDEV_MAX, 0, &err), -EINVAL);
	/* The same device twice is refused, not silently merged. */
	assert_int_equal(sysfs_layout_input(&t, &dev, 0, 0, 0, &err), 0);
	assert_int_equal(sysfs_layout_input(&t, &dev, 0, 0, 0, &err), -EEXIST);
	sysfs_tree_free(&t);
}

static void links_are_relative_to_their_directory(void **state)
{
	struct sysfs_tree t;
	struct error err;
	char to[PATH_MAX];

	(void)state;
	sysfs_tree_init(&t);
	assert_int_equal(sysfs_tree_link(&t, "x", "y/z", &err), 0);
	expect_link(&t, "x", "y/z", "y/z");
	assert_int_equal(sysfs_tree_link(&t, "a/bc/l", "a/b/t", &err), 0);
	expect_link(&t, "a/bc/l", "../b/t", "a/b/t");
	assert_int_equal(sysfs_tree_link(&t, "a/b/l", "a/b/c/d", &err), 0);
	expect_link(&t, "a/b/l", "c/d", "a/b/c/d");
	assert_int_equal(sysfs_tree_resolve(sysfs_tree_find(&t, "a"), to, sizeof(to)), -EINVAL);
	sysfs_tree_free(&t);
}

/* Written out as plain files, the tree reads back as it is. */
static void tree_writes_as_files(void **state)
{
	struct sysfs_tree t = whole_vp();
	char dir[] = "/tmp/cells-sysfs-XXXXXX", path[PATH_MAX], buf[SYSFS_PAGE];
	struct error err;
	struct stat st;
	ssize_t n;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	umask(077);
	assert_int_equal(sysfs_tree_write(&t, dir, &err), 0);
	snprintf(path, sizeof(path), "%s/sys/class/input/event0/device/capabilities/abs", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "260800000000003\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	snprintf(path, sizeof(path), "%s/sys/class/graphics/fb0/device/subsystem", dir);
	n = readlink(path, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "../../../bus/platform");
	/* Written twice: the files exist, an error. */
	assert_true(sysfs_tree_write(&t, dir, &err) < 0);
	sysfs_tree_free(&t);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* The digest of a tree's sys/ tells a kept /sys from the one a start wants (stage.c):
 * any node under sys/ counts, nothing outside it does (/run/udev is written each time). */
static void digest_covers_sys_alone(void **state)
{
	struct sysfs_tree a = whole_vp(), b = whole_vp();
	struct error err;
	uint64_t da = sysfs_tree_digest(&a, "sys");

	(void)state;
	assert_true(da == sysfs_tree_digest(&b, "sys"));
	assert_int_equal(sysfs_tree_file(&b, "run/udev/data/+cells:test", 0644, "I:1\n", &err), 0);
	assert_true(da == sysfs_tree_digest(&b, "sys"));
	assert_int_equal(sysfs_tree_file(&b, "sys/class/tty/tty9/dev", 0444, "4:9\n", &err), 0);
	assert_true(da != sysfs_tree_digest(&b, "sys"));
	/* A file's text alone changed. */
	sysfs_tree_free(&b);
	b = whole_vp();
	struct sysfs_node *file = NULL;
	for (size_t i = 0; i < b.n && !file; i++)
		if (b.nodes[i].kind == SYSFS_FILE && sysfs_path_under(b.nodes[i].path, "sys"))
			file = &b.nodes[i];
	assert_non_null(file);
	if (!file) /* the analyzer does not know that cmocka's assert ends the test */
		return;
	file->text[0] = file->text[0] == 'x' ? 'y' : 'x';
	assert_true(da != sysfs_tree_digest(&b, "sys"));
	assert_true(sysfs_path_under("sys", "sys") && sysfs_path_under("sys/a", "sys"));
	assert_false(sysfs_path_under("sysx/a", "sys") || sysfs_path_under("run/sys", "sys"));
	sysfs_tree_free(&a);
	sysfs_tree_free(&b);
}

/* Written in two parts, what is under sys/ and the rest, the tree is whole. */
static void tree_writes_in_parts(void **state)
{
	struct sysfs_tree t = whole_vp();
	char dir[] = "/tmp/cells-sysfs-XXXXXX", path[PATH_MAX];
	struct error err;
	struct stat st;

	(void)state;
	assert_int_equal(sysfs_tree_file(&t, "run/udev/data/+cells:test", 0644, "E:X=1\n", &err),
			 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sysfs_tree_write_part(&t, dir, "sys", false, &err), 0);
	snprintf(path, sizeof(path), "%s/run/udev/data/+cells:test", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/sys", dir);
	assert_true(stat(path, &st) < 0);
	assert_int_equal(sysfs_tree_write_part(&t, dir, "sys", true, &err), 0);
	snprintf(path, sizeof(path), "%s/sys/class/graphics/fb0/name", dir);
	assert_int_equal(stat(path, &st), 0);
	sysfs_tree_free(&t);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bitmaps_print_as_the_kernel_does),
		cmocka_unit_test(bitmaps_print_to_32_bit_readers_in_words),
		cmocka_unit_test(modalias_lists_bits_as_the_kernel_does),
		cmocka_unit_test(touchscreen_attributes),
		cmocka_unit_test(keys_uevent),
		cmocka_unit_test(uevent_too_long_is_an_error),
		cmocka_unit_test(fb_attributes),
		cmocka_unit_test(udev_classifies_as_input_id_does),
		cmocka_unit_test(udev_database_format),
		cmocka_unit_test(fb_tree),
		cmocka_unit_test(input_tree),
		cmocka_unit_test(vt_tree),
		cmocka_unit_test(modem_tree),
		cmocka_unit_test(tree_is_whole),
		cmocka_unit_test(tree_refuses_bad_nodes),
		cmocka_unit_test(links_are_relative_to_their_directory),
		cmocka_unit_test(tree_writes_as_files),
		cmocka_unit_test(digest_covers_sys_alone),
		cmocka_unit_test(tree_writes_in_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
