/* The VNC sink. libvncserver speaks RFB (and WebSockets on the same port); this file
 * feeds it the composed output and drives it from the daemon's event loop: the listening
 * sockets are watched, and while clients are connected a 60 Hz tick composes the output,
 * compares it with what the clients have tile by tile (damage tracking: an idle screen
 * sends nothing), and lets libvncserver read requests and send the changed tiles. */
#include "sinks/vnc.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TICK_HZ 60
#define TILE	64
/* A client that does not read may hold the daemon this long per write at most. */
#define CLIENT_WAIT_MS 200

struct vnc {
	rfbScreenInfoPtr screen;
	struct display *display;
	struct loop *loop;
	struct loop_watch listen4, listen6, tick;
	uint32_t *scratch;
	int width, height;
	bool ticking;
	uint64_t bytes_sent; /* of clients gone */
};

static void vnc_log(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	text[strcspn(text, "\n")] = '\0';
	log_debug("vnc: %s", text);
}

static void set_ticking(struct vnc *v, bool on)
{
	struct itimerspec its = {0};

	if (v->ticking == on)
		return;
	if (on) {
		its.it_value.tv_nsec = 1000000000L / TICK_HZ;
		its.it_interval.tv_nsec = 1000000000L / TICK_HZ;
	}
	if (timerfd_settime(v->tick.fd, 0, &its, NULL) == 0)
		v->ticking = on;
}

/* Copy what changed from the new composition into the clients' framebuffer. */
static void update_damage(struct vnc *v)
{
	uint32_t *fb = (uint32_t *)v->screen->frameBuffer;

	display_compose(v->display, v->scratch);
	for (int ty = 0; ty < v->height; ty += TILE) {
		int th = ty + TILE > v->height ? v->height - ty : TILE;
		for (int tx = 0; tx < v->width; tx += TILE) {
			int tw = tx + TILE > v->width ? v->width - tx : TILE;
			bool changed = false;
			for (int y = ty; y < ty + th && !changed; y++)
				changed = memcmp(fb + (size_t)y * v->width + tx,
						 v->scratch + (size_t)y * v->width + tx,
						 (size_t)tw * 4) != 0;
			if (!changed)
				continue;
			for (int y = ty; y < ty + th; y++)
				memcpy(fb + (size_t)y * v->width + tx,
				       v->scratch + (size_t)y * v->width + tx, (size_t)tw * 4);
			rfbMarkRectAsModified(v->screen, tx, ty, tx + tw, ty + th);
		}
	}
}

static void pump(struct vnc *v)
{
	rfbProcessEvents(v->screen, 0);
	set_ticking(v, v->screen->clientHead != NULL);
}

static void on_tick(struct loop_watch *w, uint32_t events)
{
	struct vnc *v = container_of(w, struct vnc, tick);
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (v->screen->clientHead)
		update_damage(v);
	pump(v);
}

static void on_listen4(struct loop_watch *w, uint32_t events)
{
	(void)events;
	pump(container_of(w, struct vnc, listen4));
}

static void on_listen6(struct loop_watch *w, uint32_t events)
{
	(void)events;
	pump(container_of(w, struct vnc, listen6));
}

static void client_gone(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	v->bytes_sent += (uint64_t)rfbStatGetSentBytes(cl);
	log_info("vnc: client %s left", cl->host ? cl->host : "?");
}

/* libvncserver opens its sockets without close-on-exec: children of the daemon (image
 * recipes, VPs being set up) must not inherit them. */
