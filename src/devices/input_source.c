/* A host input device's events made packets for the router: see input_source.h. */
#include "devices/input_source.h"

static int scale(const struct input_absinfo *a, int v, int size)
{
	long long span = (long long)a->maximum - a->minimum;

	if (a->maximum <= a->minimum)
		return v;
	return (int)(((long long)v - a->minimum) * (size - 1) / span);
}

static void push(struct input_source *s, unsigned type, unsigned code, int value)
{
	if (s->count < INPUT_SOURCE_PACKET_MAX)
		s->packet[s->count++] = (struct input_event){
			.type = (uint16_t)type, .code = (uint16_t)code, .value = value};
}

/* A single-touch event, already scaled, with its multitouch equivalent before it. */
static void add_single_touch(struct input_source *s, const struct input_event *ev)
{
	if (ev->type == EV_ABS && (ev->code == ABS_X || ev->code == ABS_Y)) {
		*(ev->code == ABS_X ? &s->x : &s->y) = ev->value;
		if (s->touching)
			push(s, EV_ABS, ev->code == ABS_X ? ABS_MT_POSITION_X : ABS_MT_POSITION_Y,
			     ev->value);
	} else if (ev->type == EV_KEY && ev->code == BTN_TOUCH && ev->value != 2) {
		s->touching = ev->value;
		if (ev->value) {
			s->tracking_id = (s->tracking_id + 1) & 0xffff;
			push(s, EV_ABS, ABS_MT_TRACKING_ID, s->tracking_id);
			push(s, EV_ABS, ABS_MT_POSITION_X, s->x);
			push(s, EV_ABS, ABS_MT_POSITION_Y, s->y);
		} else {
			push(s, EV_ABS, ABS_MT_TRACKING_ID, -1);
		}
	}
}

bool input_source_add(struct input_source *s, const struct input_event *event)
{
	struct input_event ev = *event;

	if (ev.type == EV_ABS) {
		if (ev.code == ABS_MT_SLOT)
			s->slot = ev.value;
		else if (ev.code == ABS_MT_POSITION_X || ev.code == ABS_X)
			ev.value = scale(&s->axis[0], ev.value, s->width);
		else if (ev.code == ABS_MT_POSITION_Y || ev.code == ABS_Y)
			ev.value = scale(&s->axis[1], ev.value, s->height);
	}
	if (ev.type == EV_SYN && ev.code == SYN_DROPPED) {
		/* The device lost events: so has the foreground VP; the partial packet goes. */
		s->count = 0;
		s->route(s->ctx, &ev, 1);
		return true;
	}
	if (s->count == 0) /* the router starts every packet on slot 0 */
		push(s, EV_ABS, ABS_MT_SLOT, s->slot);
	if (s->single_touch)
		add_single_touch(s, &ev);
	push(s, ev.type, ev.code, ev.value);
	if (ev.type == EV_SYN && ev.code == SYN_REPORT) {
		s->route(s->ctx, s->packet, s->count);
		s->count = 0;
	} else if (s->count == INPUT_SOURCE_PACKET_MAX) {
		struct input_event dropped = {.type = EV_SYN, .code = SYN_DROPPED};
		s->count = 0;
		s->route(s->ctx, &dropped, 1);
		return false;
	}
	return true;
}
