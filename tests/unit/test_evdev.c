/* The evdev model (src/devices/evdev.c): the input core's filter, packets, queues,
 * overflow, grabs, clocks, writes and the ioctls, as the kernel's evdev behaves. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devices/evdev.h"
#include "common/keymap.h"

static struct evdev_time t0;

static void touchscreen(struct evdev *dev)
{
	evdev_init(dev, 64);
	snprintf(dev->name, sizeof(dev->name), "touch");
	evdev_enable_prop(dev, INPUT_PROP_DIRECT);
	evdev_enable(dev, EV_KEY, BTN_TOUCH);
	evdev_enable(dev, EV_KEY, KEY_A);
	evdev_enable(dev, EV_SW, SW_LID);
	evdev_enable(dev, EV_LED, LED_CAPSL);
	evdev_enable_abs(dev, ABS_X, 0, 719, 0);
	evdev_enable_abs(dev, ABS_MT_SLOT, 0, 9, 0);
	evdev_enable_abs(dev, ABS_MT_TRACKING_ID, 0, 65535, 0);
	evdev_enable_abs(dev, ABS_MT_POSITION_X, 0, 719, 0);
}

static void ev(struct evdev *dev, unsigned type, unsigned code, int value)
{
	evdev_event(dev, &t0, type, code, value);
}

static void syn(struct evdev *dev)
{
	ev(dev, EV_SYN, SYN_REPORT, 0);
}

/* Read everything queued into OUT; returns how many events. */
static int drain(struct evdev_client *c, struct input_event *out, int max)
{
	ssize_t n = evdev_read(c, out, (size_t)max * sizeof(*out), false);

	assert_true(n >= 0);
	assert_int_equal(n % (ssize_t)sizeof(*out), 0);
	return (int)(n / (ssize_t)sizeof(*out));
}

static void expect(const struct input_event *e, unsigned type, unsigned code, int value)
{
	assert_int_equal(e->type, type);
	assert_int_equal(e->code, code);
	assert_int_equal(e->value, value);
}

static void packets_are_readable_only_when_complete(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	struct input_event out[8];

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	ev(&dev, EV_KEY, KEY_A, 1);
	assert_false(evdev_readable(c));
	assert_int_equal(drain(c, out, 8), 0);
	syn(&dev);
	assert_true(evdev_readable(c));
	assert_int_equal(drain(c, out, 8), 2);
	expect(&out[0], EV_KEY, KEY_A, 1);
	expect(&out[1], EV_SYN, SYN_REPORT, 0);
	evdev_close(c);
}

static void the_input_core_filter(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	struct input_event out[16];

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	ev(&dev, EV_KEY, KEY_A, 1);
	ev(&dev, EV_KEY, KEY_A, 1); /* already down: dropped */
	ev(&dev, EV_KEY, KEY_B, 1); /* not a capability: dropped */
	ev(&dev, EV_ABS, ABS_X, 5);
	ev(&dev, EV_ABS, ABS_X, 5); /* unchanged: dropped */
	ev(&dev, EV_REL, REL_X, 1); /* not a type it has: dropped */
	syn(&dev);
	syn(&dev);		    /* an empty packet: dropped */
	ev(&dev, EV_KEY, KEY_A, 2); /* a repeat of a key that is down: passed */
	syn(&dev);
	ev(&dev, EV_KEY, KEY_A, 0);
	ev(&dev, EV_KEY, KEY_A, 2); /* a repeat of a key that is up: dropped */
	syn(&dev);
	assert_int_equal(drain(c, out, 16), 7);
	expect(&out[0], EV_KEY, KEY_A, 1);
	expect(&out[1], EV_ABS, ABS_X, 5);
	expect(&out[2], EV_SYN, SYN_REPORT, 0);
	expect(&out[3], EV_KEY, KEY_A, 2);
	expect(&out[4], EV_SYN, SYN_REPORT, 0);
	expect(&out[5], EV_KEY, KEY_A, 0);
	expect(&out[6], EV_SYN, SYN_REPORT, 0);
	assert_false(evdev_key_down(&dev, KEY_A));
	evdev_close(c);
}

