/* A host input device's events made the router's packets (src/devices/input_source.c):
 * scaling, the slot named in every packet, single-touch screens, lost and overlong
 * packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devices/input_source.h"
#include "input_events.h"

#define MAX_ROUTED 8

struct routed {
	struct input_event events[MAX_ROUTED][INPUT_SOURCE_PACKET_MAX];
	unsigned count[MAX_ROUTED], n;
};

static struct routed routed;

static void route(void *ctx, const struct input_event *events, unsigned count)
{
	assert_ptr_equal(ctx, &routed);
	assert_true(routed.n < MAX_ROUTED);
	memcpy(routed.events[routed.n], events, count * sizeof(*events));
	routed.count[routed.n++] = count;
}

static void source(struct input_source *s, bool single_touch)
{
	memset(s, 0, sizeof(*s));
	memset(&routed, 0, sizeof(routed));
	s->width = 720;
	s->height = 1252;
	s->single_touch = single_touch;
	s->route = route;
	s->ctx = &routed;
}

static void add(struct input_source *s, unsigned type, unsigned code, int value)
{
	struct input_event ev = {.type = (uint16_t)type, .code = (uint16_t)code, .value = value};

	assert_true(input_source_add(s, &ev));
}

/* Packet I of those routed is EXPECTED (N events). */
static void expect_packet(unsigned i, const struct ev *expected, unsigned n)
{
	char what[32];

	assert_true(i < routed.n);
	snprintf(what, sizeof(what), "packet %u", i);
	expect_events(what, routed.events[i], routed.count[i], expected, n);
}

#define EXPECT(i, ...)                                                                             \
	do {                                                                                       \
		const struct ev want_[] = {__VA_ARGS__};                                           \
		expect_packet(i, want_, sizeof(want_) / sizeof(want_[0]));                         \
	} while (0)

static void a_packet_is_routed_whole_at_its_report(void **state)
{
	struct input_source s;

	(void)state;
	source(&s, false);
	add(&s, EV_KEY, KEY_A, 1);
	add(&s, EV_MSC, MSC_SCAN, 30);
	assert_int_equal(routed.n, 0);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(0, {EV_ABS, ABS_MT_SLOT, 0}, {EV_KEY, KEY_A, 1}, {EV_MSC, MSC_SCAN, 30}, SYN);
}

/* The router starts every packet on slot 0; a device names its slot only when it changes. */
static void every_packet_names_the_devices_slot(void **state)
{
	struct input_source s;

	(void)state;
	source(&s, false);
	add(&s, EV_ABS, ABS_MT_SLOT, 2);
	add(&s, EV_ABS, ABS_MT_TRACKING_ID, 5);
	add(&s, EV_SYN, SYN_REPORT, 0);
	add(&s, EV_ABS, ABS_MT_POSITION_X, 11);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(0, {EV_ABS, ABS_MT_SLOT, 2}, {EV_ABS, ABS_MT_SLOT, 2},
	       {EV_ABS, ABS_MT_TRACKING_ID, 5}, SYN);
	EXPECT(1, {EV_ABS, ABS_MT_SLOT, 2}, {EV_ABS, ABS_MT_POSITION_X, 11}, SYN);
}

static void axes_are_scaled_to_the_screen(void **state)
{
	struct input_source s;

	(void)state;
	source(&s, false);
	s.axis[0] = (struct input_absinfo){.minimum = 0, .maximum = 4095};
	s.axis[1] = (struct input_absinfo){.minimum = 100, .maximum = 1100};
	add(&s, EV_ABS, ABS_MT_POSITION_X, 4095);
	add(&s, EV_ABS, ABS_MT_POSITION_Y, 100);
	add(&s, EV_ABS, ABS_X, 2048);
	add(&s, EV_ABS, ABS_Y, 600);
	add(&s, EV_ABS, ABS_MT_POSITION_Y, 1100);
	add(&s, EV_ABS, ABS_PRESSURE, 4095); /* not a position: as it is */
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(0, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_POSITION_X, 719},
	       {EV_ABS, ABS_MT_POSITION_Y, 0}, {EV_ABS, ABS_X, 2048 * 719 / 4095},
	       {EV_ABS, ABS_Y, 500 * 1251 / 1000}, {EV_ABS, ABS_MT_POSITION_Y, 1251},
	       {EV_ABS, ABS_PRESSURE, 4095}, SYN);
}

/* A FIFO, or a device whose axes could not be read: its values are the screen's already. */
static void unknown_axes_are_not_scaled(void **state)
{
	struct input_source s;

	(void)state;
	source(&s, false);
	s.axis[1] = (struct input_absinfo){.minimum = 5, .maximum = 5};
	add(&s, EV_ABS, ABS_MT_POSITION_X, 5000);
	add(&s, EV_ABS, ABS_MT_POSITION_Y, -3);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(0, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_POSITION_X, 5000},
	       {EV_ABS, ABS_MT_POSITION_Y, -3}, SYN);
}

