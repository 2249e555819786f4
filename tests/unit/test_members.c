/* A VP's processes by number (src/vp/members.c): a process in the VP's user namespace or
 * one below it is the VP's; the host's, and a number nobody has, are not; the VP's mount
 * namespaces other than its init's are found, one process each. Needs root (user and
 * mount namespaces), as make check runs. */
#include "vp/members.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

/* A child that has set itself up and waits for its pipe to close. */
struct child {
	pid_t pid;
	int pidfd;
	int hold;
};

/* How a child sets itself up: whether it could. */
typedef bool (*setup_fn)(pid_t vp);

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool enter(pid_t pid, const char *ns, int type)
{
	char path[64];
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ok = fd >= 0 && setns(fd, type) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A user namespace of its own where root is the parent's root: one more may be made in
 * it. A VP's init. */
static bool own_userns(pid_t vp)
{
	(void)vp;
	return unshare(CLONE_NEWUSER) == 0 && write_file("/proc/self/uid_map", "0 0 1") &&
	       write_file("/proc/self/setgroups", "deny") &&
	       write_file("/proc/self/gid_map", "0 0 1");
}

/* A program of the VP: in its user namespace, sharing its init's mounts. */
static bool vp_program(pid_t vp)
{
	return enter(vp, "user", CLONE_NEWUSER);
}

/* A program of the VP in a sandbox: a user namespace below the VP's. */
static bool vp_sandboxed(pid_t vp)
{
	return vp_program(vp) && own_userns(vp);
}

/* A program of the VP that made a mount namespace of its own (unshare -m). */
static bool vp_own_mounts(pid_t vp)
{
	return vp_program(vp) && unshare(CLONE_NEWNS) == 0;
}

/* A program of the VP beside PID, one of those above: in its mount namespace. */
static bool vp_beside(pid_t pid)
{
	return vp_program(pid) && enter(pid, "mnt", CLONE_NEWNS);
}

/* A host process with a mount namespace of its own: not the VP's. */
static bool host_own_mounts(pid_t vp)
{
	(void)vp;
	return unshare(CLONE_NEWNS) == 0;
}

static void child_start(struct child *c, setup_fn setup, pid_t vp)
{
	int ready[2], hold[2];
	char r;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(ready[0]);
		close(hold[1]);
		if (!setup(vp) || write(ready[1], "r", 1) != 1)
			_exit(1);
		while (read(hold[0], &r, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &r, 1), 1);
	close(ready[0]);
	c->hold = hold[1];
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	assert_true(c->pidfd >= 0);
}

static void child_stop(struct child *c)
{
	close(c->hold);
	assert_int_equal(waitpid(c->pid, NULL, 0), c->pid);
	close(c->pidfd);
}

static void assert_member(pid_t pid, int userns)
{
	int pidfd = vp_member_pidfd(pid, userns);

	assert_true(pidfd >= 0);
	close(pidfd);
}

static void test_inside_and_below_are_members(void **state)
{
	struct child vp, program, sandboxed, other;
	int userns;

	(void)state;
	child_start(&vp, own_userns, 0);
	child_start(&program, vp_program, vp.pid);
	child_start(&sandboxed, vp_sandboxed, vp.pid);
	child_start(&other, own_userns, 0);
	userns = vp_userns_open(vp.pid, vp.pidfd);
	assert_true(userns >= 0);

	assert_member(vp.pid, userns);
	assert_member(program.pid, userns);
	assert_member(sandboxed.pid, userns);
	/* The host's processes and another namespace's are not the VP's. */
	assert_int_equal(vp_member_pidfd(getpid(), userns), -EPERM);
	assert_int_equal(vp_member_pidfd(other.pid, userns), -EPERM);

	close(userns);
	child_stop(&other);
	child_stop(&sandboxed);
	child_stop(&program);
	child_stop(&vp);
}

static void test_gone_is_esrch(void **state)
{
	struct child vp;
	int userns;
	pid_t gone;

	(void)state;
	child_start(&vp, own_userns, 0);
	userns = vp_userns_open(vp.pid, vp.pidfd);
	assert_true(userns >= 0);
	gone = fork();
	assert_true(gone >= 0);
	if (gone == 0)
		_exit(0);
	assert_int_equal(waitpid(gone, NULL, 0), gone);
	assert_int_equal(vp_member_pidfd(gone, userns), -ESRCH);
	assert_int_equal(vp_member_pidfd(0, userns), -ESRCH);
	assert_int_equal(vp_member_pidfd(-1, userns), -ESRCH);
	close(userns);

	/* A reaped init has no namespace to give. */
	kill(vp.pid, SIGKILL);
	close(vp.hold);
	assert_int_equal(waitpid(vp.pid, NULL, 0), vp.pid);
	assert_int_equal(vp_userns_open(vp.pid, vp.pidfd), -ESRCH);
	close(vp.pidfd);
}

static bool same_mount_ns(pid_t a, pid_t b)
{
	char pa[64], pb[64];
	struct stat sa, sb;

	snprintf(pa, sizeof(pa), "/proc/%d/ns/mnt", (int)a);
	snprintf(pb, sizeof(pb), "/proc/%d/ns/mnt", (int)b);
	return stat(pa, &sa) == 0 && stat(pb, &sb) == 0 && sa.st_ino == sb.st_ino;
}

/* The process a pidfd names, from its fdinfo. */
static pid_t pid_of(int pidfd)
{
	char path[64], line[128];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return (pid_t)pid;
}

static void test_other_mount_namespaces_of_the_vp(void **state)
{
	struct child vp, program, unshared, twin, second, host;
	char procs[] = "/tmp/cells-test-procs-XXXXXX", list[256];
	int fd, pidfds[4], n;
	unsigned skipped;
	pid_t gone;

	(void)state;
	child_start(&vp, own_userns, 0);
	child_start(&program, vp_program, vp.pid);
	child_start(&unshared, vp_own_mounts, vp.pid);
	child_start(&twin, vp_beside, unshared.pid);
	child_start(&second, vp_own_mounts, vp.pid);
	child_start(&host, host_own_mounts, 0);
	gone = fork();
	assert_true(gone >= 0);
	if (gone == 0)
		_exit(0);
	assert_int_equal(waitpid(gone, NULL, 0), gone);
	/* As a cgroup.procs would list them, with a host process and a number nobody has
	 * among them (a cgroup the VP cannot write lists the VP's only; a number read may be
	 * reused). */
	snprintf(list, sizeof(list), "%d\n%d\n%d\n%d\n%d\n%d\n%d\n", (int)vp.pid, (int)program.pid,
		 (int)gone, (int)host.pid, (int)unshared.pid, (int)twin.pid, (int)second.pid);
	fd = mkstemp(procs);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, list, strlen(list)), (ssize_t)strlen(list));
	close(fd);

	/* Two namespaces besides the init's (which PROGRAM shares), each once (TWIN shares
	 * UNSHARED's); not the host process's. */
	n = vp_other_mount_namespaces(procs, vp.pid, vp.pidfd, pidfds, 4, &skipped);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 0);
	assert_int_equal(pid_of(pidfds[0]), unshared.pid);
	assert_int_equal(pid_of(pidfds[1]), second.pid);
	assert_true(same_mount_ns(twin.pid, unshared.pid));
	close(pidfds[0]);
	close(pidfds[1]);
	/* Past MAX: counted, not listed. */
	n = vp_other_mount_namespaces(procs, vp.pid, vp.pidfd, pidfds, 1, &skipped);
	assert_int_equal(n, 1);
	assert_int_equal(skipped, 1);
	close(pidfds[0]);
	/* No procs file: an error, nothing listed. */
	assert_int_equal(vp_other_mount_namespaces("/nonexistent/cgroup.procs", vp.pid, vp.pidfd,
						   pidfds, 4, &skipped),
			 -ENOENT);

	unlink(procs);
	child_stop(&host);
	child_stop(&second);
	child_stop(&twin);
	child_stop(&unshared);
	child_stop(&program);
	child_stop(&vp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_and_below_are_members),
		cmocka_unit_test(test_gone_is_esrch),
		cmocka_unit_test(test_other_mount_namespaces_of_the_vp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