static void slots_are_reported_before_an_event_of_another(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	struct input_event out[16];

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	ev(&dev, EV_ABS, ABS_MT_SLOT, 0);
	ev(&dev, EV_ABS, ABS_MT_TRACKING_ID, 1);
	ev(&dev, EV_ABS, ABS_MT_SLOT, 3);
	ev(&dev, EV_ABS, ABS_MT_TRACKING_ID, 2);
	ev(&dev, EV_ABS, ABS_MT_POSITION_X, 9);
	syn(&dev);
	ev(&dev, EV_ABS, ABS_MT_SLOT, 3);
	ev(&dev, EV_ABS, ABS_MT_POSITION_X, 9); /* same value in the same slot: dropped */
	ev(&dev, EV_ABS, ABS_MT_SLOT, 0);
	ev(&dev, EV_ABS, ABS_MT_POSITION_X, 9); /* slot 0 had 0: passed, after its slot */
	syn(&dev);
	assert_int_equal(drain(c, out, 16), 8);
	expect(&out[0], EV_ABS, ABS_MT_TRACKING_ID, 1); /* slot 0 is the device's current */
	expect(&out[1], EV_ABS, ABS_MT_SLOT, 3);
	expect(&out[2], EV_ABS, ABS_MT_TRACKING_ID, 2);
	expect(&out[3], EV_ABS, ABS_MT_POSITION_X, 9);
	expect(&out[4], EV_SYN, SYN_REPORT, 0);
	expect(&out[5], EV_ABS, ABS_MT_SLOT, 0);
	expect(&out[6], EV_ABS, ABS_MT_POSITION_X, 9);
	expect(&out[7], EV_SYN, SYN_REPORT, 0);
	evdev_close(c);
}

static void release_all_lifts_keys_and_contacts(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	struct input_event out[16];

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	ev(&dev, EV_ABS, ABS_MT_SLOT, 2);
	ev(&dev, EV_ABS, ABS_MT_TRACKING_ID, 5);
	ev(&dev, EV_KEY, BTN_TOUCH, 1);
	syn(&dev);
	drain(c, out, 16);
	evdev_release_all(&dev, &t0);
	assert_int_equal(drain(c, out, 16), 3);
	expect(&out[0], EV_ABS, ABS_MT_TRACKING_ID, -1); /* slot 2 is still current */
	expect(&out[1], EV_KEY, BTN_TOUCH, 0);
	expect(&out[2], EV_SYN, SYN_REPORT, 0);
	evdev_release_all(&dev, &t0); /* nothing held: nothing sent */
	assert_false(evdev_readable(c));
	evdev_close(c);
}

static void overflow_leaves_syn_dropped_and_the_newest(void **state)
{
	struct evdev dev;
	struct evdev_client *c, *reader;
	struct input_event out[128];
	int n;

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	assert_int_equal(evdev_open(&dev, &reader), 0);
	for (int i = 0; i < 100; i++) {
		ev(&dev, EV_KEY, KEY_A, !(i % 2));
		syn(&dev);
		drain(reader, out, 128); /* the other reader keeps up: untouched */
	}
	n = drain(c, out, 128);
	assert_true(n > 0 && n < 64);
	expect(&out[0], EV_SYN, SYN_DROPPED, 0);
	expect(&out[n - 1], EV_SYN, SYN_REPORT, 0);
	evdev_close(c);
	evdev_close(reader);
}

