/* What a host input device's events become before the router (input_router.h): its axes
 * scaled to the VP's screen, its packets kept until their SYN_REPORT, each one starting
 * with the device's current MT slot (the router starts every packet on slot 0), and a
 * single-touch screen's contact (ABS_X/Y and BTN_TOUCH, no slots, as resistive panels
 * have) made a contact on slot 0 with a tracking id, as the VP's multitouch screen speaks.
 *
 * Plain memory, no I/O: input_host.c reads the device and feeds it event by event; its
 * unit tests (tests/unit/test_input_source.c) drive it directly. */
#ifndef CELLS_DEVICES_INPUT_SOURCE_H
#define CELLS_DEVICES_INPUT_SOURCE_H

#include <linux/input.h>
#include <stdbool.h>
#include <stdint.h>

#define INPUT_SOURCE_PACKET_MAX 256 /* events of one packet; a longer one is cut */

struct input_source {
	/* The device's X and Y axes (maximum <= minimum: not known, not scaled) and the
	 * screen they are scaled to. */
	struct input_absinfo axis[2];
	int width, height;
	bool single_touch;
	/* A whole packet (or a SYN_DROPPED alone) is ready. */
	void (*route)(void *ctx, const struct input_event *events, unsigned count);
	void *ctx;
	/* Its own. */
	int slot; /* the device's current MT slot */
	bool touching;
	int x, y, tracking_id;
	struct input_event packet[INPUT_SOURCE_PACKET_MAX];
	unsigned count;
};

/* One event of the device. False if it made a packet too long, which is dropped (the
 * router gets a SYN_DROPPED instead, as for the device's own). */
bool input_source_add(struct input_source *s, const struct input_event *ev);

#endif
