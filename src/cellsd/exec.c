/* `cell exec`: a command started in a running VP, answered in up to three parts. At once,
 * the client's ends of pipes cellsd made (the command's stdin, stdout and stderr; with a
 * terminal, only stderr, for errors before the pty): no descriptor of the caller's ever
 * goes into the VP, so nothing the command leaves behind keeps the caller's terminal.
 * With a terminal, the pty's master. Last, the exit status when the helper ends. */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_MAX_ARGS 256

static void on_exec_done(struct job *job, int status)
{
	struct client *c = job->client;

	if (!c || c->closed)
		return;
	client_reply(c,
		     json_pack("{s:b, s:i}", "ok", 1, "status",
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
}

static int exec_window(json_t *req, struct vp_exec_args *a, struct error *err)
{
	json_t *tty = json_object_get(req, "tty");
	json_t *rows = json_object_get(req, "rows"), *cols = json_object_get(req, "cols");

	if (tty && !json_is_boolean(tty))
		return error_set(err, 0, "\"tty\" must be true or false");
	a->tty = json_is_true(tty);
	if ((rows && (!json_is_integer(rows) || json_integer_value(rows) < 0 ||
		      json_integer_value(rows) > 65535)) ||
	    (cols && (!json_is_integer(cols) || json_integer_value(cols) < 0 ||
		      json_integer_value(cols) > 65535)))
		return error_set(err, 0, "\"rows\" and \"cols\" must be 0..65535");
	a->rows = (unsigned short)json_integer_value(rows);
	a->cols = (unsigned short)json_integer_value(cols);
	return 0;
}

/* ARGV from the request's "argv" (its strings, kept by REQ). */
static int exec_argv(json_t *req, char **argv, struct error *err)
{
	json_t *args = json_object_get(req, "argv"), *arg;
	size_t i;

	if (!json_is_array(args) || json_array_size(args) == 0 ||
	    json_array_size(args) > EXEC_MAX_ARGS)
		return error_set(err, 0, "\"argv\" must be an array of 1 to 256 strings");
	json_array_foreach(args, i, arg)
	{
		if (!json_is_string(arg))
			return error_set(err, 0, "\"argv\" must hold strings");
		argv[i] = (char *)json_string_value(arg);
	}
	argv[json_array_size(args)] = NULL;
	return 0;
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The command's stdio as pipes: VP[i] its ends, MINE[i] the client's (stdin, stdout,
 * stderr; with TTY, stderr alone in MINE[0] and VP[2]). Returns how many the client gets. */
static int make_pipes(bool tty, int vp[3], int mine[3], struct error *err)
{
	int p[2];

	vp[0] = vp[1] = vp[2] = mine[0] = mine[1] = mine[2] = -1;
	for (int i = tty ? 2 : 0; i < 3; i++) {
		if (pipe2(p, O_CLOEXEC) < 0) {
			close_fds(vp, 3);
			close_fds(mine, 3);
			return error_set(err, errno, "pipe");
		}
		/* stdin: the command reads; stdout, stderr: it writes. */
		vp[i] = p[i == 0 ? 0 : 1];
		mine[tty ? 0 : i] = p[i == 0 ? 1 : 0];
	}
	return tty ? 1 : 3;
}

void cmd_exec(struct client *c, json_t *req, int *fds, int nfds)
{
	struct vp_exec_args exec = {.term = json_string_value(json_object_get(req, "term"))};
	struct daemon *d = c->daemon;
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);
	char *argv[EXEC_MAX_ARGS + 1];
	int mine[3], nmine, listener, pty;
	struct job *job;
	pid_t pid;

	/* Descriptors sent along (older clients sent their stdio) are not used: the control
	 * socket's reader closes them. */
	(void)fds, (void)nfds;
	if (!vp)
		return;
	if (vp->state != VP_RUNNING) {
		snprintf(err.msg, sizeof(err.msg), "VP %s is not running", vp->config.name);
		client_reply_error(c, err.msg);
		return;
	}
	if (exec_argv(req, argv, &err) < 0 || exec_window(req, &exec, &err) < 0) {
		client_reply_error(c, err.msg);
		return;
	}
	exec.argv = argv;
	if ((nmine = make_pipes(exec.tty, exec.stdio, mine, &err)) < 0) {
		client_reply_error(c, err.msg);
		return;
	}
	devns_lock(&d->devns);
	pid = vp_exec(&vp->rt, &exec, &listener, &pty, &err);
	devns_unlock(&d->devns);
	close_fds(exec.stdio, 3);
	if (pid < 0) {
		close_fds(mine, 3);
		client_reply_error(c, err.msg);
		return;
	}
	client_reply_fds(c, json_pack("{s:b, s:b}", "ok", 1, "stdio", 1), mine, nmine);
	close_fds(mine, 3);
	if (listener >= 0 && devns_vp_listen(&vp->devns, listener, &err) < 0)
		log_warn("exec in %s: %s", vp->config.name, err.msg);
	if (pty >= 0) {
		client_reply_fds(c, json_pack("{s:b, s:b}", "ok", 1, "pty", 1), &pty, 1);
		close(pty);
	}
	job = job_start(d, pid, c, on_exec_done, &err);
	if (!job)
		client_reply_error(c, err.msg);
	else
		job->ends_with_client = true;
}
