/* The viewer's protocol: fixed-size messages over a SOCK_SEQPACKET socketpair between
 * cellsd and the unprivileged viewer (one message per packet). Every message starts with
 * a head naming the version, the type and the length, which must be the type's own size.
 * cellsd parses what the viewer sends as hostile input (viewer_parse). */
#ifndef CELLS_VIEWER_PROTO_H
#define CELLS_VIEWER_PROTO_H

#include "common/error.h"

#include <stddef.h>
#include <stdint.h>

#define VIEWER_PROTO_VERSION 1
#define VIEWER_NAME_LEN	     36 /* NAME_MAX_LEN + 1, padded to 4 */
#define VIEWER_TEXT_LEN	     96
#define VIEWER_SECRET_LEN    36 /* the VNC password (8) and the web token (32), NUL ended */
#define VIEWER_MAX_CLIENTS   65536
#define VIEWER_COORD_MAX     65535

enum viewer_type {
	/* viewer -> cellsd */
	VIEWER_STATUS = 1, /* clients watching, bytes sent, a repaint wanted */
	VIEWER_POINTER,	   /* a client's pointer: the left button is a finger */
	VIEWER_KEY,	   /* a client's key, as an X keysym */
	VIEWER_ACTION,	   /* the web page's buttons: switch, next, prev, start, stop */
	VIEWER_LIST,	   /* the VPs, for the web page */
	/* cellsd -> viewer */
	VIEWER_HELLO = 64, /* the screen's size, the secrets, the listeners passed */
	VIEWER_RESULT,	   /* the answer to an ACTION */
	VIEWER_VP,	   /* one VP of the answer to a LIST */
};

enum viewer_action {
	VIEWER_NEXT = 1,
	VIEWER_PREV,
	VIEWER_SWITCH,
	VIEWER_START,
	VIEWER_STOP,
};

/* The descriptors cellsd gives the viewer, at fixed numbers. */
enum viewer_fd {
	VIEWER_FD_LINK = 3,    /* this protocol */
	VIEWER_FD_SCANOUT = 4, /* the scanout memfd, read-only */
	VIEWER_FD_FRAME = 5,   /* an eventfd: a new frame is ready */
	VIEWER_FD_VNC_UNIX = 6,
	VIEWER_FD_VNC_TCP = 7,
	VIEWER_FD_WEB_UNIX = 8,
	VIEWER_FD_WEB_TCP = 9,
	VIEWER_FD_COUNT = 10,
};

struct viewer_head {
	uint16_t version;
	uint16_t type;
	uint32_t len; /* of the whole message */
};

struct viewer_status {
	struct viewer_head head;
	uint32_t clients;
	uint32_t repaint; /* 0 or 1 */
	uint64_t bytes_sent;
};

struct viewer_pointer {
	struct viewer_head head;
	int32_t x, y;
	uint32_t buttons; /* RFB's mask, 8 bits */
};

struct viewer_key {
	struct viewer_head head;
	uint32_t keysym;
	uint32_t down; /* 0 or 1 */
};

struct viewer_action_msg {
	struct viewer_head head;
	uint32_t id;
	uint32_t action;	    /* enum viewer_action */
	char name[VIEWER_NAME_LEN]; /* SWITCH, START, STOP; else empty */
};

struct viewer_list {
	struct viewer_head head;
	uint32_t id;
};

struct viewer_hello {
	struct viewer_head head;
	uint32_t width, height;
	uint32_t listeners;		      /* bit N: descriptor VIEWER_FD_VNC_UNIX + N */
	char vnc_password[VIEWER_SECRET_LEN]; /* for VNC over TCP */
	char web_token[VIEWER_SECRET_LEN];    /* for the web page over TCP */
};

struct viewer_result {
	struct viewer_head head;
	uint32_t id;
	uint32_t ok;
	char name[VIEWER_NAME_LEN];  /* the foreground after a switch, the VP acted on */
	char state[16];		     /* its state after a start or a stop */
	char error[VIEWER_TEXT_LEN]; /* when not ok */
};

struct viewer_vp {
	struct viewer_head head;
	uint32_t id;
	uint32_t index, count; /* count 0: no VP (index 0, name empty) */
	uint32_t foreground;
	char name[VIEWER_NAME_LEN];
	char state[16];
};

/* A message from the viewer, checked. */
union viewer_msg {
	struct viewer_head head;
	struct viewer_status status;
	struct viewer_pointer pointer;
	struct viewer_key key;
	struct viewer_action_msg action;
	struct viewer_list list;
	struct viewer_hello hello;
	struct viewer_result result;
	struct viewer_vp vp;
};

/* Fill in the head of a message of TYPE (its size). */
void viewer_head_init(struct viewer_head *head, enum viewer_type type);

/* Check a message the viewer sent (LEN bytes at BUF: one packet) and copy it into OUT:
 * the version, a known viewer->cellsd type, its exact size, every field in its range,
 * names NUL-terminated and valid. Returns 0, or -EINVAL with why in ERR. */
int viewer_parse(const void *buf, size_t len, union viewer_msg *out, struct error *err);

/* The same for what cellsd sends the viewer: a daemon->viewer type, exact size, strings
 * NUL-terminated within their fields. */
int viewer_parse_from_daemon(const void *buf, size_t len, union viewer_msg *out, struct error *err);

#endif
