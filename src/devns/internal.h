/* What the parts of the device framework call of each other, and nothing outside uses. */
#ifndef CELLS_DEVNS_INTERNAL_H
#define CELLS_DEVNS_INTERNAL_H

#include "devns/core.h"

int devns_notify_sizes(struct devns *core, struct error *err);
void devns_vp_close_listeners(struct devns_vp *dvp);

/* In a VP's first process, its root the working directory and its mounts not yet sealed:
 * bind HOST_PATH (a directory if DIR) at VP_PATH, an absolute path resolved inside the root
 * (no symlink followed: an image's link must not lead the bind onto the host), creating
 * what is missing on the way. Raw system calls only. */
int devns_bind_in_root(const char *host_path, const char *vp_path, bool dir, struct error *err);
/* Bind HOST_PATH (a directory) at REL, an existing directory under the VP's composed /sys
 * at SYS_DIR: the seal shows it with the tree. */
int devns_bind_in_sys(const char *host_path, const char *sys_dir, const char *rel,
		      struct error *err);

#endif
