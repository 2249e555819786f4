/* A host evdev device as an input source: see input_host.h. */
#include "devices/input_host.h"
#include "common/log.h"
#include "devices/input.h"
#include "devns/devns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define PACKET_MAX 256 /* events of one packet; a longer one is cut (SYN_DROPPED) */

struct input_host {
	struct devns *core;
	struct input *in;
	char path[256];
	struct loop_watch watch;
	bool grabbed;
	/* The device's axes, for scaling to the display (max 0: not known, not scaled). */
	struct input_absinfo axis[2];
	int width, height;
	int slot; /* the device's current MT slot, named again in every packet */
	/* A single-touch screen (ABS_X/Y and BTN_TOUCH, no slots, as resistive panels have):
	 * its contact becomes one on slot 0, as the VP's multitouch screen speaks. */
	bool single_touch, touching;
	int x, y, tracking_id;
	struct input_event packet[PACKET_MAX + 1];
	unsigned count;
	char partial[sizeof(struct input_event)]; /* a FIFO may give part of a record */
	size_t partial_len;
};

static int scale(const struct input_absinfo *a, int v, int size)
{
	long long span = (long long)a->maximum - a->minimum;

	if (a->maximum <= a->minimum)
		return v;
	return (int)(((long long)v - a->minimum) * (size - 1) / span);
}

static void push(struct input_host *h, unsigned type, unsigned code, int value)
{
	if (h->count < PACKET_MAX)
		h->packet[h->count++] = (struct input_event){
			.type = (uint16_t)type, .code = (uint16_t)code, .value = value};
}

/* A single-touch event, already scaled, with its multitouch equivalent before it. */
static void add_single_touch(struct input_host *h, const struct input_event *ev)
{
	if (ev->type == EV_ABS && (ev->code == ABS_X || ev->code == ABS_Y)) {
		*(ev->code == ABS_X ? &h->x : &h->y) = ev->value;
		if (h->touching)
			push(h, EV_ABS, ev->code == ABS_X ? ABS_MT_POSITION_X : ABS_MT_POSITION_Y,
			     ev->value);
	} else if (ev->type == EV_KEY && ev->code == BTN_TOUCH && ev->value != 2) {
		h->touching = ev->value;
		if (ev->value) {
			h->tracking_id = (h->tracking_id + 1) & 0xffff;
			push(h, EV_ABS, ABS_MT_TRACKING_ID, h->tracking_id);
			push(h, EV_ABS, ABS_MT_POSITION_X, h->x);
			push(h, EV_ABS, ABS_MT_POSITION_Y, h->y);
		} else {
			push(h, EV_ABS, ABS_MT_TRACKING_ID, -1);
		}
	}
}

static void add(struct input_host *h, struct input_event ev)
{
	if (ev.type == EV_ABS) {
		if (ev.code == ABS_MT_SLOT)
			h->slot = ev.value;
		else if (ev.code == ABS_MT_POSITION_X || ev.code == ABS_X)
			ev.value = scale(&h->axis[0], ev.value, h->width);
		else if (ev.code == ABS_MT_POSITION_Y || ev.code == ABS_Y)
			ev.value = scale(&h->axis[1], ev.value, h->height);
	}
	if (ev.type == EV_SYN && ev.code == SYN_DROPPED) {
		/* The device lost events: so has the foreground VP; the partial packet goes. */
		h->count = 0;
		input_route(h->in, &ev, 1);
		return;
	}
	if (h->count == 0) /* the router starts every packet on slot 0 */
		push(h, EV_ABS, ABS_MT_SLOT, h->slot);
	if (h->single_touch)
		add_single_touch(h, &ev);
	push(h, ev.type, ev.code, ev.value);
	if (ev.type == EV_SYN && ev.code == SYN_REPORT) {
		input_route(h->in, h->packet, h->count);
		h->count = 0;
	} else if (h->count == PACKET_MAX) {
		struct input_event dropped = {.type = EV_SYN, .code = SYN_DROPPED};
		log_warn("input: %s: a packet of more than %d events, dropped", h->path,
			 PACKET_MAX);
		h->count = 0;
		input_route(h->in, &dropped, 1);
	}
}

