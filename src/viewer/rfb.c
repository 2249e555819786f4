/* VNC in the viewer: libvncserver speaks RFB (and WebSockets) for two screens sharing one
 * framebuffer: "local" takes no password (its clients come from the root-only unix socket
 * or through the web page, authenticated there), "tcp" asks the VNC password (RFB security
 * type 2). The viewer accepts every connection itself and hands it to libvncserver
 * (rfbNewClient) only under the limits, so libvncserver's select() never sees a
 * descriptor past FD_SETSIZE; a client that has not finished its handshake within
 * AUTH_TIMEOUT_MS is dropped.
 *
 * Frames come from cellsd's scanout: the published frame is compared with what the
 * clients have tile by tile (damage tracking) and only what changed is marked; a frame
 * that cellsd overwrote while it was read (its sequence number moved) is read again. */
#include "common/log.h"
#include "common/clock.h"
#include "viewer/scanout.h"
#include "viewer/viewer.h"

#include <errno.h>
#include <poll.h>
#include <rfb/rfbregion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define TILE	       64
#define CLIENT_WAIT_MS 200 /* a client that does not read holds the viewer this long */
#define FIRST_FRAME_MS 100 /* a new client waits this long at most for the picture of now */

struct client_data {
	long long connected_at;
};

static struct view *the_view; /* libvncserver's hooks get a client, not ours */

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

/* Copy what changed from the published frame; the region is marked on both screens. */
static bool import_once(struct view *v)
{
	const struct scanout_header *h = v->scanout;
	uint64_t published = atomic_load(&((struct scanout_header *)h)->published);
	unsigned index = (unsigned)(published % SCANOUT_FRAMES);
	uint64_t seq = atomic_load(&((struct scanout_header *)h)->seq[index]);
	const uint32_t *frame = scanout_frame((void *)v->scanout, index);
	sraRegionPtr damage;
	bool torn;

	if (published == 0 || seq & 1)
		return false;
	atomic_thread_fence(memory_order_acquire);
	damage = sraRgnCreate();
	for (int ty = 0; ty < v->height; ty += TILE) {
		int th = ty + TILE > v->height ? v->height - ty : TILE;
		for (int tx = 0; tx < v->width; tx += TILE) {
			int tw = tx + TILE > v->width ? v->width - tx : TILE;
			bool changed = false;
			for (int y = ty; y < ty + th && !changed; y++)
				changed = memcmp(v->fb + (size_t)y * v->width + tx,
						 frame + (size_t)y * v->width + tx,
						 (size_t)tw * 4) != 0;
			if (!changed)
				continue;
			for (int y = ty; y < ty + th; y++)
				memcpy(v->fb + (size_t)y * v->width + tx,
				       frame + (size_t)y * v->width + tx, (size_t)tw * 4);
			sraRegionPtr tile = sraRgnCreateRect(tx, ty, tx + tw, ty + th);
			sraRgnOr(damage, tile);
			sraRgnDestroy(tile);
		}
	}
	atomic_thread_fence(memory_order_acquire);
	torn = atomic_load(&((struct scanout_header *)h)->seq[index]) != seq;
	if (!sraRgnEmpty(damage)) {
		rfbMarkRegionAsModified(v->local, damage);
		rfbMarkRegionAsModified(v->tcp, damage);
	}
	sraRgnDestroy(damage);
	v->seen_publication = published;
	return !torn;
}

