/* The VP's views of /proc files (lxcfs's, DESIGN.md §3): which files, and their binds
 * made again in a running VP when the server that backed them was replaced. */
#ifndef CELLS_VP_PROC_VIEWS_H
#define CELLS_VP_PROC_VIEWS_H

#include "common/error.h"

#include <stddef.h>

#define VP_PROC_VIEWS 7
/* The names under /proc (and under the server's proc directory). */
extern const char *const vp_proc_view_files[VP_PROC_VIEWS];

/* Binds DIR's files (the new server's "RUN/lxcfs/proc") over /proc in the mount namespace
 * of the process PIDFD names (a VP's cell-init), read-only. What the previous server left
 * there is unmounted lazily where the kernel lets anyone (a bind the daemon made this
 * way); a bind locked by the seal (vp/seal.c), which no one may unmount, is covered. The
 * work is done by a child of the caller, killed after TIMEOUT_MS: the paths it walks are
 * the VP's. A file DIR lacks is left as it is. */
int vp_proc_views_rebind(int pidfd, const char *dir, int timeout_ms, struct error *err);

#endif
