/* The FUSE tree server (src/devns/fusetree.c, fusetree_fuse.c), mounted for real in a temporary
 * directory and served by an event loop in a thread of the test: lookups, listings, attributes
 * (reads, writes, truncation, poll), symlinks, streams (the tree's queue and a device's,
 * blocking and O_NONBLOCK reads, poll, write, ioctl, hang-up), removal, the errors a VP
 * gets for what it may not do, and unmount. Needs root (mount) and /dev/fuse. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"
#include "devns/fusetree.h"

#define UID	   123456
#define GID	   123457
#define TEST_IOCTL _IOWR('T', 1, int)

struct fixture {
	char dir[64], mnt[96];
	pthread_mutex_t lock;
	struct loop loop;
	struct loop_watch stop;
	pthread_t thread;
	struct fusetree *tree;
	struct fusetree_node *value, *ro, *queue, *dev, *link, *class;
	/* The device's state */
	char value_text[64];
	char stored[FUSETREE_ATTR_MAX + 1];
	size_t stored_len;
	unsigned releases;
	struct fusetree_file *last_open;
	int own_pending; /* the device-queue stream: records waiting */
	char written[64];
};

static struct fixture *fx;

static void assert_locked(void)
{
	assert_int_equal(pthread_mutex_trylock(&fx->lock), EBUSY);
}

static ssize_t value_show(void *data, char *buf, size_t size)
{
	struct fixture *f = data;
	assert_locked();
	return snprintf(buf, size, "%s\n", f->value_text);
}

static ssize_t value_store(void *data, const char *buf, size_t len)
{
	struct fixture *f = data;
	assert_locked();
	if (len > 0 && buf[0] == '!')
		return -EINVAL;
	memcpy(f->stored, buf, len);
	f->stored_len = len;
	return (ssize_t)len;
}

static const struct fusetree_attr_ops value_ops = {.show = value_show, .store = value_store};
static const struct fusetree_attr_ops ro_ops = {.show = value_show};

static int stream_open(void *data, struct fusetree_file *file, const struct fusetree_caller *c,
		       void **state)
{
	struct fixture *f = data;
	assert_locked();
	assert_true(c->pid > 0);
	f->last_open = file;
	*state = file;
	return 0;
}

static void stream_release(void *data, void *state)
{
	struct fixture *f = data;
	assert_locked();
	assert_non_null(state);
	f->releases++;
}

static const struct fusetree_stream_ops queue_ops = {
	.open = stream_open, .release = stream_release, .queue_bytes = 64};

/* A stream with its own queue: OWN_PENDING 8-byte records of 'r'. */
static ssize_t own_read(void *data, void *state, char *buf, size_t size)
{
	struct fixture *f = data;
	size_t n = 0;

	(void)state;
	assert_locked();
	if (!f->own_pending)
		return -EAGAIN;
	if (size < 8)
		return -EINVAL;
	while (f->own_pending && size - n >= 8) {
		memset(buf + n, 'r', 8);
		n += 8;
		f->own_pending--;
	}
	return (ssize_t)n;
}

static bool own_readable(void *data, void *state)
{
	(void)state;
	return ((struct fixture *)data)->own_pending > 0;
}

static ssize_t own_write(void *data, void *state, const char *buf, size_t size)
{
	struct fixture *f = data;
	(void)state;
	assert_locked();
	if (size >= sizeof(f->written))
		return -EINVAL;
	memcpy(f->written, buf, size);
	f->written[size] = '\0';
	return (ssize_t)size;
}

static long own_ioctl(void *data, void *state, unsigned cmd, uint64_t arg, const void *in,
		      size_t in_size, void *out, size_t *out_size, bool compat)
{
	int v;
	(void)data, (void)state, (void)compat, (void)arg;
	if (cmd != TEST_IOCTL || in_size != sizeof(v) || *out_size < sizeof(v))
		return -ENOTTY;
	memcpy(&v, in, sizeof(v));
	v *= 2;
	memcpy(out, &v, sizeof(v));
	*out_size = sizeof(v);
	return 7;
}

