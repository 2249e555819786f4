/* The terminal side of `cell console` and `cell exec -t`: the caller's terminal and a pty
 * master cellsd handed over, relayed both ways, the window size kept in step. */
#include "cli/relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE_CHAR 0x1d /* Ctrl-] */
#define QUIET_MS    500	 /* piped input ended: output stops when quiet this long */
#define DRAIN_MS    50	 /* the answer came: what the pty still holds */

void relay_copy_winsize(int pty)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		ioctl(pty, TIOCSWINSZ, &ws);
}

bool relay_raw(struct termios *saved)
{
	struct termios raw;

	if (!isatty(0) || tcgetattr(0, saved) < 0)
		return false;
	raw = *saved;
	cfmakeraw(&raw);
	tcsetattr(0, TCSANOW, &raw);
	return true;
}

/* Copy what FROM has to TO. 1: go on; 0: FROM ended (or Ctrl-] with WATCH_ESCAPE). */
static int copy_some(int from, int to, bool watch_escape, bool *escaped)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n <= 0)
		return 0;
	if (watch_escape) {
		char *esc = memchr(buf, ESCAPE_CHAR, (size_t)n);
		if (esc) {
			n = esc - buf;
			*escaped = true;
		}
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd p = {to, POLLOUT, 0};
			poll(&p, 1, 100);
			continue;
		}
		if (w < 0)
			return 0;
		off += w;
	}
	return *escaped ? 0 : 1;
}

void relay_drain(int pty, int ms)
{
	struct pollfd p = {pty, POLLIN, 0};
	bool escaped = false;

	while (poll(&p, 1, ms) > 0 && copy_some(pty, 1, false, &escaped))
		;
}

/* SIGWINCH resizes; SIGTERM, SIGHUP and SIGINT end the relay, so the terminal is given
 * back before cell exits. */
static int watch_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

enum relay_end relay_run(struct relay *r)
{
	bool escaped = false, input_open = true;
	enum relay_end end = RELAY_ERROR;
	bool pty_open = true;
	sigset_t old;
	int sigfd = watch_signals(&old);

	for (;;) {
		struct pollfd fds[4] = {{pty_open ? r->pty : -1, POLLIN, 0},
					{input_open ? 0 : -1, POLLIN, 0},
					{r->sock, POLLIN, 0},
					{sigfd, POLLIN, 0}};
		struct signalfd_siginfo si;

		if (poll(fds, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[3].revents && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGWINCH) {
				relay_copy_winsize(r->pty);
			} else {
				r->signo = (int)si.ssi_signo;
				end = RELAY_SIGNAL;
				break;
			}
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR) &&
		    !copy_some(r->pty, 1, false, &escaped)) {
			/* The command and all that held the pty are gone; its answer follows. */
			pty_open = false;
			if (r->sock < 0) {
				end = RELAY_PTY_CLOSED;
				break;
			}
		}
		if (fds[2].revents) {
			if (pty_open)
				relay_drain(r->pty, DRAIN_MS);
			end = RELAY_ANSWER;
			break;
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR) &&
		    !copy_some(0, r->pty, r->escape, &escaped)) {
			if (escaped) {
				end = RELAY_ESCAPED;
				break;
			}
			input_open = false;
			/* Piped input ended: the command reads an end of file, as from a user's
			 * Ctrl-D, instead of waiting for more. */
			if (!r->input_end_leaves && !isatty(0) && write(r->pty, "\x04", 1) < 0)
				break;
			if (r->input_end_leaves) {
				if (!isatty(0))
					relay_drain(r->pty, QUIET_MS);
				end = RELAY_INPUT_ENDED;
				break;
			}
		}
	}
	if (sigfd >= 0)
		close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return end;
}
