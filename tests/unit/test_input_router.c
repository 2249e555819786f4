/* The input router (src/devices/input_router.c): what reaches which VP's evdev devices,
 * read back through clients as a VP's programs read them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/keymap.h"
#include "devices/input_router.h"
#include "input_events.h"

#define WIDTH  720
#define HEIGHT 1252
#define NVPS   2
#define MAX_EV 64

struct vp {
	struct evdev devs[INPUT_ROUTER_NDEVS];
	struct evdev_client *clients[INPUT_ROUTER_NDEVS];
	struct input_router_vp route;
};

struct fixture {
	struct input_router *r;
	struct vp vps[NVPS];
	int switches[8]; /* the directions asked for */
	unsigned nswitches;
	unsigned power_presses;	 /* short ones, the root's */
	unsigned accept_presses; /* the accept key's, the root's */
};

static void system_key(void *ctx, int key)
{
	struct fixture *f = ctx;

	if (key == INPUT_KEY_POWER)
		f->power_presses++;
	else if (key == INPUT_KEY_ACCEPT)
		f->accept_presses++;
	else
		fail();
}

static void request_switch(void *ctx, int direction)
{
	struct fixture *f = ctx;

	assert_true(f->nswitches < sizeof(f->switches) / sizeof(f->switches[0]));
	f->switches[f->nswitches++] = direction;
}

/* As input.c sets up a VP's devices. */
static void set_up_vp(struct vp *vp)
{
	const unsigned *keys;
	unsigned n = keymap_keys(&keys);
	struct evdev *kb = &vp->devs[INPUT_ROUTER_KEYS];

	evdev_init_touchscreen(&vp->devs[INPUT_ROUTER_TOUCH], 512, WIDTH, HEIGHT);
	evdev_init(kb, 64);
	for (unsigned i = 0; i < n; i++)
		evdev_enable(kb, EV_KEY, keys[i]);
	evdev_enable(kb, EV_SW, SW_LID);
	for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++) {
		vp->route.devs[d] = &vp->devs[d];
		assert_int_equal(evdev_open(&vp->devs[d], &vp->clients[d]), 0);
	}
}

static int set_up(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct input_router_config config = {.width = WIDTH,
					     .height = HEIGHT,
					     .request_switch = request_switch,
					     .accept_key = KEY_PHONE,
					     .system_key = system_key,
					     .ctx = f};
	struct error err;

	assert_non_null(f);
	assert_int_equal(input_router_parse_switch_keys("ctrl+alt+right,ctrl+alt+left",
							&config.next, &config.prev),
			 0);
	assert_int_equal(input_router_create(&f->r, &config, &err), 0);
	for (unsigned i = 0; i < NVPS; i++) {
		set_up_vp(&f->vps[i]);
		input_router_add(f->r, &f->vps[i].route);
	}
	*state = f;
	return 0;
}

static int tear_down(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < NVPS; i++)
		for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++)
			evdev_close(f->vps[i].clients[d]);
	input_router_destroy(f->r);
	free(f);
	return 0;
}

/* What a VP's program reads from one of its devices now. */
static unsigned drain(struct fixture *f, unsigned vp, unsigned dev, struct input_event *out)
{
	ssize_t n = evdev_read(f->vps[vp].clients[dev], out, MAX_EV * sizeof(*out), false);

	assert_true(n >= 0);
	return (unsigned)(n / (ssize_t)sizeof(*out));
}

/* VP's device DEV has exactly EXPECTED (N events) to read. */
static void expect_read(struct fixture *f, unsigned vp, unsigned dev, const struct ev *expected,
			unsigned n)
{
	struct input_event got[MAX_EV];
	char what[32];

	snprintf(what, sizeof(what), "vp %u, device %u", vp, dev);
	expect_events(what, got, drain(f, vp, dev, got), expected, n);
}

enum { K = INPUT_ROUTER_KEYS, T = INPUT_ROUTER_TOUCH };

#define EXPECT(f, vp, dev, ...)                                                                    \
	do {                                                                                       \
		const struct ev want_[] = {__VA_ARGS__};                                           \
		expect_read(f, vp, dev, want_, sizeof(want_) / sizeof(want_[0]));                  \
	} while (0)

static void expect_nothing(struct fixture *f, unsigned vp)
{
	for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++)
		expect_read(f, vp, d, NULL, 0);
}

static void expect_nothing_anywhere(struct fixture *f)
{
	for (unsigned i = 0; i < NVPS; i++)
		expect_nothing(f, i);
}

