/* fuseread: the cost of reading one queued event from a VP's /dev/input/event0, the FUSE
 * path alone (no router, no VP): input_fs mounted in a temporary directory and served by
 * an event loop in a thread, as cellsd serves it; a child process (a thread of the server
 * would be refused: input_fs never lets the daemon wait for itself) reads.
 *
 *   fuseread [ROUNDS]     (root) each round queues 128 packets of ABS_X + SYN_REPORT
 *                          (256 events, half the touchscreen's queue) and the child reads
 *                          them one event (24 bytes) per read(2), O_NONBLOCK, timing
 *                          each read with CLOCK_MONOTONIC; prints median, p90, p99, min
 *                          and max in ns over ROUNDS x 256 reads (default 100)
 *
 * Built against any tree's input_fs.c (its API has not changed), so one source measures
 * a before and an after:
 *
 *   cc -O2 -std=gnu11 -D_GNU_SOURCE -Isrc $(pkg-config --cflags fuse3) \
 *      -o fuseread bench/fuseread.c src/devices/input_fs.c src/devices/evdev.c \
 *      src/devices/keymap.c src/devns/fusetree.c src/devns/fusetree_fuse.c \
 *      src/common/loop.c src/common/log.c src/common/error.c \
 *      $(pkg-config --libs fuse3) -lpthread
 *
 * (without src/devns/fusetree*.c for a tree before it). */
#include "common/loop.h"
#include "devices/evdev.h"
#include "devices/input_fs.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PACKETS 128
#define READS	(2 * PACKETS)

static struct loop loop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void on_stop(struct loop_watch *w, uint32_t events)
{
	uint64_t v;
	(void)events;
	if (read(w->fd, &v, sizeof(v)) == sizeof(v))
		loop.quit = true;
}

static void *serve(void *arg)
{
	(void)arg;
	loop_run(&loop);
	return NULL;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The child: per round, wait for "go", read READS events one by one, send the times. */
static void reader(const char *path, int go, int back, int rounds)
{
	struct input_event ev;
	uint32_t t[READS];
	char c;
	int fd = open(path, O_RDONLY | O_NONBLOCK);

	if (fd < 0 || write(back, "r", 1) != 1)
		_exit(1);
	for (int r = 0; r < rounds; r++) {
		if (read(go, &c, 1) != 1)
			_exit(2);
		for (int i = 0; i < READS; i++) {
			int64_t t0 = now_ns();
			ssize_t n = read(fd, &ev, sizeof(ev));
			if (n != sizeof(ev)) {
				fprintf(stderr, "fuseread: read %zd: %s\n", n, strerror(errno));
				_exit(3);
			}
			t[i] = (uint32_t)(now_ns() - t0);
		}
		if (write(back, t, sizeof(t)) != sizeof(t))
			_exit(4);
	}
	_exit(0);
}

/* ROUNDS rounds of queued packets on DEV, read by a child from PATH: the times in ALL.
 * The child is reaped whatever happens. */
static bool measure(const char *path, struct evdev *dev, uint32_t *all, int rounds)
{
	int go[2], back[2], status;
	bool ok = false;
	char c;
	pid_t pid;

	if (pipe(go) < 0 || pipe(back) < 0 || (pid = fork()) < 0)
		return false;
	if (pid == 0) {
		close(go[1]);
		close(back[0]);
		reader(path, go[0], back[1], rounds);
	}
	close(go[0]);
	close(back[1]);
	if (read(back[0], &c, 1) != 1) { /* it has opened the file */
		fprintf(stderr, "fuseread: the reader cannot open %s\n", path);
		goto out;
	}
	for (int r = 0; r < rounds; r++) {
		size_t got = 0, want = READS * sizeof(uint32_t);
		struct evdev_time t;

		evdev_time_now(&t);
		pthread_mutex_lock(&lock);
		for (int p = 0; p < PACKETS; p++) {
			evdev_event(dev, &t, EV_ABS, ABS_X, r * PACKETS + p + 1);
			evdev_event(dev, &t, EV_SYN, SYN_REPORT, 0);
		}
		pthread_mutex_unlock(&lock);
		if (write(go[1], "g", 1) != 1)
			goto out;
		while (got < want) {
			ssize_t n =
				read(back[0], (char *)(all + (size_t)r * READS) + got, want - got);
			if (n <= 0) {
				fprintf(stderr, "fuseread: the reader failed\n");
				goto out;
			}
			got += (size_t)n;
		}
	}
	ok = true;
out:
	close(go[1]);
	close(back[0]);
	if (!ok)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 100;
	char dir[] = "/tmp/fuseread-XXXXXX", mnt[64], path[96];
	struct evdev devs[2];
	struct input_fs *fs;
	struct loop_watch stop;
	struct error err;
	pthread_t thread;
	uint32_t *all;
	uint64_t one = 1;
	bool ok;

	if (rounds < 1 || !mkdtemp(dir) || !(all = calloc((size_t)rounds * READS, sizeof(*all))))
		return 1;
	snprintf(mnt, sizeof(mnt), "%s/input", dir);
	snprintf(path, sizeof(path), "%s/event0", mnt);
	for (int i = 0; i < 2; i++) {
		evdev_init(&devs[i], 512);
		evdev_enable(&devs[i], EV_SYN, SYN_REPORT);
		evdev_enable_abs(&devs[i], ABS_X, 0, 1 << 30, 0);
	}
	stop.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	stop.handle = on_stop;
	if (stop.fd < 0 || loop_init(&loop) < 0 || loop_add(&loop, &stop, EPOLLIN) < 0)
		return 1;
	struct input_fs_config config = {.loop = &loop,
					 .lock = &lock,
					 .mountpoint = mnt,
					 .uid = 0,
					 .max_opens = 8,
					 .devices = {&devs[0], &devs[1]}};
	pthread_mutex_lock(&lock);
	if (input_fs_create(&fs, &config, &err) < 0) {
		fprintf(stderr, "fuseread: %s\n", err.msg);
		return 1;
	}
	pthread_mutex_unlock(&lock);
	ok = pthread_create(&thread, NULL, serve, NULL) == 0;
	if (ok) {
		ok = measure(path, &devs[0], all, rounds);
		if (write(stop.fd, &one, sizeof(one)) != sizeof(one))
			abort();
		pthread_join(thread, NULL);
	}
	pthread_mutex_lock(&lock);
	input_fs_destroy(fs); /* unmounts */
	pthread_mutex_unlock(&lock);
	rmdir(dir);
	if (ok) {
		size_t n = (size_t)rounds * READS;
		qsort(all, n, sizeof(*all), cmp);
		printf("reads %zu: median %u ns, p90 %u, p99 %u, min %u, max %u\n", n, all[n / 2],
		       all[n * 9 / 10], all[n * 99 / 100], all[0], all[n - 1]);
	}
	free(all);
	return ok ? 0 : 1;
}
