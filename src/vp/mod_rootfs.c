/* The VP's files: overlayfs of the shared image (lower, idmapped so the VP's root owns it)
 * and the VP's own upper layer; a fresh /dev, /proc and /sys; pivot_root into it; then the
 * mounts are sealed (seal.c).
 *
 * The daemon builds the overlay as a detached mount (fsopen/fsmount) and hands its fd to
 * the child, which attaches it inside its own mount namespace: nothing of the VP is ever
 * mounted in the host's namespace but for a moment the idmapped lower layer. */
#include "vp/runtime.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

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
	struct stat st;
	const char *dirs[] = {"upper", "work"};
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if ((ret = path_in(path, sizeof(path), rt->vp_state_dir, dirs[i])) < 0)
			return error_set(err, ret, "path of %s", dirs[i]);
		if (stat(path, &st) == 0)
			continue;
		if (mkdir(path, i == 0 ? 0755 : 0700) < 0)
			return error_set(err, errno, "mkdir %s", path);
		/* The upper layer's root is the VP's "/": owned by the VP's root. */
		if (i == 0 && chown(path, rt->uid_base, rt->uid_base) < 0)
			return error_set(err, errno, "chown %s", path);
	}
	for (size_t i = 0; i < 2; i++) {
		path_in(path, sizeof(path), rt->vp_run_dir, i == 0 ? "lower" : "root");
		if ((ret = mkdir_p(path, 0700)) < 0)
			return error_set(err, ret, "mkdir %s", path);
	}
	return 0;
}

/* The kernel explains a failed fsconfig in messages readable from the fs context. */
static int fs_error(int fsfd, struct error *err, int errnum, const char *what)
{
	char msg[256] = "";
	ssize_t n = read(fsfd, msg, sizeof(msg) - 1);

	if (n > 2) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		return error_set(err, errnum, "%s (%s)", what, msg + 2);
	}
	return error_set(err, errnum, "%s", what);
}

static int make_overlay(struct vp_runtime *rt, const char *lower, struct error *err)
{
	char upper[PATH_MAX], work[PATH_MAX];
	_cleanup_close_ int fsfd = -1;

	path_in(upper, sizeof(upper), rt->vp_state_dir, "upper");
	path_in(work, sizeof(work), rt->vp_state_dir, "work");
	fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return error_set(err, errno, "fsopen overlay");
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0)
		return fs_error(fsfd, err, errno, "overlay lowerdir");
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
		return fs_error(fsfd, err, errno, "overlay upperdir");
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
		return fs_error(fsfd, err, errno, "overlay workdir");
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fs_error(fsfd, err, errno, "create overlay");
	rt->rootfs_fd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
	if (rt->rootfs_fd < 0)
		return fs_error(fsfd, err, errno, "fsmount overlay");
	return 0;
}

static int rootfs_attach(struct vp_runtime *rt, struct error *err)
{
	char lower[PATH_MAX], ns_path[64];
	_cleanup_close_ int userns = -1, tree = -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NODEV};
	int ret;

	path_in(lower, sizeof(lower), rt->vp_run_dir, "lower");
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
	/* overlayfs takes its layers by path, so the idmapped tree is attached for the moment
	 * the overlay is made; the overlay keeps its own private clone of it. */
	if (move_mount(tree, "", AT_FDCWD, lower, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return error_set(err, errno, "attach idmapped image at %s", lower);
	ret = make_overlay(rt, lower, err);
	umount2(lower, MNT_DETACH);
	return ret;
}

static int make_dir(const char *path, struct error *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", path);
	return 0;
}

static int bind_dir(const char *source, const char *target, struct error *err)
{
	if (mkdir(target, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "create %s", target);
	if (mount(source, target, NULL, MS_BIND, NULL) < 0)
		return error_set(err, errno, "bind %s on %s", source, target);
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
	/* The VP's virtual devices: files of the daemon's (a framebuffer) and its file
	 * systems (FUSE: input). Binding one touches only its root, which the kernel knows
	 * without asking the server (the daemon, waiting for this child). */
	for (unsigned i = 0; i < rt->ndev_files; i++) {
		path_in(dst, sizeof(dst), "dev", rt->dev_files[i].name);
		ret = rt->dev_files[i].dir ? bind_dir(rt->dev_files[i].host_path, dst, err)
					   : bind_file(rt->dev_files[i].host_path, dst, err);
		if (ret < 0)
			return ret;
	}
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
		return fs_error(fsfd, err, errno, "create a tmpfs");
	mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return fs_error(fsfd, err, errno, "fsmount tmpfs");
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
	if ((ret = setup_dev(rt, err)) < 0 || (ret = mount_tmpfs_dirs(rt->rootfs_fd, err)) < 0)
		return ret;
	/* seal.c pivots into the new root and seals it. */
	return vp_seal(err);
}

static void rootfs_teardown(struct vp_runtime *rt)
{
	char path[PATH_MAX];

	path_in(path, sizeof(path), rt->vp_run_dir, "lower");
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