/* VP's touchscreen has the begin of contact ID at (X, Y) on slot 0 to read, and only it. */
static void expect_contact(struct fixture *f, unsigned vp, int id, int x, int y)
{
	EXPECT(f, vp, T, {EV_ABS, ABS_MT_TRACKING_ID, id}, {EV_ABS, ABS_MT_POSITION_X, x},
	       {EV_ABS, ABS_MT_POSITION_Y, y}, {EV_KEY, BTN_TOUCH, 1}, {EV_ABS, ABS_X, x},
	       {EV_ABS, ABS_Y, y}, SYN);
}

/* VP's touchscreen has the end of its one contact on slot 0 to read, and only it. */
static void expect_lift(struct fixture *f, unsigned vp)
{
	EXPECT(f, vp, T, {EV_ABS, ABS_MT_TRACKING_ID, -1}, {EV_KEY, BTN_TOUCH, 0}, SYN);
}

/* Every VP has the lid switch's VALUE to read, and only it. */
static void expect_lid_everywhere(struct fixture *f, int value)
{
	for (unsigned i = 0; i < NVPS; i++)
		EXPECT(f, i, K, {EV_SW, SW_LID, value}, SYN);
}

/* What VP's device DEV has to read now is not the test's. */
static void discard(struct fixture *f, unsigned vp, unsigned dev)
{
	struct input_event ignored[MAX_EV];

	drain(f, vp, dev, ignored);
}

static void route(struct fixture *f, const struct ev *events, unsigned n)
{
	struct input_event packet[MAX_EV];

	assert_true(n <= MAX_EV);
	for (unsigned i = 0; i < n; i++)
		packet[i] = (struct input_event){.type = (uint16_t)events[i].type,
						 .code = (uint16_t)events[i].code,
						 .value = events[i].value};
	input_router_route(f->r, packet, n);
}

#define ROUTE(f, ...)                                                                              \
	do {                                                                                       \
		const struct ev packet_[] = {__VA_ARGS__};                                         \
		route(f, packet_, sizeof(packet_) / sizeof(packet_[0]));                           \
	} while (0)

static void key(struct fixture *f, unsigned code, int value)
{
	ROUTE(f, {EV_KEY, code, value}, SYN);
}

static void activate(struct fixture *f, unsigned vp)
{
	input_router_activate(f->r, &f->vps[vp].route);
}

static void deactivate(struct fixture *f, unsigned vp)
{
	input_router_deactivate(f->r, &f->vps[vp].route);
}

/* The daemon's switch: the old foreground leaves, the new one comes. */
static void switch_to(struct fixture *f, unsigned from, unsigned to)
{
	deactivate(f, from);
	activate(f, to);
}

static struct input_stats stats(struct fixture *f)
{
	struct input_stats s;

	input_router_stats(f->r, &s);
	return s;
}

static void keys_reach_the_foreground_only(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_A, 1);
	key(f, KEY_A, 2);
	key(f, KEY_A, 0);
	EXPECT(f, 0, K, {EV_KEY, KEY_A, 1}, SYN, {EV_KEY, KEY_A, 2}, SYN, {EV_KEY, KEY_A, 0}, SYN);
	expect_nothing(f, 1);
	expect_read(f, 0, T, NULL, 0);
	assert_int_equal(stats(f).packets, 3);
	assert_int_equal(stats(f).events_delivered, 3);
	assert_int_equal(stats(f).events_dropped, 0);
}

/* A short press of the power key is the root's too (the screen off or on); the foreground
 * hears the key, a background VP never; a long press is the VP's alone. */
static void a_short_power_press_is_the_roots_too(void **state)
{
	struct fixture *f = *state;
	struct timespec long_press = {1, 50000000};

	activate(f, 0);
	key(f, KEY_POWER, 1);
	key(f, KEY_POWER, 0);
	assert_int_equal(f->power_presses, 1);
	EXPECT(f, 0, K, {EV_KEY, KEY_POWER, 1}, SYN, {EV_KEY, KEY_POWER, 0}, SYN);
	expect_nothing(f, 1);
	key(f, KEY_POWER, 1);
	key(f, KEY_POWER, 2);
	nanosleep(&long_press, NULL);
	key(f, KEY_POWER, 0);
	assert_int_equal(f->power_presses, 1);
	/* A release without its press (the source's first packet) is nothing. */
	discard(f, 0, K);
	key(f, KEY_POWER, 0);
	assert_int_equal(f->power_presses, 1);
	expect_nothing(f, 1);
}

/* The accept key is the root's alone, in the foreground and behind: its press asks for
 * the answer once, its repeats and release are nobody's, and no VP hears any of it. */
