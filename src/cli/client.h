/* The CLI's side of the control protocol. */
#ifndef CELLS_CLI_CLIENT_H
#define CELLS_CLI_CLIENT_H

#include "common/proto.h"

#include <jansson.h>
#include <stdbool.h>

struct cli {
	const char *run_dir;
	int sock;
	struct line_reader reader;
};

/* Connect to RUN_DIR/cellsd.sock; prints the error and returns -1 on failure. */
int cli_connect(struct cli *cli);
/* Send REQ (stolen) with FDS, connecting first if need be; wait for the answer. A failed answer
 * ("ok": false) is printed and gives -1; *REPLY is set on success only. Descriptors that came along
 * stay in cli->reader.fds. */
int cli_request(struct cli *cli, json_t *req, const int *fds, int nfds, json_t **reply);
/* Print "cell: MSG" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* console.c */
int cli_console(struct cli *cli, const char *name);
/* exec.c: run CMD (NCMD words) in VP NAME; returns its exit status, 125 if it could not
 * run. With TTY, on a pty of the VP's relayed to the caller's terminal. */
int cli_exec(struct cli *cli, const char *name, char **cmd, int ncmd, bool tty);
/* device.c: `cell device [DEVICE VERB [ARG]...]`. */
int cli_device(struct cli *cli, int argc, char **argv);

#endif
