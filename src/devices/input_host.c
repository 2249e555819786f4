/* A host evdev device as an input source: see input_host.h. */
#include "devices/input_host.h"
#include "common/log.h"
#include "devices/input.h"
#include "devices/input_source.h"
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

struct input_host {
	struct devns *core;
	struct input *in;
	char path[256];
	struct loop_watch watch;
	bool grabbed;
	struct input_source src;		  /* its events made the router's packets */
	char partial[sizeof(struct input_event)]; /* a FIFO may give part of a record */
	size_t partial_len;
};

static void route(void *ctx, const struct input_event *events, unsigned count)
{
	struct input_host *h = ctx;

	input_route(h->in, events, count);
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
		if (!input_source_add(&h->src, &ev))
			log_warn("input: %s: a packet of more than %d events, dropped", h->path,
				 INPUT_SOURCE_PACKET_MAX);
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
	if (ioctl(h->watch.fd, EVIOCGABS(mt ? ABS_MT_POSITION_X : ABS_X), &h->src.axis[0]) < 0)
		h->src.axis[0].maximum = 0;
	if (ioctl(h->watch.fd, EVIOCGABS(mt ? ABS_MT_POSITION_Y : ABS_Y), &h->src.axis[1]) < 0)
		h->src.axis[1].maximum = 0;
	h->src.single_touch = !mt && has_bit(abs, ABS_X) && has_bit(abs, ABS_Y);
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
	input_size(in, &h->src.width, &h->src.height);
	h->src.route = route;
	h->src.ctx = h;
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
		 h->src.single_touch ? ", a single-touch screen: its contact is slot 0's" : "");
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
