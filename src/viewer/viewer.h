/* The viewer process (cells-viewer): VNC and the web page, without root. One thread, one
 * poll loop: the link to cellsd, the frame eventfd, the listeners cellsd passed, the web
 * connections and libvncserver's clients. */
#ifndef CELLS_VIEWER_VIEWER_H
#define CELLS_VIEWER_VIEWER_H

#include "viewer/files.h"
#include "viewer/proto.h"

#include <poll.h>
#include <rfb/rfb.h>
#include <stdbool.h>
#include <stdint.h>

/* Limits: the descriptors stay far below FD_SETSIZE (libvncserver select()s), and the
 * viewer's RLIMIT_NOFILE is FD_SETSIZE, so no descriptor can ever reach it. */
#define VNC_MAX_CLIENTS	    32
#define VNC_MAX_PER_HOST    8
#define WEB_MAX_CONNS	    64
#define WEB_MAX_PER_HOST    16
#define AUTH_TIMEOUT_MS	    10000 /* a VNC client must be through its handshake by then */
#define WEB_IDLE_TIMEOUT_MS 10000 /* a web request must be complete by then */
#define WEB_ANSWER_MS	    5000  /* cellsd answers a page's request by then */

enum listener { L_VNC_UNIX, L_VNC_TCP, L_WEB_UNIX, L_WEB_TCP, L_COUNT };

struct web_conn;

struct view {
	int link, frame_fd;
	const void *scanout;
	size_t scanout_size;
	int width, height;
	struct viewer_hello hello;
	int listeners[L_COUNT];
	long long paused_until[L_COUNT]; /* out of descriptors: accept later */
	struct files novnc;		 /* noVNC's files, read before the sandbox */
	/* rfb.c */
	rfbScreenInfoPtr local, tcp; /* no password (unix socket, web page), and a password */
	uint32_t *fb;
	unsigned vnc_clients;
	uint64_t bytes_gone;
	uint64_t seen_publication;
	char *passwords[2];
	/* web.c */
	struct web_conn *conns;
	unsigned nconns;
	uint32_t next_id;
	/* what cellsd was last told */
	unsigned told_clients;
	long long told_at;
};

/* A message to cellsd, never waited for. */
void link_send(struct view *v, void *msg, enum viewer_type type, size_t size);
/* At most one line per KEY a second; the rest counted and said with the next. */
void ratelog(unsigned key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tell_status(struct view *v, bool repaint);

/* rfb.c */
int rfb_init(struct view *v);
void rfb_accept(struct view *v, enum listener which, int fd, const char *host);
void rfb_hand_over(struct view *v, int fd); /* an authenticated WebSocket */
void rfb_import_frame(struct view *v);
void rfb_work(struct view *v);
void rfb_expire(struct view *v, long long now);
int rfb_poll_fds(struct view *v, struct pollfd *fds, int max);
uint64_t rfb_bytes_sent(struct view *v);
void rfb_refuse(int fd, const char *why);

/* web.c */
void web_accept(struct view *v, enum listener which, int fd, const char *host);
int web_poll_fds(struct view *v, struct pollfd *fds, int max, long long *timeout_ms);
void web_work(struct view *v, const struct pollfd *fds, int n);
void web_expire(struct view *v, long long now);
void web_daemon_answer(struct view *v, const union viewer_msg *msg);

/* page.c */
extern const char page_index[], page_phone[], page_favicon[];

/* sandbox.c */
int sandbox_enter(uid_t uid, gid_t gid, const char *root, struct error *err);
int sandbox_filter(struct error *err);

#endif
