/* sysfs attribute texts as the kernel writes them: see sysfs_format.h. */
#include "devices/sysfs_format.h"
#include "common/hex.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A text being built; once it overflows it stays overflowed. */
struct out {
	char *buf;
	size_t size, len;
	bool full;
};

static struct out out_start(char *buf, size_t size)
{
	if (size)
		buf[0] = '\0';
	return (struct out){.buf = buf, .size = size, .full = size == 0};
}

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* STR as it is: most of a text is names and numbers, not worth a printf. */
static void put_str(struct out *o, const char *str)
{
	size_t len = strlen(str);

	if (o->full || len >= o->size - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, str, len + 1);
	o->len += len;
}

/* V in hex, as "%llx" or "%llX" print it. */
static void put_hex(struct out *o, uint64_t v, enum hex_case c)
{
	char text[17];
	int i = 16;

	text[16] = '\0';
	do {
		text[--i] = hex_digit((unsigned)v, c);
		v >>= 4;
	} while (v);
	put_str(o, text + i);
}

static int out_end(const struct out *o)
{
	return o->full ? -ENOSPC : (int)o->len;
}

static bool test_bit(const uint8_t *bits, unsigned n)
{
	return bits[n / 8] & (1u << (n % 8));
}

/* Long W of the kernel's bitmap, from the NBYTES bytes evdev keeps. */
static uint64_t long_of(const uint8_t *bits, size_t nbytes, unsigned w)
{
	uint64_t v = 0;

	for (unsigned b = 0; b < 8; b++) {
		size_t i = (size_t)w * 8 + b;
		if (i < nbytes)
			v |= (uint64_t)bits[i] << (8 * b);
	}
	return v;
}

/* input_print_bitmap: BITS_TO_LONGS(max) longs (the kernel passes *_MAX, not *_CNT);
 * input_bits_to_string prints a long to a compat reader as its two 32-bit halves. */
static void put_bitmap(struct out *o, const uint8_t *bits, unsigned max, bool compat)
{
	size_t nbytes = EVDEV_BITS(max + 1), before = o->len;

	for (int w = (int)((max + 63) / 64) - 1; w >= 0; w--) {
		uint64_t v = long_of(bits, nbytes, (unsigned)w);
		bool started = o->len > before;
		if (compat) {
			unsigned hi = (unsigned)(v >> 32), lo = (unsigned)v;
			bool high = hi || started;
			if (high) {
				put_hex(o, hi, HEX_LOWER);
				put_str(o, " ");
			}
			if (lo || started || high)
				put_hex(o, lo, HEX_LOWER);
		} else if (v || started)
			put_hex(o, v, HEX_LOWER);
		if (o->len > before && w > 0)
			put_str(o, " ");
	}
	if (o->len == before)
		put_str(o, "0");
}

int sysfs_bitmap(char *buf, size_t size, const uint8_t *bits, unsigned max, bool compat)
{
	struct out o = out_start(buf, size);

	put_bitmap(&o, bits, max, compat);
	return out_end(&o);
}

/* input_print_modalias_bits: NAME, then "%X," for each bit set in [MIN, MAX). */
static void put_modalias_bits(struct out *o, char name, const uint8_t *bits, unsigned min,
			      unsigned max)
{
	char c[2] = {name, '\0'};

	put_str(o, c);
	for (unsigned i = min; i < max; i++) {
		if (!bits[i / 8]) { /* most bytes of a bitmap are empty */
			i |= 7;
			continue;
		}
		if (test_bit(bits, i)) {
			put_hex(o, i, HEX_UPPER);
			put_str(o, ",");
		}
	}
}

static void put_modalias(struct out *o, const struct evdev *dev)
{
	put(o, "input:b%04Xv%04Xp%04Xe%04X-", dev->id.bustype, dev->id.vendor, dev->id.product,
	    dev->id.version);
	put_modalias_bits(o, 'e', dev->evbit, 0, EV_MAX);
	put_modalias_bits(o, 'k', dev->keybit, KEY_MIN_INTERESTING, KEY_MAX);
	put_modalias_bits(o, 'r', dev->relbit, 0, REL_MAX);
	put_modalias_bits(o, 'a', dev->absbit, 0, ABS_MAX);
	put_modalias_bits(o, 'm', dev->mscbit, 0, MSC_MAX);
	put_modalias_bits(o, 'l', dev->ledbit, 0, LED_MAX);
	put_modalias_bits(o, 's', dev->sndbit, 0, SND_MAX);
	put_modalias_bits(o, 'f', dev->ffbit, 0, FF_MAX);
	put_modalias_bits(o, 'w', dev->swbit, 0, SW_MAX);
}

