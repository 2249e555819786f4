/* Sealing the VP's mounts.
 *
 * The kernel locks the flags of mounts (read-only /proc and /sys, the mounts over /dev)
 * only when it copies them into a mount namespace owned by a less privileged user
 * namespace. So the VP's file system is built in a first mount namespace, owned by the user
 * namespace U made at clone; the VP then runs in a nested user namespace U2, its uids mapped
 * one to one onto U's, with a copy of that mount namespace. Its root can no longer remount
 * /proc or /sys read-write, mount another proc, or unmount what covers /dev.
 *
 * The network, UTS and IPC namespaces are made with U2, so the VP's root owns them. Only a
 * process in U2's parent may write U2's id maps, so a helper started before the nesting stays
 * in U: it writes the maps, mounts sysfs for the new network namespace, makes /proc
 * read-only, pivots into the new root and detaches the host's, all in the first mount
 * namespace, before the copy is made. Runs with the new root as working directory.
 *
 * The sysfs of the VP's network namespace still shows the host's hardware (PCI, DMI,
 * block devices, modules, the kernel's slab and tracing files). So the VP's /sys is the
 * tree its devices compose (DESIGN.md §4, "The VP's /sys"), read-only, with only the few
 * paths of the kernel's that real programs read and that show nothing of the host's
 * (sys_kept) bound into it; a VP without such a tree has each top-level directory of
 * sysfs covered by an empty read-only tmpfs instead, but for the same paths. The covers
 * are made in the first mount namespace too, so the copy locks them. */
#include "vp/runtime.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#define IDENTITY_MAP "0 0 65536\n"
#define KERNFS_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)

