/* The core's one FUSE tree server (DESIGN.md §4): a FUSE file system (libfuse3, low-level
 * API) served from the daemon's event loop, whose files are nodes that devices register:
 * directories, symlinks, attributes (sysfs-like files with read / write / poll handlers)
 * and streams (per-open state, a queue of records, blocking and O_NONBLOCK reads, poll,
 * ioctl). A device never writes FUSE plumbing itself.
 *
 * One tree is one mount in one VP: a device's own (/dev/input) or shared by the VP's
 * devices (its /sys), each adding its nodes. Every node is the VP root's (the tree's uid
 * and gid) with its own mode; its inode number is fixed when it is added and never given
 * to another node. Attributes read as sysfs files do: st_size 4096, a read at offset 0
 * takes the current contents (later offsets read that copy), one write(2) is one store;
 * truncating one is harmless (a stream's truncation is EINVAL, as a character device's).
 * Creating, renaming or removing files, chmod and chown from the VP are refused.
 *
 * Locking: the tree has no lock of its own; it uses the device lock it is given (the
 * devns core's). Every handler of a node (show, store, open, release, read, readable,
 * write, ioctl) is called with that lock held: on the loop's thread for a request, or on
 * the thread of the device's own call (fusetree_push and fusetree_wake answer waiting
 * reads through read, fusetree_remove releases opens). A handler must not block, sleep
 * or touch a VP's memory or files, and a stream's read handler must not call
 * fusetree_push or fusetree_wake (the answer's buffer is the tree's). Every function below is
 * called with the lock held, from any thread, except create and destroy (on the loop's thread, with
 * the lock held, as the devns core calls a device's create and destroy) and serve (on the loop's
 * thread, without it). The daemon must never touch the mount itself: a stat from the loop's thread
 * would wait for the loop.
 *
 * A read of a stream that would wait, made by a thread of the serving process (a
 * supervisor thread touching a VP's memory that maps a VP's own file), ends with EIO at
 * once: what it would wait for can only come from the daemon itself. */
#ifndef CELLS_DEVNS_FUSETREE_H
#define CELLS_DEVNS_FUSETREE_H

#include "common/error.h"
#include "common/loop.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An attribute's contents at most, and its st_size: a page, as sysfs. */
#define FUSETREE_ATTR_MAX 4096
/* Bytes one read of a stream returns at most; an ioctl's answer at most. */
#define FUSETREE_READ_MAX  65536
#define FUSETREE_IOCTL_MAX 16384 /* _IOC_SIZEMASK + 1 */

struct fusetree;
struct fusetree_node;
struct fusetree_file; /* one open of a stream */

struct fusetree_config {
	struct loop *loop;
	pthread_mutex_t *lock;	/* the device lock: held around every handler */
	const char *mountpoint; /* created if missing; removed by destroy */
	const char *name;	/* the mount's source and type: fuse.NAME */
	uid_t uid;		/* the VP root's host ids: every node is theirs */
	gid_t gid;
	mode_t root_mode;     /* the root directory's permission bits */
	unsigned max_opens;   /* open files at most, the whole tree */
	double cache_seconds; /* how long the kernel keeps names and attributes
			       * (0: a year; a tree whose nodes go away wants less) */
};

/* Who opens a stream. */
struct fusetree_caller {
	pid_t pid; /* its thread, in the daemon's pid namespace */
	uid_t uid;
	gid_t gid;
	int flags; /* open(2)'s */
	bool i386; /* it runs an i386 program: 32-bit structs (FUSE says so only for ioctls;
		    * x32 programs have 64-bit times, as here) */
};

struct fusetree_attr_ops {
	/* The contents now: at most SIZE bytes (FUSETREE_ATTR_MAX) into BUF; the length or
	 * -errno. NULL: not readable (an open for reading fails with EACCES). */
	ssize_t (*show)(void *data, char *buf, size_t size);
	/* One write(2) of LEN bytes (1 to FUSETREE_ATTR_MAX, not NUL-terminated, its offset
	 * ignored as sysfs does): LEN or -errno (EINVAL for what it does not take). NULL:
	 * read-only (an open for writing fails with EACCES). */
	ssize_t (*store)(void *data, const char *buf, size_t len);
};

