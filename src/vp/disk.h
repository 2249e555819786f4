/* A VP's disk: its upper layer (upper/ and work/) with a size the kernel enforces. */
#ifndef CELLS_VP_DISK_H
#define CELLS_VP_DISK_H

#include "common/error.h"

#include <stdint.h>
#include <sys/types.h>

#define VP_DISK_IMAGE "disk.img"
#define VP_DISK_MIN   (64ull << 20)

/* The VP's disk under STATE_DIR as a detached mount whose root holds upper/ and work/.
 * SIZE > 0: an ext4 image of SIZE bytes (made, migrated from a plain upper/ or grown as
 * needed) on a loop device that goes when the mount does; SIZE 0, a VP without an image:
 * its plain directories, unlimited. OWNER: the host uid of the VP's root. */
int vp_disk_open(const char *state_dir, uint64_t size, uid_t owner, struct error *err);

/* The size of the VP's image (0 without one), or a negative errno. */
int64_t vp_disk_size(const char *state_dir);

#endif
