/* `cell console NAME`: the daemon hands over the VP's console pty; we relay it to the
 * terminal until Ctrl-] (or the end of input). */
#include "cli/client.h"
#include "cli/relay.h"

#include <stdio.h>
#include <termios.h>

int cli_console(struct cli *cli, const char *name)
{
	struct relay r = {.sock = -1, .escape = true, .input_end_leaves = true};
	struct termios saved;
	bool tty;

	if (cli_request(cli, json_pack("{s:s, s:s}", "cmd", "console", "name", name), NULL, 0,
			NULL) < 0)
		return 1;
	if (cli->reader.nfds < 1) {
		cli_error("cellsd sent no console");
		return 1;
	}
	r.pty = cli->reader.fds[0];
	/* The console has the size of the last terminal attached to it. */
	relay_copy_winsize(r.pty);
	tty = relay_raw(&saved);
	if (tty)
		fprintf(stderr, "Connected to the console of %s; Ctrl-] to leave.\r\n", name);
	relay_run(&r);
	if (tty) {
		tcsetattr(0, TCSANOW, &saved);
		fprintf(stderr, "\nLeft the console of %s.\n", name);
	}
	return r.signo ? 128 + r.signo : 0;
}
