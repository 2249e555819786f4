/* One byte with an optional file descriptor over a unix socket (SCM_RIGHTS). */
#ifndef CELLS_FDPASS_H
#define CELLS_FDPASS_H

#include <stddef.h>

/* FD < 0 sends the byte alone. Returns 0 or a negative errno. */
int fd_send(int sock, char byte, int fd);
/* *FD is -1 when none came. Returns 1 for a byte, 0 at end of stream, or a negative errno. */
int fd_recv(int sock, char *byte, int *fd);
/* The same for a message of up to LEN bytes; returns its length, 0 at end of stream. */
int fd_recv_msg(int sock, char *buf, size_t len, int *fd);

#endif