static void the_accept_key_is_the_roots_alone(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_PHONE, 1);
	key(f, KEY_PHONE, 2);
	key(f, KEY_PHONE, 0);
	assert_int_equal(f->accept_presses, 1);
	assert_int_equal(f->power_presses, 0);
	expect_nothing(f, 0);
	expect_nothing(f, 1);
	/* With a modifier held too, and with no foreground. */
	key(f, KEY_LEFTCTRL, 1);
	key(f, KEY_PHONE, 1);
	key(f, KEY_PHONE, 0);
	key(f, KEY_LEFTCTRL, 0);
	assert_int_equal(f->accept_presses, 2);
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTCTRL, 1}, SYN, {EV_KEY, KEY_LEFTCTRL, 0}, SYN);
	deactivate(f, 0);
	key(f, KEY_PHONE, 1);
	key(f, KEY_PHONE, 0);
	assert_int_equal(f->accept_presses, 3);
	assert_int_equal(stats(f).system_keys, 3);
	/* Another key is still the VP's. */
	activate(f, 1);
	key(f, KEY_A, 1);
	key(f, KEY_A, 0);
	assert_int_equal(f->accept_presses, 3);
	EXPECT(f, 1, K, {EV_KEY, KEY_A, 1}, SYN, {EV_KEY, KEY_A, 0}, SYN);
	expect_nothing(f, 0);
}

static void without_a_foreground_nothing_is_heard(void **state)
{
	struct fixture *f = *state;

	key(f, KEY_A, 1);
	ROUTE(f, {EV_ABS, ABS_MT_TRACKING_ID, 3}, {EV_ABS, ABS_MT_POSITION_X, 5}, SYN);
	input_router_pointer(f->r, 10, 10, true);
	expect_nothing_anywhere(f);
	assert_int_equal(stats(f).events_delivered, 0);
	assert_int_equal(stats(f).events_dropped, 6);
	/* What began before any foreground stays nobody's once one comes. */
	activate(f, 0);
	key(f, KEY_A, 0);
	ROUTE(f, {EV_ABS, ABS_MT_POSITION_X, 7}, SYN);
	input_router_pointer(f->r, 20, 20, true);
	input_router_pointer(f->r, 20, 20, false);
	expect_nothing_anywhere(f);
	/* A key pressed now is the foreground's. */
	key(f, KEY_B, 1);
	EXPECT(f, 0, K, {EV_KEY, KEY_B, 1}, SYN);
}

static void the_switch_chords_are_the_roots(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_LEFTCTRL, 1);
	key(f, KEY_LEFTALT, 1);
	key(f, KEY_RIGHT, 1);
	assert_int_equal(f->nswitches, 1);
	assert_int_equal(f->switches[0], 1);
	key(f, KEY_RIGHT, 2);
	key(f, KEY_RIGHT, 0);
	/* The modifiers are keys like any other; the chord's key, its repeat and its release
	 * are nobody's (not even passed to the VP's device to be filtered there). */
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTCTRL, 1}, SYN, {EV_KEY, KEY_LEFTALT, 1}, SYN);
	assert_int_equal(stats(f).events_delivered, 2);
	assert_int_equal(stats(f).events_dropped, 2);
	/* The other chord, with more modifiers held than it names (right ones this time). */
	key(f, KEY_RIGHTSHIFT, 1);
	key(f, KEY_LEFT, 1);
	key(f, KEY_LEFT, 0);
	assert_int_equal(f->nswitches, 2);
	assert_int_equal(f->switches[1], -1);
	EXPECT(f, 0, K, {EV_KEY, KEY_RIGHTSHIFT, 1}, SYN);
	assert_int_equal(stats(f).system_switches, 2);
	expect_nothing(f, 1);
	/* Without every modifier of the chord, the key is the VP's. */
	key(f, KEY_LEFTALT, 0);
	key(f, KEY_RIGHT, 1);
	key(f, KEY_RIGHT, 0);
	assert_int_equal(f->nswitches, 2);
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTALT, 0}, SYN, {EV_KEY, KEY_RIGHT, 1}, SYN,
	       {EV_KEY, KEY_RIGHT, 0}, SYN);
}

static void the_chord_switches_even_without_a_foreground(void **state)
{
	struct fixture *f = *state;

	key(f, KEY_RIGHTCTRL, 1);
	key(f, KEY_RIGHTALT, 1);
	key(f, KEY_LEFT, 1);
	assert_int_equal(f->nswitches, 1);
	assert_int_equal(f->switches[0], -1);
	expect_nothing_anywhere(f);
}

