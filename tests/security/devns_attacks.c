/* Attacks of a VP on cellsd's device side (issue 11, items 1-3), and a probe that times
 * another VP's trapped calls meanwhile. Built static, run inside VPs by
 * test_devns_stall.py and bench/stall.py.
 *
 *   devns_attacks fuse-fault        a trapped ioctl whose argument points into a private
 *                                   mapping of the VP's own /dev/input/event1
 *   devns_attacks linger SECONDS    sockets with SO_LINGER and a full send queue, closed
 *                                   by the VP while the daemon holds them for an ioctl
 *   devns_attacks mmap-churn SECONDS threads that hold the VP's mmap lock (huge mmap and
 *                                   munmap) while others make trapped calls
 *   devns_attacks lat SECONDS [GAP_US]  FBIOGET_VSCREENINFO for SECONDS, GAP_US apart
 *                                   (default 200: a busy app's rate, not a flood of its
 *                                   own): median, p99, max */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/input.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

/* Item 1. The writes raise the FUSE inode's cached size, so the mapping has pages; the
 * daemon's read of the argument faults into a FUSE READ of the daemon's own loop. */
static int fuse_fault(void)
{
	int ev = open_or_die("/dev/input/event1", O_RDWR);
	int fb = open_or_die("/dev/fb0", O_RDWR);
	struct input_event e[256];
	void *map;
	int r;

	memset(e, 0, sizeof(e));
	for (int i = 0; i < 16; i++)
		if (write(ev, e, sizeof(e)) < 0)
			fprintf(stderr, "write event1: %s\n", strerror(errno));
	map = mmap(NULL, sizeof(e) * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE, ev, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "mmap event1: %s\n", strerror(errno));
		return 2;
	}
	printf("mapped\n");
	fflush(stdout);
	r = ioctl(fb, FBIOGET_VSCREENINFO, map);
	printf("ioctl=%d errno=%d\n", r, r < 0 ? errno : 0);
	return 0;
}

/* Item 2. */
static int lingering_socket(int listener)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	struct linger lg = {.l_onoff = 1, .l_linger = 60};
	int small = 4096, s = socket(AF_INET, SOCK_STREAM, 0);
	char buf[65536] = {0};

	getsockname(listener, (struct sockaddr *)&a, &len);
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	fcntl(s, F_SETFL, O_NONBLOCK);
	while (write(s, buf, sizeof(buf)) > 0)
		;
	fcntl(s, F_SETFL, 0);
	return s;
}

static atomic_int race_fd = -1;

static void *ioctl_on_race_fd(void *arg)
{
	struct fb_var_screeninfo v;
	double end = *(double *)arg;

	while (now() < end) {
		int fd = atomic_load(&race_fd);
		if (fd >= 0)
			ioctl(fd, FBIOGET_VSCREENINFO, &v); /* trapped: the request is fbdev's */
	}
	return NULL;
}

static int linger(int argc, char **argv)
{
	double end = now() + (argc > 0 ? atof(argv[0]) : 5);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int listener = socket(AF_INET, SOCK_STREAM, 0), rounds = 0;
	pthread_t t;

	if (bind(listener, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(listener, 4096) < 0) {
		fprintf(stderr, "listen: %s\n", strerror(errno));
		return 2;
	}
	pthread_create(&t, NULL, ioctl_on_race_fd, &end);
	while (now() < end) {
		int s = lingering_socket(listener);
		if (s < 0)
			break;
		atomic_store(&race_fd, s);
		usleep(50); /* let the other thread's ioctl reach the daemon */
		atomic_store(&race_fd, -1);
		close(s); /* if the daemon holds it now, its close is the last */
		rounds++;
	}
	pthread_join(t, NULL);
	printf("rounds=%d\n", rounds);
	return 0;
}

/* Item 3: munmap of a big populated region holds the mmap lock for a while. */
static atomic_bool churn_stop;

static void *churn(void *arg)
{
	size_t size = 64u << 20;

	(void)arg;
	while (!atomic_load(&churn_stop)) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p != MAP_FAILED)
			munmap(p, size);
	}
	return NULL;
}

static int mmap_churn(int argc, char **argv)
{
	double end = now() + (argc > 0 ? atof(argv[0]) : 5);
	int fb = open_or_die("/dev/fb0", O_RDWR);
	struct fb_var_screeninfo v;
	pthread_t t[2];
	long calls = 0;

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	while (now() < end && ioctl(fb, FBIOGET_VSCREENINFO, &v) == 0)
		calls++;
	atomic_store(&churn_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("calls=%ld\n", calls);
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int lat(int argc, char **argv)
{
	double seconds = argc > 0 ? atof(argv[0]) : 2, end, t0;
	long gap_us = argc > 1 ? atol(argv[1]) : 200;
	int fb = open_or_die("/dev/fb0", O_RDWR);
	size_t n = 0, cap = 1 << 20;
	double *us = malloc(cap * sizeof(*us));
	struct fb_var_screeninfo v;

	for (int i = 0; i < 100; i++)
		ioctl(fb, FBIOGET_VSCREENINFO, &v);
	end = now() + seconds;
	while ((t0 = now()) < end && n < cap) {
		if (ioctl(fb, FBIOGET_VSCREENINFO, &v) < 0) {
			printf("error=%d\n", errno);
			return 1;
		}
		us[n++] = (now() - t0) * 1e6;
		if (gap_us > 0)
			usleep((useconds_t)gap_us);
	}
	qsort(us, n, sizeof(*us), by_value);
	printf("calls=%zu\nmedian_us=%.2f\np99_us=%.2f\nmax_us=%.2f\n", n, us[n / 2],
	       us[n * 99 / 100], us[n - 1]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "fuse-fault"))
		return fuse_fault();
	if (!strcmp(argv[1], "linger"))
		return linger(argc - 2, argv + 2);
	if (!strcmp(argv[1], "mmap-churn"))
		return mmap_churn(argc - 2, argv + 2);
	if (!strcmp(argv[1], "lat"))
		return lat(argc - 2, argv + 2);
usage:
	fprintf(stderr, "usage: devns_attacks fuse-fault|linger S|mmap-churn S|lat S\n");
	return 2;
}
