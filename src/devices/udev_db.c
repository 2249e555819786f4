/* udev's view of a VP's devices: see udev_db.h. The classification follows the rules of
 * systemd 252's input_id builtin, applied to the bits evdev answers EVIOCGBIT with (udev
 * reads the same bits from the capabilities/ attributes, which sysfs_format.c prints from
 * the same struct). */
#include "devices/udev_db.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifndef INPUT_PROP_ACCELEROMETER
#define INPUT_PROP_ACCELEROMETER 0x06
#endif

static bool bit(const uint8_t *bits, unsigned n)
{
	return bits[n / 8] & (1u << (n % 8));
}

static bool any(const uint8_t *bits, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		if (bit(bits, i))
			return true;
	return false;
}

struct kinds {
	bool accelerometer, pointing_stick, mouse, touchpad, touchscreen, joystick, tablet,
		tablet_pad;
};

/* test_pointers: true if DEV is some kind of pointer. */
static bool pointers(const struct evdev *dev, struct kinds *k)
{
	const uint8_t *key = dev->keybit, *abs = dev->absbit;
	bool has_keys = bit(dev->evbit, EV_KEY);
	bool abs_xy = bit(abs, ABS_X) && bit(abs, ABS_Y);
	bool stylus = bit(key, BTN_STYLUS), pen = bit(key, BTN_TOOL_PEN);
	bool finger_no_pen = bit(key, BTN_TOOL_FINGER) && !pen;
	bool mouse_button = any(key, BTN_MOUSE, BTN_JOYSTICK);
	bool rel_xy = bit(dev->evbit, EV_REL) && bit(dev->relbit, REL_X) && bit(dev->relbit, REL_Y);
	bool mt_xy = bit(abs, ABS_MT_POSITION_X) && bit(abs, ABS_MT_POSITION_Y);
	bool direct = bit(dev->propbit, INPUT_PROP_DIRECT);
	bool touch = bit(key, BTN_TOUCH);
	bool pad_buttons = bit(key, BTN_0) && stylus && !pen;
	bool joy = false;

	k->accelerometer = bit(dev->propbit, INPUT_PROP_ACCELEROMETER) ||
			   (!has_keys && abs_xy && bit(abs, ABS_Z));
	if (k->accelerometer)
		return true;
	k->pointing_stick = bit(dev->propbit, INPUT_PROP_POINTING_STICK);
	/* A device that claims every axis does not really have multitouch ones. */
	if (mt_xy && bit(abs, ABS_MT_SLOT) && bit(abs, ABS_MT_SLOT - 1))
		mt_xy = false;
	/* A mouse with more than 16 buttons runs into the joystick range. */
	if (!bit(key, BTN_JOYSTICK - 1))
		joy = any(key, BTN_JOYSTICK, BTN_DIGI) ||
		      any(key, BTN_TRIGGER_HAPPY1, BTN_TRIGGER_HAPPY40 + 1) ||
		      any(key, BTN_DPAD_UP, BTN_DPAD_RIGHT + 1);
	joy = joy || any(abs, ABS_RX, ABS_PRESSURE);

	if (abs_xy) {
		if (stylus || pen)
			k->tablet = true;
		else if (finger_no_pen && !direct)
			k->touchpad = true;
		else if (mouse_button)
			k->mouse = true;
		else if (touch || direct)
			k->touchscreen = true;
		else if (joy)
			k->joystick = true;
	} else if (joy)
		k->joystick = true;
	if (mt_xy) {
		if (stylus || pen)
			k->tablet = true;
		else if (finger_no_pen && !direct)
			k->touchpad = true;
		else if (touch || direct)
			k->touchscreen = true;
	}
	if (k->tablet && pad_buttons)
		k->tablet_pad = true;
	if (!k->tablet && !k->touchpad && !k->joystick && mouse_button && (rel_xy || !abs_xy))
		k->mouse = true;
	if (k->mouse && dev->id.bustype == BUS_I2C)
		k->pointing_stick = true;
	return k->tablet || k->mouse || k->touchpad || k->touchscreen || k->joystick ||
	       k->pointing_stick;
}

unsigned udev_input_props(const struct evdev *dev, const char *names[UDEV_INPUT_PROPS_MAX])
{
	struct kinds k = {0};
	unsigned n = 0;
	bool pointer, key = false, keyboard = true;

	names[n++] = "ID_INPUT";
	pointer = pointers(dev, &k);
	if (k.accelerometer)
		names[n++] = "ID_INPUT_ACCELEROMETER";
	if (k.pointing_stick)
		names[n++] = "ID_INPUT_POINTINGSTICK";
	if (k.mouse)
		names[n++] = "ID_INPUT_MOUSE";
	if (k.touchpad)
		names[n++] = "ID_INPUT_TOUCHPAD";
	if (k.touchscreen)
		names[n++] = "ID_INPUT_TOUCHSCREEN";
	if (k.joystick)
		names[n++] = "ID_INPUT_JOYSTICK";
	if (k.tablet)
		names[n++] = "ID_INPUT_TABLET";
	if (k.tablet_pad)
		names[n++] = "ID_INPUT_TABLET_PAD";
	/* test_key: any KEY_* below BTN_MISC or in the two high blocks of keys; a keyboard
	 * has all of Esc, the digits and Q to D (codes 1 to 31). */
	if (bit(dev->evbit, EV_KEY)) {
		key = any(dev->keybit, 0, BTN_MISC) || any(dev->keybit, KEY_OK, BTN_DPAD_UP) ||
		      any(dev->keybit, KEY_ALS_TOGGLE, BTN_TRIGGER_HAPPY);
		for (unsigned c = 1; c < 32; c++)
			keyboard = keyboard && bit(dev->keybit, c);
	} else
		keyboard = false;
	/* Wheels alone make a key device too. */
	if (!key && !keyboard && !pointer && bit(dev->evbit, EV_REL) &&
	    (bit(dev->relbit, REL_WHEEL) || bit(dev->relbit, REL_HWHEEL)))
		key = true;
	if (key)
		names[n++] = "ID_INPUT_KEY";
	if (keyboard)
		names[n++] = "ID_INPUT_KEYBOARD";
	if (bit(dev->evbit, EV_SW))
		names[n++] = "ID_INPUT_SWITCH";
	return n;
}

int udev_db_text(char *buf, size_t size, uint64_t usec, const char *const *props, unsigned nprops,
		 const char *const *tags, unsigned ntags)
{
	size_t len = 0;
	int n;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		n = snprintf(buf + len, size - len, __VA_ARGS__);                                  \
		if (n < 0 || (size_t)n >= size - len)                                              \
			return -ENOSPC;                                                            \
		len += (size_t)n;                                                                  \
	} while (0)

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (nprops == 0 && ntags == 0)
		return 0;
	if (usec)
		PUT("I:%llu\n", (unsigned long long)usec);
	for (unsigned i = 0; i < nprops; i++)
		PUT(strchr(props[i], '=') ? "E:%s\n" : "E:%s=1\n", props[i]);
	for (unsigned i = 0; i < ntags; i++)
		PUT("G:%s\n", tags[i]);
	for (unsigned i = 0; i < ntags; i++)
		PUT("Q:%s\n", tags[i]);
	PUT("V:1\n");
#undef PUT
	return (int)len;
}