/* The old VP gets the release when it leaves; the new one never hears the key. */
static void a_key_held_across_a_switch_stays_the_old_vps(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_A, 1);
	EXPECT(f, 0, K, {EV_KEY, KEY_A, 1}, SYN);
	switch_to(f, 0, 1);
	EXPECT(f, 0, K, {EV_KEY, KEY_A, 0}, SYN);
	key(f, KEY_A, 2);
	key(f, KEY_A, 0);
	expect_nothing_anywhere(f);
	/* The next press is the new foreground's. */
	key(f, KEY_A, 1);
	EXPECT(f, 1, K, {EV_KEY, KEY_A, 1}, SYN);
	expect_nothing(f, 0);
}

/* Nor does the old VP hear it again if it comes back while the key is still down. */
static void a_key_held_across_two_switches_is_nobodys(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_Z, 1);
	switch_to(f, 0, 1);
	switch_to(f, 1, 0);
	EXPECT(f, 0, K, {EV_KEY, KEY_Z, 1}, SYN, {EV_KEY, KEY_Z, 0}, SYN);
	key(f, KEY_Z, 2);
	key(f, KEY_Z, 0);
	expect_nothing_anywhere(f);
	/* Not passed to its device to be filtered there: dropped by the router. */
	assert_int_equal(stats(f).events_delivered, 1);
	assert_int_equal(stats(f).events_dropped, 2);
}

/* The real case of the switch chord: the old VP saw ctrl and alt go down, so it alone gets
 * them released (on leaving); the new one hears no release of keys it never saw. */
static void the_chords_modifiers_are_released_in_the_old_vp(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_LEFTCTRL, 1);
	key(f, KEY_LEFTALT, 1);
	key(f, KEY_RIGHT, 1);
	switch_to(f, 0, 1);
	key(f, KEY_RIGHT, 0);
	key(f, KEY_LEFTALT, 0);
	key(f, KEY_LEFTCTRL, 0);
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTCTRL, 1}, SYN, {EV_KEY, KEY_LEFTALT, 1}, SYN,
	       {EV_KEY, KEY_LEFTCTRL, 0}, {EV_KEY, KEY_LEFTALT, 0}, SYN);
	expect_nothing(f, 1);
}

static void a_contact_held_across_a_switch_stays_the_old_vps(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_TRACKING_ID, 5},
	      {EV_ABS, ABS_MT_POSITION_X, 10}, {EV_ABS, ABS_MT_POSITION_Y, 20}, SYN);
	expect_contact(f, 0, 5, 10, 20);
	switch_to(f, 0, 1);
	expect_lift(f, 0);
	/* The old contact moves and a second one begins on slot 1: only that is the new
	 * foreground's. */
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_POSITION_X, 11},
	      {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_TRACKING_ID, 6},
	      {EV_ABS, ABS_MT_POSITION_X, 30}, {EV_ABS, ABS_MT_POSITION_Y, 40}, SYN);
	EXPECT(f, 1, T, {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_TRACKING_ID, 6},
	       {EV_ABS, ABS_MT_POSITION_X, 30}, {EV_ABS, ABS_MT_POSITION_Y, 40},
	       {EV_KEY, BTN_TOUCH, 1}, {EV_ABS, ABS_X, 30}, {EV_ABS, ABS_Y, 40}, SYN);
	expect_nothing(f, 0);
	/* The old contact ends: nobody hears it; its slot is then free for a new one. */
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_TRACKING_ID, -1}, SYN);
	expect_nothing_anywhere(f);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_TRACKING_ID, 7},
	      {EV_ABS, ABS_MT_POSITION_X, 50}, SYN);
	EXPECT(f, 1, T, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_TRACKING_ID, 7},
	       {EV_ABS, ABS_MT_POSITION_X, 50}, SYN);
	expect_nothing(f, 0);
}

static void a_contact_held_across_two_switches_is_nobodys(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_TRACKING_ID, 8}, SYN);
	switch_to(f, 0, 1);
	switch_to(f, 1, 0);
	discard(f, 0, T);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_POSITION_X, 11}, SYN);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_TRACKING_ID, -1}, SYN);
	expect_nothing_anywhere(f);
	assert_int_equal(stats(f).events_delivered, 1);
	assert_int_equal(stats(f).events_dropped, 2);
}

