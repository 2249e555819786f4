/* A VP's devices as one stage of its start (vp/runtime.h): their instances, the rights of
 * its config, the binds of their files into its root, their own hooks. */
#include "devns/core.h"
#include "devns/internal.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* The VP's directory for its device files: searchable by its root alone, which binds them
 * into its root, so that no other host user reaches them, whatever modes the VP gives
 * its own files (a VP may chmod its /dev/fb0 0666). */
static int make_vp_dir(struct devns *core, struct devns_vp *dvp, uid_t uid, struct error *err)
{
	int n = snprintf(dvp->dir, sizeof(dvp->dir), "%s/%s", core->dir, dvp->name);

	if (n < 0 || (size_t)n >= sizeof(dvp->dir)) {
		dvp->dir[0] = '\0';
		return error_set(err, ENAMETOOLONG, "device directory of %s", dvp->name);
	}
	if (mkdir(dvp->dir, 0700) < 0 && errno != EEXIST) {
		error_set(err, errno, "create %s", dvp->dir);
		dvp->dir[0] = '\0';
		return -1;
	}
	if (chown(dvp->dir, uid, uid) < 0 || chmod(dvp->dir, 0700) < 0)
		return error_set(err, errno, "make %s the VP's", dvp->dir);
	return 0;
}

/* Exclusive means alone: no other VP has the device while the holder runs. */
static int check_rights(struct devns *core, struct devns_vp *dvp, unsigned d, struct error *err)
{
	const char *name = vdev_registry[d]->name;

	if (dvp->access[d] == DEV_NONE)
		return 0;
	if (core->exclusive[d])
		return error_set(err, 0, "device %s is held exclusively by VP %s", name,
				 core->exclusive[d]->name);
	if (dvp->access[d] == DEV_EXCLUSIVE && core->holders[d] > 0) {
		for (struct devns_vp *other = core->vps; other; other = other->next)
			if (other != dvp && other->state[d])
				return error_set(err, 0,
						 "device %s cannot be exclusive: VP %s has it",
						 name, other->name);
		return error_set(err, 0, "device %s cannot be exclusive: another VP has it", name);
	}
	return 0;
}

static int identify_files(struct devns_vp *dvp, unsigned d, struct error *err)
{
	if (dvp->nfiles[d] > DEVNS_MAX_FILES)
		return error_set(err, E2BIG, "device %s made %u files, at most %d",
				 vdev_registry[d]->name, dvp->nfiles[d], DEVNS_MAX_FILES);
	for (unsigned f = 0; f < dvp->nfiles[d]; f++) {
		struct vdev_file *file = &dvp->files[d][f];
		struct stat st;
		if (file->vp_path[0] != '/')
			return error_set(err, EINVAL, "device %s: file path '%s' is not absolute",
					 vdev_registry[d]->name, file->vp_path);
		if (file->flags & VDEV_FILE_KNOWN_ID)
			continue;
		if (stat(file->host_path, &st) < 0)
			return error_set(err, errno, "stat %s", file->host_path);
		file->dev = st.st_dev;
		file->ino = st.st_ino;
	}
	return 0;
}

static void link_vp(struct devns_vp *dvp, bool in)
{
	struct devns *core = dvp->core;

	for (struct devns_vp **p = &core->vps; *p; p = &(*p)->next)
		if (*p == dvp) {
			*p = dvp->next;
			break;
		}
	if (in) {
		dvp->next = core->vps;
		core->vps = dvp;
	}
}

