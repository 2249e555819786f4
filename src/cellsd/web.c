/* The web page of `cellsd --web ADDR:PORT`: the phone through noVNC (Debian's novnc files),
 * a list of the VPs with their state, and buttons to switch, start and stop them. A small
 * HTTP/1.0 server in the event loop: GET /, /phone.html, /novnc/FILE, /favicon.ico,
 * /api/vps; POST /api/switch|start|stop?name=NAME, /api/next, /api/prev.
 * Like the control socket it can switch, start and stop VPs, so it listens on loopback
 * unless told otherwise, and takes a POST from its own page only (not from another site's
 * page in the same browser). */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOVNC_DIR    "/usr/share/novnc"
#define REQUEST_MAX  8192
#define SEND_TIMEOUT 2

struct web_conn {
	struct web_conn *next;
	struct daemon *daemon;
	struct loop_watch watch;
	char buf[REQUEST_MAX];
	size_t len;
};

/* The page: the VP list with a switch, a start and a stop button per VP, beside the phone.
 * The list is polled, and again after a failure with a growing wait (cellsd restarting). */
static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Cells</title>\n"
	"<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n"
	"<style>body{font-family:sans-serif;margin:0;display:flex;background:#222;color:#eee}"
	"#side{width:260px;padding:12px}#phone{flex:1;height:100vh;border:0}"
	"button{padding:8px;font-size:15px}#side p button{display:block;width:100%%;margin:4px 0}"
	".row{display:flex;gap:4px;margin:4px 0}.row .sw{flex:1}"
	"button.fg{font-weight:bold;background:#4caf50;color:#fff}"
	"#conn{font-size:13px;color:#f88}</style></head><body>\n"
	"<div id=\"side\"><h2>Cells</h2><div id=\"vps\"></div><div id=\"conn\"></div>"
	"<p><button id=\"prev\">&larr; prev</button><button id=\"next\">next &rarr;</button></p>"
	"<p style=\"font-size:13px;color:#aaa\">A click on the phone is a touch, keys are "
	"keys: both reach the foreground VP only. Ctrl+Alt+&rarr; / &larr; switch.</p>"
	"</div>\n<iframe id=\"phone\"></iframe>\n<script>\n"
	"const vncPort = %d;\n"
	"document.getElementById('phone').src = '/phone.html?host=' +\n"
	"  location.hostname + '&port=' + vncPort + '&path=websockify&scale=true';\n"
	"async function post(url) {\n"
	"  try { await fetch(url, {method: 'POST'}); } catch (e) {}\n"
	"  refresh();\n"
	"}\n"
	"function button(row, cls, label, onclick) {\n"
	"  const b = document.createElement('button'); b.className = cls;\n"
	"  b.textContent = label; b.onclick = onclick; row.appendChild(b); return b;\n"
	"}\n"
	/* The buttons are updated in place: one rebuilt under a click (between its mouse
	 * down and up) would lose the click. */
	"function show(j) {\n"
	"  const box = document.getElementById('vps'); const seen = new Set();\n"
	"  for (const vp of j.vps) {\n"
	"    seen.add(vp.name);\n"
	"    const q = encodeURIComponent(vp.name);\n"
	"    let row = [...box.children].find((e) => e.dataset.row === vp.name);\n"
	"    if (!row) {\n"
	"      row = document.createElement('div'); row.className = 'row';\n"
	"      row.dataset.row = vp.name;\n"
	"      button(row, 'sw', '', () => post('/api/switch?name=' + q)).dataset.vp = vp.name;\n"
	"      button(row, 'start', 'start', () => post('/api/start?name=' + q));\n"
	"      button(row, 'stop', 'stop', () => post('/api/stop?name=' + q));\n"
	"      box.appendChild(row);\n"
	"    }\n"
	"    const b = row.querySelector('.sw'), text = vp.name + ' (' + vp.state + ')';\n"
	"    if (b.textContent !== text) b.textContent = text;\n"
	"    b.disabled = vp.state !== 'running';\n"
	"    b.className = vp.foreground ? 'sw fg' : 'sw';\n"
	"    row.querySelector('.start').disabled = vp.state !== 'stopped';\n"
	"    row.querySelector('.stop').disabled = vp.state !== 'running';\n"
	"  }\n"
	"  for (const r of [...box.children]) if (!seen.has(r.dataset.row)) r.remove();\n"
	"}\n"
	"let timer = null, wait = 1000;\n"
	"async function refresh() {\n"
	"  clearTimeout(timer);\n"
	"  try {\n"
	"    const r = await fetch('/api/vps'); show(await r.json());\n"
	"    document.getElementById('conn').textContent = ''; wait = 1000;\n"
	"  } catch (e) {\n"
	"    document.getElementById('conn').textContent = 'cellsd unreachable: retrying';\n"
	"    wait = Math.min(wait * 2, 8000);\n"
	"  }\n"
	"  timer = setTimeout(refresh, wait);\n"
	"}\n"
	"document.getElementById('next').onclick = () => post('/api/next');\n"
	"document.getElementById('prev').onclick = () => post('/api/prev');\n"
	"refresh();\n"
	"</script></body></html>\n";

