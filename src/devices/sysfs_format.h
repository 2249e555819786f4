/* The text of sysfs attributes, byte for byte as the kernel writes it, from the
 * descriptions the devices answer their ioctls with: an evdev device (struct evdev, what
 * EVIOCGBIT, EVIOCGID, EVIOCGNAME... answer) and a framebuffer's mode (struct
 * fb_var_screeninfo and fb_fix_screeninfo, what FBIOGET_VSCREENINFO and
 * FBIOGET_FSCREENINFO answer).
 *
 * Sources followed: drivers/input/input.c (input_print_bitmap, input_print_modalias,
 * input_dev_uevent, the name/phys/uniq/id attributes), drivers/video/fbdev/core/fbsysfs.c
 * and modedb.c (fb_var_to_videomode, mode_string), drivers/base/core.c (dev_uevent).
 *
 * Each function writes a NUL-terminated text into BUF (SIZE bytes) and returns its length
 * without the NUL, or -ENOSPC if it does not fit (nothing is truncated silently). */
#ifndef CELLS_DEVICES_SYSFS_FORMAT_H
#define CELLS_DEVICES_SYSFS_FORMAT_H

#include <linux/fb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/evdev.h"

/* A page: the most a sysfs attribute shows. */
#define SYSFS_PAGE 4096
/* The kernel's uevent buffer (UEVENT_BUFFER_SIZE): a device's uevent file must fit. */
#define SYSFS_UEVENT_MAX 2048

/* A capability bitmap (BITS, as evdev keeps it: bytes, bit N in byte N/8) of a type whose
 * highest code is MAX (EV_MAX, KEY_MAX, ...): the kernel's longs in hex, highest first,
 * separated by spaces, leading zero longs skipped, "0" if none is set; no newline.
 * COMPAT: as a 64-bit kernel prints it to a 32-bit reader (in_compat_syscall), each long
 * as two 32-bit words ("2608000 3" where a 64-bit reader gets "260800000000003"). */
int sysfs_bitmap(char *buf, size_t size, const uint8_t *bits, unsigned max, bool compat);

/* The modalias of an input device: "input:b0006v1D6Bp0001e0001-e0,1,3,k...,ra...,m,l,s,f,w"
 * (no newline). */
int sysfs_input_modalias(char *buf, size_t size, const struct evdev *dev);

/* The uevent file of an input device (inputN): PRODUCT=, NAME=, PHYS=, UNIQ=, PROP=, EV=,
 * the bitmaps of its event types, MODALIAS=, one per line. */
int sysfs_input_uevent(char *buf, size_t size, const struct evdev *dev, bool compat);

/* An attribute of an input device, by its path under inputN: "name", "phys", "uniq",
 * "modalias", "properties", "inhibited", "id/bustype" (vendor, product, version),
 * "capabilities/ev" (key, rel, abs, msc, led, snd, ff, sw), "uevent". -ENOENT for
 * another name. COMPAT: the text a 32-bit reader gets (the bitmaps differ). */
int sysfs_input_attr(char *buf, size_t size, const struct evdev *dev, const char *name,
		     bool compat);

/* An attribute of a framebuffer (fbN): "name", "modes", "mode", "virtual_size",
 * "bits_per_pixel", "stride", "pan", "rotate", "state", "blank", "console", "cursor".
 * -ENOENT for another name. */
int sysfs_fb_attr(char *buf, size_t size, const struct fb_var_screeninfo *var,
		  const struct fb_fix_screeninfo *fix, const char *name);

/* The refresh rate the kernel derives from a mode (fb_var_to_videomode). */
unsigned sysfs_fb_refresh(const struct fb_var_screeninfo *var);

/* The uevent file of a device with a device node: MAJOR=, MINOR=, DEVNAME= (DEVNAME
 * relative to /dev, "input/event0"). */
int sysfs_devnode_uevent(char *buf, size_t size, unsigned major, unsigned minor,
			 const char *devname);

#endif
