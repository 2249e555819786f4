/* `cell exec [-t] NAME -- CMD...`: the command runs in the VP with our stdin, stdout and
 * stderr, or with -t on a pty of the VP's that we relay to our terminal. Its exit status
 * is ours; if we go (Ctrl-C, a signal), cellsd ends every process it started. */
#include "cli/client.h"
#include "cli/relay.h"
#include "common/cleanup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_CANNOT_RUN 125

static int status_of(json_t *reply)
{
	return (int)json_integer_value(json_object_get(reply, "status"));
}

/* The first answer brought the pty: relay it until the second, the exit status. */
static int relay_until_done(struct cli *cli, int pty)
{
	struct relay r = {.pty = pty, .sock = cli->sock};
	_cleanup_json_ json_t *done = NULL;
	struct termios saved;
	bool tty = relay_raw(&saved);
	enum relay_end end = RELAY_ANSWER;
	int ret;

	/* The answer may have come with the first one, already read. */
	if (cli->reader.len == 0)
		end = relay_run(&r);
	else
		relay_drain(pty, 50);

	if (tty)
		tcsetattr(0, TCSANOW, &saved);
	close(pty);
	/* Leaving closes the connection: cellsd then ends the command and its children. */
	if (end == RELAY_SIGNAL)
		return 128 + r.signo;
	ret = proto_recv(cli->sock, &cli->reader, &done);
	if (ret < 0) {
		cli_error("no answer from cellsd: %s", strerror(-ret));
		return EXIT_CANNOT_RUN;
	}
	if (!json_is_true(json_object_get(done, "ok"))) {
		const char *err = json_string_value(json_object_get(done, "error"));
		cli_error("%s", err ? err : "exec failed");
		return EXIT_CANNOT_RUN;
	}
	return status_of(done);
}

int cli_exec(struct cli *cli, const char *name, char **cmd, int ncmd, bool tty)
{
	const int stdio[3] = {0, 1, 2};
	_cleanup_json_ json_t *reply = NULL;
	json_t *args = json_array(), *req;
	struct winsize ws = {0};

	for (int i = 0; i < ncmd; i++)
		json_array_append_new(args, json_string(cmd[i]));
	req = json_pack("{s:s, s:s, s:o, s:s?, s:b}", "cmd", "exec", "name", name, "argv", args,
			"term", getenv("TERM"), "tty", tty);
	if (req && tty && ioctl(0, TIOCGWINSZ, &ws) == 0) {
		json_object_set_new(req, "rows", json_integer(ws.ws_row));
		json_object_set_new(req, "cols", json_integer(ws.ws_col));
	}
	if (cli_request(cli, req, stdio, 3, &reply) < 0)
		return EXIT_CANNOT_RUN;
	if (json_is_true(json_object_get(reply, "pty")) && cli->reader.nfds > 0) {
		int pty = cli->reader.fds[0];
		cli->reader.nfds = 0;
		return relay_until_done(cli, pty);
	}
	/* No pty came (the exec failed before its command ran): this is the status. */
	return status_of(reply);
}
