/* The control protocol: one JSON object per line over a unix stream socket, with file
 * descriptors (a console, the caller's stdio) passed beside a line as SCM_RIGHTS. */
#ifndef CELLS_PROTO_H
#define CELLS_PROTO_H

#include <jansson.h>
#include <stddef.h>

#define PROTO_MAX_LINE 65536
#define PROTO_MAX_FDS  3

struct line_reader {
	char buf[PROTO_MAX_LINE];
	size_t len;
	int fds[PROTO_MAX_FDS];
	int nfds;
};

void line_reader_init(struct line_reader *lr);
/* Close any descriptors received but not taken. */
void line_reader_release(struct line_reader *lr);

/* Read what the socket has into LR; descriptors that come along are kept in LR->fds.
 * Returns bytes read, 0 at end of stream, or a negative errno (-EAGAIN included). */
int line_reader_fill(struct line_reader *lr, int sock);

/* Take the next complete line (NUL-terminated in place) or NULL. A line longer than
 * PROTO_MAX_LINE sets *overlong and discards the buffer. */
char *line_reader_next(struct line_reader *lr, size_t *consumed, int *overlong);
void line_reader_consume(struct line_reader *lr, size_t consumed);

/* Send MSG as one line, with NFDS descriptors. Returns 0 or a negative errno. */
int proto_send(int sock, json_t *msg, const int *fds, int nfds, int flags);

/* Blocking: read one whole line from SOCK and parse it (client side). */
int proto_recv(int sock, struct line_reader *lr, json_t **msg);

#endif
