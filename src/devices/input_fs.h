/* One VP's /dev/input: a tree of the core's FUSE tree server (devns/fusetree.h) with one
 * stream per evdev device (event0, event1), whose queue is the evdev client's. A FUSE
 * file has per-open handles, poll, non-seekable direct I/O and passes evdev's
 * size-encoded ioctls to its server, so nothing in the VP is trapped for them.
 *
 * The daemon is the server: it must never touch the mount itself (a stat from the loop
 * would wait for the loop). Its attributes never change, so the kernel's cache answers
 * every stat after the first lookup. */
#ifndef CELLS_DEVICES_INPUT_FS_H
#define CELLS_DEVICES_INPUT_FS_H

#include "common/error.h"
#include "common/loop.h"
#include "devices/evdev.h"

#include <pthread.h>
#include <sys/types.h>

#define INPUT_FS_FILES 2

/* EVIOCGRAB with its argument behind a pointer (FUSE copies what a size-encoded request
 * points at; EVIOCGRAB's argument is a value). The seccomp supervisor traps EVIOCGRAB and
 * makes this call on the caller's own open file. */
#define CELLS_EVIOCSGRAB _IOW('E', 0xf0, int)
/* EVIOCREVOKE the same way (its argument must be 0, a value too). */
#define CELLS_EVIOCREVOKE _IOW('E', 0xf1, int)

struct input_fs;

struct input_fs_config {
	struct devns *core; /* its loop serves the files, its lock is held around every use
			     * of the devices */
	const char *mountpoint;
	uid_t uid;	    /* the VP's root: the files are its, mode 0660 */
	unsigned max_opens; /* open files at most, both devices together */
	struct evdev *devices[INPUT_FS_FILES];
};

/* Mount and serve. The devices' readable callbacks become the file system's. Both are
 * called with the lock held (the device namespace core holds it around create and
 * destroy). */
int input_fs_create(struct input_fs **out, const struct input_fs_config *config, struct error *err);
/* Unmount (lazily), fail what waits, close every handle. */
void input_fs_destroy(struct input_fs *fs);
/* The mount's device number and the inode of file N (0: the directory), for the seccomp
 * supervisor to know the files. */
dev_t input_fs_dev(const struct input_fs *fs);
ino_t input_fs_ino(unsigned n);
unsigned input_fs_opens(const struct input_fs *fs);
/* Answer what is waiting now, without the loop (which is busy waiting for something that
 * may wait for this). Not with the lock held. */
void input_fs_serve(struct input_fs *fs);

#endif
