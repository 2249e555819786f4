/*
 * fblat SECONDS: FBIOGET_VSCREENINFO on /dev/fb0 (an ioctl cellsd answers through the
 * seccomp listener) in a loop for SECONDS, for test_exec_stall.py. Prints "ready" after
 * the first answer, then "calls=N max_us=M" (the slowest answer). SECONDS 0: one call.
 * Exits 1 with the error when a call fails. Built static by the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0, start, slowest = 0;
	struct fb_var_screeninfo v;
	long calls = 0;
	int fd = open("/dev/fb0", O_RDWR);

	if (fd < 0) {
		printf("error=open /dev/fb0: %s\n", strerror(errno));
		return 1;
	}
	start = now();
	do {
		double t0 = now();
		if (ioctl(fd, FBIOGET_VSCREENINFO, &v) < 0) {
			printf("error=FBIOGET_VSCREENINFO: %s\n", strerror(errno));
			return 1;
		}
		if (now() - t0 > slowest)
			slowest = now() - t0;
		if (calls++ == 0) {
			printf("ready\n");
			fflush(stdout);
		}
	} while (now() - start < seconds);
	printf("calls=%ld max_us=%.0f\n", calls, slowest * 1e6);
	return 0;
}
