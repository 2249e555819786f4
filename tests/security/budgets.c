/* Spends the kernel's per-user budgets, or checks that there is some left.
 *
 *   budgets exhaust [LIMIT]  inotify instances, POSIX message queues and user namespaces,
 *                            each until the kernel refuses (or LIMIT of them); prints
 *                            "KIND COUNT ERRNO-NAME" per kind, then "held" and keeps them
 *                            all until killed.
 *   budgets probe            one of each: prints "KIND ok" or "KIND failed ERRNO-NAME";
 *                            exits 0 if all three worked.
 *
 * Built static by tests/security/test_user_budgets.py, run in VPs and on the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../integration/errname.h"

/* A new user namespace, held by a descriptor: a child unshares, the parent opens the child's
 * namespace and lets the child go. Returns the descriptor, or -errno. */
static int new_userns(void)
{
	int go[2], done[2], fd;
	char byte = 0, path[64];
	pid_t pid;

	if (pipe(go) < 0)
		return -errno;
	if (pipe(done) < 0) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		fd = -errno;
		goto out;
	}
	if (pid == 0) {
		int err = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
		(void)!write(done[1], &err, 1);
		(void)!read(go[0], &byte, 1);
		_exit(0);
	}
	if (read(done[0], &byte, 1) != 1)
		fd = -EIO;
	else if (byte != 0)
		fd = -byte;
	else {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	(void)!write(go[1], &byte, 1);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
out:
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	return fd;
}

/* One message queue with the system's default sizes, or -errno. */
static int new_mqueue(const char *prefix, int i, int unlink_now)
{
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/%s-%d-%d", prefix, (int)getpid(), i);
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, NULL);
	if (q == (mqd_t)-1)
		return -errno;
	if (unlink_now)
		mq_unlink(name);
	return (int)q;
}

static void __attribute__((noreturn)) exhaust(long limit)
{
	struct rlimit nofile;
	long n;
	int fd;

	/* Descriptors must not be what runs out first. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	for (n = 0; n < limit && (fd = inotify_init1(IN_CLOEXEC)) >= 0; n++)
		;
	printf("inotify %ld %s\n", n, errname(n < limit ? errno : 0));
	for (n = 0; n < limit && (fd = new_mqueue("budgets", (int)n, 0)) >= 0; n++)
		;
	printf("mqueue %ld %s\n", n, errname(n < limit ? -fd : 0));
	for (n = 0; n < limit && (fd = new_userns()) >= 0; n++)
		;
	printf("userns %ld %s\n", n, errname(n < limit ? -fd : 0));
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int probe(void)
{
	int fd, failed = 0;

	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0)
		failed |= printf("inotify failed %s\n", errname(errno));
	else
		printf("inotify ok\n");
	fd = new_mqueue("budgets-probe", 0, 1);
	if (fd < 0)
		failed |= printf("mqueue failed %s\n", errname(-fd));
	else
		printf("mqueue ok\n");
	fd = new_userns();
	if (fd < 0)
		failed |= printf("userns failed %s\n", errname(-fd));
	else
		printf("userns ok\n");
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "exhaust") == 0)
		exhaust(argc >= 3 ? atol(argv[2]) : 100000);
	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return probe();
	fprintf(stderr, "usage: budgets exhaust [LIMIT] | budgets probe\n");
	return 2;
}
