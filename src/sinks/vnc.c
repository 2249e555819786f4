/* The VNC sink. libvncserver speaks RFB (and WebSockets on the same port) in one thread
 * of the sink's own, which alone touches libvncserver's state: it accepts, reads the
 * clients' requests, encodes and sends, so a slow client or an expensive encoding (ZRLE
 * of noise: ~60 ms a frame) never delays the daemon's event loop. (libvncserver's own
 * threaded mode, a reader and a sender per client, shares a client's buffers between its
 * threads and aborted cellsd now and then.) While clients are connected the thread
 * composes the output 60 times a second and compares it with what the clients have tile
 * by tile (damage tracking: an idle screen sends nothing); a switch wakes it at once, and
 * so does a flip of the page shown, though no sooner than a tick after the last flip's
 * compose, as a compositor composes on a commit paced by vsync.
 *
 * The thread waits in a poll() of its own, over libvncserver's sockets and an eventfd that
 * a repaint, a flip or the stop writes, and then lets libvncserver work without waiting. No
 * signal is ever sent to it: inside a client's read libvncserver takes an interrupted
 * select() for an error and drops the client (a switch while a viewer connected did). */
#include "sinks/vnc.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS (1000000000L / 60)
/* A screen unchanged this long is compared 10 times a second, not 60 (each compare reads
 * the whole page); a change, a client's input or a switch brings 60 back at once. Flips
 * are composed as they come, whatever the ticks (see compose_and_send). */
#define QUIET_NS      250000000LL
#define QUIET_TICK_NS (1000000000L / 10)
#define TILE	      64
/* A client that does not read may hold the sink this long per write at most. */
#define CLIENT_WAIT_MS 200

struct vnc {
	rfbScreenInfoPtr screen;
	struct display *display;
	struct input *input; /* where the clients' pointer and keys go (NULL: nowhere) */
	pthread_t thread;
	bool running;
	int wake_fd; /* an eventfd: a repaint, a flip or the stop is asked */
	/* The sink's thread alone: when the next compose is due, the last one made for a
	 * flip, the last change. */
	long long next_tick, last_flip_compose, last_change;
	uint32_t *scratch;
	int width, height;
	/* Shared with the daemon's loop. */
	atomic_bool stop, repaint;
	atomic_bool flipped; /* set by the display's thread, cleared by a compose */
	atomic_uint clients;
	atomic_uint_fast64_t bytes_gone, bytes_now; /* sent to clients gone, to all so far */
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

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Copy what changed from the new composition into the clients' framebuffer, and mark it,
 * as one region (a client is never sent half of a new frame). */
static void update_damage(struct vnc *v)
{
	uint32_t *fb = (uint32_t *)v->screen->frameBuffer;
	sraRegionPtr damage = sraRgnCreate();

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
	if (!sraRgnEmpty(damage)) {
		rfbMarkRegionAsModified(v->screen, damage);
		v->last_change = now_ns();
	}
	sraRgnDestroy(damage);
}

/* A client touched or typed: the screen is about to change, compare at 60 Hz again. */
static void wake_up_ticks(struct vnc *v)
{
	long long now = now_ns();

	v->last_change = now;
	if (v->next_tick > now + TICK_NS)
		v->next_tick = now + TICK_NS;
}

/* A client's pointer: the left button is a finger on the screen. */
static void on_pointer(int buttons, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	wake_up_ticks(v);
	if (v->input)
		input_pointer(v->input, x, y, buttons & 1);
}

/* A client's key. A keysym is a character, whatever the client's shift: what virtual
 * keyboards and paste send ('!', 'A' without shift) and a real keyboard's shifted keys
 * both arrive as that character, shift pressed or lifted around the press as it needs
 * (input_key_shift). Caps Lock stays with the client: its keysyms carry its case already,
 * and a VP in caps lock would invert the shifted letters. */
static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	int shift;
	unsigned code = keymap_from_keysym_shift((uint32_t)keysym, &shift);

	wake_up_ticks(v);
	if (v->input && code && code != KEY_CAPSLOCK)
		input_key_shift(v->input, code, down ? 1 : 0, shift, false);
}

static void client_gone(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;

	atomic_fetch_add(&v->bytes_gone, (uint64_t)rfbStatGetSentBytes(cl));
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
	/* Its first request gets the picture of now, not of when the last client left. */
	update_damage(v);
	atomic_fetch_add(&v->clients, 1);
	log_info("vnc: client %s", cl->host ? cl->host : "?");
	return RFB_CLIENT_ACCEPT;
}

static void count_bytes(struct vnc *v)
{
	uint64_t total = atomic_load(&v->bytes_gone);

	for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next)
		total += (uint64_t)rfbStatGetSentBytes(cl);
	atomic_store(&v->bytes_now, total);
}

