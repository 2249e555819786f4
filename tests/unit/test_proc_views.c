/* Binding the /proc views again into a running VP (src/vp/proc_views.c): into another
 * process's mount namespace only, again over an earlier bind, only over dead files where
 * asked, and not stuck behind a lookup that never ends. Needs root (mounts, setns), as make check
 * runs. */
#include "vp/proc_views.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

/* A process in a mount namespace of its own that, for each byte on its command pipe,
 * answers with the first line of its /proc/meminfo (COVER, where given, is bound over
 * that first). */
struct vp_stub {
	pid_t pid;
	int pidfd;
	int ask;
	int answer;
};

static void stub_main(const char *cover, int drop, const int ready[2], const int ask[2],
		      const int answer[2])
{
	char line[128], c;

	/* Only the parent may hold the other ends (its close is this loop's end of file) and
	 * DROP (a FUSE server's device, whose close ends its file system). */
	if (drop >= 0)
		close(drop);
	close(ready[0]);
	close(ask[1]);
	close(answer[0]);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(1);
	if (cover && mount(cover, "/proc/meminfo", NULL, MS_BIND, NULL) < 0)
		_exit(1);
	if (write(ready[1], "r", 1) != 1)
		_exit(1);
	while (read(ask[0], &c, 1) == 1) {
		FILE *f = fopen("/proc/meminfo", "re");
		if (!f || !fgets(line, sizeof(line), f))
			snprintf(line, sizeof(line), "unreadable: %s\n", strerror(errno));
		if (f)
			fclose(f);
		if (write(answer[1], line, strlen(line)) < 0)
			_exit(1);
	}
	_exit(0);
}

