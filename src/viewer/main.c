/* cells-viewer: VNC and the web page of cellsd, in a process of their own without root.
 * cellsd starts it (src/cellsd/viewer.c) with its descriptors at fixed numbers (enum
 * viewer_fd) and its uid, gid and empty root directory as arguments:
 *   cells-viewer UID GID ROOT [--verbose]
 * It reads noVNC's files, maps the scanout, locks itself in (sandbox.c), then serves:
 * one thread, one poll loop. Its end: cellsd's end of the link closes. */
#include "common/log.h"
#include "common/clock.h"
#include "viewer/scanout.h"
#include "viewer/viewer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOVNC_DIR    "/usr/share/novnc"
#define STATUS_MS    1000
#define PAUSE_MS     200 /* out of descriptors: the listener rests this long */
#define MAX_POLL     (VNC_MAX_CLIENTS * 2 + WEB_MAX_CONNS + 8)
#define RATELOG_KEYS 16

void ratelog(unsigned key, const char *fmt, ...)
{
	static long long last[RATELOG_KEYS];
	static unsigned quiet[RATELOG_KEYS];
	long long now = (long long)monotonic_ms();
	char text[512];
	va_list ap;

	key %= RATELOG_KEYS;
	if (last[key] && now - last[key] < 1000) {
		quiet[key]++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (quiet[key])
		log_warn("%s (and %u more like it)", text, quiet[key]);
	else
		log_warn("%s", text);
	last[key] = now;
	quiet[key] = 0;
}

void link_send(struct view *v, void *msg, enum viewer_type type, size_t size)
{
	viewer_head_init(msg, type);
	if (send(v->link, msg, size, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		ratelog(10, "send to cellsd: %s", strerror(errno));
}

void tell_status(struct view *v, bool repaint)
{
	struct viewer_status s = {
		.clients = v->vnc_clients, .repaint = repaint, .bytes_sent = rfb_bytes_sent(v)};

	link_send(v, &s, VIEWER_STATUS, sizeof(s));
	v->told_clients = v->vnc_clients;
	v->told_at = (long long)monotonic_ms();
}

/* The hello: the screen's size and the secrets, before anything else. */
static int read_hello(struct view *v, struct error *err)
{
	union viewer_msg msg;
	char buf[sizeof(msg) + 1];
	ssize_t n;

	while ((n = recv(v->link, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return error_set(err, errno, "viewer: read the hello");
	if (viewer_parse_from_daemon(buf, (size_t)n, &msg, err) < 0)
		return -EINVAL;
	if (msg.head.type != VIEWER_HELLO)
		return error_set(err, 0, "viewer: no hello");
	v->hello = msg.hello;
	v->width = (int)msg.hello.width;
	v->height = (int)msg.hello.height;
	return 0;
}

static int map_scanout(struct view *v, struct error *err)
{
	struct stat st;
	const struct scanout_header *h;

	v->scanout_size = scanout_size((uint32_t)v->width, (uint32_t)v->height);
	if (fstat(VIEWER_FD_SCANOUT, &st) < 0 || (size_t)st.st_size < v->scanout_size)
		return error_set(err, errno, "viewer: the scanout is too small");
	v->scanout = mmap(NULL, v->scanout_size, PROT_READ, MAP_SHARED, VIEWER_FD_SCANOUT, 0);
	if (v->scanout == MAP_FAILED)
		return error_set(err, errno, "viewer: map the scanout");
	h = v->scanout;
	if (h->magic != SCANOUT_MAGIC || h->width != (uint32_t)v->width ||
	    h->height != (uint32_t)v->height)
		return error_set(err, 0, "viewer: the scanout is not the screen's");
	close(VIEWER_FD_SCANOUT);
	return 0;
}

static void on_link(struct view *v)
{
	union viewer_msg msg;
	char buf[sizeof(msg) + 1];

	for (;;) {
		struct error err = {{0}};
		ssize_t n = recv(v->link, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			log_info("cellsd closed the link: leaving");
			exit(0);
		}
		if (viewer_parse_from_daemon(buf, (size_t)n, &msg, &err) < 0) {
			log_warn("%s", err.msg);
			continue;
		}
		if (msg.head.type == VIEWER_RESULT || msg.head.type == VIEWER_VP)
			web_daemon_answer(v, &msg);
	}
}

static void on_listener(struct view *v, enum listener which)
{
	struct sockaddr_storage addr = {0}; /* zeroed for clang's analyzer: accept4 fills it */
	socklen_t len = sizeof(addr);
	char host[INET6_ADDRSTRLEN] = "";
	int fd = accept4(v->listeners[which], (struct sockaddr *)&addr, &len,
			 SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			ratelog(11, "accept: %s: not accepting for %d ms", strerror(errno),
				PAUSE_MS);
			v->paused_until[which] = (long long)monotonic_ms() + PAUSE_MS;
		}
		return;
	}
	if (addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, sizeof(host));
	else if (addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, host, sizeof(host));
	if (which == L_VNC_UNIX || which == L_VNC_TCP)
		rfb_accept(v, which, fd, host);
	else
		web_accept(v, which, fd, host);
}

static void serve(struct view *v)
{
	struct pollfd fds[MAX_POLL];

	for (;;) {
		long long now = (long long)monotonic_ms(), timeout = STATUS_MS;
		int n = 0, nl, nweb, first_web;
		int lmap[L_COUNT];

		fds[n++] = (struct pollfd){.fd = v->link, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = v->frame_fd, .events = POLLIN};
		nl = n;
		for (int i = 0; i < L_COUNT; i++) {
			lmap[i] = -1;
			if (v->listeners[i] < 0)
				continue;
			if (v->paused_until[i] > now) {
				if (v->paused_until[i] - now < timeout)
					timeout = v->paused_until[i] - now;
				continue;
			}
			lmap[i] = n;
			fds[n++] = (struct pollfd){.fd = v->listeners[i], .events = POLLIN};
		}
		first_web = n;
		nweb = web_poll_fds(v, fds + n, MAX_POLL - n, &timeout);
		n += nweb;
		n += rfb_poll_fds(v, fds + n, MAX_POLL - n);
		if (poll(fds, (nfds_t)n, (int)timeout) < 0 && errno != EINTR)
			log_warn_errno(errno, "poll");
		if (fds[0].revents)
			on_link(v);
		if (fds[1].revents & POLLIN)
			rfb_import_frame(v);
		web_work(v, fds + first_web, nweb);
		rfb_work(v);
		for (int i = 0; i < L_COUNT; i++)
			if (lmap[i] >= 0 && fds[lmap[i]].revents)
				on_listener(v, (enum listener)i);
		(void)nl;
		now = (long long)monotonic_ms();
		rfb_expire(v, now);
		web_expire(v, now);
		if (v->told_clients != v->vnc_clients ||
		    (v->vnc_clients > 0 && now - v->told_at >= STATUS_MS))
			tell_status(v, false);
	}
}

int main(int argc, char **argv)
{
	struct view v = {.link = VIEWER_FD_LINK, .frame_fd = VIEWER_FD_FRAME};
	struct error err = {{0}};
	unsigned long uid, gid;

	log_init("cells-viewer",
		 argc > 4 && strcmp(argv[4], "--verbose") == 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (argc < 4 || (uid = strtoul(argv[1], NULL, 10)) == 0 ||
	    (gid = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr,
			"usage: cells-viewer UID GID ROOT [--verbose] (started by cellsd)\n");
		return 2;
	}
	if (read_hello(&v, &err) < 0 || map_scanout(&v, &err) < 0)
		goto fail;
	for (int i = 0; i < L_COUNT; i++)
		v.listeners[i] = v.hello.listeners & (1u << i) ? VIEWER_FD_VNC_UNIX + i : -1;
	if ((v.hello.listeners & (1u << L_WEB_UNIX | 1u << L_WEB_TCP)) &&
	    files_load(&v.novnc, NOVNC_DIR, &err) < 0)
		log_warn("%s: the web page will have no phone", err.msg);
	if (rfb_init(&v) < 0) {
		error_set(&err, ENOMEM, "viewer: the VNC screens");
		goto fail;
	}
	if (sandbox_enter((uid_t)uid, (gid_t)gid, argv[3], &err) < 0 || sandbox_filter(&err) < 0)
		goto fail;
	log_debug("serving as uid %lu", uid);
	serve(&v);
	return 0;
fail:
	log_error("%s", err.msg);
	return 1;
}
