/* The control socket: the remote parties and the network on command, one JSON object per
 * line each way (docs/TELEPHONY.md, "Control protocol"), and events to the clients that
 * subscribed. Clients are tests and the demo, trusted as the person who started the
 * simulator is; still, a line too long or not JSON gets an error, not a crash. */
#include "modemsim/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

int control_listen(struct sim *sim, const char *path, struct error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return error_set(err, ENAMETOOLONG, "control socket %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, errno, "socket");
	if (unlink(path) < 0 && errno != ENOENT)
		return error_set(err, errno, "unlink %s", path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return error_set(err, errno, "bind %s", path);
	if (listen(fd, 16) < 0)
		return error_set(err, errno, "listen %s", path);
	sim->listener = take_fd(&fd);
	return 0;
}

static void client_close(struct client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	cl->subscribed = false;
	cl->at_events = false;
	cl->len = 0;
}

void control_accept(struct sim *sim)
{
	int fd = accept4(sim->listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn_errno(errno, "accept on the control socket");
		return;
	}
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (sim->clients[i].fd < 0) {
			sim->clients[i].fd = fd;
			return;
		}
	log_warn("control socket: too many clients");
	close(fd);
}

/* One line of JSON to a client; one that does not keep up is dropped. */
static void send_json(struct client *cl, json_t *j)
{
	_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
	size_t len, off = 0;

	if (!s) {
		client_close(cl);
		return;
	}
	len = strlen(s);
	s[len++] = '\n'; /* json_dumps' NUL becomes the line's end */
	while (off < len) {
		ssize_t n = send(cl->fd, s + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_debug("control client dropped");
			client_close(cl);
			return;
		}
		off += (size_t)n;
	}
}

bool control_subscribed(const struct sim *sim)
{
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (sim->clients[i].fd >= 0 && sim->clients[i].subscribed)
			return true;
	return false;
}

bool control_at_subscribed(const struct sim *sim)
{
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (sim->clients[i].fd >= 0 && sim->clients[i].subscribed &&
		    sim->clients[i].at_events)
			return true;
	return false;
}

static void broadcast(struct sim *sim, json_t *j, bool at)
{
	if (!j)
		return;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (sim->clients[i].fd >= 0 && sim->clients[i].subscribed &&
		    (!at || sim->clients[i].at_events))
			send_json(&sim->clients[i], j);
}

void control_event(struct sim *sim, void *ev)
{
	_cleanup_json_ json_t *j = ev;

	broadcast(sim, j, false);
}

void control_at_event(struct sim *sim, void *ev)
{
	_cleanup_json_ json_t *j = ev;

	broadcast(sim, j, true);
}

static const char *str(json_t *req, const char *key)
{
	const char *s = json_string_value(json_object_get(req, key));

	return s ? s : "";
}

static json_t *ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *state(struct sim *sim)
{
	static const char *const stat_name[] = {"active",   "held",	"dialing",
						"alerting", "incoming", "waiting"};
	json_t *calls = json_array(), *sent = json_array();
	size_t first = sim->nsent > SENT_MAX ? sim->nsent - SENT_MAX : 0;

	for (size_t i = 0; i < CALLS_MAX; i++) {
		const struct call *c = &sim->calls[i];

		if (c->used)
			json_array_append_new(
				calls, json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:s}", "call",
						 c->id, "idx", c->idx, "dir", c->dir ? "in" : "out",
						 "state", stat_name[c->stat], "number", c->number,
						 "remote", c->remote, "shown", c->shown));
	}
	for (size_t i = first; i < sim->nsent; i++) {
		const struct sent_sms *s = &sim->sent[i % SENT_MAX];

		json_array_append_new(sent, json_pack("{s:s, s:s, s:s}", "from", s->from, "to",
						      s->to, "text", s->text));
	}
	return json_pack("{s:b, s:s, s:o, s:o, s:i}", "ok", 1, "number", sim->number, "calls",
			 calls, "sent", sent, "stored", store_used(sim));
}

