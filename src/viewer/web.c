/* The web page in the viewer: a small HTTP/1.0 server, one request per connection. GET /,
 * /phone.html, /novnc/FILE, /favicon.*, /api/vps; POST /api/switch|start|stop?name=NAME,
 * /api/next, /api/prev; GET /websockify with Upgrade: websocket, handed to libvncserver.
 *
 * Over TCP every request but the icon proves itself with the token: the cells_token cookie
 * (set by visiting /?token=TOKEN) or an Authorization: Bearer header. Whatever the
 * listener, a POST or a WebSocket whose Origin is not this page's own is refused: another
 * site open in the same browser could send them. A request is read with MSG_PEEK until
 * its head is whole, so that a WebSocket's handshake is still there for libvncserver. */
#include "common/log.h"
#include "common/clock.h"
#include "common/names.h"
#include "viewer/http.h"
#include "viewer/viewer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_TIMEOUT_MS 1000
#define STALL_MS	20

struct web_conn {
	struct web_conn *next;
	int fd;
	bool tcp;
	char host[64];
	long long accepted_at, retry_at;
	size_t peeked;
	/* Waiting for cellsd: the request's id and what to answer with. */
	uint32_t waiting_id;
	long long waiting_since;
	bool wants_list;
	char list[8192];
	size_t list_len;
	bool list_first;
	char foreground[VIEWER_NAME_LEN];
};