void rfb_import_frame(struct view *v)
{
	uint64_t count;

	if (read(v->frame_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "read the frame eventfd");
	for (int i = 0; i < 3 && !import_once(v); i++)
		;
}

static void on_pointer(int buttons, int x, int y, rfbClientPtr cl)
{
	struct viewer_pointer m = {.x = x, .y = y, .buttons = (uint32_t)buttons & 0xff};

	(void)cl;
	link_send(the_view, &m, VIEWER_POINTER, sizeof(m));
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct viewer_key m = {.keysym = (uint32_t)keysym & 0x1fffffff, .down = down ? 1 : 0};

	(void)cl;
	link_send(the_view, &m, VIEWER_KEY, sizeof(m));
}

static void client_gone(rfbClientPtr cl)
{
	struct view *v = the_view;

	v->bytes_gone += (uint64_t)rfbStatGetSentBytes(cl);
	v->vnc_clients--;
	free(cl->clientData);
	cl->clientData = NULL;
	log_info("vnc: client %s left", cl->host && cl->host[0] ? cl->host : "(local)");
	tell_status(v, false);
}

/* The new client's first request gets the picture of now: cellsd composes it at once. */
static void first_frame(struct view *v)
{
	struct pollfd pfd = {.fd = v->frame_fd, .events = POLLIN};
	long long until = (long long)monotonic_ms() + FIRST_FRAME_MS;
	uint64_t before = atomic_load(&((struct scanout_header *)v->scanout)->published);

	tell_status(v, true);
	for (long long left; (left = until - (long long)monotonic_ms()) > 0;) {
		if (poll(&pfd, 1, (int)left) <= 0)
			break;
		rfb_import_frame(v);
		if (v->seen_publication > before)
			return;
	}
	rfb_import_frame(v);
}

static enum rfbNewClientAction client_new(rfbClientPtr cl)
{
	struct view *v = the_view;
	struct client_data *data = calloc(1, sizeof(*data));

	if (!data)
		return RFB_CLIENT_REFUSE;
	data->connected_at = (long long)monotonic_ms();
	cl->clientData = data;
	cl->clientGoneHook = client_gone;
	v->vnc_clients++;
	first_frame(v);
	log_info("vnc: client %s", cl->host && cl->host[0] ? cl->host : "(local)");
	return RFB_CLIENT_ACCEPT;
}

static rfbScreenInfoPtr make_screen(struct view *v)
{
	int argc = 0;
	rfbScreenInfoPtr s = rfbGetScreen(&argc, NULL, v->width, v->height, 8, 3, 4);

	if (!s)
		return NULL;
	s->frameBuffer = (char *)v->fb;
	/* Our pixels are XRGB8888: blue in the low byte. */
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
	s->desktopName = "Cells";
	s->alwaysShared = TRUE;
	/* No listening of libvncserver's own: the viewer accepts. */
	s->autoPort = FALSE;
	s->port = 0;
	s->ipv6port = 0;
	s->deferUpdateTime = 0;
	s->cursor = NULL;
	s->newClientHook = client_new;
	s->ptrAddEvent = on_pointer;
	s->kbdAddEvent = on_key;
	rfbInitServer(s);
	return s;
}

int rfb_init(struct view *v)
{
	unsigned char challenge[16];

	the_view = v;
	rfbLog = vnc_log;
	rfbErr = vnc_log;
	rfbMaxClientWait = CLIENT_WAIT_MS;
	v->fb = calloc((size_t)v->width * (size_t)v->height, 4);
	if (!v->fb || !(v->local = make_screen(v)) || !(v->tcp = make_screen(v)))
		return -ENOMEM;
	v->passwords[0] = v->hello.vnc_password;
	v->passwords[1] = NULL;
	v->tcp->authPasswdData = v->passwords;
	v->tcp->passwordCheck = rfbCheckPasswordByList;
	/* libvncserver seeds random() for its challenges from the time and pid once, at its
	 * first challenge: it is made to happen now, and each accept seeds it again from
	 * getrandom (rfb_accept). */
	rfbRandomBytes(challenge);
	return 0;
}

void rfb_refuse(int fd, const char *why)
{
	/* RFB 3.8: no security type, then the reason; a 3.3 client reads type 0 (failure). */
	char msg[128];
	uint32_t len = (uint32_t)strlen(why), be = htonl(len);
	size_t n = 0;

	memcpy(msg, "RFB 003.008\n\0", 13);
	n = 13;
	memcpy(msg + n, &be, 4);
	n += 4;
	memcpy(msg + n, why, len < sizeof(msg) - n ? len : sizeof(msg) - n);
	n += len < sizeof(msg) - n ? len : sizeof(msg) - n;
	send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	close(fd);
}

static unsigned clients_from(struct view *v, const char *host)
{
	rfbScreenInfoPtr screens[] = {v->local, v->tcp};
	unsigned n = 0;

	for (int i = 0; i < 2; i++)
		for (rfbClientPtr cl = screens[i]->clientHead; cl; cl = cl->next)
			n += cl->host && strcmp(cl->host, host) == 0;
	return n;
}

static void hand_to(struct view *v, rfbScreenInfoPtr screen, int fd)
{
	unsigned seed;

	if (getrandom(&seed, sizeof(seed), 0) == sizeof(seed))
		srandom(seed);
	if (!rfbNewClient(screen, fd))
		ratelog(1, "vnc: a client failed its start");
	(void)v;
}

void rfb_accept(struct view *v, enum listener which, int fd, const char *host)
{
	if (v->vnc_clients >= VNC_MAX_CLIENTS) {
		ratelog(2, "vnc: refused a client of %s: %u clients already",
			host[0] ? host : "the unix socket", v->vnc_clients);
		rfb_refuse(fd, "too many clients");
		return;
	}
	if (host[0] && clients_from(v, host) >= VNC_MAX_PER_HOST) {
		ratelog(3, "vnc: refused a client of %s: %d from there already", host,
			VNC_MAX_PER_HOST);
		rfb_refuse(fd, "too many clients from this address");
		return;
	}
	hand_to(v, which == L_VNC_TCP ? v->tcp : v->local, fd);
}

void rfb_hand_over(struct view *v, int fd)
{
	if (v->vnc_clients >= VNC_MAX_CLIENTS) {
		ratelog(2, "vnc: refused a web client: %u clients already", v->vnc_clients);
		close(fd);
		return;
	}
	hand_to(v, v->local, fd);
}

void rfb_work(struct view *v)
{
	rfbProcessEvents(v->local, 0);
	rfbProcessEvents(v->tcp, 0);
}

/* Handshakes that take too long end: a client that connects and says nothing holds a
 * slot and a descriptor until then only. */
void rfb_expire(struct view *v, long long now)
{
	rfbScreenInfoPtr screens[] = {v->local, v->tcp};

	for (int i = 0; i < 2; i++)
		for (rfbClientPtr cl = screens[i]->clientHead; cl; cl = cl->next) {
			struct client_data *data = cl->clientData;
			if (data && cl->state != RFB_NORMAL && cl->sock >= 0 &&
			    now - data->connected_at > AUTH_TIMEOUT_MS) {
				ratelog(4, "vnc: dropped %s: no handshake within %d s",
					cl->host && cl->host[0] ? cl->host : "a local client",
					AUTH_TIMEOUT_MS / 1000);
				rfbCloseClient(cl);
			}
		}
}

int rfb_poll_fds(struct view *v, struct pollfd *fds, int max)
{
	rfbScreenInfoPtr screens[] = {v->local, v->tcp};
	int n = 0;

	for (int i = 0; i < 2; i++)
		for (rfbClientPtr cl = screens[i]->clientHead; cl && n < max; cl = cl->next)
			if (cl->sock >= 0)
				fds[n++] = (struct pollfd){.fd = cl->sock, .events = POLLIN};
	return n;
}

uint64_t rfb_bytes_sent(struct view *v)
{
	rfbScreenInfoPtr screens[] = {v->local, v->tcp};
	uint64_t total = v->bytes_gone;

	for (int i = 0; i < 2; i++)
		for (rfbClientPtr cl = screens[i]->clientHead; cl; cl = cl->next)
			total += (uint64_t)rfbStatGetSentBytes(cl);
	return total;
}
