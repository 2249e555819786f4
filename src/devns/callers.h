/* The callers a supervisor thread has seen lately, by thread id: a pidfd, /proc/TID/mem and
 * /proc/TID/maps, and which device file the caller used last. Each supervisor thread owns
 * its cache: nothing in it is shared, so no lock is held while it opens, stats or closes
 * what a VP gave it (a close may be a VP file's last and take as long as the VP likes). */
#ifndef CELLS_DEVNS_CALLERS_H
#define CELLS_DEVNS_CALLERS_H

#include <stdbool.h>
#include <sys/types.h>

struct devns_vp;

struct devns_caller {
	pid_t tid;
	int pidfd, mem_fd, maps_fd;
	/* The device file it used last: its number there, our reference to the same open
	 * file (for kcmp), and which device file it is. */
	int file_nr, file_ref;
	unsigned dev, file;
};

#define CALLER_CACHE_SIZE 16

struct caller_cache {
	pid_t self;	 /* the daemon's pid, for kcmp: glibc no longer caches it */
	bool maps_query; /* the kernel has PROCMAP_QUERY: callers' maps are opened and asked */
	struct devns_caller entries[CALLER_CACHE_SIZE];
};

void caller_cache_init(struct caller_cache *cache);
void caller_cache_fini(struct caller_cache *cache);

/* The entry of TID, with descriptors that name that task and no later one reusing its
 * number; FRESH says they were opened just now. NULL if the task is gone. */
struct devns_caller *caller_open(struct caller_cache *cache, pid_t tid, bool *fresh);
void caller_drop(struct devns_caller *c);

/* Which device file of OWNER the caller's FD is, by device and inode. A file whose last
 * close means something (VDEV_FILE_TRANSIENT) comes back in *TRANSIENT, a reference for
 * the call alone; any other match is kept in the cache for the next call. */
bool caller_find_file(struct caller_cache *cache, const struct devns_vp *owner,
		      struct devns_caller *caller, int fd, unsigned *dev, unsigned *file,
		      int *transient);

#endif
