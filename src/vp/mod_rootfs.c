/* The VP's files: overlayfs of the shared image (lower, idmapped so the VP's root owns it)
 * and the VP's own upper layer; a fresh /dev, /proc and /sys; pivot_root into it; then the
 * mounts are sealed (seal.c).
 *
 * The daemon builds the overlay as a detached mount (fsopen/fsmount) from detached layers
 * (the idmapped image, the VP's disk: disk.c) and hands its fd to the child, which attaches
 * it inside its own mount namespace: nothing of the VP is mounted in the host's namespace
 * (but for a moment on kernels before 6.15: overlay_by_path). */
#include "vp/runtime.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "vp/disk.h"
#include "vp/proc_views.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Device nodes a VP gets from the host, bind-mounted: they are harmless to share. */
static const char *const host_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static int path_in(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int rootfs_prepare(struct vp_runtime *rt, struct error *err)
{
	char path[PATH_MAX];
	int ret;

	for (size_t i = 0; i < 2; i++) {
		path_in(path, sizeof(path), rt->vp_run_dir, i == 0 ? "lower" : "root");
		if ((ret = mkdir_p(path, 0700)) < 0)
			return error_set(err, ret, "mkdir %s", path);
	}
	return 0;
}

/* The layers by descriptor, each a detached mount of the daemon's: the overlay records
 * their paths as the daemon sees them, which are then "/" and "/upper", nothing of the
 * host's (kernels from 6.15 take layers from detached mounts). */
static int overlay_by_fd(int fsfd, int lower, int disk, struct error *err)
{
	_cleanup_close_ int upper = -1, work = -1;

	upper = openat(disk, "upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	work = openat(disk, "work", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (upper < 0 || work < 0)
		return error_set(err, errno, "open the VP's upper and work directories");
	if (fsconfig(fsfd, FSCONFIG_SET_FD, "lowerdir+", NULL, lower) < 0)
		return fsconfig_error(fsfd, err, errno, "overlay lowerdir+");
	if (fsconfig(fsfd, FSCONFIG_SET_FD, "upperdir", NULL, upper) < 0)
		return fsconfig_error(fsfd, err, errno, "overlay upperdir");
	if (fsconfig(fsfd, FSCONFIG_SET_FD, "workdir", NULL, work) < 0)
		return fsconfig_error(fsfd, err, errno, "overlay workdir");
	return 0;
}

/* Older kernels take layers by path only, in the caller's mount namespace: the layers are
 * attached under the run directory for the moment the overlay is made (the overlay keeps
 * private clones), and mountinfo in the VP then shows those paths. */
static int overlay_by_path(int fsfd, struct vp_runtime *rt, int lower, int disk, struct error *err)
{
	char lower_at[PATH_MAX], disk_at[PATH_MAX], upper[PATH_MAX + 8], work[PATH_MAX + 8];
	int ret = 0;

	path_in(lower_at, sizeof(lower_at), rt->vp_run_dir, "lower");
	path_in(disk_at, sizeof(disk_at), rt->vp_run_dir, "disk");
	if (mkdir(disk_at, 0700) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", disk_at);
	if (move_mount(lower, "", AT_FDCWD, lower_at, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return error_set(err, errno, "attach idmapped image at %s", lower_at);
	if (move_mount(disk, "", AT_FDCWD, disk_at, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		ret = error_set(err, errno, "attach the VP's disk at %s", disk_at);
		goto out;
	}
	snprintf(upper, sizeof(upper), "%s/upper", disk_at);
	snprintf(work, sizeof(work), "%s/work", disk_at);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lower_at, 0) < 0)
		ret = fsconfig_error(fsfd, err, errno, "overlay lowerdir");
	else if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
		ret = fsconfig_error(fsfd, err, errno, "overlay upperdir");
	else if (fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
		ret = fsconfig_error(fsfd, err, errno, "overlay workdir");
	else if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		ret = fsconfig_error(fsfd, err, errno, "create overlay");
	umount2(disk_at, MNT_DETACH);
out:
	umount2(lower_at, MNT_DETACH);
	return ret;
}

static int make_overlay(struct vp_runtime *rt, int lower, int disk, struct error *err)
{
	_cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	int ret;

	if (fsfd < 0)
		return error_set(err, errno, "fsopen overlay");
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
		return fsconfig_error(fsfd, err, errno, "overlay source");
	if ((ret = overlay_by_fd(fsfd, lower, disk, err)) == 0 &&
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		ret = fsconfig_error(fsfd, err, errno, "create overlay");
	/* EINVAL: a kernel before 6.15 (no layers from detached mounts); EOPNOTSUPP: one
	 * before 6.5, whose overlay takes its options as legacy text only. */
	if (ret == -EINVAL || ret == -EOPNOTSUPP) {
		close(fsfd);
		fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
		if (fsfd < 0)
			return error_set(err, errno, "fsopen overlay");
		ret = overlay_by_path(fsfd, rt, lower, disk, err);
	}
	if (ret < 0)
		return ret;
	rt->rootfs_fd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
	if (rt->rootfs_fd < 0)
		return fsconfig_error(fsfd, err, errno, "fsmount overlay");
	return 0;
}

static int rootfs_attach(struct vp_runtime *rt, struct error *err)
{
	char ns_path[64];
	_cleanup_close_ int userns = -1, tree = -1, disk = -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NODEV};

	disk = vp_disk_open(rt->vp_state_dir, rt->config->disk, rt->uid_base, err);
	if (disk < 0)
		return disk;
	snprintf(ns_path, sizeof(ns_path), "/proc/%d/ns/user", (int)rt->pid);
	userns = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (userns < 0)
		return error_set(err, errno, "open %s", ns_path);
	tree = open_tree(AT_FDCWD, rt->base_rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return error_set(err, errno, "open_tree %s", rt->base_rootfs);
	attr.userns_fd = (uint64_t)userns;
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return error_set(err, errno, "idmap %s", rt->base_rootfs);
	return make_overlay(rt, tree, disk, err);
}

static int make_dir(const char *path, struct error *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", path);
	return 0;
}

static int bind_file(const char *source, const char *target, struct error *err)
{
	int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return error_set(err, errno, "create %s", target);
	close(fd);
	if (mount(source, target, NULL, MS_BIND, NULL) < 0)
		return error_set(err, errno, "bind %s on %s", source, target);
	return 0;
}

/* Run with the VP's root as the working directory: paths are relative to it. */
static int setup_dev(struct vp_runtime *rt, struct error *err)
{
	static const char *const links[][2] = {
		{"/proc/self/fd", "dev/fd"},	   {"/proc/self/fd/0", "dev/stdin"},
		{"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"},
		{"pts/ptmx", "dev/ptmx"},
	};
	char src[PATH_MAX], dst[PATH_MAX];
	int ret;

	if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1024k") < 0)
		return error_set(err, errno, "mount tmpfs on /dev");
	for (size_t i = 0; i < ARRAY_SIZE(host_nodes); i++) {
		path_in(src, sizeof(src), "/dev", host_nodes[i]);
		path_in(dst, sizeof(dst), "dev", host_nodes[i]);
		if ((ret = bind_file(src, dst, err)) < 0)
			return ret;
	}
	if ((ret = make_dir("dev/pts", err)) < 0 || (ret = make_dir("dev/shm", err)) < 0)
		return ret;
	if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
		return error_set(err, errno, "mount devpts on /dev/pts");
	if (mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k") < 0)
		return error_set(err, errno, "mount tmpfs on /dev/shm");
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return error_set(err, errno, "symlink /%s", links[i][1]);
	if ((ret = bind_file(rt->console_path, "dev/console", err)) < 0)
		return ret;
	return 0;
}

/* The directories that get a fresh tmpfs at every start, as on a booted machine (systemd
 * mounts both), unless the image's /etc/cells/tmpfs lists those it wants ("/run /tmp",
 * one, or none: an empty file). */
static const struct {
	const char *name, *mode;
} tmpfs_dirs[] = {{"run", "0755"}, {"tmp", "1777"}};

/* Paths in the VP's root are resolved inside it: before pivot_root an absolute symlink of
 * the image would otherwise lead to the host's files. */
static int open_in_root(int root_fd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | resolve};

	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/* Which of tmpfs_dirs the image wants, as a bit set. */
static unsigned tmpfs_wanted(int root_fd)
{
	char text[256], word[16];
	unsigned wanted = 0;
	int fd = open_in_root(root_fd, "etc/cells/tmpfs", O_RDONLY | O_NOCTTY, 0);
	ssize_t n;

	if (fd < 0)
		return (1u << ARRAY_SIZE(tmpfs_dirs)) - 1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	for (const char *p = text; *p;) {
		size_t len;
		while (*p && isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t\r\n");
		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		for (size_t i = 0; i < ARRAY_SIZE(tmpfs_dirs); i++)
			if (strcmp(word + (word[0] == '/'), tmpfs_dirs[i].name) == 0)
				wanted |= 1u << i;
		p += len;
	}
	return wanted;
}

/* A tmpfs on DIR of the VP's root; a DIR that the image made a symlink is left as it is. */
static int mount_tmpfs(int root_fd, const char *dir, const char *mode, struct error *err)
{
	_cleanup_close_ int target = -1, fsfd = -1, mnt = -1;

	if (mkdirat(root_fd, dir, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir /%s", dir);
	target = open_in_root(root_fd, dir, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
	if (target < 0)
		return errno == ELOOP || errno == ENOTDIR ? 0
							  : error_set(err, errno, "open /%s", dir);
	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return error_set(err, errno, "fsopen tmpfs");
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fsconfig_error(fsfd, err, errno, "create a tmpfs");
	mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return fsconfig_error(fsfd, err, errno, "fsmount tmpfs");
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return error_set(err, errno, "mount a tmpfs on /%s", dir);
	return 0;
}

static int mount_tmpfs_dirs(int root_fd, struct error *err)
{
	unsigned wanted = tmpfs_wanted(root_fd);
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(tmpfs_dirs); i++)
		if ((wanted & (1u << i)) &&
		    (ret = mount_tmpfs(root_fd, tmpfs_dirs[i].name, tmpfs_dirs[i].mode, err)) < 0)
			return ret;
	return 0;
}

/* The views of /proc files that show the VP's own limits and usage (lxcfs), bound read-only
 * over the kernel's. A view server that has just died (ENOTCONN) or lacks a file leaves
 * the kernel's file: a VP still starts. */
static int bind_proc_views(const struct vp_runtime *rt, struct error *err)
{
	const unsigned long flags =
		MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char source[PATH_MAX], target[32];

	if (!rt->proc_views[0])
		return 0;
	for (size_t i = 0; i < VP_PROC_VIEWS; i++) {
		const char *file = vp_proc_view_files[i];
		path_in(source, sizeof(source), rt->proc_views, file);
		snprintf(target, sizeof(target), "proc/%s", file);
		if (mount(source, target, NULL, MS_BIND, NULL) < 0) {
			if (errno == ENOENT || errno == ENOTCONN)
				continue;
			return error_set(err, errno, "bind %s on /proc/%s", source, file);
		}
		if (mount(NULL, target, NULL, flags, NULL) < 0)
			return error_set(err, errno, "make /proc/%s read-only", file);
	}
	return 0;
}

static int rootfs_enter(struct vp_runtime *rt, struct error *err)
{
	const unsigned long kernfs_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
	const char *dirs[] = {"proc", "sys", "dev"};
	char mountpoint[PATH_MAX];
	int ret;

	/* Nothing mounted here may propagate back to the host, nor the host's into the VP. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return error_set(err, errno, "make / private");
	/* A path, looked up in this (the VP's) mount namespace: a descriptor opened by the
	 * daemon would name the host's mount, which move_mount refuses. */
	path_in(mountpoint, sizeof(mountpoint), rt->vp_run_dir, "root");
	if (move_mount(rt->rootfs_fd, "", AT_FDCWD, mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return error_set(err, errno, "attach the VP's root at %s", mountpoint);
	/* The mount's fd now names the attached root: work from there. */
	if (fchdir(rt->rootfs_fd) < 0)
		return error_set(err, errno, "enter the VP's root");
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if ((ret = make_dir(dirs[i], err)) < 0)
			return ret;
	/* Read-write until seal.c has written the nested namespace's id maps through it. */
	if (mount("proc", "proc", "proc", kernfs_flags & ~MS_RDONLY, NULL) < 0)
		return error_set(err, errno, "mount proc");
	if ((ret = bind_proc_views(rt, err)) < 0)
		return ret;
	if ((ret = setup_dev(rt, err)) < 0 || (ret = mount_tmpfs_dirs(rt->rootfs_fd, err)) < 0)
		return ret;
	/* The working directory stays the new root: the daemon's stages bind their files
	 * into it, then seal.c pivots into it and seals it. */
	return 0;
}

static void rootfs_teardown(struct vp_runtime *rt)
{
	char path[PATH_MAX];

	path_in(path, sizeof(path), rt->vp_run_dir, "lower");
	umount2(path, MNT_DETACH);
	rmdir(path);
	path_in(path, sizeof(path), rt->vp_run_dir, "disk");
	umount2(path, MNT_DETACH);
	rmdir(path);
	path_in(path, sizeof(path), rt->vp_run_dir, "root");
	rmdir(path);
}

const struct vp_module vp_module_rootfs = {
	.name = "rootfs",
	.prepare = rootfs_prepare,
	.attach = rootfs_attach,
	.enter = rootfs_enter,
	.teardown = rootfs_teardown,
};
