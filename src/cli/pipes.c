/* The pipe side of `cell exec` without -t: our stdin to the command's stdin pipe, its
 * stdout and stderr pipes to ours, until cellsd answers that the command has ended. */
#include "cli/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <termios.h>
#include <unistd.h>

#define CHUNK		    65536
#define BACKGROUND_CHECK_MS 200

/* All of BUF to FD (which may be non-blocking). Returns 0, or -1 when FD is broken. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd p = {fd, POLLOUT, 0};
			poll(&p, 1, -1);
			continue;
		}
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One read of *FROM copied to TO, up to MAX bytes. Returns the bytes copied, 0 when there
 * is nothing now; *FROM is closed (-1) at its end or when TO is broken: a command writing
 * to a closed stdout then gets its EPIPE, as it would without us. */
static size_t copy_out(int *from, int to, size_t max)
{
	char buf[CHUNK];
	ssize_t n = read(*from, buf, max < sizeof(buf) ? max : sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0 || write_all(to, buf, (size_t)n) < 0) {
		close(*from);
		*from = -1;
		return 0;
	}
	return (size_t)n;
}

/* What *FROM holds now, to TO. The command has ended, so what it wrote is in the pipe,
 * which holds at most its size: reading no more than that leaves out whatever a process
 * it left behind writes meanwhile, however much. */
void relay_pipe_drain(int *from, int to)
{
	int size = *from >= 0 ? fcntl(*from, F_GETPIPE_SZ) : 0;
	size_t left = size > 0 ? (size_t)size : CHUNK, n;

	if (*from >= 0)
		fcntl(*from, F_SETFL, O_NONBLOCK);
	while (*from >= 0 && left > 0 && (n = copy_out(from, to, left)) > 0)
		left -= n;
}

enum { P_STDIN, P_TO_CMD, P_OUT, P_ERR, P_SOCK, P_COUNT };

/* Whether to read our stdin now: not while it is a terminal of which we are a background
 * job (the read would stop us with SIGTTIN, whether or not the command reads). */
static bool may_read_stdin(bool tty)
{
	return !tty || tcgetpgrp(0) == getpgrp();
}

void relay_pipes(int pipes[3], int sock, bool answered)
{
	char inbuf[CHUNK];
	size_t inlen = 0, inoff = 0;
	bool input_open = true, tty = isatty(0);
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;

	/* A closed stdin pipe or stdout of ours is an EPIPE to handle, not a death. */
	sigaction(SIGPIPE, &ign, &old);
	for (int i = 0; i < 3; i++)
		fcntl(pipes[i], F_SETFL, O_NONBLOCK);
	while (!answered) {
		bool want_input = input_open && inlen == 0, may_read = may_read_stdin(tty);
		struct pollfd p[P_COUNT] = {
			[P_STDIN] = {want_input && may_read ? 0 : -1, POLLIN, 0},
			[P_TO_CMD] = {inlen > 0 ? pipes[0] : -1, POLLOUT, 0},
			[P_OUT] = {pipes[1], POLLIN, 0},
			[P_ERR] = {pipes[2], POLLIN, 0},
			[P_SOCK] = {sock, POLLIN, 0},
		};

		/* In the background, look again now and then: `fg` tells us nothing. */
		if (poll(p, P_COUNT, want_input && !may_read ? BACKGROUND_CHECK_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[P_STDIN].revents) {
			ssize_t n = read(0, inbuf, sizeof(inbuf));
			if (n > 0) {
				inlen = (size_t)n;
				inoff = 0;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				input_open = false;
			}
		}
		if (p[P_TO_CMD].revents) {
			ssize_t w = write(pipes[0], inbuf + inoff, inlen - inoff);
			if (w > 0) {
				inoff += (size_t)w;
				if (inoff == inlen)
					inlen = inoff = 0;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				/* The command closed its stdin: the rest of ours is not for it. */
				inlen = inoff = 0;
				input_open = false;
			}
		}
		/* Our input ended and all of it went: the command reads its end. */
		if (!input_open && inlen == 0 && pipes[0] >= 0) {
			close(pipes[0]);
			pipes[0] = -1;
		}
		if (p[P_OUT].revents)
			copy_out(&pipes[1], 1, CHUNK);
		if (p[P_ERR].revents)
			copy_out(&pipes[2], 2, CHUNK);
		if (p[P_SOCK].revents)
			answered = true;
	}
	relay_pipe_drain(&pipes[1], 1);
	relay_pipe_drain(&pipes[2], 2);
	for (int i = 0; i < 3; i++)
		if (pipes[i] >= 0)
			close(pipes[i]);
	sigaction(SIGPIPE, &old, NULL);
}