static void a_single_touch_contact_is_slot_zeros(void **state)
{
	struct input_source s;

	(void)state;
	source(&s, true);
	s.axis[0] = (struct input_absinfo){.minimum = 0, .maximum = 719};
	s.axis[1] = (struct input_absinfo){.minimum = 0, .maximum = 1251};
	/* Where the contact will be, before it is. */
	add(&s, EV_ABS, ABS_X, 100);
	add(&s, EV_ABS, ABS_Y, 200);
	add(&s, EV_KEY, BTN_TOUCH, 1);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(0, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_X, 100}, {EV_ABS, ABS_Y, 200},
	       {EV_ABS, ABS_MT_TRACKING_ID, 1}, {EV_ABS, ABS_MT_POSITION_X, 100},
	       {EV_ABS, ABS_MT_POSITION_Y, 200}, {EV_KEY, BTN_TOUCH, 1}, SYN);
	/* It moves; a repeat of BTN_TOUCH is not a new contact. */
	add(&s, EV_ABS, ABS_X, 150);
	add(&s, EV_KEY, BTN_TOUCH, 2);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(1, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_POSITION_X, 150}, {EV_ABS, ABS_X, 150},
	       {EV_KEY, BTN_TOUCH, 2}, SYN);
	add(&s, EV_KEY, BTN_TOUCH, 0);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(2, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_TRACKING_ID, -1},
	       {EV_KEY, BTN_TOUCH, 0}, SYN);
	/* Moves without a contact are the axes alone; the next contact has a new id, at the
	 * last place. */
	add(&s, EV_ABS, ABS_Y, 300);
	add(&s, EV_KEY, BTN_TOUCH, 1);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(3, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_Y, 300}, {EV_ABS, ABS_MT_TRACKING_ID, 2},
	       {EV_ABS, ABS_MT_POSITION_X, 150}, {EV_ABS, ABS_MT_POSITION_Y, 300},
	       {EV_KEY, BTN_TOUCH, 1}, SYN);
}

static void tracking_ids_wrap_as_the_kernels(void **state)
{
	struct input_source s;

	(void)state;
	source(&s, true);
	s.tracking_id = 0xffff;
	add(&s, EV_KEY, BTN_TOUCH, 1);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(0, {EV_ABS, ABS_MT_SLOT, 0}, {EV_ABS, ABS_MT_TRACKING_ID, 0},
	       {EV_ABS, ABS_MT_POSITION_X, 0}, {EV_ABS, ABS_MT_POSITION_Y, 0},
	       {EV_KEY, BTN_TOUCH, 1}, SYN);
}

/* The device's own SYN_DROPPED: the partial packet goes, the router hears the loss. */
static void a_devices_loss_drops_the_partial_packet(void **state)
{
	struct input_source s;

	(void)state;
	source(&s, false);
	add(&s, EV_KEY, KEY_A, 1);
	add(&s, EV_SYN, SYN_DROPPED, 0);
	add(&s, EV_KEY, KEY_B, 1);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(0, {EV_SYN, SYN_DROPPED, 0});
	EXPECT(1, {EV_ABS, ABS_MT_SLOT, 0}, {EV_KEY, KEY_B, 1}, SYN);
}

static void an_overlong_packet_is_dropped(void **state)
{
	struct input_source s;
	struct input_event ev = {.type = EV_ABS, .code = ABS_MT_POSITION_X};
	unsigned taken = 0;

	(void)state;
	source(&s, false);
	/* The slot and INPUT_SOURCE_PACKET_MAX - 1 events fill it: the last one cuts it. */
	for (int i = 0; i < INPUT_SOURCE_PACKET_MAX - 1; i++) {
		ev.value = i;
		taken += input_source_add(&s, &ev);
	}
	assert_int_equal(taken, INPUT_SOURCE_PACKET_MAX - 2);
	EXPECT(0, {EV_SYN, SYN_DROPPED, 0});
	/* The rest of it makes a packet of its own. */
	add(&s, EV_KEY, KEY_C, 1);
	add(&s, EV_SYN, SYN_REPORT, 0);
	EXPECT(1, {EV_ABS, ABS_MT_SLOT, 0}, {EV_KEY, KEY_C, 1}, SYN);
}

/* A packet exactly as long as the most: routed. */
static void the_longest_packet_is_routed(void **state)
{
	struct input_source s;
	struct input_event ev = {.type = EV_ABS, .code = ABS_MT_POSITION_X};

	(void)state;
	source(&s, false);
	for (int i = 0; i < INPUT_SOURCE_PACKET_MAX - 2; i++) {
		ev.value = i;
		assert_true(input_source_add(&s, &ev));
	}
	add(&s, EV_SYN, SYN_REPORT, 0);
	assert_int_equal(routed.n, 1);
	assert_int_equal(routed.count[0], INPUT_SOURCE_PACKET_MAX);
	assert_int_equal(routed.events[0][INPUT_SOURCE_PACKET_MAX - 1].code, SYN_REPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_packet_is_routed_whole_at_its_report),
		cmocka_unit_test(every_packet_names_the_devices_slot),
		cmocka_unit_test(axes_are_scaled_to_the_screen),
		cmocka_unit_test(unknown_axes_are_not_scaled),
		cmocka_unit_test(a_single_touch_contact_is_slot_zeros),
		cmocka_unit_test(tracking_ids_wrap_as_the_kernels),
		cmocka_unit_test(a_devices_loss_drops_the_partial_packet),
		cmocka_unit_test(an_overlong_packet_is_dropped),
		cmocka_unit_test(the_longest_packet_is_routed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
