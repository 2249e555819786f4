/* The VNC sink. libvncserver speaks RFB (and WebSockets on the same port) in its own
 * threads: one accepts, and each client has one that reads its requests and one that
 * encodes and sends, so a slow client or an expensive encoding (ZRLE of noise: ~60 ms a
 * frame) never delays the daemon's event loop. The loop keeps only a 60 Hz tick while
 * clients are connected: it composes the output and compares it with what the clients
 * have tile by tile (damage tracking: an idle screen sends nothing). */
#include "sinks/vnc.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>
#include <stdarg.h>
#include <stdatomic.h>
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
	struct input *input; /* where the clients' pointer and keys go (NULL: nowhere) */
	struct loop *loop;
	struct loop_watch tick;
	/* The composition and the clients' framebuffer are written by the loop's tick and by
	 * the accepting thread (a new client gets a fresh picture before its first request).
	 * Taken before the device lock, never inside it. */
	pthread_mutex_t compose_lock;
	uint32_t *scratch;
	int width, height;
	bool ticking;
	/* Written by the client threads. */
	atomic_uint clients;
	atomic_uint_fast64_t bytes_sent; /* of clients gone */
	int wake[2];			 /* a client came: start ticking */
	struct loop_watch woken;
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
	/* Marked at once, so a client's sender never sends half of a new frame. */
	sraRegionPtr damage = sraRgnCreate();

	pthread_mutex_lock(&v->compose_lock);
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
			sraRegionPtr tile = sraRgnCreateRect(tx, ty, tx + tw, ty + th);
			sraRgnOr(damage, tile);
			sraRgnDestroy(tile);
		}
	}
	if (!sraRgnEmpty(damage))
		rfbMarkRegionAsModified(v->screen, damage);
	sraRgnDestroy(damage);
	pthread_mutex_unlock(&v->compose_lock);
}

static void on_tick(struct loop_watch *w, uint32_t events)
{
	struct vnc *v = container_of(w, struct vnc, tick);
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (atomic_load(&v->clients) == 0) {
		set_ticking(v, false);
		return;
	}
	update_damage(v);
}

static void on_woken(struct loop_watch *w, uint32_t events)
{
	struct vnc *v = container_of(w, struct vnc, woken);
	char buf[64];

	(void)events;
	while (read(w->fd, buf, sizeof(buf)) > 0)
		;
	if (atomic_load(&v->clients) > 0) {
		update_damage(v);
		set_ticking(v, true);
	}
}

/* A client's pointer: the left button is a finger on the screen. Called in the client's
 * reader thread; the router takes the device lock. */
static void on_pointer(int buttons, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	if (v->input)
		input_pointer(v->input, x, y, buttons & 1);
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	unsigned code = keymap_from_keysym((uint32_t)keysym);

	if (v->input && code)
		input_key(v->input, code, down ? 1 : 0);
}

static void client_gone(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	atomic_fetch_add(&v->bytes_sent, (uint64_t)rfbStatGetSentBytes(cl));
	atomic_fetch_sub(&v->clients, 1);
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
	struct vnc *v = cl->screen->screenData;

	set_cloexec(cl->sock);
	cl->clientGoneHook = client_gone;
	update_damage(v);
	atomic_fetch_add(&v->clients, 1);
	if (write(v->wake[1], "c", 1) < 0 && errno != EAGAIN)
		log_warn("vnc: wake the daemon's loop: %s", strerror(errno));
	log_info("vnc: client %s", cl->host ? cl->host : "?");
	return RFB_CLIENT_ACCEPT;
}

int vnc_start(struct vnc **out, struct loop *loop, struct display *display, struct input *input,
	      const char *addr, int port, struct error *err)
{
	struct vnc *v = calloc(1, sizeof(*v));
	int argc = 0, ret;
	in_addr_t listen_addr;

	if (!v)
		return error_set(err, ENOMEM, "vnc");
	v->tick.fd = v->wake[0] = v->wake[1] = -1;
	pthread_mutex_init(&v->compose_lock, NULL);
	if (inet_pton(AF_INET, addr, &listen_addr) != 1) {
		free(v);
		return error_set(err, 0, "vnc: '%s' is not an IPv4 address", addr);
	}
	rfbLog = vnc_log;
	rfbErr = vnc_log;
	rfbMaxClientWait = CLIENT_WAIT_MS;
	v->display = display;
	v->input = input;
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
	/* A phone has no pointer to show; and libvncserver draws its cursor into the
	 * framebuffer, which the tile comparison would then take for damage. */
	v->screen->cursor = NULL;
	v->screen->newClientHook = client_new;
	v->screen->ptrAddEvent = on_pointer;
	v->screen->kbdAddEvent = on_key;
	rfbInitServer(v->screen);
	set_cloexec(v->screen->listenSock);
	set_cloexec(v->screen->listen6Sock);
	if (v->screen->listenSock < 0) {
		ret = error_set(err, 0, "vnc: cannot listen on %s:%d", addr, port);
		goto fail;
	}
	v->tick.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	v->tick.handle = on_tick;
	if (v->tick.fd < 0 || pipe2(v->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = error_set(err, errno, "vnc: tick");
		goto fail;
	}
	v->woken = (struct loop_watch){.fd = v->wake[0], .handle = on_woken};
	if (loop_add(loop, &v->tick, EPOLLIN) < 0 || loop_add(loop, &v->woken, EPOLLIN) < 0) {
		ret = error_set(err, errno, "vnc: watch its tick");
		goto fail;
	}
	/* The threads inherit the daemon's blocked signals (its signalfd's); SIGPIPE is
	 * ignored, so a client gone mid-frame is a write error. */
	rfbRunEventLoop(v->screen, -1, TRUE);
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
	if (v->wake[0] >= 0) {
		loop_del(v->loop, &v->woken);
		close(v->wake[0]);
		close(v->wake[1]);
	}
	if (v->screen) {
		rfbShutdownServer(v->screen, TRUE);
		free(v->screen->frameBuffer);
		rfbScreenCleanup(v->screen);
	}
	pthread_mutex_destroy(&v->compose_lock);
	free(v->scratch);
	free(v);
}

void vnc_refresh(struct vnc *v)
{
	if (!v || atomic_load(&v->clients) == 0)
		return;
	update_damage(v);
}

uint64_t vnc_bytes_sent(struct vnc *v)
{
	uint64_t total = atomic_load(&v->bytes_sent);
	rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
	rfbClientPtr cl;

	while ((cl = rfbClientIteratorNext(it)))
		total += (uint64_t)rfbStatGetSentBytes(cl);
	rfbReleaseClientIterator(it);
	return total;
}

unsigned vnc_clients(struct vnc *v)
{
	return atomic_load(&v->clients);
}