static void reads_take_whole_events_of_the_callers_size(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	unsigned char buf[64];

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	t0.real.tv_sec = 1234;
	t0.real.tv_nsec = 5678000;
	ev(&dev, EV_KEY, KEY_A, 1);
	syn(&dev);
	assert_int_equal(evdev_read(c, buf, 23, false), -EINVAL);
	assert_int_equal(evdev_read(c, buf, 15, true), -EINVAL);
	assert_int_equal(evdev_read(c, buf, 16 + 15, true), 16); /* one whole 32-bit event */
	uint32_t sec, usec;
	memcpy(&sec, buf, 4);
	memcpy(&usec, buf + 4, 4);
	assert_int_equal(sec, 1234);
	assert_int_equal(usec, 5678);
	assert_int_equal(buf[8], EV_KEY);
	assert_int_equal(evdev_read(c, buf, 48, false), 24); /* the SYN, 64-bit */
	memset(&t0, 0, sizeof(t0));
	evdev_close(c);
}

static void a_grab_takes_every_event(void **state)
{
	struct evdev dev;
	struct evdev_client *a, *b;
	struct input_event out[8];

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &a), 0);
	assert_int_equal(evdev_open(&dev, &b), 0);
	assert_int_equal(evdev_grab(a, true), 0);
	assert_int_equal(evdev_grab(b, true), -EBUSY);
	assert_int_equal(evdev_grab(a, true), -EBUSY);
	assert_int_equal(evdev_grab(b, false), -EINVAL);
	ev(&dev, EV_KEY, KEY_A, 1);
	syn(&dev);
	assert_int_equal(drain(b, out, 8), 0);
	assert_int_equal(drain(a, out, 8), 2);
	evdev_close(a); /* the grab goes with the file */
	ev(&dev, EV_KEY, KEY_A, 0);
	syn(&dev);
	assert_int_equal(drain(b, out, 8), 2);
	evdev_close(b);
}

static void a_revoked_client_hears_nothing_and_may_do_nothing(void **state)
{
	struct evdev dev;
	struct evdev_client *a, *b;
	struct input_event out[8];
	struct input_event led = {.type = EV_LED, .code = LED_NUML, .value = 1};
	char name[32];
	size_t size = sizeof(name);

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &a), 0);
	assert_int_equal(evdev_open(&dev, &b), 0);
	assert_int_equal(evdev_grab(a, true), 0);
	ev(&dev, EV_KEY, KEY_A, 1);
	syn(&dev);
	assert_int_equal(evdev_revoke(a), 0);
	assert_false(evdev_readable(a)); /* its queue went with it */
	assert_int_equal(evdev_read(a, out, sizeof(out), false), -ENODEV);
	assert_int_equal(evdev_write(a, &led, sizeof(led), false, &(struct evdev_time){0}),
			 -ENODEV);
	assert_int_equal(evdev_ioctl(a, EVIOCGNAME(sizeof(name)), NULL, 0, name, &size, false),
			 -ENODEV);
	assert_int_equal(evdev_grab(a, true), -ENODEV);
	assert_int_equal(evdev_revoke(a), -ENODEV);
	/* The grab went: the other client hears the next packet, the revoked one nothing. */
	ev(&dev, EV_KEY, KEY_A, 0);
	syn(&dev);
	assert_int_equal(drain(b, out, 8), 2);
	assert_false(evdev_readable(a));
	evdev_close(a);
	evdev_close(b);
}

static void writes_set_leds_and_nothing_else(void **state)
{
	struct evdev dev;
	struct evdev_client *c, *other;
	struct input_event w[3] = {{.type = EV_LED, .code = LED_CAPSL, .value = 1},
				   {.type = EV_KEY, .code = KEY_A, .value = 1},
				   {.type = EV_SYN, .code = SYN_REPORT}};
	struct input_event out[8];

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	assert_int_equal(evdev_open(&dev, &other), 0);
	assert_int_equal(evdev_write(c, w, 10, false, &t0), -EINVAL);
	assert_int_equal(evdev_write(c, w, sizeof(w) + 5, false, &t0), (ssize_t)sizeof(w));
	assert_false(evdev_key_down(&dev, KEY_A));
	assert_int_equal(drain(other, out, 8), 2);
	expect(&out[0], EV_LED, LED_CAPSL, 1);
	evdev_close(c);
	evdev_close(other);
}

