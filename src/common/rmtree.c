/* rm_rf: removing a tree of any depth, by descriptors.
 *
 * A VP's upper layer is its own to shape: trees deeper than PATH_MAX (nftw then fails with
 * "File name too long"), symlinks anywhere, mounts left by a crash. So no path is ever
 * built: each directory is opened from its parent by name (never following a symlink),
 * the way back up is "..", checked to be the directory come from, and only the names on
 * the way down are kept, on the heap. One directory is open at a time, whatever the depth.
 * A directory on another mount is left alone, and reported. */
#include "common/fsutil.h"
#include "common/cleanup.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A name that could not be removed: skipped when its directory is read again. */
struct kept {
	struct kept *next;
	char name[];
};

/* One directory on the way down: its name in its parent, its identity, what stays in it. */
struct level {
	char *name;
	dev_t dev;
	ino_t ino;
	struct kept *kept;
};

struct walk {
	struct level *levels;
	size_t depth, cap;
	uint64_t mnt_id; /* the top's mount: no other is entered */
	int error;	 /* the first failure, a negative errno */
};

static void fail(struct walk *w, int errnum)
{
	if (!w->error)
		w->error = -errnum;
}

static int keep(struct level *l, const char *name)
{
	size_t len = strlen(name) + 1;
	struct kept *k = malloc(sizeof(*k) + len);

	if (!k)
		return -ENOMEM;
	memcpy(k->name, name, len);
	k->next = l->kept;
	l->kept = k;
	return 0;
}

static bool is_kept(const struct level *l, const char *name)
{
	for (const struct kept *k = l->kept; k; k = k->next)
		if (strcmp(k->name, name) == 0)
			return true;
	return false;
}

static void level_free(struct level *l)
{
	while (l->kept) {
		struct kept *k = l->kept;
		l->kept = k->next;
		free(k);
	}
	free(l->name);
	l->name = NULL;
}

static int mount_id(int fd, uint64_t *id)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -ENOTSUP;
	*id = stx.stx_mnt_id;
	return 0;
}

static int push(struct walk *w, int fd, const char *name)
{
	struct level *l;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct level *more = realloc(w->levels, cap * sizeof(*more));
		if (!more)
			return -ENOMEM;
		w->levels = more;
		w->cap = cap;
	}
	l = &w->levels[w->depth];
	*l = (struct level){.dev = st.st_dev, .ino = st.st_ino};
	if (name && !(l->name = strdup(name)))
		return -ENOMEM;
	w->depth++;
	return 0;
}

/* Open NAME in DIR as a directory to enter: -EXDEV for one on another mount. */
static int open_child(struct walk *w, int dir, const char *name)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t id = 0; /* for clang's analyzer, which lets a failed statx leave errno 0 */
	int ret;

	if (fd < 0)
		return -errno;
	if ((ret = mount_id(fd, &id)) < 0)
		return ret;
	if (id != w->mnt_id)
		return -EXDEV;
	return take_fd(&fd);
}

/* Empty the directory of the deepest level as far as it goes without entering another:
 * *NEXT is a subdirectory to enter (pushed), or -1 when this one is done. */
static int sweep(struct walk *w, DIR *d, int *next)
{
	assert(w->levels && w->depth > 0); /* the top is pushed first: for the analyzer */
	struct level *l = &w->levels[w->depth - 1];
	struct dirent *de;
	int fd;

	*next = -1;
	errno = 0;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || is_kept(l, name))
			continue;
		if (unlinkat(dirfd(d), name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno == EISDIR) {
			fd = open_child(w, dirfd(d), name);
			if (fd >= 0) {
				int ret = push(w, fd, name);
				if (ret < 0)
					close(fd);
				else
					*next = fd;
				return ret;
			}
			if (fd == -ENOENT)
				continue;
			/* EXDEV: a mount point. The caller's rmdir would fail as busy. */
			fail(w, fd == -EXDEV ? EBUSY : -fd);
		} else {
			fail(w, errno);
		}
		if (keep(l, name) < 0)
			return -ENOMEM;
		errno = 0;
	}
	return errno ? -errno : 0;
}

/* Leave the deepest level for its parent through "..", which must be the directory we came
 * from (the tree may not be moved under us); then remove the emptied directory. */
static int climb(struct walk *w, DIR *d, int *next)
{
	assert(w->levels && w->depth > 1); /* a level and its parent: for the analyzer */
	struct level *l = &w->levels[w->depth - 1], *parent = l - 1;
	_cleanup_close_ int up = openat(dirfd(d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	bool emptied = !l->kept;
	int ret = 0;

	if (up < 0)
		return -errno;
	if (fstat(up, &st) < 0)
		return -errno;
	if (st.st_dev != parent->dev || st.st_ino != parent->ino)
		return -ESTALE;
	if (emptied && unlinkat(up, l->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		fail(w, errno);
		emptied = false;
	}
	if (!emptied)
		ret = keep(parent, l->name);
	level_free(l);
	w->depth--;
	*next = take_fd(&up);
	return ret;
}

/* Remove everything below the directory FD (taken over), as far as it can. */
static int empty_tree(struct walk *w, int fd)
{
	DIR *d = NULL;
	int ret;

	if ((ret = mount_id(fd, &w->mnt_id)) < 0 || (ret = push(w, fd, NULL)) < 0) {
		close(fd);
		return ret;
	}
	for (;;) {
		if (!(d = fdopendir(fd))) {
			ret = -errno;
			close(fd);
			return ret;
		}
		ret = sweep(w, d, &fd);
		if (ret == 0 && fd < 0 && w->depth == 1)
			break;
		if (ret == 0 && fd < 0)
			ret = climb(w, d, &fd);
		closedir(d);
		d = NULL;
		if (ret < 0) {
			if (fd >= 0)
				close(fd);
			return ret;
		}
	}
	closedir(d);
	return 0;
}

int rm_rf(const char *path)
{
	struct walk w = {0};
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	ret = empty_tree(&w, fd);
	while (w.depth > 0)
		level_free(&w.levels[--w.depth]);
	free(w.levels);
	if (ret < 0)
		return ret;
	if (w.error)
		return w.error;
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