/* One step of the dialogue: send STEP, wait for the helper's reply (its error, if any). */
static int step(int sock, char what, struct error *err)
{
	char reply[sizeof(err->msg)];
	ssize_t n;

	if (write(sock, &what, 1) != 1)
		return error_set(err, errno, "talk to the sealing helper");
	do
		n = read(sock, reply, sizeof(reply) - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return error_set(err, n < 0 ? errno : EPIPE, "sealing helper");
	reply[n] = '\0';
	if (strcmp(reply, "ok") != 0)
		return error_set(err, 0, "%s", reply);
	return 0;
}

static int write_map(const char *path, struct error *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return error_set(err, errno, "open %s", path);
	n = write(fd, IDENTITY_MAP, strlen(IDENTITY_MAP));
	close(fd);
	if (n != (ssize_t)strlen(IDENTITY_MAP))
		return error_set(err, errno, "write %s", path);
	return 0;
}

#define SYS_KEEP_MAX 3

/* What each directory of /sys keeps under its cover: the VP's own network devices (ip,
 * ifconfig; class/net links into devices/virtual/net), the CPUs (glibc's get_nprocs reads
 * devices/system/cpu/online), a mount point for its cgroups, the transparent huge page
 * setting that allocators read. Any other directory, one of a later kernel too, keeps
 * nothing. */
static const struct {
	const char *dir;
	const char *keep[SYS_KEEP_MAX];
} sys_kept[] = {
	{"class", {"net"}},
	{"devices", {"virtual/net", "system/cpu"}},
	{"fs", {"cgroup"}},
	{"kernel", {"mm/transparent_hugepage"}},
};

#define SYS_COVER_OPTS "mode=0755,size=16k,nr_inodes=64"

static int mkdir_under(char *path, struct error *err)
{
	for (char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int ret = mkdir(path, 0755);
		*p = '/';
		if (ret < 0 && errno != EEXIST)
			return error_set(err, errno, "mkdir %s", path);
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", path);
	return 0;
}

/* Cover sys/NAME with an empty tmpfs, then put back what sys_kept lists under it. */
static int cover_sys_dir(const char *sys_dir, const char *name, struct error *err)
{
	char path[PATH_MAX];
	const char *const *keep = NULL;
	int trees[SYS_KEEP_MAX] = {-1, -1, -1}, ret = 0;

	(void)sys_dir; /* none: each_sys_dir's callback */
	for (size_t i = 0; i < ARRAY_SIZE(sys_kept); i++)
		if (strcmp(sys_kept[i].dir, name) == 0)
			keep = sys_kept[i].keep;
	for (size_t k = 0; keep && k < SYS_KEEP_MAX && keep[k]; k++) {
		snprintf(path, sizeof(path), "sys/%s/%s", name, keep[k]);
		/* A detached copy of what is kept, before the cover hides it. */
		trees[k] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (trees[k] < 0 && errno != ENOENT) {
			ret = error_set(err, errno, "open_tree /%s", path);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "sys/%s", name);
	if (mount("cells-sys", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, SYS_COVER_OPTS) <
	    0) {
		ret = error_set(err, errno, "cover /%s", path);
		goto out;
	}
	for (size_t k = 0; k < SYS_KEEP_MAX; k++) {
		if (trees[k] < 0)
			continue;
		snprintf(path, sizeof(path), "sys/%s/%s", name, keep[k]);
		if ((ret = mkdir_under(path, err)) < 0)
			goto out;
		if (move_mount(trees[k], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			ret = error_set(err, errno, "put back /%s", path);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "sys/%s", name);
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | KERNFS_FLAGS, NULL) < 0)
		ret = error_set(err, errno, "make the cover of /%s read-only", path);
out:
	for (size_t k = 0; k < SYS_KEEP_MAX; k++)
		if (trees[k] >= 0)
			close(trees[k]);
	return ret;
}

/* By getdents64 on a stack buffer: this process may not call malloc (vp_seal). Calls EACH
 * with the name of every directory at the top of the kernel's sysfs. */
static int each_sys_dir(const char *sys_dir,
			int (*each)(const char *, const char *, struct error *), struct error *err)
{
	char buf[4096];
	int fd = open("sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;
	long n;

	if (fd < 0)
		return error_set(err, errno, "open /sys");
	while (ret == 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (long off = 0; ret == 0 && off < n;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			off += e->d_reclen;
			if (e->d_type == DT_DIR && e->d_name[0] != '.')
				ret = each(sys_dir, e->d_name, err);
		}
	if (ret == 0 && n < 0)
		ret = error_set(err, errno, "read /sys");
	close(fd);
	return ret;
}

/* In the composed tree, the directory that stands for the kernel's sys/NAME: empty, unless
 * the VP's devices put something there. */
static int composed_dir(const char *sys_dir, const char *name, struct error *err)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", sys_dir, name) >= sizeof(path))
		return error_set(err, ENAMETOOLONG, "%s/%s", sys_dir, name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "mkdir %s", path);
	return 0;
}

/* With a composed tree, it covers the whole of /sys in one mount, what sys_kept lists
 * bound into it, a directory of its own standing for each other one of the kernel's: some
 * twenty mount calls fewer than a cover for each top-level directory, and nine mounts
 * fewer in the VP's table (26, not 35), to copy into the sealed namespace and to take
 * down at the stop. */
static int cover_sys_composed(const char *sys_dir, struct error *err)
{
	enum { KEPT_MAX = ARRAY_SIZE(sys_kept) * SYS_KEEP_MAX };
	char path[PATH_MAX];
	int trees[KEPT_MAX], tree, n = 0, t = 0, ret = 0;

	/* Detached copies of what is kept, before the cover hides it, in sys_kept's order. */
	for (size_t i = 0; i < ARRAY_SIZE(sys_kept); i++)
		for (size_t k = 0; k < SYS_KEEP_MAX && sys_kept[i].keep[k]; k++) {
			snprintf(path, sizeof(path), "sys/%s/%s", sys_kept[i].dir,
				 sys_kept[i].keep[k]);
			trees[n] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			if (trees[n++] < 0 && errno != ENOENT) {
				ret = error_set(err, errno, "open_tree /%s", path);
				goto out;
			}
		}
	if ((ret = each_sys_dir(sys_dir, composed_dir, err)) < 0)
		goto out;
	/* Recursive: a device's file system bound into the tree (the power device's) comes
	 * along, with its own flags (the read-only remount below is the tree's alone). */
	tree = open_tree(AT_FDCWD, sys_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0) {
		ret = error_set(err, errno, "open %s", sys_dir);
		goto out;
	}
	if (move_mount(tree, "", AT_FDCWD, "sys", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		ret = error_set(err, errno, "show %s at /sys", sys_dir);
	close(tree);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(sys_kept); i++)
		for (size_t k = 0; k < SYS_KEEP_MAX && sys_kept[i].keep[k]; k++, t++) {
			if (trees[t] < 0)
				continue;
			snprintf(path, sizeof(path), "sys/%s/%s", sys_kept[i].dir,
				 sys_kept[i].keep[k]);
			if ((ret = mkdir_under(path, err)) < 0)
				goto out;
			if (move_mount(trees[t], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
				ret = error_set(err, errno, "put back /%s", path);
				goto out;
			}
		}
	if (mount(NULL, "sys", NULL, MS_REMOUNT | MS_BIND | KERNFS_FLAGS, NULL) < 0)
		ret = error_set(err, errno, "make the composed /sys read-only");
out:
	while (n-- > 0)
		if (trees[n] >= 0)
			close(trees[n]);
	return ret;
}

static int cover_sys(const char *sys_dir, struct error *err)
{
	if (sys_dir[0] && access(sys_dir, F_OK) == 0)
		return cover_sys_composed(sys_dir, err);
	return each_sys_dir(sys_dir, cover_sys_dir, err);
}

/* Paths are relative: the working directory is the VP's new root. */
static int helper_do(char what, const char *sys_dir, struct error *err)
{
	int fd, ret;

	switch (what) {
	case 'u': /* the VP's init (PID 1) has made U2: map it onto U */
		if ((ret = write_map("proc/1/uid_map", err)) < 0)
			return ret;
		return write_map("proc/1/gid_map", err);
	case 'n': /* ... and its network namespace: sysfs shows that one */
		fd = open("proc/1/ns/net", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return error_set(err, errno, "open /proc/1/ns/net");
		ret = setns(fd, CLONE_NEWNET);
		close(fd);
		if (ret < 0)
			return error_set(err, errno, "join the VP's network namespace");
		/* While the host's root is still here, the kernel sees a full sysfs and allows
		 * ours (mount_too_revealing). */
		if (mount("sysfs", "sys", "sysfs", KERNFS_FLAGS, NULL) < 0)
			return error_set(err, errno, "mount sysfs");
		if ((ret = cover_sys(sys_dir, err)) < 0)
			return ret;
		/* The maps are written: /proc becomes read-only too, before the copy locks it. */
		if (mount(NULL, "proc", NULL, MS_REMOUNT | MS_BIND | KERNFS_FLAGS, NULL) < 0)
			return error_set(err, errno, "make /proc read-only");
		/* pivot_root(".", ".") stacks the host's root on the new one and moves the root
		 * of every process of the VP; detaching it leaves no path back to the host. Only
		 * a process of U may do this in U's mount namespace. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return error_set(err, errno, "pivot_root");
		if (umount2(".", MNT_DETACH) < 0)
			return error_set(err, errno, "detach the host's root");
		return 0;
	}
	return error_set(err, 0, "unknown step");
}

struct helper_args {
	int sock, other_end;
	const char *sys_dir;
};

static int helper_main(void *arg)
{
	const struct helper_args *a = arg;
	struct error err = {{0}};
	char what;

	/* Its copy of the other end would keep its own reads from ever seeing the end. */
	close(a->other_end);
	while (read(a->sock, &what, 1) == 1) {
		const char *reply = helper_do(what, a->sys_dir, &err) < 0 ? err.msg : "ok";
		if (write(a->sock, reply, strlen(reply)) < 0 || reply != (const char *)"ok")
			return 1;
	}
	return 0;
}

/* The helper's stack: enough for cover_sys's buffers and the error text, above a guard
 * page that turns an overflow into a fault rather than into this process's memory. */
#define HELPER_STACK (64 * 1024)
#define HELPER_GUARD 4096

int vp_seal(const char *sys_dir, struct error *err)
{
	struct helper_args args = {.sys_dir = sys_dir};
	int sv[2], status, ret;
	void *stack;
	pid_t helper;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set(err, errno, "socketpair");
	stack = mmap(NULL, HELPER_GUARD + HELPER_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED || mprotect(stack, HELPER_GUARD, PROT_NONE) < 0) {
		ret = error_set(err, errno, "map the sealing helper's stack");
		if (stack != MAP_FAILED)
			munmap(stack, HELPER_GUARD + HELPER_STACK);
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	/* The helper shares this process's memory (CLONE_VM): a fork would copy the page
	 * tables of the daemon's address space this child still has, and tear them down at
	 * the helper's exit, a millisecond together. It has a file system context of its
	 * own (no CLONE_FS), for its working directory and the unshare below. The two take
	 * turns (step() waits for each reply), so their shared errno and libc state are
	 * never used at once. */
	args.sock = sv[1];
	args.other_end = sv[0];
	helper = clone(helper_main, (char *)stack + HELPER_GUARD + HELPER_STACK, CLONE_VM | SIGCHLD,
		       &args);
	if (helper < 0) {
		ret = error_set(err, errno, "start the sealing helper");
		close(sv[0]);
		close(sv[1]);
		munmap(stack, HELPER_GUARD + HELPER_STACK);
		return ret;
	}
	close(sv[1]);
	if (unshare(CLONE_NEWUSER) < 0)
		ret = error_set(err, errno, "unshare the nested user namespace");
	else if ((ret = step(sv[0], 'u', err)) == 0) {
		if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
			ret = error_set(err, errno, "unshare network, UTS and IPC namespaces");
		else
			ret = step(sv[0], 'n', err);
	}
	close(sv[0]);
	while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
		;
	munmap(stack, HELPER_GUARD + HELPER_STACK);
	if (ret < 0)
		return ret;
	if (unshare(CLONE_NEWNS) < 0)
		return error_set(err, errno, "unshare the sealed mount namespace");
	if (chdir("/") < 0)
		return error_set(err, errno, "chdir /");
	return 0;
}

static int seal_enter(struct vp_runtime *rt, struct error *err)
{
	return vp_seal(rt->sys_dir, err);
}

const struct vp_module vp_module_seal = {
	.name = "seal",
	.enter = seal_enter,
};
