/* Membership of a VP, by user namespace: see members.h. */
#include "vp/members.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Deeper than the kernel allows (32 levels of user namespaces). */
#define USERNS_DEPTH_MAX 40

/* A namespace's identity: its nsfs inode. */
struct ns_id {
	dev_t dev;
	ino_t ino;
};

/* PID's namespace NAME ("user", "mnt"), read through /proc: it is the process PIDFD's only
 * if that process is still alive afterwards (no other can have its number then). */
static int ns_open(pid_t pid, int pidfd, const char *name)
{
	char path[64];
	_cleanup_close_ int ns = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return -errno;
	return take_fd(&ns);
}

static int ns_id_of(int ns, struct ns_id *id)
{
	struct stat st;

	if (fstat(ns, &st) < 0)
		return -errno;
	*id = (struct ns_id){st.st_dev, st.st_ino};
	return 0;
}

static bool ns_id_equal(const struct ns_id *a, const struct ns_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

int vp_userns_open(pid_t init, int init_pidfd)
{
	return ns_open(init, init_pidfd, "user");
}

/* Whether NS is USERNS or below it. Closes NS. */
static int inside(int ns, int userns)
{
	struct ns_id target = {0}, id = {0};
	int ret = ns_id_of(userns, &target);

	if (ret < 0) {
		close(ns);
		return ret;
	}
	for (int depth = 0; depth < USERNS_DEPTH_MAX; depth++) {
		int parent;
		if (ns_id_of(ns, &id) == 0 && ns_id_equal(&id, &target)) {
			close(ns);
			return 0;
		}
		/* EPERM: the parent is above the caller's own namespace (the top, for root). */
		parent = ioctl(ns, NS_GET_PARENT);
		close(ns);
		if (parent < 0)
			return errno == EPERM ? -EPERM : -errno;
		ns = parent;
	}
	close(ns);
	return -ELOOP;
}

int vp_member_pidfd(pid_t pid, int userns)
{
	_cleanup_close_ int pidfd = -1;
	int ns, ret;

	if (pid <= 0)
		return -ESRCH;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	if ((ns = ns_open(pid, pidfd, "user")) < 0)
		return ns;
	if ((ret = inside(ns, userns)) < 0)
		return ret;
	return take_fd(&pidfd);
}

/* The mount namespace of the process PIDFD (number PID): 0, or -errno. */
static int mount_ns_of(pid_t pid, int pidfd, struct ns_id *id)
{
	int ns = ns_open(pid, pidfd, "mnt"), ret;

	if (ns < 0)
		return ns;
	ret = ns_id_of(ns, id);
	close(ns);
	return ret;
}

static bool ns_seen(const struct ns_id *seen, size_t n, const struct ns_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (ns_id_equal(&seen[i], id))
			return true;
	return false;
}

int vp_other_mount_namespaces(const char *procs, pid_t init, int init_pidfd, int *pidfds,
			      size_t max, unsigned *skipped)
{
	_cleanup_close_ int userns = vp_userns_open(init, init_pidfd);
	_cleanup_free_ char *text = NULL;
	struct ns_id seen[VP_MOUNT_NS_MAX + 1] = {{0}}; /* the init's, then those listed */
	size_t n = 0;
	int ret;

	*skipped = 0;
	if (max > VP_MOUNT_NS_MAX)
		max = VP_MOUNT_NS_MAX;
	if (userns < 0)
		return userns;
	if ((ret = mount_ns_of(init, init_pidfd, &seen[0])) < 0)
		return ret;
	if ((ret = read_file(procs, 1 << 22, &text, NULL)) < 0)
		return ret;
	for (char *p = text; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		struct ns_id id = {0};
		int pidfd;
		if (end == p)
			break;
		p = *end ? end + 1 : end;
		if ((pidfd = vp_member_pidfd((pid_t)pid, userns)) < 0)
			continue;
		if (mount_ns_of((pid_t)pid, pidfd, &id) < 0 || ns_seen(seen, n + 1, &id)) {
			close(pidfd);
			continue;
		}
		if (n == max) {
			(*skipped)++;
			close(pidfd);
			continue;
		}
		seen[n + 1] = id;
		pidfds[n++] = pidfd;
	}
	return (int)n;
}