static void conn_close(struct view *v, struct web_conn *c, bool close_fd)
{
	for (struct web_conn **p = &v->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (close_fd)
		close(c->fd);
	v->nconns--;
	free(c);
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 303:
		return "See Other";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

static void respond_with(int fd, int status, const char *type, const char *extra, const char *body,
			 size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\nX-Frame-Options: SAMEORIGIN\r\n%s"
			 "Connection: close\r\n\r\n",
			 status, reason(status), type, len, extra ? extra : "");
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void respond(int fd, int status, const char *type, const char *body)
{
	respond_with(fd, status, type, NULL, body, strlen(body));
}

/* Refused before any request is read: too many connections. */
static void refuse(int fd)
{
	respond(fd, 503, "text/plain", "too many connections\n");
	close(fd);
}

void web_accept(struct view *v, enum listener which, int fd, const char *host)
{
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_MS / 1000,
			     .tv_usec = (SEND_TIMEOUT_MS % 1000) * 1000};
	struct web_conn *c;
	unsigned same = 0;

	for (c = v->conns; c && host[0]; c = c->next)
		same += strcmp(c->host, host) == 0;
	if (v->nconns >= WEB_MAX_CONNS || same >= WEB_MAX_PER_HOST) {
		ratelog(5, "web: refused a connection of %s: %u open (%u from there)",
			host[0] ? host : "the unix socket", v->nconns, same);
		refuse(fd);
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->tcp = which == L_WEB_TCP;
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->accepted_at = (long long)monotonic_ms();
	c->next = v->conns;
	v->conns = c;
	v->nconns++;
}

static const char *content_type(const char *path)
{
	static const char *const types[][2] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript"},
		{".css", "text/css"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".json", "application/json"},
		{".ogg", "audio/ogg"},
		{".mp3", "audio/mpeg"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

/* A file of noVNC's, from memory (files.c). */
static void serve_novnc(struct view *v, int fd, const char *rel)
{
	const struct file_entry *e = files_find(&v->novnc, rel);

	if (!e) {
		respond(fd, 404, "text/plain", "not found\n");
		return;
	}
	respond_with(fd, 200, content_type(rel), NULL, e->data, e->size);
}

/* An action or the list: asked of cellsd, answered when it answers. */
static void ask(struct view *v, struct web_conn *c, const char *what, const char *query)
{
	static const char *const names[] = {[VIEWER_NEXT] = "next",
					    [VIEWER_PREV] = "prev",
					    [VIEWER_SWITCH] = "switch",
					    [VIEWER_START] = "start",
					    [VIEWER_STOP] = "stop"};
	struct viewer_action_msg a = {0};
	struct viewer_list l = {0};

	c->waiting_id = ++v->next_id ? v->next_id : ++v->next_id;
	c->waiting_since = (long long)monotonic_ms();
	if (!what) {
		c->wants_list = true;
		c->list_first = true;
		l.id = c->waiting_id;
		link_send(v, &l, VIEWER_LIST, sizeof(l));
		return;
	}
	a.id = c->waiting_id;
	for (unsigned i = VIEWER_NEXT; i <= VIEWER_STOP; i++)
		if (strcmp(what, names[i]) == 0)
			a.action = i;
	if (a.action == VIEWER_SWITCH || a.action == VIEWER_START || a.action == VIEWER_STOP) {
		if (!query || !http_query_get(query, "name", a.name, sizeof(a.name)) ||
		    !name_is_valid(a.name)) {
			respond(c->fd, 200, "application/json",
				"{\"ok\":false,\"error\":\"no such VP\"}");
			c->waiting_id = 0;
			return;
		}
	}
	link_send(v, &a, VIEWER_ACTION, sizeof(a));
}

static bool is_action(const char *path)
{
	return !strcmp(path, "/api/switch") || !strcmp(path, "/api/next") ||
	       !strcmp(path, "/api/prev") || !strcmp(path, "/api/start") ||
	       !strcmp(path, "/api/stop");
}

/* Visiting /?token=TOKEN over TCP: the cookie, then the page without the token in its
 * address (nor in the browser's history or a Referer). */
static bool token_visit(struct view *v, struct web_conn *c, const struct http_request *req)
{
	char token[65], cookie[160];

	if (strcmp(req->path, "/") != 0 ||
	    !http_query_get(req->query, "token", token, sizeof(token)))
		return false;
	if (!http_secret_equal(token, v->hello.web_token)) {
		respond(c->fd, 401, "text/plain", "wrong token (see `cell viewer`)\n");
		return true;
	}
	snprintf(cookie, sizeof(cookie),
		 "Location: /\r\nSet-Cookie: cells_token=%s; HttpOnly; SameSite=Strict; Path=/\r\n",
		 v->hello.web_token);
	respond_with(c->fd, 303, "text/plain", cookie, "", 0);
	return true;
}

/* Returns true when C was handed over or is waiting (not to be closed). */
static bool handle(struct view *v, struct web_conn *c, const struct http_request *req)
{
	bool authorized = !c->tcp || http_secret_equal(req->token, v->hello.web_token);
	bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
	bool same_origin = !req->has_origin || http_same_origin(req);

	if (get && (!strcmp(req->path, "/favicon.ico") || !strcmp(req->path, "/favicon.svg"))) {
		respond(c->fd, 200, "image/svg+xml", page_favicon);
		return false;
	}
	if (c->tcp && token_visit(v, c, req))
		return false;
	if (!authorized) {
		ratelog(6, "web: refused %s %s of %s: no token", req->method, req->path, c->host);
		respond(c->fd, 401, "text/plain",
			"this page takes a token: open the URL `cell viewer` shows\n");
		return false;
	}
	if (get && req->websocket) {
		if (strcmp(req->path, "/websockify") != 0 || !req->has_origin || !same_origin) {
			ratelog(7, "web: refused a WebSocket of %s from origin '%s'",
				c->host[0] ? c->host : "the unix socket", req->origin);
			respond(c->fd, 403, "text/plain", "another site's page may not do that\n");
			return false;
		}
		rfb_hand_over(v, c->fd);
		return true;
	}
	if (post && is_action(req->path)) {
		if (!same_origin) {
			ratelog(8, "web: refused a POST from origin '%s'", req->origin);
			respond(c->fd, 403, "text/plain", "another site's page may not do that\n");
			return false;
		}
		ask(v, c, req->path + 5, req->query);
		return c->waiting_id != 0;
	}
	if (!get) {
		respond(c->fd, 404, "text/plain", "not found\n");
		return false;
	}
	if (!strcmp(req->path, "/"))
		respond(c->fd, 200, "text/html; charset=utf-8", page_index);
	else if (!strcmp(req->path, "/phone.html"))
		respond(c->fd, 200, "text/html; charset=utf-8", page_phone);
	else if (!strncmp(req->path, "/novnc/", 7))
		serve_novnc(v, c->fd, req->path + 7);
	else if (!strcmp(req->path, "/api/vps")) {
		ask(v, c, NULL, NULL);
		return true;
	} else
		respond(c->fd, 404, "text/plain", "not found\n");
	return false;
}

/* What the connection's socket holds now, peeked; the request once its head is whole. */
static void on_readable(struct view *v, struct web_conn *c)
{
	char buf[HTTP_HEAD_MAX + 1];
	struct http_request req;
	ssize_t n = recv(c->fd, buf, HTTP_HEAD_MAX, MSG_PEEK | MSG_DONTWAIT);
	int ret;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(v, c, true);
		return;
	}
	ret = http_parse(buf, (size_t)n, &req);
	if (ret == -EAGAIN) {
		/* Nothing new since the last peek: look again a little later, not at once. */
		if ((size_t)n == c->peeked)
			c->retry_at = (long long)monotonic_ms() + STALL_MS;
		c->peeked = (size_t)n;
		return;
	}
	if (ret < 0) {
		respond(c->fd, ret == -E2BIG ? 431 : 400, "text/plain", "bad request\n");
		conn_close(v, c, true);
		return;
	}
	/* What is not a WebSocket is consumed: the answer closes the connection, and goes
	 * out with the bounded wait of SO_SNDTIMEO (a non-blocking send would cut it short
	 * where the client's window is small). */
	if (!(req.websocket && strcmp(req.method, "GET") == 0)) {
		recv(c->fd, buf, req.head_len, MSG_DONTWAIT);
		fcntl(c->fd, F_SETFL, 0);
	}
	if (handle(v, c, &req)) {
		if (!c->waiting_id)
			conn_close(v, c, false); /* handed over */
		return;
	}
	conn_close(v, c, true);
}

int web_poll_fds(struct view *v, struct pollfd *fds, int max, long long *timeout_ms)
{
	long long now = (long long)monotonic_ms();
	int n = 0;

	for (struct web_conn *c = v->conns; c && n < max; c = c->next) {
		if (c->waiting_id)
			continue;
		if (c->retry_at > now) {
			if (c->retry_at - now < *timeout_ms)
				*timeout_ms = c->retry_at - now;
			continue;
		}
		fds[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
	}
	return n;
}

void web_work(struct view *v, const struct pollfd *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (!fds[i].revents)
			continue;
		for (struct web_conn *c = v->conns; c; c = c->next)
			if (c->fd == fds[i].fd && !c->waiting_id) {
				on_readable(v, c);
				break;
			}
	}
}

void web_expire(struct view *v, long long now)
{
	struct web_conn *c = v->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->waiting_id && now - c->waiting_since > WEB_ANSWER_MS) {
			respond(c->fd, 503, "text/plain", "cellsd did not answer\n");
			conn_close(v, c, true);
		} else if (!c->waiting_id && now - c->accepted_at > WEB_IDLE_TIMEOUT_MS) {
			ratelog(9, "web: dropped %s: no request within %d s",
				c->host[0] ? c->host : "a local connection",
				WEB_IDLE_TIMEOUT_MS / 1000);
			conn_close(v, c, true);
		}
	}
}

static struct web_conn *waiting_for(struct view *v, uint32_t id)
{
	for (struct web_conn *c = v->conns; c; c = c->next)
		if (c->waiting_id && c->waiting_id == id)
			return c;
	return NULL;
}

/* Names and states are cellsd's, checked by the protocol: plain characters only. */
static void list_append(struct web_conn *c, const struct viewer_vp *vp)
{
	int n;

	if (c->list_len >= sizeof(c->list) || !name_is_valid(vp->name) ||
	    strspn(vp->state, "abcdefghijklmnopqrstuvwxyz-") != strlen(vp->state))
		return;
	n = snprintf(c->list + c->list_len, sizeof(c->list) - c->list_len,
		     "%s{\"name\":\"%s\",\"state\":\"%s\",\"foreground\":%s}",
		     c->list_first ? "" : ",", vp->name, vp->state,
		     vp->foreground ? "true" : "false");
	if (vp->foreground)
		snprintf(c->foreground, sizeof(c->foreground), "%s", vp->name);
	if (n > 0 && c->list_len + (size_t)n < sizeof(c->list)) {
		c->list_len += (size_t)n;
		c->list_first = false;
	} else {
		c->list[c->list_len] = '\0';
		c->list_len = sizeof(c->list);
	}
}

void web_daemon_answer(struct view *v, const union viewer_msg *msg)
{
	struct web_conn *c;
	char body[512];

	if (msg->head.type == VIEWER_RESULT) {
		const struct viewer_result *r = &msg->result;
		if (!(c = waiting_for(v, r->id)))
			return;
		char error[VIEWER_TEXT_LEN];
		snprintf(error, sizeof(error), "%s", r->error);
		for (char *p = error; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == '\\' || *p == '"')
				*p = '\'';
		if (!r->ok)
			snprintf(body, sizeof(body), "{\"ok\":false,\"error\":\"%s\"}", error);
		else if (r->state[0])
			snprintf(body, sizeof(body), "{\"ok\":true,\"state\":\"%s\"}", r->state);
		else
			snprintf(body, sizeof(body), "{\"ok\":true,\"foreground\":\"%s\"}",
				 r->name);
		respond(c->fd, 200, "application/json", body);
		conn_close(v, c, true);
		return;
	}
	const struct viewer_vp *vp = &msg->vp;
	if (!(c = waiting_for(v, vp->id)))
		return;
	if (vp->count > 0)
		list_append(c, vp);
	if (vp->count == 0 || vp->index + 1 == vp->count) {
		char out[sizeof(c->list) + 64];
		size_t len = c->list_len < sizeof(c->list) ? c->list_len : strlen(c->list);
		int n = snprintf(out, sizeof(out), "{\"vps\":[%.*s],\"foreground\":%s%s%s}",
				 (int)len, c->list, c->foreground[0] ? "\"" : "",
				 c->foreground[0] ? c->foreground : "null",
				 c->foreground[0] ? "\"" : "");
		respond_with(c->fd, 200, "application/json", NULL, out, (size_t)n);
		conn_close(v, c, true);
	}
}