static void wake(struct vnc *v)
{
	uint64_t one = 1;

	if (write(v->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "vnc: wake the sink's thread");
}

/* Until a socket libvncserver watches is ready, the eventfd is written, or TIMEOUT_NS
 * passed (< 0: no end). */
static void wait_for_work(struct vnc *v, long long timeout_ns)
{
	int max = v->screen->maxFd;
	struct pollfd fds[FD_SETSIZE + 1]; /* libvncserver's own bound: an fd_set */
	struct timespec ts = {timeout_ns / 1000000000LL, timeout_ns % 1000000000LL};
	nfds_t n = 0;
	uint64_t count;

	fds[n++] = (struct pollfd){.fd = v->wake_fd, .events = POLLIN};
	for (int fd = 0; fd <= max && fd < FD_SETSIZE; fd++)
		if (FD_ISSET(fd, &v->screen->allFds))
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	if (ppoll(fds, n, timeout_ns < 0 ? NULL : &ts, NULL) < 0 && errno != EINTR)
		log_warn_errno(errno, "vnc: poll");
	if (fds[0].revents & POLLIN && read(v->wake_fd, &count, sizeof(count)) < 0 &&
	    errno != EAGAIN)
		log_warn_errno(errno, "vnc: read the wake-up");
}

/* From the display, with its lock held (a VP's flip, in the thread serving its ioctl).
 * The thread is woken once per compose at most: a VP panning in a loop costs an atomic
 * load a call. */
static void picture_changed(void *arg)
{
	struct vnc *v = arg;

	if (atomic_load(&v->clients) == 0 || atomic_load(&v->flipped) ||
	    atomic_exchange(&v->flipped, true))
		return;
	wake(v);
}

/* When the next compose is due: a switch at once; a flip (a new frame is ready) at once
 * too, but not within a tick of the last compose made for a flip, so that flips make 60
 * composes a second at most; else the next tick. */
static long long compose_due(struct vnc *v)
{
	long long due = v->next_tick;

	if (atomic_load(&v->repaint))
		return 0;
	if (atomic_load(&v->flipped) && v->last_flip_compose + TICK_NS < due)
		due = v->last_flip_compose + TICK_NS;
	return due;
}

static void compose_and_send(struct vnc *v, long long now)
{
	bool on_schedule = now >= v->next_tick;
	bool asked = atomic_exchange(&v->repaint, false);
	bool flipped = atomic_exchange(&v->flipped, false);

	/* What is shown changed, whether or not the pixels did. */
	if (asked || flipped)
		wake_up_ticks(v);
	if (flipped)
		v->last_flip_compose = now;
	update_damage(v);
	rfbProcessEvents(v->screen, 0); /* send it now */
	/* A VP that flips shows its frames by flipping: the ticks, for what is drawn on the
	 * page shown, may slow down as for a quiet screen (so flips and ticks together make
	 * 70 composes a second at most). */
	bool flipping = now - v->last_flip_compose < QUIET_NS;
	long long tick = flipping || now - v->last_change > QUIET_NS ? QUIET_TICK_NS : TICK_NS;
	/* The ticks keep their phase unless a compose came off it or fell behind. */
	v->next_tick =
		!on_schedule || now >= v->next_tick + tick ? now + tick : v->next_tick + tick;
}

static void *serve(void *arg)
{
	struct vnc *v = arg;
	sigset_t all;

	/* No signal may interrupt libvncserver's I/O (see the top of this file). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	v->next_tick = v->last_change = now_ns();
	v->last_flip_compose = v->next_tick - QUIET_NS;
	while (!atomic_load(&v->stop)) {
		long long now = now_ns();
		long long timeout_ns = -1; /* no client: only the listening sockets to watch */
		if (atomic_load(&v->clients) > 0) {
			if (now >= compose_due(v)) {
				compose_and_send(v, now);
				now = now_ns();
			}
			long long due = compose_due(v);
			timeout_ns = due > now ? due - now : 0;
		}
		wait_for_work(v, timeout_ns);
		rfbProcessEvents(v->screen, 0);
		count_bytes(v);
	}
	return NULL;
}

int vnc_start(struct vnc **out, struct display *display, struct input *input, const char *addr,
	      int port, struct error *err)
{
	struct vnc *v = calloc(1, sizeof(*v));
	int argc = 0, ret;
	in_addr_t listen_addr;

	if (!v)
		return error_set(err, ENOMEM, "vnc");
	if (inet_pton(AF_INET, addr, &listen_addr) != 1) {
		free(v);
		return error_set(err, 0, "vnc: '%s' is not an IPv4 address", addr);
	}
	rfbLog = vnc_log;
	rfbErr = vnc_log;
	rfbMaxClientWait = CLIENT_WAIT_MS;
	v->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->wake_fd < 0) {
		ret = error_set(err, errno, "vnc: eventfd");
		goto fail;
	}
	v->display = display;
	v->input = input;
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
	ret = pthread_create(&v->thread, NULL, serve, v);
	if (ret != 0) {
		ret = error_set(err, ret, "vnc: thread");
		goto fail;
	}
	v->running = true;
	display_watch(display, picture_changed, v);
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
	if (v->running) {
		display_watch(v->display, NULL, NULL);
		atomic_store(&v->stop, true);
		wake(v);
		pthread_join(v->thread, NULL);
	}
	if (v->wake_fd >= 0)
		close(v->wake_fd);
	if (v->screen) {
		rfbShutdownServer(v->screen, TRUE);
		free(v->screen->frameBuffer);
		rfbScreenCleanup(v->screen);
	}
	free(v->scratch);
	free(v);
}

void vnc_refresh(struct vnc *v)
{
	if (!v || atomic_load(&v->clients) == 0)
		return;
	atomic_store(&v->repaint, true);
	wake(v);
}

uint64_t vnc_bytes_sent(struct vnc *v)
{
	return atomic_load(&v->bytes_now);
}

unsigned vnc_clients(struct vnc *v)
{
	return atomic_load(&v->clients);
}
