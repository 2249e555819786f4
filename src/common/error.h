/* An error a request can carry back to the user: one clear line. */
#ifndef CELLS_ERROR_H
#define CELLS_ERROR_H

#include <stddef.h>

struct error {
	char msg[512];
};

/* Format the message; with ERRNUM != 0, ": strerror(ERRNUM)" is appended. Control
 * characters become '?', so the message stays one line.
 * Returns -ERRNUM (or -EINVAL when ERRNUM is 0) so callers can `return error_set(...)`. */
int error_set(struct error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