struct fusetree_stream_ops {
	/* A new open FILE: set *STATE, the open's own state handed to the calls below;
	 * 0 or -errno. FILE is valid until release. */
	int (*open)(void *data, struct fusetree_file *file, const struct fusetree_caller *caller,
		    void **state);
	/* The open is closed, or its node removed: free STATE. */
	void (*release)(void *data, void *state);
	/* The device's own queue (NULL: the tree's, filled by fusetree_push): whole records
	 * into BUF (SIZE at most FUSETREE_READ_MAX), the bytes or -errno; -EAGAIN when
	 * nothing is there (the read waits, or fails with EAGAIN under O_NONBLOCK). When
	 * something arrives the device calls fusetree_wake. */
	ssize_t (*read)(void *data, void *state, char *buf, size_t size);
	/* With read: is a read answered now? (poll) */
	bool (*readable)(void *data, void *state);
	/* Bytes written: the count taken or -errno. NULL: opening for writing is EACCES. */
	ssize_t (*write)(void *data, void *state, const char *buf, size_t size);
	/* An ioctl: ARG as the caller passed it (a pointer in its memory, never to be
	 * touched: see devns.h); for a size-encoded request the kernel copied IN_SIZE bytes
	 * in and takes at most *OUT_SIZE out. Its return value or -errno; set *OUT_SIZE to
	 * what OUT holds. COMPAT: a 32-bit caller. NULL: ENOTTY. Ioctls with a value
	 * argument are trapped by seccomp (devns.h) before they come here. */
	long (*ioctl)(void *data, void *state, unsigned cmd, uint64_t arg, const void *in,
		      size_t in_size, void *out, size_t *out_size, bool compat);
	/* The tree's queue: bytes queued per open at most (fusetree_push fails beyond). */
	size_t queue_bytes;
};

/* Mount at CONFIG->mountpoint and serve from CONFIG->loop. On the loop's thread (or with
 * the loop not running), with the lock held. The tree holds its root directory. */
int fusetree_create(struct fusetree **out, const struct fusetree_config *config, struct error *err);
/* Unmount (lazily), end every waiting read, release every open and free every node.
 * On the loop's thread, with the lock held (the releases are handlers). */
void fusetree_destroy(struct fusetree *tree);
/* Answer what is waiting now without the loop (which is busy waiting for a supervisor
 * thread that may wait for this). Without the lock. */
void fusetree_serve(struct fusetree *tree);

/* The mount's device number, and a node's inode: a file's identity, for the seccomp
 * supervisor. */
dev_t fusetree_dev(const struct fusetree *tree);
ino_t fusetree_ino(const struct fusetree_node *node);
unsigned fusetree_opens(const struct fusetree *tree);

struct fusetree_node *fusetree_root(struct fusetree *tree);
/* The child NAME of directory PARENT, or NULL. */
struct fusetree_node *fusetree_find(struct fusetree_node *parent, const char *name);

/* Add a node NAME in directory PARENT (a name without '/', not "." or ".."; EEXIST if
 * taken). MODE: its permission bits. *OUT (may be NULL) is the node, valid until it or
 * an ancestor is removed. */
int fusetree_add_dir(struct fusetree_node *parent, const char *name, mode_t mode,
		     struct fusetree_node **out, struct error *err);
/* The directories of PATH ("class/input", relative to PARENT), made where missing (an
 * existing one is used as it is): how devices share a tree. */
int fusetree_add_dirs(struct fusetree_node *parent, const char *path, mode_t mode,
		      struct fusetree_node **out, struct error *err);
int fusetree_add_symlink(struct fusetree_node *parent, const char *name, const char *target,
			 struct fusetree_node **out, struct error *err);
/* OPS and DATA stay valid until the node is removed. */
int fusetree_add_attr(struct fusetree_node *parent, const char *name, mode_t mode,
		      const struct fusetree_attr_ops *ops, void *data, struct fusetree_node **out,
		      struct error *err);
int fusetree_add_stream(struct fusetree_node *parent, const char *name, mode_t mode,
			const struct fusetree_stream_ops *ops, void *data,
			struct fusetree_node **out, struct error *err);
/* Remove NODE and everything under it (not the root): its opens are released (their
 * reads end with ENODEV, their pollers see POLLHUP) and its name is gone for a new
 * lookup; the kernel may show it in a listing for cache_seconds. */
void fusetree_remove(struct fusetree_node *node);

/* An attribute's contents changed (sysfs_notify): its pollers wake and see POLLPRI |
 * POLLERR until they read it again. */
void fusetree_notify(struct fusetree_node *attr);

/* Append a record to FILE's queue (the tree's), answering a waiting read and waking its
 * poller. -ENOBUFS when the queue is full (nothing queued), -ENODEV after a hang-up,
 * -EINVAL for a record that no read could take. */
int fusetree_push(struct fusetree_file *file, const void *record, size_t len);
/* Records are waiting in the device's own queue for FILE: answer its waiting reads and
 * wake its poller. */
void fusetree_wake(struct fusetree_file *file);
/* FILE is revoked: its waiting and later reads, writes and ioctls fail with ENODEV, its
 * poller sees POLLHUP | POLLERR. Its release still comes when it is closed. */
void fusetree_hangup(struct fusetree_file *file);

#endif