static void clock_change_restarts_the_queue(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	struct input_event out[8];
	int mono = CLOCK_MONOTONIC, bad = 99;

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	ev(&dev, EV_KEY, KEY_A, 1);
	syn(&dev);
	size_t none = 0;
	assert_int_equal(evdev_ioctl(c, EVIOCSCLOCKID, &bad, sizeof(bad), NULL, &none, false),
			 -EINVAL);
	assert_int_equal(evdev_ioctl(c, EVIOCSCLOCKID, &mono, sizeof(mono), NULL, &none, false), 0);
	assert_int_equal(drain(c, out, 8), 0); /* SYN_DROPPED waits for the next packet */
	ev(&dev, EV_KEY, KEY_A, 0);
	syn(&dev);
	assert_int_equal(drain(c, out, 8), 3);
	expect(&out[0], EV_SYN, SYN_DROPPED, 0);
	evdev_close(c);
}

static void ioctls_answer_as_evdev(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	unsigned char out[256];
	size_t len;
	struct input_absinfo abs;

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	len = 4;
	assert_int_equal(evdev_ioctl(c, EVIOCGVERSION, NULL, 0, out, &len, false), 0);
	assert_int_equal(len, 4);
	len = 256;
	assert_int_equal(evdev_ioctl(c, EVIOCGNAME(256), NULL, 0, out, &len, false), 6);
	assert_string_equal((char *)out, "touch");
	len = 3;
	assert_int_equal(evdev_ioctl(c, EVIOCGNAME(3), NULL, 0, out, &len, false), 3);
	len = 64;
	assert_int_equal(evdev_ioctl(c, EVIOCGUNIQ(64), NULL, 0, out, &len, false), -ENOENT);
	len = 64;
	assert_int_equal(evdev_ioctl(c, EVIOCGBIT(0, 64), NULL, 0, out, &len, false), 8);
	assert_true(out[0] & (1 << EV_ABS));
	len = 64;
	assert_int_equal(evdev_ioctl(c, EVIOCGBIT(0, 64), NULL, 0, out, &len, true), 4);
	len = 256;
	assert_int_equal(evdev_ioctl(c, EVIOCGBIT(EV_KEY, 256), NULL, 0, out, &len, false), 96);
	assert_true(out[BTN_TOUCH / 8] & (1 << (BTN_TOUCH % 8)));
	len = 256; /* every type evdev knows has a bitmap, if empty */
	assert_int_equal(evdev_ioctl(c, EVIOCGBIT(EV_REL, 256), NULL, 0, out, &len, false), 8);
	assert_int_equal(out[0], 0);
	len = 256;
	assert_int_equal(evdev_ioctl(c, EVIOCGBIT(EV_PWR, 256), NULL, 0, out, &len, false),
			 -EINVAL);
	len = sizeof(abs);
	assert_int_equal(evdev_ioctl(c, EVIOCGABS(ABS_MT_POSITION_X), NULL, 0, &abs, &len, false),
			 0);
	assert_int_equal(abs.maximum, 719);
	len = 8;
	assert_int_equal(evdev_ioctl(c, EVIOCGPROP(8), NULL, 0, out, &len, false), 8);
	assert_true(out[0] & (1 << INPUT_PROP_DIRECT));
	len = 8;
	assert_int_equal(evdev_ioctl(c, _IOC(_IOC_READ, 'E', 0x0c, 8), NULL, 0, out, &len, false),
			 -EINVAL);
	len = 0;
	assert_int_equal(evdev_ioctl(c, 0x5401, NULL, 0, out, &len, false), -EINVAL);
	len = 8;
	assert_int_equal(evdev_ioctl(c, EVIOCGREP, NULL, 0, out, &len, false), -ENOSYS);
	evdev_close(c);
}

