/* Ptys for a VP's device files, the masters the daemon's (vt.c's /dev/tty0 and tty1,
 * telephony.c's /dev/ttyM0): a devpts instance of the daemon's per VP and device, whose
 * slaves are bound into the VP. */
#ifndef CELLS_VPTY_H
#define CELLS_VPTY_H

#include "common/error.h"

#include <stddef.h>
#include <sys/types.h>

/* A new devpts instance at DIR (made, searchable: the VP's root binds the slaves from
 * there; its ptmx the daemon's alone) for at most MAX ptys. */
int vpty_mount(const char *dir, unsigned max, struct error *err);
/* Unmount and remove it (the masters closed or not). */
void vpty_unmount(const char *dir);
/* A pty of DIR's: its master (non-blocking) into *MASTER, its slave's path into PATH,
 * the slave given to UID:GID with MODE. With SLAVE, the slave stays open there (its
 * master then never sees a hang-up); without, it is closed again. */
int vpty_open(const char *dir, uid_t uid, gid_t gid, mode_t mode, int *master, int *slave,
	      char *path, size_t size, struct error *err);

#endif