static void set_cloexec(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static enum rfbNewClientAction client_new(rfbClientPtr cl)
{
	set_cloexec(cl->sock);
	cl->clientGoneHook = client_gone;
	log_info("vnc: client %s", cl->host ? cl->host : "?");
	return RFB_CLIENT_ACCEPT;
}

int vnc_start(struct vnc **out, struct loop *loop, struct display *display, const char *addr,
	      int port, struct error *err)
{
	struct vnc *v = calloc(1, sizeof(*v));
	int argc = 0, ret;
	in_addr_t listen_addr;

	if (!v)
		return error_set(err, ENOMEM, "vnc");
	v->tick.fd = v->listen4.fd = v->listen6.fd = -1;
	if (inet_pton(AF_INET, addr, &listen_addr) != 1) {
		free(v);
		return error_set(err, 0, "vnc: '%s' is not an IPv4 address", addr);
	}
	rfbLog = vnc_log;
	rfbErr = vnc_log;
	rfbMaxClientWait = CLIENT_WAIT_MS;
	v->display = display;
	v->loop = loop;
	display_size(display, &v->width, &v->height);
	v->scratch = calloc((size_t)v->width * (size_t)v->height, 4);
	v->screen = rfbGetScreen(&argc, NULL, v->width, v->height, 8, 3, 4);
	if (!v->scratch || !v->screen) {
		ret = error_set(err, ENOMEM, "vnc: screen");
		goto fail;
	}
	v->screen->frameBuffer = calloc((size_t)v->width * (size_t)v->height, 4);
	if (!v->screen->frameBuffer) {
		ret = error_set(err, ENOMEM, "vnc: framebuffer");
		goto fail;
	}
	/* Our pixels are XRGB8888: blue in the low byte. */
	v->screen->serverFormat.redShift = 16;
	v->screen->serverFormat.greenShift = 8;
	v->screen->serverFormat.blueShift = 0;
	v->screen->desktopName = "Cells";
	v->screen->alwaysShared = TRUE;
	v->screen->autoPort = FALSE;
	v->screen->port = port;
	v->screen->ipv6port = 0;
	v->screen->listenInterface = listen_addr;
	v->screen->deferUpdateTime = 0;
	v->screen->screenData = v;
	v->screen->newClientHook = client_new;
	rfbInitServer(v->screen);
	set_cloexec(v->screen->listenSock);
	set_cloexec(v->screen->listen6Sock);
	if (v->screen->listenSock < 0) {
		ret = error_set(err, 0, "vnc: cannot listen on %s:%d", addr, port);
		goto fail;
	}
	v->listen4 = (struct loop_watch){.fd = v->screen->listenSock, .handle = on_listen4};
	v->listen6 = (struct loop_watch){.fd = v->screen->listen6Sock, .handle = on_listen6};
	v->tick.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	v->tick.handle = on_tick;
	if (v->tick.fd < 0 || loop_add(loop, &v->tick, EPOLLIN) < 0 ||
	    loop_add(loop, &v->listen4, EPOLLIN) < 0 ||
	    (v->listen6.fd >= 0 && loop_add(loop, &v->listen6, EPOLLIN) < 0)) {
		ret = error_set(err, errno, "vnc: watch its sockets");
		goto fail;
	}
	log_info("vnc: listening on %s:%d (RFB and WebSockets)", addr, port);
	*out = v;
	return 0;
fail:
	vnc_stop(v);
	return ret;
}

void vnc_stop(struct vnc *v)
{
	if (!v)
		return;
	if (v->tick.fd >= 0) {
		loop_del(v->loop, &v->tick);
		close(v->tick.fd);
	}
	if (v->screen) {
		if (v->listen4.fd >= 0)
			loop_del(v->loop, &v->listen4);
		if (v->listen6.fd >= 0)
			loop_del(v->loop, &v->listen6);
		rfbShutdownServer(v->screen, TRUE);
		free(v->screen->frameBuffer);
		rfbScreenCleanup(v->screen);
	}
	free(v->scratch);
	free(v);
}

void vnc_refresh(struct vnc *v)
{
	if (!v || !v->screen->clientHead)
		return;
	update_damage(v);
	pump(v);
}

uint64_t vnc_bytes_sent(const struct vnc *v)
{
	uint64_t total = v->bytes_sent;

	for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next)
		total += (uint64_t)rfbStatGetSentBytes(cl);
	return total;
}

unsigned vnc_clients(const struct vnc *v)
{
	unsigned n = 0;

	for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next)
		n++;
	return n;
}