/* The bits set in a bitmap that EVIOCGBIT or EVIOCGPROP answers, as a list of numbers. */
static int set_bits(struct evdev_client *c, uint32_t cmd, unsigned *codes, int max)
{
	unsigned char out[EVDEV_BITS(KEY_CNT) + 8];
	size_t len = sizeof(out);
	long n = evdev_ioctl(c, cmd, NULL, 0, out, &len, false);
	int found = 0;

	assert_true(n >= 0);
	for (unsigned i = 0; i < (unsigned)n * 8; i++)
		if (out[i / 8] & (1u << (i % 8))) {
			assert_true(found < max);
			codes[found++] = i;
		}
	return found;
}

static void expect_abs(struct evdev_client *c, unsigned code, int min, int max)
{
	struct input_absinfo abs, want = {.minimum = min, .maximum = max};
	size_t len = sizeof(abs);

	memset(&abs, 0x55, sizeof(abs));
	assert_int_equal(evdev_ioctl(c, EVIOCGABS(code), NULL, 0, &abs, &len, false), 0);
	assert_int_equal(len, sizeof(abs));
	assert_memory_equal(&abs, &want, sizeof(abs));
}

/* Exactly what a kernel driver of a direct multitouch screen has (edt-ft5x06: its two MT
 * axes, then input_mt_init_slots(..., INPUT_MT_DIRECT)): no BTN_TOOL_*, no other bit. */
static void the_touchscreen_has_a_kernel_drivers_bits(void **state)
{
	static const struct {
		unsigned type, n, codes[6];
	} want[] = {
		{0, 3, {EV_SYN, EV_KEY, EV_ABS}},
		{EV_KEY, 1, {BTN_TOUCH}},
		{EV_ABS,
		 6,
		 {ABS_X, ABS_Y, ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y,
		  ABS_MT_TRACKING_ID}},
		{EV_REL, 0, {0}},
		{EV_MSC, 0, {0}},
		{EV_SW, 0, {0}},
		{EV_LED, 0, {0}},
		{EV_SND, 0, {0}},
		{EV_FF, 0, {0}},
	};
	struct evdev dev;
	struct evdev_client *c;
	unsigned codes[KEY_CNT];
	size_t len = 8;
	int n;

	(void)state;
	evdev_init_touchscreen(&dev, 64, 720, 1252);
	assert_int_equal(evdev_open(&dev, &c), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		n = set_bits(c, EVIOCGBIT(want[i].type, EVDEV_BITS(KEY_CNT)), codes, KEY_CNT);
		assert_int_equal(n, want[i].n);
		for (int k = 0; k < n; k++)
			assert_int_equal(codes[k], want[i].codes[k]);
	}
	n = set_bits(c, EVIOCGPROP(EVDEV_BITS(INPUT_PROP_CNT)), codes, KEY_CNT);
	assert_int_equal(n, 1);
	assert_int_equal(codes[0], INPUT_PROP_DIRECT);
	/* ABS_X/Y are copies of the MT axes (copy_abs); the slots 0..9, the ids TRKID_MAX;
	 * fuzz, flat, resolution and value 0 (input_set_abs_params sets no value). */
	expect_abs(c, ABS_X, 0, 719);
	expect_abs(c, ABS_Y, 0, 1251);
	expect_abs(c, ABS_MT_POSITION_X, 0, 719);
	expect_abs(c, ABS_MT_POSITION_Y, 0, 1251);
	expect_abs(c, ABS_MT_SLOT, 0, EVDEV_MT_SLOTS - 1);
	expect_abs(c, ABS_MT_TRACKING_ID, 0, 0xffff);
	expect_abs(c, ABS_PRESSURE, 0, 0);
	assert_int_equal(evdev_ioctl(c, EVIOCGREP, NULL, 0, codes, &len, false), -ENOSYS);
	evdev_close(c);
}

