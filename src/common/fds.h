/* Descriptors a child keeps when it must hold nothing else of its parent's. */
#ifndef CELLS_FDS_H
#define CELLS_FDS_H

#include <stddef.h>

#define FDS_KEEP_MAX 8

/* Close every descriptor above 2 but the N in KEEP (at most FDS_KEEP_MAX; negative ones
 * and 0..2 are ignored). System calls only: safe in a child forked from a process with
 * threads. Returns 0 or -1 (errno set). */
int close_all_but(const int *keep, size_t n);

#endif
