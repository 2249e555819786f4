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
 * process in U2's parent may write U2's id maps, so a helper forked before the nesting stays
 * in U: it writes the maps, mounts sysfs for the new network namespace, makes /proc
 * read-only, pivots into the new root and detaches the host's, all in the first mount
 * namespace, before the copy is made. Runs with the new root as working directory. */
#include "vp/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* Paths are relative: the working directory is the VP's new root. */
static int helper_do(char what, struct error *err)
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

static void __attribute__((noreturn)) helper_main(int sock)
{
	struct error err = {{0}};
	char what;

	while (read(sock, &what, 1) == 1) {
		const char *reply = helper_do(what, &err) < 0 ? err.msg : "ok";
		if (write(sock, reply, strlen(reply)) < 0 || reply != (const char *)"ok")
			_exit(1);
	}
	_exit(0);
}

int vp_seal(struct error *err)
{
	int sv[2], status, ret;
	pid_t helper;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set(err, errno, "socketpair");
	/* _Fork, not fork: this is a child of a bare clone3, holding the daemon's other
	 * threads' locks (malloc's, stdio's) as they were then, which fork() would take. */
	helper = _Fork();
	if (helper < 0) {
		close(sv[0]);
		close(sv[1]);
		return error_set(err, errno, "fork the sealing helper");
	}
	if (helper == 0) {
		close(sv[0]);
		helper_main(sv[1]);
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
	if (ret < 0)
		return ret;
	if (unshare(CLONE_NEWNS) < 0)
		return error_set(err, errno, "unshare the sealed mount namespace");
	if (chdir("/") < 0)
		return error_set(err, errno, "chdir /");
	return 0;
}