int sysfs_input_modalias(char *buf, size_t size, const struct evdev *dev)
{
	struct out o = out_start(buf, size);

	put_modalias(&o, dev);
	return out_end(&o);
}

/* The bitmaps of the event types, in input_dev_uevent's order. */
static const struct {
	const char *name, *var; /* the attribute, the uevent variable */
	unsigned type, max;
	size_t offset;
} caps[] = {
	{"ev", "EV", 0, EV_MAX, offsetof(struct evdev, evbit)},
	{"key", "KEY", EV_KEY, KEY_MAX, offsetof(struct evdev, keybit)},
	{"rel", "REL", EV_REL, REL_MAX, offsetof(struct evdev, relbit)},
	{"abs", "ABS", EV_ABS, ABS_MAX, offsetof(struct evdev, absbit)},
	{"msc", "MSC", EV_MSC, MSC_MAX, offsetof(struct evdev, mscbit)},
	{"led", "LED", EV_LED, LED_MAX, offsetof(struct evdev, ledbit)},
	{"snd", "SND", EV_SND, SND_MAX, offsetof(struct evdev, sndbit)},
	{"ff", "FF", EV_FF, FF_MAX, offsetof(struct evdev, ffbit)},
	{"sw", "SW", EV_SW, SW_MAX, offsetof(struct evdev, swbit)},
};

static const uint8_t *cap_bits(const struct evdev *dev, size_t i)
{
	return (const uint8_t *)dev + caps[i].offset;
}

int sysfs_input_uevent(char *buf, size_t size, const struct evdev *dev, bool compat)
{
	struct out o = out_start(buf, size);

	put(&o, "PRODUCT=%x/%x/%x/%x\n", dev->id.bustype, dev->id.vendor, dev->id.product,
	    dev->id.version);
	/* An empty string is a NULL one: evdev answers ENOENT for both, as the kernel does
	 * for a NULL name, phys or uniq. */
	if (dev->name[0])
		put(&o, "NAME=\"%s\"\n", dev->name);
	if (dev->phys[0])
		put(&o, "PHYS=\"%s\"\n", dev->phys);
	if (dev->uniq[0])
		put(&o, "UNIQ=\"%s\"\n", dev->uniq);
	put(&o, "PROP=");
	put_bitmap(&o, dev->propbit, INPUT_PROP_MAX, compat);
	put(&o, "\n");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (i > 0 && !test_bit(dev->evbit, caps[i].type))
			continue;
		put(&o, "%s=", caps[i].var);
		put_bitmap(&o, cap_bits(dev, i), caps[i].max, compat);
		put(&o, "\n");
	}
	put(&o, "MODALIAS=");
	put_modalias(&o, dev);
	put(&o, "\n");
	if (!o.full && o.len >= SYSFS_UEVENT_MAX)
		o.full = true; /* the kernel could not show it whole either */
	return out_end(&o);
}

