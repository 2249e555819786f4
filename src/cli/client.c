#include "cli/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cell: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_connect(struct cli *cli)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	if ((size_t)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/cellsd.sock",
			     cli->run_dir) >= sizeof(addr.sun_path)) {
		cli_error("run directory path too long: %s", cli->run_dir);
		return -1;
	}
	cli->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cli->sock < 0) {
		cli_error("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(cli->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		cli_error("cannot reach cellsd at %s: %s%s", addr.sun_path, strerror(errno),
			  errno == ENOENT || errno == ECONNREFUSED
				  ? " (is cellsd running? see --run or CELLS_RUN)"
				  : "");
		close(cli->sock);
		cli->sock = -1;
		return -1;
	}
	line_reader_init(&cli->reader);
	return 0;
}

int cli_request(struct cli *cli, json_t *req, const int *fds, int nfds, json_t **reply)
{
	json_t *msg = NULL;
	int ret;

	if (!req) {
		cli_error("out of memory");
		return -1;
	}
	/* Connected at the first request, so that usage errors never reach the daemon. */
	if (cli->sock < 0 && cli_connect(cli) < 0) {
		json_decref(req);
		return -1;
	}
	ret = proto_send(cli->sock, req, fds, nfds, 0);
	json_decref(req);
	if (ret < 0) {
		cli_error("send to cellsd: %s", strerror(-ret));
		return -1;
	}
	ret = proto_recv(cli->sock, &cli->reader, &msg);
	if (ret < 0) {
		cli_error("no answer from cellsd: %s", strerror(-ret));
		return -1;
	}
	if (!json_is_true(json_object_get(msg, "ok"))) {
		const char *err = json_string_value(json_object_get(msg, "error"));
		cli_error("%s", err ? err : "request failed");
		json_decref(msg);
		return -1;
	}
	if (reply)
		*reply = msg;
	else
		json_decref(msg);
	return 0;
}
