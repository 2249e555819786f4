/* The control socket: RUN/cellsd.sock, mode 0600, root peers only (SO_PEERCRED); one JSON
 * request per line, one JSON answer per line. */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void client_free(struct client *c)
{
	struct daemon *d = c->daemon;

	for (struct client **p = &d->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	line_reader_release(&c->reader);
	close(c->watch.fd);
	free(c);
}

/* The peer hung up (or broke the protocol). A client with an answer pending stays until
 * the answer is due, so no pointer to it dangles. */
static void client_close(struct client *c)
{
	struct daemon *d = c->daemon;

	if (c->closed)
		return;
	c->closed = true;
	c->subscribed = false;
	loop_del(&d->loop, &c->watch);
	if (c->console_vp) {
		console_detach(c->console_vp);
		c->console_vp = NULL;
	}
	job_cancel_client(d, c);
	input_play_cancel_client(d, c);
	if (!c->busy)
		client_free(c);
}

void client_reply_fds(struct client *c, json_t *reply, const int *fds, int nfds)
{
	if (!reply) {
		client_reply_error(c, "out of memory");
		return;
	}
	/* A client that does not read its answers loses its connection: a half-sent line
	 * must not be followed by the next one. */
	if (!c->closed && proto_send(c->watch.fd, reply, fds, nfds, MSG_DONTWAIT) < 0) {
		log_warn("dropping a client that does not read its answers");
		shutdown(c->watch.fd, SHUT_RDWR);
	}
	json_decref(reply);
}

void client_reply(struct client *c, json_t *reply)
{
	client_reply_fds(c, reply, NULL, 0);
}

void client_reply_error(struct client *c, const char *msg)
{
	client_reply(c, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

static void process_lines(struct client *c);

void client_release(struct client *c)
{
	c->busy = false;
	if (c->closed) {
		client_free(c);
		return;
	}
	/* Requests that came while this one was pending. */
	process_lines(c);
}

static void process_lines(struct client *c)
{
	while (!c->busy && !c->closed) {
		size_t consumed;
		int overlong;
		char *line = line_reader_next(&c->reader, &consumed, &overlong);
		json_error_t jerr;
		json_t *req;

		if (overlong) {
			client_reply_error(c, "request line too long");
			client_close(c);
			return;
		}
		if (!line)
			return;
		req = json_loads(line, 0, &jerr);
		line_reader_consume(&c->reader, consumed);
		if (!json_is_object(req)) {
			char msg[256];
			snprintf(msg, sizeof(msg), "malformed request: %s",
				 req ? "not a JSON object" : jerr.text);
			client_reply_error(c, msg);
		} else {
			int fds[PROTO_MAX_FDS];
			int nfds = c->reader.nfds;
			memcpy(fds, c->reader.fds, sizeof(int) * (size_t)nfds);
			c->reader.nfds = 0;
			command_dispatch(c, req, fds, nfds);
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
		}
		json_decref(req);
	}
}

static void on_client(struct loop_watch *w, uint32_t events)
{
	struct client *c = container_of(w, struct client, watch);
	int n = line_reader_fill(&c->reader, w->fd);

	if (n == -EAGAIN)
		return;
	if (n <= 0 || (events & (EPOLLERR))) {
		client_close(c);
		return;
	}
	process_lines(c);
}

static bool peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0;
}

static void on_accept(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, listener);
	struct client *c;
	int fd, ret;

	(void)events;
	fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn_errno(errno, "accept");
		return;
	}
	if (!peer_is_root(fd)) {
		_cleanup_json_ json_t *msg =
			json_pack("{s:b, s:s}", "ok", 0, "error", "permission denied: not root");
		if (msg)
			proto_send(fd, msg, NULL, 0, MSG_DONTWAIT);
		close(fd);
		log_warn("refused a control connection from a non-root peer");
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->daemon = d;
	line_reader_init(&c->reader);
	c->watch = (struct loop_watch){.fd = fd, .handle = on_client};
	if ((ret = loop_add(&d->loop, &c->watch, EPOLLIN)) < 0) {
		log_warn_errno(-ret, "watch a client");
		close(fd);
		free(c);
		return;
	}
	c->next = d->clients;
	d->clients = c;
}

int control_listen(struct daemon *d, struct error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	mode_t old_umask;
	int fd, ret;

	if ((size_t)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/cellsd.sock", d->run_dir) >=
	    sizeof(addr.sun_path))
		return error_set(err, ENAMETOOLONG, "control socket path");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, errno, "socket");
	unlink(addr.sun_path);
	/* Created 0600 from the start: there is no moment when others could connect. */
	old_umask = umask(0177);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (ret < 0 || listen(fd, 64) < 0) {
		ret = error_set(err, errno, "listen on %s", addr.sun_path);
		close(fd);
		return ret;
	}
	d->listener = (struct loop_watch){.fd = fd, .handle = on_accept};
	if ((ret = loop_add(&d->loop, &d->listener, EPOLLIN)) < 0) {
		close(fd);
		return error_set(err, ret, "watch the control socket");
	}
	return 0;
}