int devns_sys_dir(const struct devns *core, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s/sys", core->dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A VP's composed /sys stays mounted when it stops, with the digest of its tree in an
 * attribute only root reads: its next start with the same devices (the same tree) finds
 * it written and writes only /run/udev, not some 150 nodes of /sys again. The tree is
 * written by the daemon alone: the VP sees it read-only (the seal), and nothing else of
 * the host reaches it in its directory (make_vp_dir). It goes with the VP
 * (devns_vp_forget) or the daemon (devns_fini). */
#define SYS_DIGEST_XATTR "trusted.cells.sys-digest"

/* Whether the VP's kept /sys is the tree of DIGEST, made for UID; one that is not goes. */
static bool sys_kept(struct devns_vp *dvp, uint64_t digest, uid_t uid)
{
	struct stat st, parent;
	uint64_t kept;

	if (stat(dvp->sys_dir, &st) < 0 || stat(dvp->dir, &parent) < 0 ||
	    st.st_dev == parent.st_dev)
		return false;
	if (st.st_uid == uid &&
	    getxattr(dvp->sys_dir, SYS_DIGEST_XATTR, &kept, sizeof(kept)) == sizeof(kept) &&
	    kept == digest) {
		dvp->sys_dev = st.st_dev;
		return true;
	}
	if (umount2(dvp->sys_dir, MNT_DETACH) < 0)
		log_warn_errno(errno, "unmount %s", dvp->sys_dir);
	return false;
}

/* The composed /sys on a file system of its own, which statfs.c tells apart; the VP's
 * root's, who writes it (write_as_vp). */
static int mount_sys(struct devns_vp *dvp, uid_t uid, struct error *err)
{
	const char *path = dvp->sys_dir;
	struct stat st;

	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return error_set(err, errno, "create %s", path);
	if (mount("cells-sys", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=1m,nr_inodes=4096") < 0)
		return error_set(err, errno, "mount a tmpfs on %s", path);
	if (stat(path, &st) < 0)
		return error_set(err, errno, "stat %s", path);
	dvp->sys_dev = st.st_dev;
	if (chown(path, uid, uid) < 0)
		return error_set(err, errno, "give %s to the VP", path);
	return 0;
}

/* Written with the VP's root as this thread's file system ids, the files are its own
 * without a chown of each (some 140 calls fewer at every start). The fsuid and fsgid
 * are the calling thread's alone, and only for the write. */
static int write_as_vp(const struct sysfs_tree *tree, const char *dir, uid_t uid, bool sys_too,
		       struct error *err)
{
	gid_t old_gid = (gid_t)setfsgid(uid);
	uid_t old_uid = (uid_t)setfsuid(uid);
	int ret;

	/* They answer the old id whether or not they changed it: ask again. */
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != uid)
		ret = error_set(err, EPERM, "take the VP's root's ids to write its /sys");
	else
		ret = sysfs_tree_write_part(tree, dir, "sys", sys_too, err);
	if (ret == 0 && sys_too)
		ret = sysfs_tree_write_part(tree, dir, "sys", false, err);
	setfsuid(old_uid);
	setfsgid(old_gid);
	return ret;
}

/* The VP's /sys and /run/udev as its devices lay them out, written as files into its
 * directory (their text is fixed while the VP runs), the VP's root's: the seal binds
 * sys/ over the kernel's sysfs, read-only, and the stage binds run/udev. */
static int compose_sysfs(struct devns_vp *dvp, uid_t uid, struct error *err)
{
	struct sysfs_tree tree;
	uint64_t digest;
	bool kept;
	int ret = 0;

	if (devns_sys_dir(dvp->core, dvp->name, dvp->sys_dir, sizeof(dvp->sys_dir)) < 0)
		return error_set(err, ENAMETOOLONG, "the /sys of %s", dvp->name);
	sysfs_tree_init(&tree);
	for (unsigned d = 0; d < vdev_count && ret == 0; d++)
		if (dvp->state[d] && vdev_registry[d]->sysfs)
			ret = vdev_registry[d]->sysfs(dvp->core->global[d], dvp->state[d], &tree,
						      err);
	digest = sysfs_tree_digest(&tree, "sys");
	kept = ret == 0 && sys_kept(dvp, digest, uid);
	/* Without a tree, no directory either: the seal covers the kernel's /sys then. */
	if (ret == 0 && tree.n == 0 && rmdir(dvp->sys_dir) < 0 && errno != ENOENT)
		ret = error_set(err, errno, "remove %s", dvp->sys_dir);
	if (ret == 0 && tree.n > 0 && !kept)
		ret = mount_sys(dvp, uid, err);
	if (ret == 0 && tree.n > 0)
		ret = write_as_vp(&tree, dvp->dir, uid, !kept, err);
	/* Marked once whole: a tree half written is never taken for a kept one. */
	if (ret == 0 && tree.n > 0 && !kept &&
	    setxattr(dvp->sys_dir, SYS_DIGEST_XATTR, &digest, sizeof(digest), 0) < 0)
		log_debug("VP %s: no digest on its /sys, which will be written again: %s",
			  dvp->name, strerror(errno));
	sysfs_tree_free(&tree);
	return ret;
}

/* For `cellsd --verbose`: which device's prepare the start's devices.prepare spends. */
struct prepare_marks {
	char text[256];
	size_t len;
	struct timespec prev;
};

static void prepare_mark(struct prepare_marks *m, const char *name)
{
	struct timespec now;
	long long us;
	int n;

	if (!log_verbose())
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = ((long long)(now.tv_sec - m->prev.tv_sec) * 1000000000 + now.tv_nsec -
	      m->prev.tv_nsec) /
	     1000;
	m->prev = now;
	if (!name || m->len >= sizeof(m->text))
		return;
	n = snprintf(m->text + m->len, sizeof(m->text) - m->len, " %s=%lld", name, us);
	m->len += n > 0 ? (size_t)n : 0;
}

static int stage_prepare(void *ctx, const struct vp_runtime *rt, struct error *err)
{
	struct prepare_marks marks = {.len = 0};
	struct devns_vp *dvp = ctx;
	struct devns *core = dvp->core;
	struct vdev_vp vp = {.name = rt->config->name, .id = rt->config->id, .uid = rt->uid_base};
	int ret;

	prepare_mark(&marks, NULL);
	snprintf(dvp->name, sizeof(dvp->name), "%s", rt->config->name);
	dvp->id = rt->config->id;
	if ((ret = make_vp_dir(core, dvp, rt->uid_base, err)) < 0)
		goto fail_dir;
	vp.dir = dvp->dir;
	if (core->host.vps_dir) {
		snprintf(dvp->persist, sizeof(dvp->persist), "%s/%s/devices", core->host.vps_dir,
			 dvp->name);
		vp.persist_base = dvp->persist;
	}
	devns_lock(core);
	link_vp(dvp, true);
	for (unsigned d = 0; d < vdev_count; d++) {
		dvp->access[d] = vp_config_device_access(rt->config, vdev_registry[d]->name);
		if ((ret = check_rights(core, dvp, d, err)) < 0)
			goto fail;
	}
	prepare_mark(&marks, "dir");
	for (unsigned d = 0; d < vdev_count; d++) {
		if (dvp->access[d] == DEV_NONE)
			continue;
		vp.config = vp_config_device(rt->config, vdev_registry[d]->name);
		vp.device = vdev_registry[d]->name;
		if ((ret = vdev_registry[d]->prepare(core->global[d], &vp, &dvp->state[d],
						     dvp->files[d], &dvp->nfiles[d], err)) < 0)
			goto fail;
		core->holders[d]++;
		if (dvp->access[d] == DEV_EXCLUSIVE)
			core->exclusive[d] = dvp;
		if ((ret = identify_files(dvp, d, err)) < 0)
			goto fail;
		prepare_mark(&marks, vdev_registry[d]->name);
	}
	devns_unlock(core);
	/* Outside the lock: the hooks read only this VP's new instances, which no other
	 * thread reaches yet, and the files take a millisecond or two to write. */
	if ((ret = compose_sysfs(dvp, rt->uid_base, err)) < 0)
		goto fail_dir;
	prepare_mark(&marks, "sysfs");
	if (log_verbose())
		log_debug("VP %s devices.prepare, us:%s", dvp->name, marks.text);
	return 0;
fail:
	devns_unlock(core);
fail_dir:
	devns_vp_destroy(dvp);
	return ret;
}

static int stage_enter(void *ctx, struct error *err)
{
	struct devns_vp *dvp = ctx;
	char udev[sizeof(dvp->dir) + 16];
	int ret;

	/* The udev database of its devices, for libudev's discovery (Qt, Xorg, SDL). */
	snprintf(udev, sizeof(udev), "%s/run/udev", dvp->dir);
	if (access(udev, F_OK) == 0 && (ret = devns_bind_in_root(udev, "/run/udev", true, err)) < 0)
		return ret;

	for (unsigned d = 0; d < vdev_count; d++) {
		if (!dvp->state[d])
			continue;
		for (unsigned f = 0; f < dvp->nfiles[d]; f++) {
			const struct vdev_file *file = &dvp->files[d][f];
			if (file->flags & VDEV_FILE_NO_BIND)
				continue;
			/* Under /sys: into the composed tree, which the seal shows whole. */
			if (strncmp(file->vp_path, "/sys/", 5) == 0 && dvp->sys_dev)
				ret = devns_bind_in_sys(file->host_path, dvp->sys_dir,
							file->vp_path + 5, err);
			else
				ret = devns_bind_in_root(file->host_path, file->vp_path,
							 file->flags & VDEV_FILE_DIR, err);
			if (ret < 0)
				return ret;
		}
		if (vdev_registry[d]->enter &&
		    (ret = vdev_registry[d]->enter(dvp->core->global[d], dvp->state[d], err)) < 0)
			return ret;
	}
	return 0;
}

static int stage_attach(void *ctx, const struct vp_runtime *rt, struct error *err)
{
	struct devns_vp *dvp = ctx;
	struct vdev_started started = {.pid = rt->pid, .pidfd = rt->pidfd};
	int ret;

	for (unsigned d = 0; d < vdev_count; d++) {
		if (!dvp->state[d] || !vdev_registry[d]->attach)
			continue;
		ret = vdev_registry[d]->attach(dvp->core->global[d], dvp->state[d], &started, err);
		if (ret < 0) {
			struct error inner = *err;
			return error_set(err, -ret, "%s: %s", vdev_registry[d]->name, inner.msg);
		}
	}
	return 0;
}

static void stage_teardown(void *ctx)
{
	devns_vp_destroy(ctx);
}

void devns_vp_stage(struct devns *core, struct devns_vp *dvp, struct vp_stage *stage)
{
	memset(dvp, 0, sizeof(*dvp));
	dvp->core = core;
	*stage = (struct vp_stage){.name = "devices",
				   .prepare = stage_prepare,
				   .attach = stage_attach,
				   .enter = stage_enter,
				   .teardown = stage_teardown,
				   .ctx = dvp};
}

void devns_vp_destroy(struct devns_vp *dvp)
{
	struct devns *core = dvp->core;

	if (!core)
		return;
	if (dvp->active)
		devns_switch(dvp, NULL);
	/* The supervisor threads end first, outside the lock they may be waiting for. */
	devns_vp_close_listeners(dvp);
	devns_lock(core);
	for (unsigned d = vdev_count; d-- > 0;) {
		if (dvp->state[d]) {
			vdev_registry[d]->teardown(core->global[d], dvp->state[d]);
			core->holders[d]--;
		}
		dvp->state[d] = NULL;
		dvp->nfiles[d] = 0;
		if (core->exclusive[d] == dvp)
			core->exclusive[d] = NULL;
	}
	link_vp(dvp, false);
	devns_unlock(core);
	/* The device files are gone with their devices; the composed /sys stays for the next
	 * start (sys_kept), and so does the directory that holds it. */
	int gone = dvp->dir[0] ? rm_rf(dvp->dir) : 0;
	if (gone < 0 && !(gone == -EBUSY && dvp->sys_dev))
		log_warn("remove %s: %s", dvp->dir, strerror(-gone));
	dvp->sys_dev = 0;
	dvp->core = NULL;
}

void devns_vp_forget(struct devns *core, const char *name)
{
	char dir[sizeof(core->dir) + NAME_MAX_LEN + 8], sys[PATH_MAX];
	int ret;

	if (!core->dir[0] || devns_sys_dir(core, name, sys, sizeof(sys)) < 0)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", core->dir, name);
	if (umount2(sys, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_warn_errno(errno, "unmount %s", sys);
	if ((ret = rm_rf(dir)) < 0 && ret != -ENOENT)
		log_warn("remove %s: %s", dir, strerror(-ret));
}
