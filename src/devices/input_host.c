/* A host evdev device as an input source: see input_host.h. */
#include "devices/input_host.h"
#include "common/log.h"
#include "devices/input.h"

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
	struct loop *loop;
	struct input *in;
	char path[256];
	struct loop_watch watch;
	bool grabbed;
	/* The device's axes, for scaling to the display (max 0: not known, not scaled). */
	struct input_absinfo axis[2];
	int width, height;
	int slot; /* the device's current MT slot, named again in every packet */
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
		/* The device lost events: so has the foreground VP. */
		h->count = 1;
		input_route(h->in, &ev, 1);
		h->count = 0;
		return;
	}
	if (h->count == 0) /* the router starts every packet on slot 0 */
		h->packet[h->count++] =
			(struct input_event){.type = EV_ABS, .code = ABS_MT_SLOT, .value = h->slot};
	if (h->count < PACKET_MAX)
		h->packet[h->count++] = ev;
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
		loop_del(h->loop, w);
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

int input_host_open(struct input_host **out, struct loop *loop, const char *path, struct input *in,
		    struct error *err)
{
	struct input_host *h = calloc(1, sizeof(*h));
	struct stat st;
	int ret;

	if (!h)
		return error_set(err, ENOMEM, "input");
	h->loop = loop;
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
		if (ioctl(h->watch.fd, EVIOCGABS(ABS_MT_POSITION_X), &h->axis[0]) < 0 &&
		    ioctl(h->watch.fd, EVIOCGABS(ABS_X), &h->axis[0]) < 0)
			h->axis[0].maximum = 0;
		if (ioctl(h->watch.fd, EVIOCGABS(ABS_MT_POSITION_Y), &h->axis[1]) < 0 &&
		    ioctl(h->watch.fd, EVIOCGABS(ABS_Y), &h->axis[1]) < 0)
			h->axis[1].maximum = 0;
	} else if (!S_ISFIFO(st.st_mode)) {
		ret = error_set(err, 0, "--input %s: not an evdev device or a FIFO", path);
		goto fail;
	}
	h->watch.handle = on_readable;
	if ((ret = loop_add(loop, &h->watch, EPOLLIN)) < 0) {
		error_set(err, ret, "--input %s: watch it", path);
		goto fail;
	}
	log_info("input: reading %s%s", path, h->grabbed ? " (grabbed)" : "");
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
		loop_del(h->loop, &h->watch);
		if (h->grabbed)
			ioctl(h->watch.fd, EVIOCGRAB, 0);
		close(h->watch.fd);
	}
	free(h);
}