static const struct fusetree_stream_ops own_ops = {.open = stream_open,
						   .release = stream_release,
						   .read = own_read,
						   .readable = own_readable,
						   .write = own_write,
						   .ioctl = own_ioctl};

static void on_stop(struct loop_watch *w, uint32_t events)
{
	uint64_t v;
	(void)events;
	if (read(w->fd, &v, sizeof(v)) == sizeof(v))
		fx->loop.quit = true;
}

static void *serve(void *arg)
{
	(void)arg;
	loop_run(&fx->loop);
	return NULL;
}

static void path(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/%s", fx->mnt, rel);
}

static int setup(void **state)
{
	struct fusetree_config config = {0};
	struct fusetree_node *root, *input;
	struct error err;

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fusetree-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->mnt, sizeof(fx->mnt), "%s/mnt", fx->dir);
	pthread_mutex_init(&fx->lock, NULL);
	assert_int_equal(loop_init(&fx->loop), 0);
	snprintf(fx->value_text, sizeof(fx->value_text), "42");
	config = (struct fusetree_config){.loop = &fx->loop,
					  .lock = &fx->lock,
					  .mountpoint = fx->mnt,
					  .name = "cells-test",
					  .uid = UID,
					  .gid = GID,
					  .root_mode = 0755,
					  .max_opens = 8,
					  .cache_seconds = 0.001};
	pthread_mutex_lock(&fx->lock);
	if (fusetree_create(&fx->tree, &config, &err) < 0)
		fail_msg("%s", err.msg);
	root = fusetree_root(fx->tree);
	assert_int_equal(fusetree_add_dirs(root, "class/input", 0755, &input, &err), 0);
	/* A second device sharing the tree: the path exists, it adds beside it. */
	assert_int_equal(fusetree_add_dirs(root, "class", 0755, &fx->class, &err), 0);
	assert_int_equal(fusetree_add_attr(input, "value", 0644, &value_ops, fx, &fx->value, &err),
			 0);
	assert_int_equal(fusetree_add_attr(input, "name", 0444, &ro_ops, fx, &fx->ro, &err), 0);
	assert_int_equal(fusetree_add_symlink(fx->class, "event0", "input/value", &fx->link, &err),
			 0);
	assert_int_equal(fusetree_add_stream(root, "queue", 0600, &queue_ops, fx, &fx->queue, &err),
			 0);
	assert_int_equal(fusetree_add_stream(root, "dev", 0660, &own_ops, fx, &fx->dev, &err), 0);
	/* Refused additions */
	assert_int_equal(fusetree_add_dir(input, "value", 0755, NULL, &err), -EEXIST);
	assert_int_equal(fusetree_add_dir(input, "a/b", 0755, NULL, &err), -EINVAL);
	assert_int_equal(fusetree_add_dir(input, "..", 0755, NULL, &err), -EINVAL);
	assert_int_equal(fusetree_add_dir(fx->value, "x", 0755, NULL, &err), -ENOTDIR);
	assert_int_equal(fusetree_add_dirs(root, "class/event0/x", 0755, NULL, &err), -ENOTDIR);
	pthread_mutex_unlock(&fx->lock);

	fx->stop.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fx->stop.handle = on_stop;
	assert_int_equal(loop_add(&fx->loop, &fx->stop, EPOLLIN), 0);
	assert_int_equal(pthread_create(&fx->thread, NULL, serve, NULL), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	uint64_t one = 1;
	struct stat st;

	(void)state;
	assert_int_equal(write(fx->stop.fd, &one, sizeof(one)), sizeof(one));
	pthread_join(fx->thread, NULL);
	pthread_mutex_lock(&fx->lock);
	fusetree_destroy(fx->tree);
	pthread_mutex_unlock(&fx->lock);
	/* Unmounted and its mountpoint gone. */
	assert_int_equal(stat(fx->mnt, &st), -1);
	assert_int_equal(errno, ENOENT);
	close(fx->stop.fd);
	loop_fini(&fx->loop);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx);
	fx = NULL;
	return 0;
}

