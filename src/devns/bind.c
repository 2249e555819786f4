/* The binds of a VP's device files into its root, in its first process (stage.c). */
#include "devns/internal.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_beneath(int dir_fd, const char *name, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
			       .mode = (flags & O_CREAT) ? 0600 : 0,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS};

	return (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
}

/* The directory holding VP_PATH's last component, made as needed; *LAST points at it. */
static int open_parent(const char *vp_path, const char **last, struct error *err)
{
	char part[256];
	const char *p = vp_path;
	int dir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), next;

	if (dir < 0)
		return error_set(err, errno, "open the VP's root");
	for (;;) {
		size_t len;
		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (p[len] == '\0' || len == 0 || len >= sizeof(part)) {
			*last = p;
			if (len == 0 || len >= sizeof(part) || strcmp(p, ".") == 0 ||
			    strcmp(p, "..") == 0) {
				close(dir);
				return error_set(err, EINVAL, "bad path %s", vp_path);
			}
			return dir;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		if (strcmp(part, "..") == 0) {
			close(dir);
			return error_set(err, EINVAL, "bad path %s", vp_path);
		}
		if (mkdirat(dir, part, 0755) < 0 && errno != EEXIST) {
			error_set(err, errno, "create the directories of %s", vp_path);
			close(dir);
			return -1;
		}
		next = open_beneath(dir, part, O_PATH | O_DIRECTORY);
		close(dir);
		if (next < 0)
			return error_set(err, errno, "open the directories of %s", vp_path);
		dir = next;
		p += len;
	}
}

/* Bind HOST_PATH on TARGET (named WHERE_DIR WHERE in errors). The source is the daemon's (a
 * tmpfs file, a FUSE mount): its root alone is looked up, which the kernel knows without
 * asking the server (the daemon, waiting for us). */
static int bind_at(const char *host_path, int target, const char *where_dir, const char *where,
		   struct error *err)
{
	_cleanup_close_ int tree = (int)syscall(SYS_open_tree, AT_FDCWD, host_path,
						OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (tree < 0)
		return error_set(err, errno, "open %s", host_path);
	if (syscall(SYS_move_mount, tree, "", target, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return error_set(err, errno, "bind %s at %s%s", host_path, where_dir, where);
	return 0;
}

int devns_bind_in_root(const char *host_path, const char *vp_path, bool dir, struct error *err)
{
	_cleanup_close_ int parent = -1, target = -1;
	const char *last = NULL;

	if ((parent = open_parent(vp_path, &last, err)) < 0 || !last)
		return parent < 0 ? parent : error_set(err, EINVAL, "bad path %s", vp_path);
	if (dir) {
		if (mkdirat(parent, last, 0755) < 0 && errno != EEXIST)
			return error_set(err, errno, "create %s", vp_path);
		target = open_beneath(parent, last, O_PATH | O_DIRECTORY);
	} else {
		int fd = open_beneath(parent, last, O_WRONLY | O_CREAT | O_NOCTTY);
		if (fd < 0)
			return error_set(err, errno, "create %s", vp_path);
		close(fd);
		target = open_beneath(parent, last, O_PATH);
	}
	if (target < 0)
		return error_set(err, errno, "open %s", vp_path);
	return bind_at(host_path, target, "", vp_path, err);
}

int devns_bind_in_sys(const char *host_path, const char *sys_dir, const char *rel,
		      struct error *err)
{
	_cleanup_close_ int sys = -1, target = -1;

	if ((sys = open(sys_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return error_set(err, errno, "open %s", sys_dir);
	/* The device's sysfs hook made the directory: nothing is created here. */
	if ((target = open_beneath(sys, rel, O_PATH | O_DIRECTORY)) < 0)
		return error_set(err, errno, "open /sys/%s", rel);
	return bind_at(host_path, target, "/sys/", rel, err);
}