/* The remote party's side of an outgoing call. */
static json_t *remote_act(struct sim *sim, const char *cmd, struct call *c)
{
	if (!c)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "no such call");
	if (strcmp(cmd, "hangup") == 0) {
		call_end(sim, c, "remote");
		return ok();
	}
	if (c->dir != 0 || (c->stat != CALL_DIALING && c->stat != CALL_ALERTING))
		return json_pack("{s:b, s:s}", "ok", 0, "error", "the call is not ringing there");
	if (strcmp(cmd, "answer") == 0) {
		call_answer(sim, c, "remote");
	} else {
		modem_urc_result(sim, "BUSY");
		if (control_subscribed(sim))
			control_event(sim, json_pack("{s:s, s:i, s:s}", "event", "hangup", "call",
						     c->id, "by", "busy"));
		c->used = false;
	}
	return ok();
}

static json_t *run(struct sim *sim, struct client *cl, json_t *req)
{
	const char *cmd = str(req, "cmd");
	struct error err = {{0}};
	int r;

	if (strcmp(cmd, "call") == 0) {
		r = call_incoming(sim, str(req, "from"), str(req, "to"), &err);
		if (r >= 0)
			return json_pack("{s:b, s:i}", "ok", 1, "call", r);
	} else if (strcmp(cmd, "answer") == 0 || strcmp(cmd, "hangup") == 0 ||
		   strcmp(cmd, "busy") == 0) {
		return remote_act(
			sim, cmd,
			call_by_id(sim, (int)json_integer_value(json_object_get(req, "call"))));
	} else if (strcmp(cmd, "sms") == 0) {
		r = service_sms_incoming(sim, str(req, "from"), str(req, "to"), str(req, "text"),
					 &err);
		if (r >= 0)
			return json_pack("{s:b, s:i}", "ok", 1, "index", r);
	} else if (strcmp(cmd, "party") == 0) {
		r = service_set_party(sim, str(req, "number"), str(req, "on_call"), &err);
		if (r >= 0)
			return ok();
	} else if (strcmp(cmd, "forward") == 0) {
		r = service_add_forward(sim, str(req, "number"), str(req, "tag"), &err);
		if (r >= 0)
			return ok();
	} else if (strcmp(cmd, "state") == 0) {
		return state(sim);
	} else if (strcmp(cmd, "subscribe") == 0) {
		/* {"cmd":"subscribe","at":false}: all events but the command lines. */
		cl->subscribed = true;
		cl->at_events = !json_is_false(json_object_get(req, "at"));
		return ok();
	} else {
		error_set(&err, 0, "unknown command \"%s\"", cmd);
	}
	return json_pack("{s:b, s:s}", "ok", 0, "error", err.msg);
}

static void line(struct sim *sim, struct client *cl, const char *s, size_t len)
{
	_cleanup_json_ json_t *req = NULL, *ans = NULL;
	json_error_t jerr;

	req = json_loadb(s, len, 0, &jerr);
	if (!json_is_object(req))
		ans = json_pack("{s:b, s:s}", "ok", 0, "error", "not a JSON object");
	else
		ans = run(sim, cl, req);
	if (ans && cl->fd >= 0)
		send_json(cl, ans);
}

void control_input(struct sim *sim, struct client *cl)
{
	ssize_t n = recv(cl->fd, cl->in + cl->len, sizeof(cl->in) - cl->len, 0);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	while (cl->fd >= 0 && (nl = memchr(cl->in, '\n', cl->len))) {
		size_t l = (size_t)(nl - cl->in);

		line(sim, cl, cl->in, l);
		if (cl->fd < 0)
			return;
		memmove(cl->in, nl + 1, cl->len - l - 1);
		cl->len -= l + 1;
	}
	if (cl->len == sizeof(cl->in)) {
		log_warn("control client: line too long");
		client_close(cl);
	}
}
