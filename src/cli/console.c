/* `cell console NAME`: the daemon hands over the VP's console pty; we relay it to the
 * terminal until Ctrl-] (or the end of input). */
#include "cli/client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE_CHAR 0x1d /* Ctrl-] */

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

int cli_console(struct cli *cli, const char *name)
{
	struct termios saved, raw;
	bool tty = isatty(0), escaped = false, input_open = true;
	int pty;

	if (cli_request(cli, json_pack("{s:s, s:s}", "cmd", "console", "name", name), NULL, 0,
			NULL) < 0)
		return 1;
	if (cli->reader.nfds < 1) {
		cli_error("cellsd sent no console");
		return 1;
	}
	pty = cli->reader.fds[0];
	if (tty) {
		fprintf(stderr, "Connected to the console of %s; Ctrl-] to leave.\r\n", name);
		tcgetattr(0, &saved);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	for (;;) {
		struct pollfd fds[2] = {{pty, POLLIN, 0}, {0, input_open ? POLLIN : 0, 0}};
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !copy_some(pty, 1, false, &escaped))
			break;
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			/* At the end of a piped input, keep showing output until the VP is quiet.
			 */
			if (!copy_some(0, pty, tty, &escaped)) {
				if (escaped || tty)
					break;
				input_open = false;
				struct pollfd p = {pty, POLLIN, 0};
				while (poll(&p, 1, 500) > 0 && copy_some(pty, 1, false, &escaped))
					;
				break;
			}
		}
	}
	if (tty) {
		tcsetattr(0, TCSANOW, &saved);
		fprintf(stderr, "\nLeft the console of %s.\n", name);
	}
	return 0;
}
