/* A VP's disk quota: its upper layer lives in a sparse ext4 image of its own size, under
 * its state directory, mounted through a loop device.
 *
 * Why an image and not project quotas: those need a file system mounted with them (ext4's
 * "quota" feature and prjquota, or xfs's pquota), which a user's root file system rarely
 * is; an image works on any file system that has sparse files, bounds blocks and inodes
 * alike, and goes with a single unlink. ENOSPC inside the VP is the kernel's own.
 *
 * The image is only ever written by the kernel's ext4 (the VP cannot reach the file). The
 * loop device is set to clear itself when closed: the ext4 mount is detached (fsmount),
 * held only by the VP's overlay, so when the VP's last process is gone (stopped, killed,
 * or its daemon killed and its cgroup emptied by the next one) the mount, then the loop
 * device, go by themselves. */
#include "vp/disk.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where a new or migrated image's content is gathered before mke2fs copies it in. */
#define DISK_STAGE "disk.new"

extern char **environ;

static int path_in(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int64_t vp_disk_size(const char *state_dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (path_in(path, sizeof(path), state_dir, VP_DISK_IMAGE) < 0)
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return st.st_size;
}

/* A tool of e2fsprogs, to its end; exit statuses up to OK_STATUS count as success. */
static int run_e2fs(const char *tool, char *const argv[], int ok_status, struct error *err)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin"};
	posix_spawn_file_actions_t fa;
	char path[64];
	pid_t pid = -1;
	int status, ret = ENOENT;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && ret == ENOENT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], tool);
		ret = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	}
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return error_set(err, ret, "run %s (from e2fsprogs)", tool);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_set(err, errno, "wait for %s", tool);
	if (!WIFEXITED(status) || WEXITSTATUS(status) > ok_status)
		return error_set(err, 0, "%s failed (status %d)", tool,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* mke2fs, with STAGE's tree as the new file system's content. */
static int run_mkfs(const char *image, const char *stage, struct error *err)
{
	char *argv[] = {"mke2fs", "-q",		 "-F",
			"-t",	  "ext4",	 "-m",
			"0",	  "-E",		 "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
			"-d",	  (char *)stage, (char *)image,
			NULL};

	return run_e2fs("mke2fs", argv, 0, err);
}

/* Grown offline, before the mount: online growth (EXT4_IOC_RESIZE_FS) wants
 * CAP_SYS_RESOURCE, which a daemon in a container may lack. resize2fs wants a checked file
 * system first; e2fsck's 1 is "errors corrected". */
static int grow_image(const char *image, struct error *err)
{
	char *fsck[] = {"e2fsck", "-f", "-p", (char *)image, NULL};
	char *resize[] = {"resize2fs", (char *)image, NULL};
	int ret;

	if ((ret = run_e2fs("e2fsck", fsck, 1, err)) < 0)
		return ret;
	return run_e2fs("resize2fs", resize, 0, err);
}

/* The stage holds upper/ and work/: a plain VP's own (moved, so a crash loses nothing: the
 * next start finds them there) or new ones. */
static int stage_layers(const char *state_dir, const char *stage, uid_t owner, struct error *err)
{
	static const char *const dirs[] = {"upper", "work"};
	char from[PATH_MAX], to[PATH_MAX];

	if (mkdir(stage, 0700) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", stage);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (path_in(from, sizeof(from), state_dir, dirs[i]) < 0 ||
		    path_in(to, sizeof(to), stage, dirs[i]) < 0)
			return error_set(err, ENAMETOOLONG, "path of %s", dirs[i]);
		if (exists(from) && rename(from, to) < 0)
			return error_set(err, errno, "move %s to %s", from, to);
		if (exists(to))
			continue;
		if (mkdir(to, i == 0 ? 0755 : 0700) < 0)
			return error_set(err, errno, "mkdir %s", to);
		/* The upper layer's root is the VP's "/": owned by the VP's root. */
		if (i == 0 && chown(to, owner, owner) < 0)
			return error_set(err, errno, "chown %s", to);
	}
	return 0;
}

