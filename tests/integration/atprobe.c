/* A VP program on /dev/ttyM0 for the telephony tests: sends AT commands and prints what
 * the modem answers, then may wait for a pattern.
 *
 *   atprobe [-d DEV] [-u PATTERN] [-t SECONDS] [CMD...]
 *
 * Each CMD is written with a CR and answered up to its final result; after a "> "
 * prompt (+CMGS) the next CMD is the message, sent with Ctrl-Z (a CMD "ESC" sends ESC).
 * With -u, it then reads until PATTERN was seen (exit 0) or SECONDS passed (exit 1);
 * with -t alone it reads for SECONDS. Output: what was read, CRs dropped, flushed as it
 * comes (a test reads the file it goes to), bytes that are not text as '.'; input left
 * unread by an earlier program is dropped first. Exit 2 on a command without a final result. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static char seen[1 << 16];
static size_t nseen;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read what comes within MS; appended to SEEN and printed. */
static int pump(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	char buf[4096];
	int r = poll(&p, 1, ms);
	if (r <= 0)
		return r;
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\r')
			continue;
		if ((buf[i] < 0x20 || buf[i] > 0x7e) && buf[i] != '\n')
			buf[i] = '.'; /* binary shown as dots: the output is text */
		putchar(buf[i]);
		if (nseen < sizeof(seen) - 1)
			seen[nseen++] = buf[i];
	}
	seen[nseen] = '\0';
	fflush(stdout);
	return 1;
}

static const char *const finals[] = {
	"\nOK\n",	  "\nERROR\n", "\n+CME ERROR:", "\n+CMS ERROR:",
	"\nNO CARRIER\n", "\nBUSY\n",  "\nNO ANSWER\n", NULL};

/* 1 final result, 2 prompt, 0 none in time, from FROM on. */
static int wait_result(int fd, size_t from, double timeout)
{
	double end = now() + timeout;
	while (now() < end) {
		for (int i = 0; finals[i]; i++) {
			char *p = strstr(seen + from, finals[i]);
			if (p && (finals[i][1] != '+' || strchr(p + 1, '\n')))
				return 1;
		}
		if (strstr(seen + from, "> "))
			return 2;
		if (pump(fd, 50) < 0)
			return 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/ttyM0", *until = NULL;
	double secs = 0;
	struct termios t;
	int opt, fd;

	while ((opt = getopt(argc, argv, "d:u:t:")) != -1) {
		if (opt == 'd')
			dev = optarg;
		else if (opt == 'u')
			until = optarg;
		else if (opt == 't')
			secs = atof(optarg);
		else
			return 64;
	}
	if ((fd = open(dev, O_RDWR | O_NOCTTY)) < 0) {
		perror(dev);
		return 3;
	}
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	tcflush(fd, TCIFLUSH); /* what an earlier program left unread is not ours */
	for (int i = optind; i < argc; i++) {
		size_t from = nseen;
		char line[2048];
		int r;
		if (strcmp(argv[i], "ESC") == 0)
			snprintf(line, sizeof(line), "\x1b");
		else
			snprintf(line, sizeof(line), "%s\r", argv[i]);
		if (write(fd, line, strlen(line)) < 0)
			return 3;
		r = wait_result(fd, from, 10);
		if (r == 2 && i + 1 < argc) {
			from = nseen;
			i++;
			if (strcmp(argv[i], "ESC") == 0)
				snprintf(line, sizeof(line), "\x1b");
			else
				snprintf(line, sizeof(line), "%s\x1a", argv[i]);
			if (write(fd, line, strlen(line)) < 0)
				return 3;
			r = wait_result(fd, from, 10);
		}
		if (r != 1)
			return 2;
	}
	if (until || secs > 0) {
		double end = now() + (secs > 0 ? secs : 10);
		size_t from = nseen;
		while (now() < end) {
			if (until && strstr(seen + from, until))
				return 0;
			if (pump(fd, 50) < 0)
				break;
		}
		return until ? 1 : 0;
	}
	return 0;
}