static void on_readable(struct loop_watch *w, uint32_t events)
{
	struct input_host *h = container_of(w, struct input_host, watch);
	char buf[64 * sizeof(struct input_event)];
	ssize_t n;

	(void)events;
	memcpy(buf, h->partial, h->partial_len);
	n = read(w->fd, buf + h->partial_len, sizeof(buf) - h->partial_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_warn("input: %s: %s; no longer read", h->path,
			 n == 0 ? "end of file" : strerror(errno));
		devns_unwatch(h->core, w);
		close(w->fd);
		w->fd = -1;
		return;
	}
	n += (ssize_t)h->partial_len;
	size_t whole = (size_t)n / sizeof(struct input_event) * sizeof(struct input_event);
	for (size_t off = 0; off < whole; off += sizeof(struct input_event)) {
		struct input_event ev;
		memcpy(&ev, buf + off, sizeof(ev));
		add(h, ev);
	}
	h->partial_len = (size_t)n - whole;
	memcpy(h->partial, buf + whole, h->partial_len);
}

static bool has_bit(const uint8_t *bits, unsigned n)
{
	return bits[n / 8] & (1u << (n % 8));
}

/* The device's axes, for scaling; and whether it is a single-touch screen. */
static void find_axes(struct input_host *h)
{
	uint8_t abs[(ABS_CNT + 7) / 8] = {0};
	bool mt;

	if (ioctl(h->watch.fd, EVIOCGBIT(EV_ABS, sizeof(abs)), abs) < 0)
		return;
	mt = has_bit(abs, ABS_MT_POSITION_X) && has_bit(abs, ABS_MT_POSITION_Y);
	if (ioctl(h->watch.fd, EVIOCGABS(mt ? ABS_MT_POSITION_X : ABS_X), &h->axis[0]) < 0)
		h->axis[0].maximum = 0;
	if (ioctl(h->watch.fd, EVIOCGABS(mt ? ABS_MT_POSITION_Y : ABS_Y), &h->axis[1]) < 0)
		h->axis[1].maximum = 0;
	h->single_touch = !mt && has_bit(abs, ABS_X) && has_bit(abs, ABS_Y);
}

int input_host_open(struct input_host **out, struct devns *core, const char *path, struct input *in,
		    struct error *err)
{
	struct input_host *h = calloc(1, sizeof(*h));
	struct stat st;
	int ret;

	if (!h)
		return error_set(err, ENOMEM, "input");
	h->core = core;
	h->in = in;
	snprintf(h->path, sizeof(h->path), "%s", path);
	input_size(in, &h->width, &h->height);
	/* A FIFO is opened for writing too, so that it never reads as ended between
	 * writers. */
	if (stat(path, &st) < 0) {
		ret = error_set(err, errno, "--input %s", path);
		goto fail;
	}
	h->watch.fd = open(path, (S_ISFIFO(st.st_mode) ? O_RDWR : O_RDONLY) | O_NONBLOCK |
					 O_CLOEXEC | O_NOCTTY);
	if (h->watch.fd < 0) {
		ret = error_set(err, errno, "--input %s", path);
		goto fail;
	}
	if (S_ISCHR(st.st_mode)) {
		if (ioctl(h->watch.fd, EVIOCGRAB, 1) < 0) {
			ret = error_set(err, errno, "--input %s: grab it (is it an evdev device?)",
					path);
			goto fail;
		}
		h->grabbed = true;
		find_axes(h);
	} else if (!S_ISFIFO(st.st_mode)) {
		ret = error_set(err, 0, "--input %s: not an evdev device or a FIFO", path);
		goto fail;
	}
	h->watch.handle = on_readable;
	if ((ret = devns_watch(core, &h->watch, EPOLLIN)) < 0) {
		error_set(err, ret, "--input %s: watch it", path);
		goto fail;
	}
	log_info("input: reading %s%s%s", path, h->grabbed ? " (grabbed)" : "",
		 h->single_touch ? ", a single-touch screen: its contact is slot 0's" : "");
	*out = h;
	return 0;
fail:
	if (h->watch.fd >= 0)
		close(h->watch.fd);
	free(h);
	return ret;
}

void input_host_close(struct input_host *h)
{
	if (!h)
		return;
	if (h->watch.fd >= 0) {
		devns_unwatch(h->core, &h->watch);
		if (h->grabbed)
			ioctl(h->watch.fd, EVIOCGRAB, 0);
		close(h->watch.fd);
	}
	free(h);
}