/* A new image of SIZE bytes holding the stage's tree; the stage goes once it is in. */
static int make_image(const char *state_dir, uint64_t size, uid_t owner, struct error *err)
{
	char image[PATH_MAX], tmp[PATH_MAX], stage[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int ret;

	if (path_in(image, sizeof(image), state_dir, VP_DISK_IMAGE) < 0 ||
	    path_in(tmp, sizeof(tmp), state_dir, VP_DISK_IMAGE ".tmp") < 0 ||
	    path_in(stage, sizeof(stage), state_dir, DISK_STAGE) < 0)
		return error_set(err, ENAMETOOLONG, "path of the disk of %s", state_dir);
	if ((ret = stage_layers(state_dir, stage, owner, err)) < 0)
		return ret;
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error_set(err, errno, "create %s", tmp);
	/* Owned like the upper layer was, so a VP whose config is lost keeps its id
	 * (vps.c: id_from_files); only root can reach it. */
	if (fchown(fd, owner, owner) < 0 || ftruncate(fd, (off_t)size) < 0) {
		ret = error_set(err, errno, "size %s", tmp);
		goto fail;
	}
	if ((ret = run_mkfs(tmp, stage, err)) < 0)
		goto fail;
	if (fsync(fd) < 0 || rename(tmp, image) < 0) {
		ret = error_set(err, errno, "install %s", image);
		goto fail;
	}
	if ((ret = rm_rf(stage)) < 0)
		return error_set(err, ret, "remove %s", stage);
	return 0;
fail:
	unlink(tmp);
	return ret;
}

/* A free loop device backed by IMAGE, cleared by the kernel when its last user goes. */
static int attach_loop(int image, char *dev, size_t len, struct error *err)
{
	struct loop_config cfg = {.fd = (uint32_t)image,
				  .info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO};
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);

	if (ctl < 0)
		return error_set(err, errno, "open /dev/loop-control");
	/* Another process may take the free device first: EBUSY, and try the next. */
	for (int tries = 0; tries < 16; tries++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE), fd;
		if (nr < 0)
			return error_set(err, errno, "find a free loop device");
		snprintf(dev, len, "/dev/loop%d", nr);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return error_set(err, errno, "open %s", dev);
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			return fd;
		/* Direct I/O (no second copy in the page cache) is not for every host file
		 * system: without it then. */
		if (errno == EINVAL && (cfg.info.lo_flags & LO_FLAGS_DIRECT_IO)) {
			cfg.info.lo_flags &= ~(uint32_t)LO_FLAGS_DIRECT_IO;
			if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
				return fd;
		}
		close(fd);
		if (errno != EBUSY)
			return error_set(err, errno, "attach %s", dev);
	}
	return error_set(err, EBUSY, "no free loop device");
}

/* The image as a detached ext4 mount, grown to SIZE if it is smaller. */
static int mount_image(const char *state_dir, uint64_t size, struct error *err)
{
	char image[PATH_MAX], dev[32];
	_cleanup_close_ int img = -1, loop = -1, fsfd = -1;
	struct stat st;
	int mnt, ret;

	path_in(image, sizeof(image), state_dir, VP_DISK_IMAGE);
	img = open(image, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (img < 0 || fstat(img, &st) < 0)
		return error_set(err, errno, "open %s", image);
	if (size > (uint64_t)st.st_size) {
		if (ftruncate(img, (off_t)size) < 0)
			return error_set(err, errno, "grow %s", image);
		/* Back to the old size on failure, so the next start tries again. */
		if ((ret = grow_image(image, err)) < 0) {
			if (ftruncate(img, st.st_size) < 0)
				return error_set(err, errno, "restore the size of %s", image);
			return ret;
		}
	}
	if ((loop = attach_loop(img, dev, sizeof(dev), err)) < 0)
		return loop;
	fsfd = fsopen("ext4", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return error_set(err, errno, "fsopen ext4");
	/* The inode tables are holes of the sparse image, zeros already: ext4's background
	 * zeroing of them (ext4lazyinit) would be I/O for nothing at every start until done,
	 * and may make the host allocate them. */
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", dev, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_FLAG, "noinit_itable", NULL, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fsconfig_error(fsfd, err, errno, "mount the VP's disk");
	mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mnt < 0)
		return fsconfig_error(fsfd, err, errno, "fsmount the VP's disk");
	return mnt;
}

/* A VP without an image: its state directory, as a detached clone, so the overlay is given
 * no host path. */
static int open_plain(const char *state_dir, uid_t owner, struct error *err)
{
	static const char *const dirs[] = {"upper", "work"};
	char path[PATH_MAX], staged[PATH_MAX + 16];
	int mnt;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (path_in(path, sizeof(path), state_dir, dirs[i]) < 0)
			return error_set(err, ENAMETOOLONG, "path of %s", dirs[i]);
		/* Layers staged for an image that was never made (mke2fs failed, then the
		 * quota was taken back): they come back. */
		snprintf(staged, sizeof(staged), "%s/" DISK_STAGE "/%s", state_dir, dirs[i]);
		if (!exists(path) && exists(staged) && rename(staged, path) < 0)
			return error_set(err, errno, "move %s back to %s", staged, path);
		if (exists(path))
			continue;
		if (mkdir(path, i == 0 ? 0755 : 0700) < 0)
			return error_set(err, errno, "mkdir %s", path);
		if (i == 0 && chown(path, owner, owner) < 0)
			return error_set(err, errno, "chown %s", path);
	}
	mnt = open_tree(AT_FDCWD, state_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (mnt < 0)
		return error_set(err, errno, "open_tree %s", state_dir);
	return mnt;
}

int vp_disk_open(const char *state_dir, uint64_t size, uid_t owner, struct error *err)
{
	char path[PATH_MAX];
	int ret;

	if (path_in(path, sizeof(path), state_dir, VP_DISK_IMAGE) < 0)
		return error_set(err, ENAMETOOLONG, "path of the disk of %s", state_dir);
	if (!exists(path)) {
		if (size == 0)
			return open_plain(state_dir, owner, err);
		if ((ret = make_image(state_dir, size, owner, err)) < 0)
			return ret;
	} else {
		/* A crash between the image's install and the stage's removal. */
		path_in(path, sizeof(path), state_dir, DISK_STAGE);
		if ((ret = rm_rf(path)) < 0)
			return error_set(err, ret, "remove %s", path);
	}
	return mount_image(state_dir, size, err);
}
