/* The daemon's side of the viewer (src/viewer/): the unprivileged process that serves VNC
 * and the web page. cellsd binds its listeners, composes the scanout into shared memory
 * (scanout.c), starts it and starts it again when it dies, and takes what it sends
 * through the viewer protocol as hostile input. */
#ifndef CELLS_CELLSD_VIEWER_H
#define CELLS_CELLSD_VIEWER_H

#include "common/error.h"
#include "common/loop.h"
#include "viewer/proto.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct daemon;
struct scanout;

#define VIEWER_LISTENERS 4 /* VNC unix, VNC TCP, web unix, web TCP */

struct viewer_secrets {
	char vnc_password[9];
	char web_token[33];
};

struct viewer {
	struct daemon *daemon;
	struct scanout *scanout;
	int listeners[VIEWER_LISTENERS]; /* -1: none; in enum viewer_fd's order */
	char vnc_tcp[64], web_tcp[64];	 /* ADDR:PORT, "" when not on TCP */
	char vnc_unix[128], web_unix[128];
	uid_t uid;
	gid_t gid;
	struct viewer_secrets secrets;
	char secrets_path[4096];
	/* The process now, if any. */
	pid_t pid;
	struct loop_watch link, pidfd;
	struct loop_watch restart_timer;
	unsigned restarts; /* in a row, each after a short life: the backoff */
	uint64_t started_ns;
	uint64_t clients, bytes_sent, bytes_before; /* as the viewer tells; bytes of older ones */
	bool stopping;
};

/* viewer.c */
/* Bind the listeners of VNC and WEB ("none", "unix" or ADDR:PORT), make the scanout and
 * start the process. Nothing to serve: *OUT stays NULL. */
int viewer_start(struct daemon *d, const char *vnc, const char *web, struct viewer **out,
		 struct error *err);
void viewer_stop(struct viewer *v);
/* The picture changed (a new client): clients get it now. */
void viewer_refresh(struct viewer *v);
/* Around a switch: no frame of the half-made switch is shown; the end shows the new one. */
void viewer_switch_begin(struct viewer *v);
void viewer_switch_end(struct viewer *v);

/* viewer_link.c: the messages */
void viewer_link_handle(struct viewer *v, const union viewer_msg *msg);
int viewer_send(struct viewer *v, const void *msg, size_t len);
void viewer_send_hello(struct viewer *v);

/* viewer_secret.c: STATE/viewer.secret, made at the first start (0600) */
int viewer_secrets_load(const char *path, struct viewer_secrets *s, struct error *err);

#endif
