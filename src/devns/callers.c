#include "devns/callers.h"
#include "devns/core.h"
#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static const struct devns_caller no_caller = {
	.pidfd = -1, .mem_fd = -1, .maps_fd = -1, .file_ref = -1};

void caller_cache_init(struct caller_cache *cache)
{
	cache->self = getpid();
	cache->maps_query = vma_access_supported();
	for (unsigned i = 0; i < CALLER_CACHE_SIZE; i++)
		cache->entries[i] = no_caller;
}

void caller_drop(struct devns_caller *c)
{
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->mem_fd >= 0)
		close(c->mem_fd);
	if (c->maps_fd >= 0)
		close(c->maps_fd);
	if (c->file_ref >= 0)
		close(c->file_ref);
	*c = no_caller;
}

void caller_cache_fini(struct caller_cache *cache)
{
	for (unsigned i = 0; i < CALLER_CACHE_SIZE; i++)
		caller_drop(&cache->entries[i]);
}

/* A pidfd polls readable once its task has exited (before it is reaped, so before its
 * number can be given again). */
static bool task_exited(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	return poll(&p, 1, 0) != 0;
}

/* A cached entry is the caller's only if its task is still alive: then no other task can
 * have its number. (The ID_VALID check after this proves the caller alive too, so at
 * this instant both were the same task.) */
struct devns_caller *caller_open(struct caller_cache *cache, pid_t tid, bool *fresh)
{
	struct devns_caller *c = &cache->entries[(unsigned)tid % CALLER_CACHE_SIZE];
	char path[64];

	*fresh = false;
	if (c->tid == tid && !task_exited(c->pidfd))
		return c;
	caller_drop(c);
	*fresh = true;
	c->pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (c->pidfd < 0 && errno == EINVAL)
		c->pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
	c->mem_fd = c->pidfd < 0 ? -1 : open(path, O_RDWR | O_CLOEXEC);
	if (c->mem_fd >= 0 && cache->maps_query) {
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)tid);
		c->maps_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (c->pidfd < 0 || c->mem_fd < 0 || (cache->maps_query && c->maps_fd < 0)) {
		caller_drop(c);
		return NULL;
	}
	c->tid = tid;
	return c;
}

static bool file_is(const struct vdev_file *f, const struct statx *st)
{
	return f->dev == makedev(st->stx_dev_major, st->stx_dev_minor) && f->ino == st->stx_ino;
}

bool caller_find_file(struct caller_cache *cache, const struct devns_vp *owner,
		      struct devns_caller *caller, int fd, unsigned *dev, unsigned *file,
		      int *transient)
{
	struct statx st;
	int target;

	if (caller->file_ref >= 0 && caller->file_nr == fd &&
	    syscall(SYS_kcmp, cache->self, caller->tid, KCMP_FILE, caller->file_ref, fd) == 0) {
		*dev = caller->dev;
		*file = caller->file;
		return true;
	}
	target = (int)syscall(SYS_pidfd_getfd, caller->pidfd, fd, 0);
	if (target < 0)
		return false;
	/* An O_PATH descriptor can be had without the file's permissions: natively it
	 * cannot ioctl (EBADF), so it is not ours to answer. The attributes are the cached
	 * ones: a FUSE file's server is the daemon's own loop. */
	if (statx(target, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &st) < 0 ||
	    (fcntl(target, F_GETFL) & O_PATH)) {
		close(target);
		return false;
	}
	for (unsigned d = 0; d < vdev_count; d++)
		for (unsigned f = 0; owner->state[d] && f < owner->nfiles[d]; f++) {
			if (!file_is(&owner->files[d][f], &st))
				continue;
			*dev = d;
			*file = f;
			if (owner->files[d][f].flags & VDEV_FILE_TRANSIENT) {
				*transient = target;
				return true;
			}
			if (caller->file_ref >= 0)
				close(caller->file_ref);
			caller->file_ref = target;
			caller->file_nr = fd;
			caller->dev = d;
			caller->file = f;
			return true;
		}
	/* Not ours: perhaps the caller's last reference (it closed its own meanwhile), and
	 * its release may wait (a lingering socket). Only this VP's thread waits for it. */
	close(target);
	return false;
}