static void lookups_and_attributes_are_the_vps(void **state)
{
	char p[256];
	struct stat st;

	(void)state;
	path(p, sizeof(p), "class/input/value");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, UID);
	assert_int_equal(st.st_gid, GID);
	assert_int_equal(st.st_size, FUSETREE_ATTR_MAX);
	assert_int_equal(st.st_ino, fusetree_ino(fx->value));
	assert_int_equal(st.st_dev, fusetree_dev(fx->tree));
	path(p, sizeof(p), "class/input");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	path(p, sizeof(p), "queue");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_ino, fusetree_ino(fx->queue));
	path(p, sizeof(p), "class/input/missing");
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(errno, ENOENT);
	path(p, sizeof(p), "class/input/value/x");
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(errno, ENOTDIR);
}

static void listing_names_every_child(void **state)
{
	char p[256], name[32];
	struct fusetree_node *dir;
	struct dirent *d;
	struct error err;
	bool seen[300] = {0};
	unsigned n = 0, dots = 0;
	DIR *dp;

	(void)state;
	pthread_mutex_lock(&fx->lock);
	assert_int_equal(fusetree_add_dir(fusetree_root(fx->tree), "many", 0755, &dir, &err), 0);
	for (unsigned i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "attribute-with-a-long-name-%u", i);
		assert_int_equal(fusetree_add_attr(dir, name, 0444, &ro_ops, fx, NULL, &err), 0);
	}
	pthread_mutex_unlock(&fx->lock);
	path(p, sizeof(p), "many");
	assert_non_null(dp = opendir(p));
	while ((d = readdir(dp))) {
		unsigned i;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) {
			dots++;
			continue;
		}
		assert_int_equal(sscanf(d->d_name, "attribute-with-a-long-name-%u", &i), 1);
		assert_true(i < 300 && !seen[i]);
		seen[i] = true;
		n++;
	}
	closedir(dp);
	assert_int_equal(n, 300);
	assert_int_equal(dots, 2);
	path(p, sizeof(p), "");
	assert_non_null(dp = opendir(p));
	n = 0;
	while ((d = readdir(dp)))
		n += strcmp(d->d_name, "class") == 0 || strcmp(d->d_name, "queue") == 0 ||
		     strcmp(d->d_name, "dev") == 0;
	closedir(dp);
	assert_int_equal(n, 3);
}

static void attributes_read_the_current_state(void **state)
{
	char p[256], buf[64];
	int fd;

	(void)state;
	path(p, sizeof(p), "class/input/value");
	assert_true((fd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "42\n", 3);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0); /* end of file */
	pthread_mutex_lock(&fx->lock);
	snprintf(fx->value_text, sizeof(fx->value_text), "1234");
	pthread_mutex_unlock(&fx->lock);
	/* A later offset reads the copy the read at 0 took; offset 0 takes a new one. */
	assert_int_equal(pread(fd, buf, sizeof(buf), 1), 2);
	assert_memory_equal(buf, "2\n", 2);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "1234\n", 5);
	assert_int_equal(pread(fd, buf, 2, 3), 2);
	assert_memory_equal(buf, "4\n", 2);
	assert_int_equal(pread(fd, buf, sizeof(buf), 1 << 30), 0);
	close(fd);
}

