/* The VP's views of /proc files (lxcfs's, DESIGN.md §3): which files, and their binds
 * made again in a running VP when the server that backed them was replaced. */
#ifndef CELLS_VP_PROC_VIEWS_H
#define CELLS_VP_PROC_VIEWS_H

#include "common/error.h"

#include <stddef.h>

#define VP_PROC_VIEWS 7
/* The names under /proc (and under the server's proc directory). */
extern const char *const vp_proc_view_files[VP_PROC_VIEWS];

/* Which of the files a rebind replaces. */
enum vp_views_which {
	VP_VIEWS_EVERY, /* all: the VP's own namespace, where cellsd bound them */
	VP_VIEWS_DEAD,	/* those of a server that is gone: a namespace a VP's program made */
};

/* Binds DIR's files (the new server's "RUN/lxcfs/proc") over /proc in the mount namespace
 * of the process PIDFD names (a VP's cell-init, or another of its processes), read-only,
 * and tells how many in *BOUND (may be NULL). What the previous server left there is
 * unmounted lazily where the kernel lets anyone (a bind the daemon made this way); a bind
 * locked by the seal (vp/seal.c) or by a namespace of the VP's making, which no one may
 * unmount, is covered. The work is done by a child of the caller, killed after
 * TIMEOUT_MS: the paths it walks are the VP's. A file DIR lacks is left as it is. */
int vp_proc_views_rebind(int pidfd, const char *dir, enum vp_views_which which, int timeout_ms,
			 unsigned *bound, struct error *err);

#endif
