/* What udev would have recorded about a VP's devices, for programs that discover devices
 * through libudev (Qt, Xorg's config/udev, SDL): the properties udev's builtin input_id
 * gives an input device from its capabilities, and a device's database file
 * (/run/udev/data/ID) in udevd's format.
 *
 * Sources followed: systemd 252 (Debian bookworm's), src/udev/udev-builtin-input_id.c
 * (test_pointers, test_key) and src/libsystemd/sd-device/device-private.c
 * (device_update_db: "I:" usec initialized, "E:" properties, "G:"/"Q:" tags, "V:1"), and
 * sd-device.c's reader (a device with a database file is "initialized"). */
#ifndef CELLS_DEVICES_UDEV_DB_H
#define CELLS_DEVICES_UDEV_DB_H

#include <stddef.h>
#include <stdint.h>

#include "devices/evdev.h"

#define UDEV_INPUT_PROPS_MAX 12

/* The ID_INPUT* properties (each with the value "1") that input_id gives DEV, in the
 * order udev adds them: ID_INPUT first, then the pointer kinds (ID_INPUT_TOUCHSCREEN,
 * _MOUSE, _TOUCHPAD, ...), ID_INPUT_KEY, ID_INPUT_KEYBOARD, ID_INPUT_SWITCH. Returns how
 * many went to NAMES. */
unsigned udev_input_props(const struct evdev *dev, const char *names[UDEV_INPUT_PROPS_MAX]);

/* A database file: "I:USEC" when USEC is not 0, "E:NAME=1" for each of NPROPS names
 * ("E:NAME=VALUE" for a "NAME=VALUE"),
 * "G:TAG" and "Q:TAG" for each of NTAGS tags, and "V:1" — or nothing at all for a device
 * with neither properties nor tags (udevd writes such a file empty: a device with a
 * device node and no data is still initialized). Returns the length, or -ENOSPC. */
int udev_db_text(char *buf, size_t size, uint64_t usec, const char *const *props, unsigned nprops,
		 const char *const *tags, unsigned ntags);

#endif