/* The phone: noVNC's RFB client (Debian's files, under /novnc/), connected again after a
 * loss with a growing wait (0.5 s, doubled up to 8 s), so the page comes back by itself
 * when cellsd restarts. */
static const char phone_html[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Cells phone</title>\n"
	"<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n"
	"<style>html,body{height:100%;margin:0}body{display:flex;flex-direction:column;"
	"background:#333}#status{font:bold 12px sans-serif;color:#fff;background:#6e84a3;"
	"padding:4px;text-align:center}#screen{flex:1;overflow:hidden}</style>\n"
	"<script type=\"module\">\n"
	"import RFB from '/novnc/core/rfb.js';\n"
	"const q = new URLSearchParams(location.search);\n"
	"const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') +\n"
	"  (q.get('host') || location.hostname) + ':' + (q.get('port') || location.port) + '/' +\n"
	"  (q.get('path') || 'websockify');\n"
	"let wait = 500, name = 'Cells';\n"
	"function status(text) { document.getElementById('status').textContent = text; }\n"
	"function connect() {\n"
	"  status('Connecting');\n"
	"  const rfb = new RFB(document.getElementById('screen'), url);\n"
	"  rfb.scaleViewport = q.get('scale') === 'true';\n"
	"  rfb.addEventListener('desktopname', (e) => { name = e.detail.name; });\n"
	"  rfb.addEventListener('connect', () => {\n"
	"    wait = 500; status('Connected to ' + name);\n"
	"  });\n"
	"  rfb.addEventListener('disconnect', () => {\n"
	"    status('Disconnected: connecting again in ' + wait / 1000 + ' s');\n"
	"    setTimeout(connect, wait); wait = Math.min(wait * 2, 8000);\n"
	"  });\n"
	"}\n"
	"connect();\n"
	"</script></head><body><div id=\"status\">Loading</div><div id=\"screen\"></div>"
	"</body></html>\n";

/* A phone in the colours of the page, as the browser's icon for it. */
static const char favicon_svg[] =
	"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
	"<rect x=\"7\" y=\"1\" width=\"18\" height=\"30\" rx=\"3\" fill=\"#222\"/>"
	"<rect x=\"9\" y=\"4\" width=\"14\" height=\"22\" fill=\"#4caf50\"/>"
	"<circle cx=\"16\" cy=\"28.5\" r=\"1.3\" fill=\"#eee\"/></svg>\n";

static void conn_free(struct web_conn *c)
{
	struct daemon *d = c->daemon;

	for (struct web_conn **p = &d->web_conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	loop_del(&d->loop, &c->watch);
	close(c->watch.fd);
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

static void respond(int fd, int status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
			 status,
			 status == 200	 ? "OK"
			 : status == 403 ? "Forbidden"
			 : status == 404 ? "Not Found"
					 : "Error",
			 type, len);
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void respond_json(int fd, json_t *body)
{
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (!text)
		respond(fd, 500, "text/plain", "error\n", 6);
	else
		respond(fd, 200, "application/json", text, strlen(text));
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

	for (size_t i = 0; dot && i < ARRAY_SIZE(types); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

/* A file of noVNC's, by a path of plain components only. */
static void serve_novnc(int fd, const char *rel)
{
	char path[PATH_MAX], head[256];
	_cleanup_close_ int file = -1;
	struct stat st;
	off_t off = 0;
	int n;

	if (strstr(rel, "..") || strchr(rel, '\\') || rel[0] == '/' ||
	    snprintf(path, sizeof(path), "%s/%s", NOVNC_DIR, rel) >= (int)sizeof(path)) {
		respond(fd, 404, "text/plain", "not found\n", 10);
		return;
	}
	file = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (file < 0 || fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
		respond(fd, 404, "text/plain", "not found\n", 10);
		return;
	}
	n = snprintf(head, sizeof(head),
		     "HTTP/1.0 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
		     "Connection: close\r\n\r\n",
		     content_type(path), (long long)st.st_size);
	send_all(fd, head, (size_t)n);
	while (off < st.st_size)
		if (sendfile(fd, file, &off, (size_t)(st.st_size - off)) <= 0)
			break;
}

static json_t *vp_list(struct daemon *d)
{
	json_t *list = json_array();

	for (struct vp *vp = d->vps; vp && list; vp = vp->next)
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "name", vp->config.name,
						      "state", vp_state_name(vp->state),
						      "foreground", d->foreground == vp));
	return json_pack("{s:o, s:s?}", "vps", list, "foreground",
			 d->foreground ? d->foreground->config.name : NULL);
}

/* The VP named by QUERY ("name=NAME"), or NULL after answering why not. */
static struct vp *query_vp(struct daemon *d, int fd, const char *query)
{
	char name[NAME_MAX_LEN + 1] = "";
	struct vp *vp = NULL;

	if (!query || strncmp(query, "name=", 5) != 0 ||
	    snprintf(name, sizeof(name), "%s", query + 5) >= (int)sizeof(name) ||
	    !name_is_valid(name) || !(vp = vp_find(d, name)))
		respond_json(fd, json_pack("{s:b, s:s}", "ok", 0, "error", "no such VP"));
	return vp;
}

/* The root's switch, start and stop, from the page's buttons. */
static void web_action(struct daemon *d, int fd, const char *what, const char *query)
{
	struct error err = {{0}};
	struct vp *to = NULL;
	int ret;

	if (strcmp(what, "start") == 0 || strcmp(what, "stop") == 0) {
		if (!(to = query_vp(d, fd, query)))
			return;
		/* A stop is answered at once: the list shows it stopping, then stopped. */
		ret = strcmp(what, "start") == 0 ? vp_start(to, &err)
						 : vp_stop(to, d->stop_timeout_s, NULL, &err);
		if (ret < 0) {
			respond_json(fd, json_pack("{s:b, s:s}", "ok", 0, "error", err.msg));
			return;
		}
		respond_json(fd,
			     json_pack("{s:b, s:s}", "ok", 1, "state", vp_state_name(to->state)));
		return;
	}
	if (strcmp(what, "switch") == 0) {
		if (!(to = query_vp(d, fd, query)))
			return;
	} else {
		to = foreground_neighbour(d, strcmp(what, "next") == 0 ? 1 : -1);
	}
	if (!to || foreground_switch(d, to, &err) < 0) {
		respond_json(fd, json_pack("{s:b, s:s}", "ok", 0, "error",
					   to ? err.msg : "no VP is running"));
		return;
	}
	respond_json(fd, json_pack("{s:b, s:s}", "ok", 1, "foreground", to->config.name));
}

/* Whether a POST may act: a browser names the page that sends it (Origin), and only this
 * page may (another site open in the same browser could POST here too); a client that is
 * no browser names none. */
static bool same_origin(const char *head)
{
	char origin[256] = "", host[256] = "", want[300];
	int has_origin = 0, has_host = 0;

	for (const char *line = strchr(head, '\n'); line && line[1]; line = strchr(line, '\n')) {
		size_t len;
		line++;
		len = strcspn(line, "\r\n");
		if (len == 0)
			break; /* the end of the head */
		if (strncasecmp(line, "Origin:", 7) == 0)
			has_origin =
				snprintf(origin, sizeof(origin), "%.*s", (int)(len - 7), line + 7);
		else if (strncasecmp(line, "Host:", 5) == 0)
			has_host = snprintf(host, sizeof(host), "%.*s", (int)(len - 5), line + 5);
	}
	if (!has_origin)
		return true;
	if (!has_host || has_origin >= (int)sizeof(origin) || has_host >= (int)sizeof(host))
		return false;
	snprintf(want, sizeof(want), "http://%s", host + strspn(host, " \t"));
	return strcmp(origin + strspn(origin, " \t"), want) == 0;
}

static void handle_request(struct daemon *d, int fd, char *request, bool trusted)
{
	static const char forbidden[] = "another site's page may not do that\n";
	char *method = strtok(request, " "), *target = strtok(NULL, " ");
	char *query;
	char page[sizeof(index_html) + 16];

	if (!method || !target) {
		respond(fd, 400, "text/plain", "bad request\n", 12);
		return;
	}
	query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	if (strcmp(method, "GET") == 0 && strcmp(target, "/") == 0) {
		int n = snprintf(page, sizeof(page), index_html, d->vnc ? d->vnc_port : 0);
		respond(fd, 200, "text/html; charset=utf-8", page, (size_t)n);
	} else if (strcmp(method, "GET") == 0 && strncmp(target, "/novnc/", 7) == 0) {
		serve_novnc(fd, target + 7);
	} else if (strcmp(method, "GET") == 0 && strcmp(target, "/api/vps") == 0) {
		respond_json(fd, vp_list(d));
	} else if (strcmp(method, "GET") == 0 && strcmp(target, "/phone.html") == 0) {
		respond(fd, 200, "text/html; charset=utf-8", phone_html, sizeof(phone_html) - 1);
	} else if (strcmp(method, "GET") == 0 &&
		   (!strcmp(target, "/favicon.ico") || !strcmp(target, "/favicon.svg"))) {
		respond(fd, 200, "image/svg+xml", favicon_svg, sizeof(favicon_svg) - 1);
	} else if (strcmp(method, "POST") == 0 && strncmp(target, "/api/", 5) == 0 &&
		   (!strcmp(target + 5, "switch") || !strcmp(target + 5, "next") ||
		    !strcmp(target + 5, "prev") || !strcmp(target + 5, "start") ||
		    !strcmp(target + 5, "stop"))) {
		if (trusted)
			web_action(d, fd, target + 5, query);
		else
			respond(fd, 403, "text/plain", forbidden, strlen(forbidden));
	} else {
		respond(fd, 404, "text/plain", "not found\n", 10);
	}
}

static void on_conn(struct loop_watch *w, uint32_t events)
{
	struct web_conn *c = container_of(w, struct web_conn, watch);
	struct timeval tv = {.tv_sec = SEND_TIMEOUT};
	bool trusted;
	ssize_t n;

	(void)events;
	n = recv(w->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (!strstr(c->buf, "\r\n\r\n") && !strstr(c->buf, "\n\n")) {
		if (c->len == sizeof(c->buf) - 1)
			conn_free(c);
		return;
	}
	/* One request per connection; the answer goes out with a bounded wait. */
	fcntl(w->fd, F_SETFL, 0);
	setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	trusted = same_origin(c->buf);
	c->buf[strcspn(c->buf, "\r\n")] = '\0';
	handle_request(c->daemon, w->fd, c->buf, trusted);
	conn_free(c);
}

static void on_web_accept(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, web_listener);
	struct web_conn *c;
	int fd;

	(void)events;
	fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (!(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->daemon = d;
	c->watch = (struct loop_watch){.fd = fd, .handle = on_conn};
	if (loop_add(&d->loop, &c->watch, EPOLLIN) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = d->web_conns;
	d->web_conns = c;
}

int web_start(struct daemon *d, const char *addr, int port, struct error *err)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd, one = 1, ret;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return error_set(err, 0, "web: '%s' is not an IPv4 address", addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, errno, "web: socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0) {
		ret = error_set(err, errno, "web: listen on %s:%d", addr, port);
		close(fd);
		return ret;
	}
	d->web_listener = (struct loop_watch){.fd = fd, .handle = on_web_accept};
	if ((ret = loop_add(&d->loop, &d->web_listener, EPOLLIN)) < 0) {
		close(fd);
		d->web_listener.fd = -1;
		return error_set(err, ret, "web: watch");
	}
	log_info("web: http://%s:%d/", addr, port);
	return 0;
}

void web_stop(struct daemon *d)
{
	for (struct web_conn *c = d->web_conns, *next; c; c = next) {
		next = c->next;
		conn_free(c);
	}
	if (d->web_listener.fd >= 0) {
		loop_del(&d->loop, &d->web_listener);
		close(d->web_listener.fd);
		d->web_listener.fd = -1;
	}
}