static void every_touch_is_released_when_its_vp_leaves(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 2}, {EV_ABS, ABS_MT_TRACKING_ID, 1},
	      {EV_ABS, ABS_MT_SLOT, 4}, {EV_ABS, ABS_MT_TRACKING_ID, 2}, SYN);
	key(f, KEY_VOLUMEUP, 1);
	discard(f, 0, T);
	discard(f, 0, K);
	deactivate(f, 0);
	EXPECT(f, 0, T, {EV_ABS, ABS_MT_SLOT, 2}, {EV_ABS, ABS_MT_TRACKING_ID, -1},
	       {EV_ABS, ABS_MT_SLOT, 4}, {EV_ABS, ABS_MT_TRACKING_ID, -1}, {EV_KEY, BTN_TOUCH, 0},
	       SYN);
	EXPECT(f, 0, K, {EV_KEY, KEY_VOLUMEUP, 0}, SYN);
	/* With no foreground, the ends of those contacts go nowhere. */
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 2}, {EV_ABS, ABS_MT_TRACKING_ID, -1},
	      {EV_ABS, ABS_MT_SLOT, 4}, {EV_ABS, ABS_MT_TRACKING_ID, -1}, SYN);
	key(f, KEY_VOLUMEUP, 0);
	expect_nothing_anywhere(f);
}

/* What ends is nobody's: a stray event after it (a repeat of a key up, a move of a slot with
 * no contact) is not passed to the VP that had it. */
static void an_ended_key_or_contact_is_nobodys(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_A, 1);
	key(f, KEY_A, 0);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_TRACKING_ID, 8}, SYN);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_TRACKING_ID, -1}, SYN);
	discard(f, 0, T);
	discard(f, 0, K);
	assert_int_equal(stats(f).events_delivered, 4);
	key(f, KEY_A, 2);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 1}, {EV_ABS, ABS_MT_POSITION_X, 5}, SYN);
	expect_nothing_anywhere(f);
	assert_int_equal(stats(f).events_delivered, 4);
	assert_int_equal(stats(f).events_dropped, 2);
}

/* A source's packet without its SYN_REPORT (a router's caller that breaks the rule) is
 * not left open on a VP's device when the VP leaves: its readers are told of the cut. */
static void a_packet_left_open_is_cut_when_its_vp_leaves(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	ROUTE(f, {EV_KEY, KEY_A, 1});
	assert_true(f->vps[0].devs[K].pending);
	deactivate(f, 0);
	assert_false(f->vps[0].devs[K].pending);
	EXPECT(f, 0, K, {EV_KEY, KEY_A, 1}, {EV_SYN, SYN_DROPPED, 0}, {EV_KEY, KEY_A, 0}, SYN);
}

static void every_packet_starts_on_slot_zero(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 3}, {EV_ABS, ABS_MT_TRACKING_ID, 9}, SYN);
	discard(f, 0, T);
	/* No slot named: slot 0, where no contact is. */
	ROUTE(f, {EV_ABS, ABS_MT_POSITION_X, 99}, SYN);
	expect_nothing(f, 0);
	/* A slot out of range is ignored: the packet stays on the slot it was. */
	ROUTE(f, {EV_ABS, ABS_MT_SLOT, 3}, {EV_ABS, ABS_MT_SLOT, EVDEV_MT_SLOTS},
	      {EV_ABS, ABS_MT_SLOT, -1}, {EV_ABS, ABS_MT_POSITION_X, 99}, SYN);
	EXPECT(f, 0, T, {EV_ABS, ABS_MT_POSITION_X, 99}, {EV_ABS, ABS_X, 99}, SYN);
}

static void a_sources_own_touch_keys_and_axes_are_dropped(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	/* A contact on the packet's slot, so that only the router can drop the axes. */
	ROUTE(f, {EV_ABS, ABS_MT_TRACKING_ID, 1}, {EV_ABS, ABS_MT_POSITION_X, 50}, SYN);
	discard(f, 0, T);
	ROUTE(f, {EV_KEY, BTN_TOUCH, 0}, {EV_KEY, BTN_TOOL_FINGER, 1},
	      {EV_KEY, BTN_TOOL_DOUBLETAP, 1}, {EV_ABS, ABS_X, 3}, {EV_ABS, ABS_Y, 4},
	      {EV_ABS, ABS_PRESSURE, 5}, {EV_REL, REL_X, 1}, {EV_MSC, MSC_SCAN, 30}, SYN);
	expect_nothing_anywhere(f);
	assert_int_equal(stats(f).events_dropped, 8);
	assert_int_equal(stats(f).events_delivered, 2);
}

static void events_out_of_range_are_ignored(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	ROUTE(f, {EV_KEY, KEY_CNT, 1}, {EV_KEY, 0xffff, 1}, {EV_KEY, KEY_A, 3}, {EV_KEY, KEY_A, -1},
	      {EV_ABS, ABS_CNT, 1}, {EV_ABS, 0xffff, 1}, SYN);
	input_router_key(f->r, KEY_CNT, 1);
	input_router_key(f->r, KEY_A, 3);
	input_router_key(f->r, KEY_A, -1);
	input_router_key_shift(f->r, KEY_CNT, 1, 1, true);
	input_router_key_shift(f->r, KEY_A, 2, 1, false);
	input_router_key_shift(f->r, KEY_A, -1, 1, false);
	expect_nothing_anywhere(f);
	assert_int_equal(stats(f).events_delivered, 0);
}