int sysfs_input_attr(char *buf, size_t size, const struct evdev *dev, const char *name, bool compat)
{
	struct out o = out_start(buf, size);
	const uint16_t *id = NULL;

	if (strcmp(name, "name") == 0)
		put(&o, "%s\n", dev->name);
	else if (strcmp(name, "phys") == 0)
		put(&o, "%s\n", dev->phys);
	else if (strcmp(name, "uniq") == 0)
		put(&o, "%s\n", dev->uniq);
	else if (strcmp(name, "modalias") == 0) {
		put_modalias(&o, dev);
		put(&o, "\n");
	} else if (strcmp(name, "properties") == 0) {
		put_bitmap(&o, dev->propbit, INPUT_PROP_MAX, compat);
		put(&o, "\n");
	} else if (strcmp(name, "inhibited") == 0)
		put(&o, "0\n");
	else if (strcmp(name, "uevent") == 0)
		return sysfs_input_uevent(buf, size, dev, compat);
	else if (strcmp(name, "id/bustype") == 0)
		id = &dev->id.bustype;
	else if (strcmp(name, "id/vendor") == 0)
		id = &dev->id.vendor;
	else if (strcmp(name, "id/product") == 0)
		id = &dev->id.product;
	else if (strcmp(name, "id/version") == 0)
		id = &dev->id.version;
	else if (strncmp(name, "capabilities/", 13) == 0) {
		size_t i;
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			if (strcmp(name + 13, caps[i].name) == 0)
				break;
		if (i == sizeof(caps) / sizeof(caps[0]))
			return -ENOENT;
		put_bitmap(&o, cap_bits(dev, i), caps[i].max, compat);
		put(&o, "\n");
	} else
		return -ENOENT;
	if (id)
		put(&o, "%04x\n", *id);
	return out_end(&o);
}

unsigned sysfs_fb_refresh(const struct fb_var_screeninfo *var)
{
	/* The kernel's u32 arithmetic: PICOS2KHZ(pixclock) * 1000, then per line and frame. */
	uint32_t pixclock, htotal, vtotal;

	if (!var->pixclock)
		return 0;
	pixclock = (uint32_t)(1000000000UL / var->pixclock) * 1000u;
	htotal = var->xres + var->right_margin + var->hsync_len + var->left_margin;
	vtotal = var->yres + var->lower_margin + var->vsync_len + var->upper_margin;
	if (var->vmode & FB_VMODE_INTERLACED)
		vtotal /= 2;
	if (var->vmode & FB_VMODE_DOUBLE)
		vtotal *= 2;
	if (!htotal || !vtotal)
		return 0;
	return pixclock / htotal / vtotal;
}

/* mode_string for the one mode of the list, made from the current var
 * (fb_var_to_videomode: FB_MODE_IS_FROM_VAR, which prints as 'U'). */
static void put_mode(struct out *o, const struct fb_var_screeninfo *var)
{
	char v = 'p';

	if (var->vmode & FB_VMODE_INTERLACED)
		v = 'i';
	if (var->vmode & FB_VMODE_DOUBLE)
		v = 'd';
	put(o, "U:%dx%d%c-%d\n", (int)var->xres, (int)var->yres, v, (int)sysfs_fb_refresh(var));
}

int sysfs_fb_attr(char *buf, size_t size, const struct fb_var_screeninfo *var,
		  const struct fb_fix_screeninfo *fix, const char *name)
{
	struct out o = out_start(buf, size);

	if (strcmp(name, "name") == 0)
		put(&o, "%.*s\n", (int)sizeof(fix->id), fix->id);
	else if (strcmp(name, "modes") == 0)
		put_mode(&o, var);
	else if (strcmp(name, "mode") == 0 || strcmp(name, "blank") == 0 ||
		 strcmp(name, "console") == 0 || strcmp(name, "cursor") == 0)
		; /* no mode chosen through sysfs; the others show nothing on any driver */
	else if (strcmp(name, "virtual_size") == 0)
		put(&o, "%d,%d\n", (int)var->xres_virtual, (int)var->yres_virtual);
	else if (strcmp(name, "bits_per_pixel") == 0)
		put(&o, "%d\n", (int)var->bits_per_pixel);
	else if (strcmp(name, "stride") == 0)
		put(&o, "%d\n", (int)fix->line_length);
	else if (strcmp(name, "pan") == 0)
		put(&o, "%d,%d\n", (int)var->xoffset, (int)var->yoffset);
	else if (strcmp(name, "rotate") == 0)
		put(&o, "%d\n", (int)var->rotate);
	else if (strcmp(name, "state") == 0)
		put(&o, "%d\n", 0); /* FBINFO_STATE_RUNNING */
	else
		return -ENOENT;
	return out_end(&o);
}

int sysfs_devnode_uevent(char *buf, size_t size, unsigned major, unsigned minor,
			 const char *devname)
{
	struct out o = out_start(buf, size);

	put(&o, "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\n", major, minor, devname);
	return out_end(&o);
}
