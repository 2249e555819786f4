#ifndef CELLS_MODEMSIM_PTY_H
#define CELLS_MODEMSIM_PTY_H

#include <stddef.h>

#include "common/error.h"

/* A raw pty pair: *MASTER (non-blocking) is the modem's side; *SLAVE is kept open by the
 * caller; PATH gets the slave's name. */
int pty_open(int *master, int *slave, char *path, size_t size, struct error *err);
/* LINK made a symlink to PATH, atomically replacing what was there. */
int pty_link(const char *path, const char *link, struct error *err);

#endif