static void switches_reach_every_vp(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	ROUTE(f, {EV_SW, SW_LID, 1}, SYN);
	expect_lid_everywhere(f, 1);
	deactivate(f, 0);
	expect_nothing_anywhere(f); /* released: a switch is not held */
	ROUTE(f, {EV_SW, SW_LID, 0}, SYN);
	expect_lid_everywhere(f, 0);
}

static void a_sources_syn_dropped_reaches_the_foreground(void **state)
{
	struct fixture *f = *state;

	activate(f, 1);
	ROUTE(f, {EV_SYN, SYN_DROPPED, 0});
	key(f, KEY_B, 1);
	EXPECT(f, 1, K, {EV_SYN, SYN_DROPPED, 0}, {EV_KEY, KEY_B, 1}, SYN);
	ROUTE(f, {EV_ABS, ABS_MT_TRACKING_ID, 1}, SYN);
	EXPECT(f, 1, T, {EV_SYN, SYN_DROPPED, 0}, {EV_ABS, ABS_MT_TRACKING_ID, 1},
	       {EV_KEY, BTN_TOUCH, 1}, SYN);
	expect_nothing(f, 0);
	deactivate(f, 1);
	discard(f, 1, T);
	discard(f, 1, K);
	ROUTE(f, {EV_SYN, SYN_DROPPED, 0}); /* no foreground: nobody's */
	ROUTE(f, {EV_SW, SW_LID, 1}, SYN);
	expect_lid_everywhere(f, 1);
}

static void the_pointer_is_a_contact_on_slot_zero(void **state)
{
	struct fixture *f = *state;
	struct input_stats before;

	activate(f, 0);
	input_router_pointer(f->r, 100, 200, true);
	expect_contact(f, 0, 1, 100, 200);
	input_router_pointer(f->r, 101, 200, true);
	EXPECT(f, 0, T, {EV_ABS, ABS_MT_POSITION_X, 101}, {EV_ABS, ABS_X, 101}, SYN);
	input_router_pointer(f->r, 101, 200, false);
	expect_lift(f, 0);
	/* Moves with the button up make nothing at all, not even a packet. */
	before = stats(f);
	input_router_pointer(f->r, 300, 300, false);
	assert_int_equal(stats(f).packets, before.packets);
	/* Each contact has a new tracking id. */
	input_router_pointer(f->r, 300, 300, true);
	expect_contact(f, 0, 2, 300, 300);
	expect_nothing(f, 1);
}

static void the_pointer_is_clamped_to_the_vps_screen(void **state)
{
	struct fixture *f = *state;
	int width, height;

	input_router_size(f->r, &width, &height);
	assert_int_equal(width, WIDTH);
	assert_int_equal(height, HEIGHT);
	activate(f, 0);
	input_router_pointer(f->r, -5, 100000, true);
	EXPECT(f, 0, T, {EV_ABS, ABS_MT_TRACKING_ID, 1}, {EV_ABS, ABS_MT_POSITION_Y, HEIGHT - 1},
	       {EV_KEY, BTN_TOUCH, 1}, {EV_ABS, ABS_Y, HEIGHT - 1}, SYN);
	input_router_pointer(f->r, WIDTH + 10, 5, true);
	EXPECT(f, 0, T, {EV_ABS, ABS_MT_POSITION_X, WIDTH - 1}, {EV_ABS, ABS_MT_POSITION_Y, 5},
	       {EV_ABS, ABS_X, WIDTH - 1}, {EV_ABS, ABS_Y, 5}, SYN);
	/* Dragged up onto the root's bar: it stays at the screen's top edge. */
	input_router_pointer(f->r, 7, -20, true);
	EXPECT(f, 0, T, {EV_ABS, ABS_MT_POSITION_X, 7}, {EV_ABS, ABS_MT_POSITION_Y, 0},
	       {EV_ABS, ABS_X, 7}, {EV_ABS, ABS_Y, 0}, SYN);
	input_router_pointer(f->r, 7, -20, false);
	expect_lift(f, 0);
}

static void no_contact_begins_on_the_roots_bar(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	input_router_pointer(f->r, 50, -1, true);
	input_router_pointer(f->r, 60, -10, true);
	expect_nothing_anywhere(f);
	/* Coming down into the screen with the button still held does not begin one either
	 * (it was never down). */
	input_router_pointer(f->r, 60, 10, true);
	expect_contact(f, 0, 1, 60, 10);
}