static void stub_start(struct vp_stub *s, const char *cover, int drop)
{
	int ready[2], ask[2], answer[2];
	char c;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ask, O_CLOEXEC), 0);
	assert_int_equal(pipe2(answer, O_CLOEXEC), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0)
		stub_main(cover, drop, ready, ask, answer);
	close(ready[1]);
	close(ask[0]);
	close(answer[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	s->ask = ask[1];
	s->answer = answer[0];
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	assert_true(s->pidfd >= 0);
}

static void stub_meminfo(struct vp_stub *s, char *line, size_t len)
{
	ssize_t n;

	assert_int_equal(write(s->ask, "?", 1), 1);
	n = read(s->answer, line, len - 1);
	assert_true(n > 0);
	line[n] = '\0';
}

static void stub_stop(struct vp_stub *s)
{
	int status;

	close(s->ask);
	close(s->answer);
	close(s->pidfd);
	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* DIR gets the view files, each "TAG NAME\n". */
static void write_views(const char *dir, const char *tag)
{
	char path[PATH_MAX];

	for (int i = 0; i < VP_PROC_VIEWS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, vp_proc_view_files[i]);
		FILE *f = fopen(path, "we");
		assert_non_null(f);
		fprintf(f, "%s %s\n", tag, vp_proc_view_files[i]);
		assert_int_equal(fclose(f), 0);
	}
}

static void remove_views(const char *dir)
{
	char path[PATH_MAX];

	for (int i = 0; i < VP_PROC_VIEWS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, vp_proc_view_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void test_binds_into_the_vp_only_and_again(void **state)
{
	char first[] = "/tmp/cells-views-a.XXXXXX", second[] = "/tmp/cells-views-b.XXXXXX";
	char line[128];
	struct vp_stub vp;
	struct error err = {{0}};
	FILE *host;

	(void)state;
	assert_non_null(mkdtemp(first));
	assert_non_null(mkdtemp(second));
	write_views(first, "first");
	write_views(second, "second");
	stub_start(&vp, NULL, -1);

	assert_int_equal(vp_proc_views_rebind(vp.pidfd, first, VP_VIEWS_EVERY, 2000, NULL, &err),
			 0);
	stub_meminfo(&vp, line, sizeof(line));
	assert_string_equal(line, "first meminfo\n");
	/* A restarted server's files replace the previous bind. */
	assert_int_equal(vp_proc_views_rebind(vp.pidfd, second, VP_VIEWS_EVERY, 2000, NULL, &err),
			 0);
	stub_meminfo(&vp, line, sizeof(line));
	assert_string_equal(line, "second meminfo\n");
	/* The caller's own /proc is the kernel's. */
	host = fopen("/proc/meminfo", "re");
	assert_non_null(host);
	assert_non_null(fgets(line, sizeof(line), host));
	fclose(host);
	assert_int_equal(strncmp(line, "MemTotal:", 9), 0);

	stub_stop(&vp);
	remove_views(first);
	remove_views(second);
}

static void test_missing_namespace_is_an_error(void **state)
{
	char dir[] = "/tmp/cells-views-c.XXXXXX";
	struct vp_stub vp;
	struct error err = {{0}};

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_views(dir, "late");
	stub_start(&vp, NULL, -1);
	kill(vp.pid, SIGKILL);
	waitpid(vp.pid, NULL, 0);
	assert_int_equal(vp_proc_views_rebind(vp.pidfd, dir, VP_VIEWS_EVERY, 2000, NULL, &err),
			 -ESRCH);
	assert_non_null(strstr(err.msg, "enter the VP's mount namespace"));
	close(vp.ask);
	close(vp.answer);
	close(vp.pidfd);
	remove_views(dir);
}

/* A FUSE file system nobody serves, mounted on a directory or a file made from the
 * template PATH: the device's descriptor, whose close ends the connection. No /dev/fuse
 * skips the test, before anything is made. */
static int mount_unserved_fuse(char *path, bool directory)
{
	char opts[128];
	int fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC), fd;

	if (fuse < 0)
		skip();
	if (directory) {
		assert_non_null(mkdtemp(path));
	} else {
		assert_true((fd = mkstemp(path)) >= 0);
		close(fd);
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=%s,user_id=0,group_id=0", fuse,
		 directory ? "40000" : "100444");
	assert_int_equal(mount("cells-test-unserved", path, "fuse", MS_NOSUID | MS_NODEV, opts), 0);
	return fuse;
}

/* A FUSE file whose server is gone, as lxcfs's files are once it died: bound over a VP's
 * /proc/meminfo, it fails with ENOTCONN. Only those are replaced in a namespace the VP's
 * programs made; a working file, the kernel's here, is left alone. */
static void test_dead_only_replaces_what_fails(void **state)
{
	char dir[] = "/tmp/cells-views-d.XXXXXX", dead[] = "/tmp/cells-views-dead.XXXXXX";
	char line[128];
	struct vp_stub covered, plain;
	struct error err = {{0}};
	unsigned bound = 99;
	int fuse;

	(void)state;
	fuse = mount_unserved_fuse(dead, false);
	assert_non_null(mkdtemp(dir));
	write_views(dir, "new");
	stub_start(&covered, dead, fuse);
	stub_start(&plain, NULL, fuse);
	/* The server goes: its files fail from now on. */
	close(fuse);
	stub_meminfo(&covered, line, sizeof(line));
	assert_non_null(strstr(line, "Transport endpoint is not connected"));

	assert_int_equal(vp_proc_views_rebind(plain.pidfd, dir, VP_VIEWS_DEAD, 2000, &bound, &err),
			 0);
	assert_int_equal(bound, 0);
	stub_meminfo(&plain, line, sizeof(line));
	assert_int_equal(strncmp(line, "MemTotal:", 9), 0);
	assert_int_equal(
		vp_proc_views_rebind(covered.pidfd, dir, VP_VIEWS_DEAD, 2000, &bound, &err), 0);
	assert_int_equal(bound, 1);
	stub_meminfo(&covered, line, sizeof(line));
	assert_string_equal(line, "new meminfo\n");

	stub_stop(&plain);
	stub_stop(&covered);
	assert_int_equal(umount2(dead, MNT_DETACH), 0);
	unlink(dead);
	remove_views(dir);
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* A FUSE file system nobody serves: every lookup in it waits for good, as one a VP
 * stopped would. The child doing the work is killed after the timeout. */
static void test_gives_up_on_a_lookup_that_never_ends(void **state)
{
	char dir[] = "/tmp/cells-views-hung.XXXXXX";
	struct vp_stub vp;
	struct error err = {{0}};
	struct timespec start;
	int fuse, ret;

	(void)state;
	fuse = mount_unserved_fuse(dir, true);
	stub_start(&vp, NULL, -1);

	clock_gettime(CLOCK_MONOTONIC, &start);
	ret = vp_proc_views_rebind(vp.pidfd, dir, VP_VIEWS_EVERY, 300, NULL, &err);
	assert_int_equal(ret, -ETIMEDOUT);
	assert_true(elapsed_ms(&start) < 2000);
	assert_non_null(strstr(err.msg, "bind the /proc views again"));

	/* Closing the device ends the connection: the lookups fail, the mount goes. */
	close(fuse);
	assert_int_equal(umount2(dir, MNT_DETACH), 0);
	rmdir(dir);
	stub_stop(&vp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binds_into_the_vp_only_and_again),
		cmocka_unit_test(test_missing_namespace_is_an_error),
		cmocka_unit_test(test_dead_only_replaces_what_fails),
		cmocka_unit_test(test_gives_up_on_a_lookup_that_never_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