static void attributes_take_writes_they_allow(void **state)
{
	char p[256], big[FUSETREE_ATTR_MAX + 100];
	struct stat st;
	int fd, rfd, pipefd[2];

	(void)state;
	path(p, sizeof(p), "class/input/value");
	/* O_TRUNC and truncate are harmless */
	assert_true((fd = open(p, O_WRONLY | O_TRUNC)) >= 0);
	assert_int_equal(write(fd, "mem", 3), 3);
	assert_int_equal(fx->stored_len, 3);
	assert_memory_equal(fx->stored, "mem", 3);
	/* ... and a later read is not cut to what was written (a shell's `echo x > f`, then
	 * busybox's cat, which splices) */
	pthread_mutex_lock(&fx->lock);
	snprintf(fx->value_text, sizeof(fx->value_text), "a longer text");
	pthread_mutex_unlock(&fx->lock);
	assert_int_equal(pipe(pipefd), 0);
	assert_true((rfd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(sendfile(pipefd[1], rfd, NULL, 64), 14);
	close(rfd);
	/* ... nor to what an earlier read found */
	pthread_mutex_lock(&fx->lock);
	snprintf(fx->value_text, sizeof(fx->value_text), "a longer text still");
	pthread_mutex_unlock(&fx->lock);
	assert_true((rfd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(sendfile(pipefd[1], rfd, NULL, 64), 20);
	close(rfd);
	close(pipefd[0]);
	close(pipefd[1]);
	/* The device refuses the content */
	assert_int_equal(write(fd, "!bad", 4), -1);
	assert_int_equal(errno, EINVAL);
	/* More than a page in one write */
	memset(big, 'x', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), -1);
	assert_int_equal(errno, EINVAL);
	/* A whole page is fine, at any offset (sysfs ignores it) */
	assert_int_equal(pwrite(fd, big, FUSETREE_ATTR_MAX, 1 << 20), FUSETREE_ATTR_MAX);
	assert_int_equal(fx->stored_len, FUSETREE_ATTR_MAX);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(ftruncate(fd, 1 << 30), 0);
	close(fd);
	assert_int_equal(truncate(p, 7), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, FUSETREE_ATTR_MAX);
	/* Owner and mode are not the VP's to change */
	assert_int_equal(chmod(p, 0666), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(chown(p, 0, 0), -1);
	assert_int_equal(errno, EPERM);
	/* A read-only attribute: refused even to root, whom mode bits do not stop */
	path(p, sizeof(p), "class/input/name");
	assert_int_equal(open(p, O_WRONLY), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(open(p, O_RDWR), -1);
	assert_int_equal(errno, EACCES);
}

static void the_vp_makes_and_removes_nothing(void **state)
{
	char p[256], q[256];

	(void)state;
	path(p, sizeof(p), "class/input/new");
	assert_int_equal(open(p, O_WRONLY | O_CREAT, 0644), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(mkdir(p, 0755), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(mknod(p, S_IFIFO | 0644, 0), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(symlink("x", p), -1);
	assert_int_equal(errno, EACCES);
	path(q, sizeof(q), "class/input/value");
	assert_int_equal(link(q, p), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(rename(q, p), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(unlink(q), -1);
	assert_int_equal(errno, EPERM);
	path(q, sizeof(q), "class/input");
	assert_int_equal(rmdir(q), -1);
	assert_int_equal(errno, EPERM);
	path(q, sizeof(q), "class");
	assert_int_equal(open(q, O_RDONLY | O_TRUNC), -1);
}

static void symlinks_read_their_target(void **state)
{
	char p[256], buf[64];
	struct stat st;
	ssize_t n;
	int fd;

	(void)state;
	path(p, sizeof(p), "class/event0");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_size, strlen("input/value"));
	n = readlink(p, buf, sizeof(buf));
	assert_int_equal(n, strlen("input/value"));
	assert_memory_equal(buf, "input/value", (size_t)n);
	/* Followed, it is the attribute */
	assert_true((fd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	close(fd);
}

static void attribute_poll_sees_changes(void **state)
{
	char p[256], buf[64];
	struct pollfd pfd;
	int fd;

	(void)state;
	path(p, sizeof(p), "class/input/value");
	assert_true((fd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	pfd = (struct pollfd){.fd = fd, .events = POLLPRI};
	assert_int_equal(poll(&pfd, 1, 0), 0);
	pthread_mutex_lock(&fx->lock);
	fusetree_notify(fx->value);
	pthread_mutex_unlock(&fx->lock);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true(pfd.revents & POLLPRI);
	assert_true(pfd.revents & POLLERR);
	/* Read again: no longer changed */
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 3);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	close(fd);
}

struct poller {
	int fd;
	short events;
	int ret;
	volatile bool done;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = {.fd = p->fd, .events = p->events};
	p->ret = poll(&pfd, 1, 10000);
	p->done = true;
	return NULL;
}

static void attribute_poll_wakes_a_waiting_poller(void **state)
{
	char p[256], buf[64];
	struct poller pl = {.events = POLLPRI};
	struct timespec ts = {0, 1000000};
	pthread_t t;

	(void)state;
	path(p, sizeof(p), "class/input/value");
	assert_true((pl.fd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(read(pl.fd, buf, sizeof(buf)), 3);
	assert_int_equal(pthread_create(&t, NULL, poll_thread, &pl), 0);
	/* Until the poller wakes: a notification before it sleeps is seen by its poll. */
	for (int i = 0; i < 5000 && !pl.done; i++) {
		pthread_mutex_lock(&fx->lock);
		fusetree_notify(fx->value);
		pthread_mutex_unlock(&fx->lock);
		nanosleep(&ts, NULL);
	}
	pthread_join(t, NULL);
	assert_int_equal(pl.ret, 1);
	close(pl.fd);
}

static int push(const char *rec)
{
	int ret;
	pthread_mutex_lock(&fx->lock);
	ret = fusetree_push(fx->last_open, rec, strlen(rec));
	pthread_mutex_unlock(&fx->lock);
	return ret;
}

static void stream_queue_gives_whole_records(void **state)
{
	char p[256], buf[64];
	struct pollfd pfd;
	int fd;

	(void)state;
	path(p, sizeof(p), "queue");
	assert_true((fd = open(p, O_RDONLY | O_NONBLOCK)) >= 0);
	assert_non_null(fx->last_open);
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(push("abcd"), 0);
	assert_int_equal(push("efghij"), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true(pfd.revents & POLLIN);
	/* Smaller than the first record */
	assert_int_equal(read(fd, buf, 3), -1);
	assert_int_equal(errno, EINVAL);
	/* Room for one and a half: one */
	assert_int_equal(read(fd, buf, 7), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "efghij", 6);
	/* The bound */
	for (int i = 0; i < 8; i++)
		assert_int_equal(push("01234567"), 0);
	assert_int_equal(push("x"), -ENOBUFS);
	assert_int_equal(read(fd, buf, sizeof(buf)), 64);
	/* Not a stream's: seeking, truncating, writing */
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(lseek(fd, 0, SEEK_SET), -1);
	assert_int_equal(errno, ESPIPE);
	close(fd);
	assert_int_equal(open(p, O_WRONLY), -1);
	assert_int_equal(errno, EACCES);
}

/* The state of process PID: 'S' while it sleeps in a read. */
static char proc_state(pid_t pid)
{
	char p[64], buf[256], *s;
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if ((fd = open(p, O_RDONLY)) < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	s = strrchr(buf, ')');
	return s && s[1] ? s[2] : '?';
}

static void stream_blocking_read_waits_for_a_record(void **state)
{
	char p[256], buf[64];
	struct timespec ts = {0, 1000000};
	int fd, pipefd[2], status;
	pid_t pid;

	(void)state;
	path(p, sizeof(p), "queue");
	assert_true((fd = open(p, O_RDONLY)) >= 0);
	/* A thread of the serving process never waits: EIO */
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EIO);
	/* With a record there, it reads it */
	assert_int_equal(push("now"), 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	/* Another process waits */
	assert_int_equal(pipe(pipefd), 0);
	if ((pid = fork()) == 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		_exit(n > 0 && write(pipefd[1], buf, (size_t)n) == n ? 0 : 1);
	}
	assert_true(pid > 0);
	close(pipefd[1]);
	for (int i = 0; i < 5000 && proc_state(pid) != 'S'; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(proc_state(pid), 'S');
	assert_int_equal(push("later"), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(read(pipefd[0], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "later", 5);
	close(pipefd[0]);
	close(fd);
}

static void device_queue_stream(void **state)
{
	char p[256], buf[64];
	struct pollfd pfd;
	struct fusetree_file *file;
	int fd, v = 21;

	(void)state;
	path(p, sizeof(p), "dev");
	assert_true((fd = open(p, O_RDWR | O_NONBLOCK)) >= 0);
	file = fx->last_open;
	pfd = (struct pollfd){.fd = fd, .events = POLLIN | POLLOUT};
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(pfd.revents, POLLOUT);
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	pthread_mutex_lock(&fx->lock);
	fx->own_pending = 3;
	fusetree_wake(file);
	pthread_mutex_unlock(&fx->lock);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true(pfd.revents & POLLIN);
	assert_int_equal(read(fd, buf, 4), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(read(fd, buf, 20), 16);
	assert_int_equal(read(fd, buf, 20), 8);
	assert_int_equal(write(fd, "hello", 5), 5);
	assert_string_equal(fx->written, "hello");
	assert_int_equal(ioctl(fd, TEST_IOCTL, &v), 7);
	assert_int_equal(v, 42);
	assert_int_equal(ioctl(fd, _IOR('T', 2, int), &v), -1);
	assert_int_equal(errno, ENOTTY);
	/* Revoked */
	pthread_mutex_lock(&fx->lock);
	fx->own_pending = 1;
	fusetree_hangup(file);
	pthread_mutex_unlock(&fx->lock);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_true(pfd.revents & POLLHUP);
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(ioctl(fd, TEST_IOCTL, &v), -1);
	assert_int_equal(errno, ENODEV);
	fx->releases = 0;
	close(fd);
	/* The release comes when the kernel sends it: after the close returns */
	for (int i = 0; i < 5000 && !__atomic_load_n(&fx->releases, __ATOMIC_SEQ_CST); i++) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(fx->releases, 1);
	/* Ioctls of an attribute, of a directory */
	path(p, sizeof(p), "class/input/value");
	assert_true((fd = open(p, O_RDONLY)) >= 0);
	assert_int_equal(ioctl(fd, TEST_IOCTL, &v), -1);
	assert_int_equal(errno, ENOTTY);
	close(fd);
}

static void removed_nodes_are_gone(void **state)
{
	char p[256], buf[64];
	struct timespec ts = {0, 1000000};
	struct stat st;
	int fd, afd;

	(void)state;
	path(p, sizeof(p), "queue");
	assert_true((fd = open(p, O_RDONLY | O_NONBLOCK)) >= 0);
	path(p, sizeof(p), "class/input/value");
	assert_true((afd = open(p, O_RDONLY)) >= 0);
	fx->releases = 0;
	assert_int_equal(push("x"), 0);
	pthread_mutex_lock(&fx->lock);
	fusetree_remove(fx->queue);
	fusetree_remove(fx->class); /* a directory and all under it */
	pthread_mutex_unlock(&fx->lock);
	assert_int_equal(fx->releases, 1); /* at once, not at close */
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(read(afd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODEV);
	close(fd);
	close(afd);
	/* Its name goes once the kernel's entry expires (cache_seconds) */
	for (int k = 0; k < 2; k++) {
		path(p, sizeof(p), k ? "class" : "queue");
		for (int i = 0; i < 5000 && stat(p, &st) == 0; i++)
			nanosleep(&ts, NULL);
		assert_int_equal(stat(p, &st), -1);
		assert_int_equal(errno, ENOENT);
	}
	assert_int_equal(fx->releases, 1);
}

static void opens_are_bounded(void **state)
{
	char p[256];
	int fds[9], n = 0;

	(void)state;
	path(p, sizeof(p), "class/input/value");
	for (; n < 9; n++)
		if ((fds[n] = open(p, O_RDONLY)) < 0)
			break;
	assert_int_equal(n, 8);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(fusetree_opens(fx->tree), 8);
	while (n--)
		close(fds[n]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lookups_and_attributes_are_the_vps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(listing_names_every_child, setup, teardown),
		cmocka_unit_test_setup_teardown(attributes_read_the_current_state, setup, teardown),
		cmocka_unit_test_setup_teardown(attributes_take_writes_they_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(the_vp_makes_and_removes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(symlinks_read_their_target, setup, teardown),
		cmocka_unit_test_setup_teardown(attribute_poll_sees_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(attribute_poll_wakes_a_waiting_poller, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stream_queue_gives_whole_records, setup, teardown),
		cmocka_unit_test_setup_teardown(stream_blocking_read_waits_for_a_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(device_queue_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(removed_nodes_are_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(opens_are_bounded, setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
