/* `cell exec [-t] NAME -- CMD...`: the command runs in the VP on pipes cellsd made, which
 * we relay to our stdin, stdout and stderr, or with -t on a pty of the VP's that we relay
 * to our terminal; no descriptor of ours goes into the VP, so nothing the command leaves
 * behind can keep our terminal. Its exit status is ours; if we go (Ctrl-C, a signal),
 * cellsd ends every process it started. */
#include "cli/client.h"
#include "cli/relay.h"
#include "common/cleanup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_CANNOT_RUN 125

/* The last answer: the command's exit status, or why it could not run. */
static int final_status(struct cli *cli)
{
	_cleanup_json_ json_t *done = NULL;
	int ret = proto_recv(cli->sock, &cli->reader, &done);

	if (ret < 0) {
		cli_error("no answer from cellsd: %s", strerror(-ret));
		return EXIT_CANNOT_RUN;
	}
	line_reader_release(&cli->reader);
	if (!json_is_true(json_object_get(done, "ok"))) {
		const char *err = json_string_value(json_object_get(done, "error"));
		cli_error("%s", err ? err : "exec failed");
		return EXIT_CANNOT_RUN;
	}
	return (int)json_integer_value(json_object_get(done, "status"));
}

/* The pty came: relay it until the exit status. */
static int relay_until_done(struct cli *cli, int pty)
{
	struct relay r = {.pty = pty, .sock = cli->sock};
	struct termios saved;
	bool tty = relay_raw(&saved);
	enum relay_end end = RELAY_ANSWER;

	/* The answer may have come with the pty's, already read. */
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
	return final_status(cli);
}

/* -t: the next answer is the pty's, or the status of a command that could not start
 * (why, on ERRORS: the helper's messages before the pty). */
static int exec_tty(struct cli *cli, int errors)
{
	_cleanup_json_ json_t *next = NULL;
	int ret = proto_recv(cli->sock, &cli->reader, &next), status;

	if (ret < 0) {
		close(errors);
		cli_error("no answer from cellsd: %s", strerror(-ret));
		return EXIT_CANNOT_RUN;
	}
	if (json_is_true(json_object_get(next, "pty")) && cli->reader.nfds == 1) {
		int pty = cli->reader.fds[0];
		cli->reader.nfds = 0;
		status = relay_until_done(cli, pty);
	} else if (json_is_true(json_object_get(next, "pty"))) {
		line_reader_release(&cli->reader);
		cli_error("cellsd did not send the pty");
		status = EXIT_CANNOT_RUN;
	} else if (!json_is_true(json_object_get(next, "ok"))) {
		const char *err = json_string_value(json_object_get(next, "error"));
		cli_error("%s", err ? err : "exec failed");
		status = EXIT_CANNOT_RUN;
	} else {
		status = (int)json_integer_value(json_object_get(next, "status"));
	}
	relay_pipe_drain(&errors, 2);
	if (errors >= 0)
		close(errors);
	return status;
}

int cli_exec(struct cli *cli, const char *name, char **cmd, int ncmd, bool tty)
{
	_cleanup_json_ json_t *reply = NULL;
	json_t *args = json_array(), *req;
	struct winsize ws = {0};
	int pipes[3];

	for (int i = 0; i < ncmd; i++)
		json_array_append_new(args, json_string(cmd[i]));
	req = json_pack("{s:s, s:s, s:o, s:s?, s:b}", "cmd", "exec", "name", name, "argv", args,
			"term", getenv("TERM"), "tty", tty);
	if (req && tty && ioctl(0, TIOCGWINSZ, &ws) == 0) {
		json_object_set_new(req, "rows", json_integer(ws.ws_row));
		json_object_set_new(req, "cols", json_integer(ws.ws_col));
	}
	if (cli_request(cli, req, NULL, 0, &reply) < 0)
		return EXIT_CANNOT_RUN;
	if (!json_is_true(json_object_get(reply, "stdio")) || cli->reader.nfds != (tty ? 1 : 3)) {
		line_reader_release(&cli->reader);
		cli_error("cellsd did not answer with the command's pipes");
		return EXIT_CANNOT_RUN;
	}
	memcpy(pipes, cli->reader.fds, sizeof(int) * (size_t)cli->reader.nfds);
	cli->reader.nfds = 0;
	if (tty)
		return exec_tty(cli, pipes[0]);
	/* The status may have come with the pipes' answer, already read. */
	relay_pipes(pipes, cli->sock, cli->reader.len > 0);
	return final_status(cli);
}
