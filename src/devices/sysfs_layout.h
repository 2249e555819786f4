/* What a VP's /sys and /run/udev hold for its devices, laid out as the kernel and udevd
 * lay them out on a real machine (DESIGN.md §4, "The VP's /sys"; docs/DEVICES.md has the
 * whole tree). Each function adds one device's nodes to a struct sysfs_tree, from the
 * description the device answers its ioctls with, so that sysfs and the ioctls cannot
 * disagree:
 *
 *   framebuffer fbN: sys/devices/platform/cells-fb.N/graphics/fbN, its platform parent
 *     (so that Xorg's fbdev probe, which reads /sys/class/graphics/fbN/device/subsystem
 *     and refuses "bus/pci", takes it), sys/class/graphics/fbN, sys/dev/char/29:N,
 *     sys/bus/platform/{devices,drivers}; a udev database file c29:N (tag "seat").
 *   input device inputN with its evdev node eventM: sys/devices/virtual/input/inputN
 *     (name, phys, uniq, id/..., capabilities/..., properties, modalias, uevent) and
 *     .../inputN/eventM (dev 13:64+M, uevent), sys/class/input/{inputN,eventM},
 *     sys/dev/char/13:64+M; udev database files +input:inputN and c13:64+M with the
 *     ID_INPUT* properties of udev's input_id (tag "seat" on inputN, as 71-seat.rules
 *     gives it), and run/udev/tags/seat/+input:inputN.
 *   virtual terminals: sys/devices/virtual/tty/tty0 (active: "ttyA") and tty1..ttyNR,
 *     sys/class/tty/ttyN, sys/dev/char/4:N, empty udev database files c4:N.
 *   the modem's port ttyM0: sys/devices/virtual/tty/ttyM0 (its pty's numbers),
 *     sys/class/tty/ttyM0, sys/dev/char/136:N; a udev database file c136:N with the
 *     properties ModemManager and oFono select a modem by.
 *
 * Every node is static text except the framebuffer's attributes, marked live: render them
 * with sysfs_fb_attr (sysfs_format.h) from the current mode on each read. Files whose
 * text a 32-bit reader gets otherwise have a compat_text.
 *
 * A device adds its part and hands the nodes to whoever serves them, e.g.:
 *
 *	struct sysfs_tree t;
 *	sysfs_tree_init(&t);
 *	ret = sysfs_layout_input(&t, &touch, 0, 0, usec, err);  (and the keys as 1, 1)
 *	for (size_t i = 0; ret == 0 && i < t.n; i++)
 *		ret = serve(&t.nodes[i]);  (a directory, a link to text, a file of text)
 *	sysfs_tree_free(&t);
 *
 * Paths under "sys/" belong in the VP's /sys, those under "run/udev/" in its /run/udev. */
#ifndef CELLS_DEVICES_SYSFS_LAYOUT_H
#define CELLS_DEVICES_SYSFS_LAYOUT_H

#include <linux/fb.h>
#include <stdint.h>

#include "common/error.h"
#include "devices/evdev.h"
#include "devns/sysfs_tree.h"

#define SYSFS_FB_MAJOR	  29
#define SYSFS_INPUT_MAJOR 13
#define SYSFS_EVDEV_MINOR 64 /* evdev's first minor: eventM is 13:64+M */
#define SYSFS_TTY_MAJOR	  4
#define SYSFS_EVDEV_MAX	  32 /* eventM with a fixed minor */

/* Framebuffer INDEX (fbINDEX) in the mode VAR, FIX. USEC: CLOCK_MONOTONIC in µs when the
 * device appeared, for the database's "I:" (udev's USEC_INITIALIZED); 0 leaves it out. */
int sysfs_layout_fb(struct sysfs_tree *t, unsigned index, const struct fb_var_screeninfo *var,
		    const struct fb_fix_screeninfo *fix, uint64_t usec, struct error *err);

/* Input device DEV as inputINPUT with its node eventEVENT (EVENT < SYSFS_EVDEV_MAX). */
int sysfs_layout_input(struct sysfs_tree *t, const struct evdev *dev, unsigned input,
		       unsigned event, uint64_t usec, struct error *err);

/* tty0 and the consoles tty1..ttyNR (NR >= 1), ttyACTIVE the foreground one. */
int sysfs_layout_vt(struct sysfs_tree *t, unsigned nr, unsigned active, struct error *err);

/* A modem's AT port NAME, a virtual tty whose node is MAJOR:MINOR (a pty's), with the
 * udev properties that make ModemManager and oFono take it: ID_MM_CANDIDATE (what
 * 80-mm-candidate.rules gives every tty), ID_MM_DEVICE_PROCESS (ModemManager's explicit
 * allowlist: without it a tty with no physical parent is filtered as "virtual"),
 * ID_MM_PORT_TYPE_AT_PRIMARY (the port to talk AT on, as a driver's rules tag one) and
 * OFONO_DRIVER=cinterion (oFono's udevng takes a tty only with a driver named; that one is
 * plain 27.007: the SIM present, +CFUN=1 to go online, atmodem's drivers without quirks). */
int sysfs_layout_modem(struct sysfs_tree *t, const char *name, unsigned major, unsigned minor,
		       struct error *err);

#endif