static void the_pointer_held_across_a_switch_stays_the_old_vps(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	input_router_pointer(f->r, 10, 10, true);
	discard(f, 0, T);
	switch_to(f, 0, 1);
	expect_lift(f, 0);
	input_router_pointer(f->r, 20, 20, true);
	input_router_pointer(f->r, 20, 20, false);
	expect_nothing_anywhere(f);
	input_router_pointer(f->r, 30, 30, true);
	expect_contact(f, 1, 2, 30, 30);
}

static void a_clients_press_of_a_held_key_is_a_repeat(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	input_router_key(f->r, KEY_UP, 1);
	input_router_key(f->r, KEY_UP, 1);
	input_router_key(f->r, KEY_UP, 0);
	input_router_key(f->r, KEY_UP, 1);
	EXPECT(f, 0, K, {EV_KEY, KEY_UP, 1}, SYN, {EV_KEY, KEY_UP, 2}, SYN, {EV_KEY, KEY_UP, 0},
	       SYN, {EV_KEY, KEY_UP, 1}, SYN);
}

static void typing_a_shifted_character_presses_shift_around_it(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	input_router_key_shift(f->r, KEY_A, 1, 1, true);
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTSHIFT, 1}, SYN, {EV_KEY, KEY_A, 1}, SYN,
	       {EV_KEY, KEY_A, 0}, SYN, {EV_KEY, KEY_LEFTSHIFT, 0}, SYN);
	/* Without TAP the key stays down inside its shift, released by VALUE 0 later. */
	input_router_key_shift(f->r, KEY_1, 1, 1, false);
	input_router_key_shift(f->r, KEY_1, 0, 1, false);
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTSHIFT, 1}, SYN, {EV_KEY, KEY_1, 1}, SYN,
	       {EV_KEY, KEY_LEFTSHIFT, 0}, SYN, {EV_KEY, KEY_1, 0}, SYN);
	/* Shift as wanted already, or does not matter: no shift event. */
	input_router_key_shift(f->r, KEY_SPACE, 1, -1, true);
	input_router_key_shift(f->r, KEY_B, 1, 0, true);
	EXPECT(f, 0, K, {EV_KEY, KEY_SPACE, 1}, SYN, {EV_KEY, KEY_SPACE, 0}, SYN,
	       {EV_KEY, KEY_B, 1}, SYN, {EV_KEY, KEY_B, 0}, SYN);
}

static void typing_an_unshifted_character_lifts_the_held_shifts(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_LEFTSHIFT, 1);
	key(f, KEY_RIGHTSHIFT, 1);
	discard(f, 0, K);
	input_router_key_shift(f->r, KEY_MINUS, 1, 0, true);
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTSHIFT, 0}, SYN, {EV_KEY, KEY_RIGHTSHIFT, 0}, SYN,
	       {EV_KEY, KEY_MINUS, 1}, SYN, {EV_KEY, KEY_MINUS, 0}, SYN, {EV_KEY, KEY_LEFTSHIFT, 1},
	       SYN, {EV_KEY, KEY_RIGHTSHIFT, 1}, SYN);
	/* Held shift wanted: nothing changes. */
	input_router_key_shift(f->r, KEY_EQUAL, 1, 1, true);
	EXPECT(f, 0, K, {EV_KEY, KEY_EQUAL, 1}, SYN, {EV_KEY, KEY_EQUAL, 0}, SYN);
}

static void a_letter_with_ctrl_is_a_shortcut_whatever_its_shift(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_LEFTCTRL, 1);
	discard(f, 0, K);
	input_router_key_shift(f->r, KEY_C, 1, 1, true);
	EXPECT(f, 0, K, {EV_KEY, KEY_C, 1}, SYN, {EV_KEY, KEY_C, 0}, SYN);
	/* Not a letter: its shift is still given. */
	input_router_key_shift(f->r, KEY_2, 1, 1, true);
	EXPECT(f, 0, K, {EV_KEY, KEY_LEFTSHIFT, 1}, SYN, {EV_KEY, KEY_2, 1}, SYN,
	       {EV_KEY, KEY_2, 0}, SYN, {EV_KEY, KEY_LEFTSHIFT, 0}, SYN);
}

static void a_typed_switch_chord_switches(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_LEFTCTRL, 1);
	key(f, KEY_LEFTALT, 1);
	discard(f, 0, K);
	input_router_key_shift(f->r, KEY_RIGHT, 1, -1, true);
	assert_int_equal(f->nswitches, 1);
	assert_int_equal(f->switches[0], 1);
	expect_nothing_anywhere(f);
}

