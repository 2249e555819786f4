/* evlat: input latency, for bench/input.py.
 *
 *   evlat send PATH RATE N     (host) N packets into PATH (cellsd's --input FIFO) at RATE
 *                              packets/s: a contact on slot 0 (its tracking id the same
 *                              each time, so only the first passes) at ABS_MT_POSITION_X
 *                              = the send time (CLOCK_MONOTONIC, us mod 2^31), then
 *                              SYN_REPORT; the VP reads it as ABS_MT_POSITION_X and ABS_X
 *                              (the pointer emulation of its screen)
 *   evlat recv PATH N [any]    (in the VP) read N packets from PATH (/dev/input/event0)
 *                              with CLOCK_MONOTONIC timestamps; prints "ready", then JSON:
 *                              "stamp": now - the event's timestamp (cellsd stamps it when
 *                              it routes the packet: from arriving at cellsd to readable
 *                              here), "total": now - the send time (the whole way from
 *                              the sender), "at": when each packet was read, in us. With
 *                              "any", every packet counts, with or without an ABS_X
 *                              holding its send time (total is then 0)
 *   evlat pipe RATE N          the same packets through a plain pipe to a child reading
 *                              it: the cost of one wake-up of a blocked reader, for scale
 *
 * Built static; the VP and the host share CLOCK_MONOTONIC (the VP's time namespace has no
 * offset). */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PACKET_EVENTS 4 /* what send writes per packet */
#define STAMP	      2 /* the event holding the send time */

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static long long age_of(int sent)
{
	long long d = (now_us() & 0x7fffffff) - sent;

	return d < 0 ? d + 0x80000000LL : d;
}

static void print_samples(const char *name, const long long *v, int n, int last)
{
	printf("\"%s\": [", name);
	for (int i = 0; i < n; i++)
		printf("%s%lld", i ? "," : "", v[i]);
	printf("]%s", last ? "" : ", ");
}

static int send_packets(int fd, int rate, int n)
{
	struct timespec next;
	long long step = 1000000000LL / rate;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int i = 0; i < n; i++) {
		/* One contact on slot 0 that moves: the VP's screen reports its position
		 * again as ABS_X (the pointer emulation), which the reader takes. */
		struct input_event ev[PACKET_EVENTS] = {
			{.type = EV_ABS, .code = ABS_MT_SLOT, .value = 0},
			{.type = EV_ABS, .code = ABS_MT_TRACKING_ID, .value = 1},
			{.type = EV_ABS,
			 .code = ABS_MT_POSITION_X,
			 .value = (int)(now_us() & 0x7fffffff)},
			{.type = EV_SYN, .code = SYN_REPORT},
		};
		if (write(fd, ev, sizeof(ev)) != (ssize_t)sizeof(ev)) {
			fprintf(stderr, "evlat: write: %s\n", strerror(errno));
			return 1;
		}
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return 0;
}

static int recv_packets(const char *path, int n, int any)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), id = CLOCK_MONOTONIC, got = 0, x = -1;
	long long *stamp = calloc((size_t)n, sizeof(*stamp)),
		  *total = calloc((size_t)n, sizeof(*total)), *at = calloc((size_t)n, sizeof(*at));
	struct input_event evs[16];

	if (fd < 0 || ioctl(fd, EVIOCSCLOCKID, &id) < 0 || !stamp || !total || !at) {
		fprintf(stderr, "evlat: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (got < n) {
		ssize_t r = read(fd, evs, sizeof(evs));
		long long now = now_us();
		if (r <= 0) {
			fprintf(stderr, "evlat: read: %s\n", r < 0 ? strerror(errno) : "end");
			return 1;
		}
		for (ssize_t i = 0; i < r / (ssize_t)sizeof(evs[0]) && got < n; i++) {
			if (evs[i].type == EV_ABS && evs[i].code == ABS_X)
				x = evs[i].value;
			if (evs[i].type != EV_SYN || evs[i].code != SYN_REPORT || (x < 0 && !any))
				continue;
			stamp[got] = now - ((long long)evs[i].input_event_sec * 1000000 +
					    evs[i].input_event_usec);
			total[got] = x < 0 ? 0 : age_of(x);
			at[got] = now;
			got++;
			x = -1;
		}
	}
	printf("{");
	print_samples("stamp", stamp, n, 0);
	print_samples("total", total, n, 0);
	print_samples("at", at, n, 1);
	printf("}\n");
	return 0;
}

static int pipe_baseline(int rate, int n)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		long long *total = calloc((size_t)n, sizeof(*total));
		struct input_event ev[PACKET_EVENTS];
		close(p[1]);
		for (int i = 0; i < n; i++) {
			if (read(p[0], ev, sizeof(ev)) != (ssize_t)sizeof(ev))
				_exit(1);
			total[i] = age_of(ev[STAMP].value);
		}
		printf("{");
		print_samples("total", total, n, 1);
		printf("}\n");
		fflush(stdout);
		_exit(0);
	}
	close(p[0]);
	send_packets(p[1], rate, n);
	close(p[1]);
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "send")) {
		int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "evlat: %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		return send_packets(fd, atoi(argv[3]), atoi(argv[4]));
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "recv"))
		return recv_packets(argv[2], atoi(argv[3]), argc == 5 && !strcmp(argv[4], "any"));
	if (argc == 4 && !strcmp(argv[1], "pipe"))
		return pipe_baseline(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: evlat send PATH RATE N | recv PATH N [any] | pipe RATE N\n");
	return 2;
}
