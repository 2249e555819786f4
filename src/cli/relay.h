/* Relaying the caller's terminal to a pty of a VP (`cell console`, `cell exec -t`), and
 * the caller's stdio to the pipes of `cell exec`. */
#ifndef CELLS_CLI_RELAY_H
#define CELLS_CLI_RELAY_H

#include <stdbool.h>
#include <termios.h>

enum relay_end {
	RELAY_PTY_CLOSED,  /* nobody holds the pty's other side any more */
	RELAY_ESCAPED,	   /* Ctrl-] */
	RELAY_INPUT_ENDED, /* the caller's input ended (with input_end_leaves) */
	RELAY_ANSWER,	   /* the control socket has the answer */
	RELAY_SIGNAL,	   /* SIGTERM, SIGHUP or SIGINT: signo says which */
	RELAY_ERROR,
};

struct relay {
	int pty;	       /* the pty's master */
	int sock;	       /* -1, or the control socket: readable when the answer comes */
	bool escape;	       /* Ctrl-] leaves */
	bool input_end_leaves; /* the end of the caller's input ends the relay */
	int signo;	       /* out: with RELAY_SIGNAL */
};

/* Relay until one of the ends above. The window size follows the caller's terminal on
 * SIGWINCH. */
enum relay_end relay_run(struct relay *r);
/* Show what PTY has until it is quiet for MS milliseconds. */
void relay_drain(int pty, int ms);
/* The caller's terminal size, given to PTY. */
void relay_copy_winsize(int pty);
/* `cell exec` without -t: relay our stdin to PIPES[0], PIPES[1] to our stdout and PIPES[2]
 * to our stderr until SOCK is readable (cellsd's answer: the command ended; ANSWERED when
 * it already came), then what the command wrote, and close PIPES. */
void relay_pipes(int pipes[3], int sock, bool answered);
/* Copy to TO what the pipe *FROM holds now (no more than its size: what comes meanwhile
 * is from processes the command left behind); *FROM closed and -1 at its end. */
void relay_pipe_drain(int *from, int to);
/* Put the caller's terminal (stdin) in raw mode, keeping its settings in SAVED; false
 * when stdin is not a terminal. */
bool relay_raw(struct termios *saved);

#endif