static void a_vp_that_goes_lets_go_and_hears_nothing_more(void **state)
{
	struct fixture *f = *state;

	activate(f, 0);
	key(f, KEY_A, 1);
	ROUTE(f, {EV_ABS, ABS_MT_TRACKING_ID, 4}, SYN);
	discard(f, 0, T);
	discard(f, 0, K);
	input_router_remove(f->r, &f->vps[0].route);
	expect_lift(f, 0);
	EXPECT(f, 0, K, {EV_KEY, KEY_A, 0}, SYN);
	/* No foreground now; and not in the list: a lid is not its news. */
	key(f, KEY_B, 1);
	ROUTE(f, {EV_SW, SW_LID, 1}, SYN);
	expect_nothing(f, 0);
	EXPECT(f, 1, K, {EV_SW, SW_LID, 1}, SYN);
	/* Removing a background VP leaves the foreground as it is. */
	activate(f, 1);
	input_router_add(f->r, &f->vps[0].route);
	input_router_remove(f->r, &f->vps[0].route);
	key(f, KEY_C, 1);
	EXPECT(f, 1, K, {EV_KEY, KEY_C, 1}, SYN);
}

static void switch_keys_are_two_chords(void **state)
{
	struct key_chord next, prev;
	char longer[80];

	(void)state;
	assert_int_equal(
		input_router_parse_switch_keys("ctrl+alt+right,ctrl+alt+left", &next, &prev), 0);
	assert_int_equal(next.key, KEY_RIGHT);
	assert_int_equal(next.mods, KEYMAP_CTRL | KEYMAP_ALT);
	assert_int_equal(prev.key, KEY_LEFT);
	assert_int_equal(input_router_parse_switch_keys("meta+n,shift+meta+p", &next, &prev), 0);
	assert_int_equal(next.key, KEY_N);
	assert_int_equal(prev.mods, KEYMAP_SHIFT | KEYMAP_META);
	static const char *const bad[] = {
		"",	   ",",	       "ctrl+alt+right", "ctrl+a,",
		",ctrl+a", "ctrl+a,b", "a,ctrl+b",	 "ctrl+a,ctrl+b,ctrl+c"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(input_router_parse_switch_keys(bad[i], &next, &prev), -EINVAL);
	/* A first chord longer than any key name is refused, not cut short. */
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "ctrl+", 5);
	memcpy(longer + 70, ",ctrl+b", 8);
	assert_int_equal(input_router_parse_switch_keys(longer, &next, &prev), -EINVAL);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, set_up, tear_down)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(a_short_power_press_is_the_roots_too),
		TEST(the_accept_key_is_the_roots_alone),
		TEST(keys_reach_the_foreground_only),
		TEST(without_a_foreground_nothing_is_heard),
		TEST(the_switch_chords_are_the_roots),
		TEST(the_chord_switches_even_without_a_foreground),
		TEST(a_key_held_across_a_switch_stays_the_old_vps),
		TEST(a_key_held_across_two_switches_is_nobodys),
		TEST(the_chords_modifiers_are_released_in_the_old_vp),
		TEST(a_contact_held_across_a_switch_stays_the_old_vps),
		TEST(a_contact_held_across_two_switches_is_nobodys),
		TEST(every_touch_is_released_when_its_vp_leaves),
		TEST(an_ended_key_or_contact_is_nobodys),
		TEST(a_packet_left_open_is_cut_when_its_vp_leaves),
		TEST(every_packet_starts_on_slot_zero),
		TEST(a_sources_own_touch_keys_and_axes_are_dropped),
		TEST(events_out_of_range_are_ignored),
		TEST(switches_reach_every_vp),
		TEST(a_sources_syn_dropped_reaches_the_foreground),
		TEST(the_pointer_is_a_contact_on_slot_zero),
		TEST(the_pointer_is_clamped_to_the_vps_screen),
		TEST(no_contact_begins_on_the_roots_bar),
		TEST(the_pointer_held_across_a_switch_stays_the_old_vps),
		TEST(a_clients_press_of_a_held_key_is_a_repeat),
		TEST(typing_a_shifted_character_presses_shift_around_it),
		TEST(typing_an_unshifted_character_lifts_the_held_shifts),
		TEST(a_letter_with_ctrl_is_a_shortcut_whatever_its_shift),
		TEST(a_typed_switch_chord_switches),
		TEST(a_vp_that_goes_lets_go_and_hears_nothing_more),
		TEST(switch_keys_are_two_chords),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