static void touch(struct evdev *dev, int slot, int id, int x, int y)
{
	ev(dev, EV_ABS, ABS_MT_SLOT, slot);
	ev(dev, EV_ABS, ABS_MT_TRACKING_ID, id);
	if (id >= 0) {
		ev(dev, EV_ABS, ABS_MT_POSITION_X, x);
		ev(dev, EV_ABS, ABS_MT_POSITION_Y, y);
	}
}

static void frame(struct evdev *dev)
{
	evdev_mt_sync_frame(dev, &t0);
	syn(dev);
}

/* input_mt_report_pointer_emulation of a direct device: BTN_TOUCH from the first contact
 * to the last release, ABS_X/Y at the oldest contact, whatever its slot. */
static void the_pointer_follows_the_oldest_contact(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	struct input_event out[32];
	struct input_absinfo abs;
	size_t len = sizeof(abs);

	(void)state;
	evdev_init_touchscreen(&dev, 64, 720, 1252);
	assert_int_equal(evdev_open(&dev, &c), 0);
	touch(&dev, 3, 10, 30, 31);
	frame(&dev);
	assert_int_equal(drain(c, out, 32), 8);
	expect(&out[0], EV_ABS, ABS_MT_SLOT, 3);
	expect(&out[1], EV_ABS, ABS_MT_TRACKING_ID, 10);
	expect(&out[2], EV_ABS, ABS_MT_POSITION_X, 30);
	expect(&out[3], EV_ABS, ABS_MT_POSITION_Y, 31);
	expect(&out[4], EV_KEY, BTN_TOUCH, 1);
	expect(&out[5], EV_ABS, ABS_X, 30);
	expect(&out[6], EV_ABS, ABS_Y, 31);
	expect(&out[7], EV_SYN, SYN_REPORT, 0);
	/* A second contact, in a lower slot: the pointer stays with the first. */
	touch(&dev, 0, 11, 5, 6);
	frame(&dev);
	assert_int_equal(drain(c, out, 32), 5);
	expect(&out[4], EV_SYN, SYN_REPORT, 0);
	/* The second moves: no pointer motion; the first moves: the pointer follows. */
	ev(&dev, EV_ABS, ABS_MT_POSITION_X, 7);
	frame(&dev);
	assert_int_equal(drain(c, out, 32), 2);
	touch(&dev, 3, 10, 40, 31);
	frame(&dev);
	assert_int_equal(drain(c, out, 32), 4);
	expect(&out[0], EV_ABS, ABS_MT_SLOT, 3);
	expect(&out[1], EV_ABS, ABS_MT_POSITION_X, 40);
	expect(&out[2], EV_ABS, ABS_X, 40);
	/* The first lifts: the pointer jumps to the one left, the touch goes on. */
	touch(&dev, 3, -1, 0, 0);
	frame(&dev);
	assert_int_equal(drain(c, out, 32), 4);
	expect(&out[0], EV_ABS, ABS_MT_TRACKING_ID, -1);
	expect(&out[1], EV_ABS, ABS_X, 7);
	expect(&out[2], EV_ABS, ABS_Y, 6);
	/* The last lifts: BTN_TOUCH 0, the pointer stays where it was. */
	touch(&dev, 0, -1, 0, 0);
	frame(&dev);
	assert_int_equal(drain(c, out, 32), 4);
	expect(&out[0], EV_ABS, ABS_MT_SLOT, 0);
	expect(&out[1], EV_ABS, ABS_MT_TRACKING_ID, -1);
	expect(&out[2], EV_KEY, BTN_TOUCH, 0);
	expect(&out[3], EV_SYN, SYN_REPORT, 0);
	assert_int_equal(evdev_ioctl(c, EVIOCGABS(ABS_X), NULL, 0, &abs, &len, false), 0);
	assert_int_equal(abs.value, 7);
	/* A new contact in a slot that had an older one is the newest. */
	touch(&dev, 1, 12, 100, 101);
	frame(&dev);
	touch(&dev, 0, 13, 200, 201);
	frame(&dev);
	drain(c, out, 32);
	assert_int_equal(evdev_ioctl(c, EVIOCGABS(ABS_X), NULL, 0, &abs, &len, false), 0);
	assert_int_equal(abs.value, 100);
	evdev_close(c);
}

