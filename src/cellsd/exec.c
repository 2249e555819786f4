/* `cell exec`: a command started in a running VP, answered in up to three parts. At once,
 * the client's ends of pipes cellsd made (the command's stdin, stdout and stderr; with a
 * terminal, only stderr, for errors before the pty): no descriptor of the caller's ever
 * goes into the VP, so nothing the command leaves behind keeps the caller's terminal.
 * With a terminal, the pty's master when the helper sends it. Last, the exit status when
 * the helper ends.
 *
 * Nothing waits for the VP: the helper is forked (the device lock held around the fork
 * alone) and its socket is watched on the loop, so a VP whose new process is stopped or
 * starved delays its own exec and nothing else. */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_MAX_ARGS 256

/* One exec, from its start to its helper's end (its job's context). */
struct exec {
	struct daemon *daemon;
	struct client *client; /* held by the job until it is done */
	char vp_name[NAME_MAX_LEN + 1];
	uint64_t vp_started_ns;	 /* the VP's run it started in */
	struct loop_watch watch; /* the helper's socket, until it hangs up */
	bool tty;
	bool pty_sent;
};

/* The command's seccomp listener goes to the VP's devices, if the VP still runs the run
 * the exec started in (it may have stopped, even been destroyed, meanwhile). */
static void take_listener(struct exec *x, int fd)
{
	struct vp *vp = vp_find(x->daemon, x->vp_name);
	struct error err = {{0}};

	if (!vp || vp->state != VP_RUNNING || vp->started_ns != x->vp_started_ns) {
		close(fd);
		return;
	}
	if (devns_vp_listen(&vp->devns, fd, &err) < 0)
		log_warn("exec in %s: %s", x->vp_name, err.msg);
}

static void take_pty(struct exec *x, int fd)
{
	if (x->tty && !x->pty_sent) {
		x->pty_sent = true;
		client_reply_fds(x->client, json_pack("{s:b, s:b}", "ok", 1, "pty", 1), &fd, 1);
	}
	close(fd);
}

static void stop_watching(struct exec *x)
{
	if (x->watch.fd < 0)
		return;
	loop_del(&x->daemon->loop, &x->watch);
	close(x->watch.fd);
	x->watch.fd = -1;
}

/* What the helper has sent so far; when it hangs up, the watch ends. */
static void read_messages(struct exec *x)
{
	enum vp_exec_message kind;
	int fd, ret;

	while (x->watch.fd >= 0 && (ret = vp_exec_receive(x->watch.fd, &kind, &fd)) != -EAGAIN) {
		if (ret <= 0) {
			stop_watching(x);
			return;
		}
		if (kind == VP_EXEC_LISTENER && fd >= 0)
			take_listener(x, fd);
		else if (kind == VP_EXEC_PTY && fd >= 0)
			take_pty(x, fd);
		else if (fd >= 0)
			close(fd);
	}
}

static void on_exec_message(struct loop_watch *w, uint32_t events)
{
	(void)events;
	read_messages(container_of(w, struct exec, watch));
}

static void on_exec_done(struct job *job, int status)
{
	struct exec *x = job->ctx;
	struct client *c = job->client;

	/* The helper is gone, so all it sent is queued: the pty's answer goes before the
	 * status, and the listener to the devices, for what the command left running. */
	read_messages(x);
	stop_watching(x);
	free(x);
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
	int mine[3], sock, nmine, ret;
	struct exec *x;
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
	x = calloc(1, sizeof(*x));
	if (!x) {
		client_reply_error(c, "out of memory");
		return;
	}
	*x = (struct exec){.daemon = d,
			   .client = c,
			   .vp_started_ns = vp->started_ns,
			   .tty = exec.tty,
			   .watch = {.fd = -1, .handle = on_exec_message}};
	snprintf(x->vp_name, sizeof(x->vp_name), "%s", vp->config.name);
	if ((nmine = make_pipes(exec.tty, exec.stdio, mine, &err)) < 0) {
		free(x);
		client_reply_error(c, err.msg);
		return;
	}
	pid = vp_exec(&vp->rt, &exec, &sock, &err);
	close_fds(exec.stdio, 3);
	if (pid < 0) {
		close_fds(mine, 3);
		free(x);
		client_reply_error(c, err.msg);
		return;
	}
	/* Answered before anything the helper sends: the pipes first. */
	client_reply_fds(c, json_pack("{s:b, s:b}", "ok", 1, "stdio", 1), mine, nmine);
	close_fds(mine, 3);
	x->watch.fd = sock;
	if ((ret = loop_add(&d->loop, &x->watch, EPOLLIN)) < 0) {
		log_warn_errno(-ret, "exec in %s: watch its helper", vp->config.name);
		close(sock);
		x->watch.fd = -1;
		kill(pid, SIGTERM);
	}
	job = job_start(d, pid, c, on_exec_done, &err);
	if (!job) {
		stop_watching(x);
		free(x);
		client_reply_error(c, err.msg);
		return;
	}
	job->ctx = x;
	job->ends_with_client = true;
}