static void reading_key_state_drops_queued_key_events(void **state)
{
	struct evdev dev;
	struct evdev_client *c;
	struct input_event out[8];
	unsigned char bits[96];
	size_t len = sizeof(bits);

	(void)state;
	touchscreen(&dev);
	assert_int_equal(evdev_open(&dev, &c), 0);
	ev(&dev, EV_KEY, KEY_A, 1);
	syn(&dev);
	ev(&dev, EV_KEY, BTN_TOUCH, 1);
	ev(&dev, EV_ABS, ABS_X, 7);
	syn(&dev);
	assert_int_equal(evdev_ioctl(c, EVIOCGKEY(96), NULL, 0, bits, &len, false), 96);
	assert_true(bits[KEY_A / 8] & (1 << (KEY_A % 8)));
	/* The first packet's key is gone, its SYN_REPORT kept (it may end a packet the reader
	 * has begun); the second packet keeps its axis. */
	assert_int_equal(drain(c, out, 8), 3);
	expect(&out[0], EV_SYN, SYN_REPORT, 0);
	expect(&out[1], EV_ABS, ABS_X, 7);
	expect(&out[2], EV_SYN, SYN_REPORT, 0);
	evdev_close(c);
}

static void keymap_names_keysyms_and_chords(void **state)
{
	struct key_chord chord;

	(void)state;
	assert_int_equal(keymap_from_keysym('a'), KEY_A);
	assert_int_equal(keymap_from_keysym('A'), KEY_A);
	assert_int_equal(keymap_from_keysym('!'), KEY_1);
	assert_int_equal(keymap_from_keysym(0xff53), KEY_RIGHT);
	assert_int_equal(keymap_from_keysym(0), 0);
	assert_int_equal(keymap_from_keysym(0x12345678), 0);
	assert_int_equal(keymap_from_name("Right"), KEY_RIGHT);
	assert_int_equal(keymap_from_name("KEY_POWER"), KEY_POWER);
	assert_int_equal(keymap_from_name("nope"), 0);
	assert_int_equal(keymap_parse_chord("ctrl+alt+right", &chord), 0);
	assert_int_equal(chord.mods, KEYMAP_CTRL | KEYMAP_ALT);
	assert_int_equal(chord.key, KEY_RIGHT);
	assert_int_equal(keymap_parse_chord("Meta+N", &chord), 0);
	static const char *const bad[] = {"",		"right",       "ctrl",	      "ctrl+",
					  "+ctrl+a",	"ctrl++a",     "ctrl+ctrl+a", "ctrl+a+b",
					  "ctrl+nokey", "ctrl+leftalt"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(keymap_parse_chord(bad[i], &chord), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(packets_are_readable_only_when_complete),
		cmocka_unit_test(the_input_core_filter),
		cmocka_unit_test(slots_are_reported_before_an_event_of_another),
		cmocka_unit_test(release_all_lifts_keys_and_contacts),
		cmocka_unit_test(overflow_leaves_syn_dropped_and_the_newest),
		cmocka_unit_test(reads_take_whole_events_of_the_callers_size),
		cmocka_unit_test(a_grab_takes_every_event),
		cmocka_unit_test(a_revoked_client_hears_nothing_and_may_do_nothing),
		cmocka_unit_test(writes_set_leds_and_nothing_else),
		cmocka_unit_test(clock_change_restarts_the_queue),
		cmocka_unit_test(ioctls_answer_as_evdev),
		cmocka_unit_test(the_touchscreen_has_a_kernel_drivers_bits),
		cmocka_unit_test(the_pointer_follows_the_oldest_contact),
		cmocka_unit_test(reading_key_state_drops_queued_key_events),
		cmocka_unit_test(keymap_names_keysyms_and_chords),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
