/* The Wi-Fi configuration proxy (DESIGN.md §5, "wireless config"): every VP with the
 * device has a wpa_supplicant control socket at /run/wpa_supplicant/wlan0 served by the
 * daemon. Reads (STATUS, SCAN, SCAN_RESULTS, BSS, SIGNAL_POLL) go to the root's real
 * wpa_supplicant (`--wpa-ctrl PATH`, wifi_link.c) and come back filtered
 * (wifi_filter.c); the network requests change the VP's own saved networks
 * (wifi_store.c), and the foreground VP's networks are the ones the real supplicant has:
 * those of the VP before it are removed when it leaves, and its own added. Events go to
 * every VP's attached clients.
 *
 * Everything here runs on the event loop's thread (the sockets' watches, the switch, the
 * start and teardown of a VP): no state of the device is touched from elsewhere. */
#include "devices/wifi_ctrl.h"
#include "common/clock.h"
#include "devices/wifi_filter.h"
#include "devices/wifi_link.h"
#include "devices/wifi_req.h"
#include "devices/wifi_store.h"
#include "common/log.h"
#include "devns/devns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

/* What one VP may ask of the daemon: requests refill at RATE a second up to BURST, a SCAN
 * every SCAN_INTERVAL, and at most MAX_PENDING of its requests wait for the supplicant. */
#define RATE	      50
#define BURST	      50
#define SCAN_INTERVAL (2 * 1000000000LL)
#define MAX_PENDING   4
#define RECV_PER_WAKE 16

struct wifi;

struct wifi_dev {
	struct devns *core;
	struct wifi_link *link; /* NULL without --wpa-ctrl */
	struct wifi *vps;	/* every instance */
	struct wifi *fg;	/* whose networks the supplicant has */
	/* The supplicant's networks that are the foreground VP's: its id, the real one. */
	struct {
		int vp_id, real;
	} applied[WIFI_MAX_NETWORKS];
	unsigned napplied;
	unsigned gen;	  /* one more at every change of foreground: older work is void */
	int current_real; /* the network the supplicant is connected with, or -1 */
	uint64_t requests, refused;
};

struct wifi {
	struct wifi_dev *dev;
	struct wifi *next;
	char name[NAME_MAX_LEN + 1];
	char dir[256];
	char store_path[512];
	char sock_path[256 + 8]; /* dir/wlan0 */
	uid_t uid;
	struct wifi_ctrl ctrl;
	struct loop_watch watch;
	struct wifi_store *store;
	bool dirty; /* changed since it was saved */
	long long last_scan, tokens_at;
	double tokens;
	unsigned pending;
};

/* ---- the supplicant's networks: what the foreground VP's are there ---------------- */

/* The id_str of every network the daemon adds to the supplicant (a VP's own id_str stays
 * in its store): a daemon killed before it removed them, the next one finds and removes
 * them. */
#define WIFI_MARK "\"cells-vp\""

static int applied_real(const struct wifi_dev *dev, int vp_id)
{
	for (unsigned i = 0; i < dev->napplied; i++)
		if (dev->applied[i].vp_id == vp_id)
			return dev->applied[i].real;
	return -1;
}

static int map_to_fg(void *ctx, int real)
{
	struct wifi_dev *dev = ctx;

	for (unsigned i = 0; i < dev->napplied; i++)
		if (dev->applied[i].real == real)
			return dev->applied[i].vp_id;
	return -1;
}

static int map_none(void *ctx, int real)
{
	(void)ctx, (void)real;
	return -1;
}

/* A request of the device's own to the supplicant: TEXT, or (VP_ID >= 0) a command on
 * the real network of the foreground VP's network VP_ID, made when its turn comes. */
struct own_req {
	struct wifi_dev *dev;
	unsigned gen;
	int vp_id; /* -1: TEXT as it is */
	char verb[24];
	char text[WIFI_VAR_MAX + WIFI_VALUE_MAX + 2]; /* "VAR VALUE", or the whole request */
};
_Static_assert(sizeof(struct own_req) <= WIFI_LINK_DATA, "own_req too big");

static int build_own(void *data, char *buf, size_t size)
{
	struct own_req *r = data;
	int real;

	if (r->vp_id < 0)
		return snprintf(buf, size, "%s", r->text);
	if (r->gen != r->dev->gen || (real = applied_real(r->dev, r->vp_id)) < 0)
		return -1; /* the VP left the foreground, or the network is gone */
	return snprintf(buf, size, "%s %d%s%s", r->verb, real, r->text[0] ? " " : "", r->text);
}

static void queue_own(struct wifi_dev *dev, const struct own_req *r,
		      void (*done)(void *, const char *, size_t))
{
	struct wifi_link_req req = {.owner = dev, .build = build_own, .done = done};
	int ret;

	memcpy(req.data, r, sizeof(*r));
	if ((ret = wifi_link_queue(dev->link, &req)) < 0 && ret != -ENOTCONN)
		log_warn_errno(-ret, "wifi: queue a request to wpa_supplicant");
}

static void queue_text(struct wifi_dev *dev, const char *fmt, int arg)
{
	struct own_req r = {.dev = dev, .gen = dev->gen, .vp_id = -1};

	snprintf(r.text, sizeof(r.text), fmt, arg);
	queue_own(dev, &r, NULL);
}

static void queue_on(struct wifi_dev *dev, const char *verb, int vp_id, const char *var,
		     const char *value)
{
	struct own_req r = {.dev = dev, .gen = dev->gen, .vp_id = vp_id};

	snprintf(r.verb, sizeof(r.verb), "%s", verb);
	if (var)
		snprintf(r.text, sizeof(r.text), "%s %s", var, value);
	queue_own(dev, &r, NULL);
}

static void added(void *data, const char *reply, size_t len)
{
	struct own_req *r = data;
	struct wifi_dev *dev = r->dev;
	int real;

	if (!reply || len == 0 || sscanf(reply, "%d", &real) != 1 || real < 0)
		return;
	/* Made for a foreground VP that is no longer: not ours to keep. */
	if (r->gen != dev->gen || dev->napplied >= WIFI_MAX_NETWORKS) {
		queue_text(dev, "REMOVE_NETWORK %d", real);
		return;
	}
	dev->applied[dev->napplied].vp_id = r->vp_id;
	dev->applied[dev->napplied++].real = real;
}

static int build_add(void *data, char *buf, size_t size)
{
	struct own_req *r = data;

	if (r->gen != r->dev->gen)
		return -1;
	return snprintf(buf, size, "ADD_NETWORK");
}

/* The foreground VP's networks go to the supplicant with their own priority (0 to
 * PRIORITY_SPAN) raised by PRIORITY_BASE: above the root's own networks (whose priorities
 * are left as they are, and are below that in any usual configuration), so that where
 * both are in range the supplicant prefers the foreground VP's, in the VP's own order. */
#define PRIORITY_BASE 1000
#define PRIORITY_SPAN 1000

static void queue_priority(struct wifi_dev *dev, int vp_id, const char *own)
{
	char *end, text[16];
	long p = own ? strtol(own, &end, 10) : 0;

	if (!own || end == own || *end || p < 0)
		p = 0;
	if (p > PRIORITY_SPAN)
		p = PRIORITY_SPAN;
	snprintf(text, sizeof(text), "%ld", PRIORITY_BASE + p);
	queue_on(dev, "SET_NETWORK", vp_id, "priority", text);
}

/* The foreground VP's network NET into the supplicant: added, each variable set, its
 * priority raised, and enabled unless it is disabled. */
static void apply_network(struct wifi_dev *dev, const struct wifi_net *net)
{
	struct wifi_link_req req = {.owner = dev, .build = build_add, .done = added};
	struct own_req r = {.dev = dev, .gen = dev->gen, .vp_id = net->id};
	const char *priority = NULL;
	int ret;

	memcpy(req.data, &r, sizeof(r));
	if ((ret = wifi_link_queue(dev->link, &req)) < 0) {
		if (ret != -ENOTCONN)
			log_warn_errno(-ret, "wifi: queue a network to wpa_supplicant");
		return;
	}
	for (unsigned v = 0; v < net->nvars; v++)
		if (strcmp(net->vars[v].name, "priority") == 0)
			priority = net->vars[v].value;
		else if (strcmp(net->vars[v].name, "id_str") != 0)
			queue_on(dev, "SET_NETWORK", net->id, net->vars[v].name,
				 net->vars[v].value);
	queue_priority(dev, net->id, priority);
	queue_on(dev, "SET_NETWORK", net->id, "id_str", WIFI_MARK);
	if (!net->disabled)
		queue_on(dev, "ENABLE_NETWORK", net->id, NULL, NULL);
}

/* The supplicant's networks of the foreground VP removed (the VP leaves, or another
 * comes). */
static void unapply(struct wifi_dev *dev)
{
	dev->gen++;
	if (dev->link)
		for (unsigned i = 0; i < dev->napplied; i++)
			queue_text(dev, "REMOVE_NETWORK %d", dev->applied[i].real);
	dev->napplied = 0;
	dev->fg = NULL;
}

static void apply(struct wifi_dev *dev, struct wifi *w)
{
	unapply(dev);
	dev->fg = w;
	if (!dev->link)
		return;
	for (unsigned i = 0; i < w->store->n; i++)
		apply_network(dev, &w->store->nets[i]);
}

/* ---- a VP's requests ----------------------------------------------------------------- */

/* A client of the VP that reads nothing holds the VP's socket's buffer: the socket is
 * made anew (only this VP's clients connect again). */
static void unstick(struct wifi *w)
{
	struct error err;

	if (!w->ctrl.stuck)
		return;
	log_info("wifi: %s: a client reads nothing: its control socket is made anew", w->name);
	devns_unwatch(w->dev->core, &w->watch);
	w->watch.fd = -1;
	if (wifi_ctrl_reopen(&w->ctrl, w->sock_path, w->uid, &err) < 0) {
		log_warn("%s", err.msg);
		return;
	}
	w->watch.fd = w->ctrl.sock;
	if (devns_watch(w->dev->core, &w->watch, EPOLLIN) < 0)
		w->watch.fd = -1;
}

static void answer(struct wifi *w, const struct wifi_peer *peer, const char *text, size_t len)
{
	int ret = wifi_ctrl_reply(&w->ctrl, peer, text, len);

	if (ret < 0 && ret != -EAGAIN && ret != -ECONNREFUSED && ret != -ENOENT)
		log_info("wifi: %s: cannot answer %s: %s", w->name, peer->path, strerror(-ret));
}

static void answer_str(struct wifi *w, const struct wifi_peer *peer, const char *text)
{
	answer(w, peer, text, strlen(text));
}

/* A request forwarded to the supplicant for a VP's client. */
struct fwd_req {
	struct wifi *w;
	enum wifi_cmd cmd;
	struct wifi_peer peer;
	char text[WIFI_ARG_MAX + 8];
};
_Static_assert(sizeof(struct fwd_req) <= WIFI_LINK_DATA, "fwd_req too big");

static int build_fwd(void *data, char *buf, size_t size)
{
	struct fwd_req *r = data;

	return snprintf(buf, size, "%s", r->text);
}

static void forwarded(void *data, const char *reply, size_t len)
{
	struct fwd_req *r = data;
	struct wifi *w = r->w;
	char out[WIFI_LINK_REPLY_MAX + 64];
	size_t n;

	w->pending--;
	if (!reply) {
		answer_str(w, &r->peer, "FAIL\n");
		return;
	}
	if (r->cmd == WIFI_STATUS) {
		bool fg = w->dev->fg == w;
		n = wifi_filter_ids(reply, len, fg ? map_to_fg : map_none, w->dev, out,
				    sizeof(out));
		answer(w, &r->peer, out, n);
		return;
	}
	answer(w, &r->peer, reply, len);
}

static void forward(struct wifi *w, const struct wifi_req *req, const struct wifi_peer *peer,
		    const char *text)
{
	struct wifi_link_req lr = {.owner = w, .build = build_fwd, .done = forwarded};
	struct fwd_req r = {.w = w, .cmd = req->cmd, .peer = *peer};

	if (!w->dev->link || w->pending >= MAX_PENDING) {
		w->dev->refused++;
		answer_str(w, peer, "FAIL\n");
		return;
	}
	if (req->cmd == WIFI_SCAN) {
		long long now = (long long)monotonic_ns();
		if (w->last_scan && now - w->last_scan < SCAN_INTERVAL) {
			w->dev->refused++;
			answer_str(w, peer, "FAIL-BUSY\n");
			return;
		}
		w->last_scan = now;
	}
	snprintf(r.text, sizeof(r.text), "%s", text);
	memcpy(lr.data, &r, sizeof(r));
	w->pending++;
	if (wifi_link_queue(w->dev->link, &lr) < 0) {
		w->pending--;
		answer_str(w, peer, "FAIL\n");
	}
}

static bool take_token(struct wifi *w)
{
	long long now = (long long)monotonic_ns();

	w->tokens += (double)(now - w->tokens_at) * RATE / 1e9;
	if (w->tokens > BURST)
		w->tokens = BURST;
	w->tokens_at = now;
	if (w->tokens < 1)
		return false;
	w->tokens -= 1;
	return true;
}

/* A change to the VP's networks, made on the supplicant too while it is the foreground. */
static void network_request(struct wifi *w, const struct wifi_req *req,
			    const struct wifi_peer *peer)
{
	struct wifi_dev *dev = w->dev;
	bool fg = dev->fg == w && dev->link;
	char out[64];
	int ret = 0;

	switch (req->cmd) {
	case WIFI_ADD_NETWORK:
		if ((ret = wifi_store_add(w->store)) < 0)
			break;
		if (fg)
			apply_network(dev, wifi_store_find(w->store, ret));
		snprintf(out, sizeof(out), "%d\n", ret);
		w->dirty = true;
		answer_str(w, peer, out);
		return;
	case WIFI_SET_NETWORK:
		if ((ret = wifi_store_set(w->store, req->id, req->var, req->value)) < 0 || !fg)
			break;
		if (strcmp(req->var, "priority") == 0)
			queue_priority(dev, req->id, req->value);
		else if (strcmp(req->var, "id_str") != 0)
			queue_on(dev, "SET_NETWORK", req->id, req->var, req->value);
		break;
	case WIFI_REMOVE_NETWORK:
		if ((ret = wifi_store_remove(w->store, req->id)) < 0 || !fg)
			break;
		for (unsigned i = 0; i < dev->napplied;)
			if (req->id == WIFI_ID_ALL || dev->applied[i].vp_id == req->id) {
				queue_text(dev, "REMOVE_NETWORK %d", dev->applied[i].real);
				dev->applied[i] = dev->applied[--dev->napplied];
			} else {
				i++;
			}
		break;
	case WIFI_ENABLE_NETWORK:
	case WIFI_DISABLE_NETWORK:
	case WIFI_SELECT_NETWORK:
		ret = req->cmd == WIFI_SELECT_NETWORK
			      ? wifi_store_select(w->store, req->id)
			      : wifi_store_enable(w->store, req->id,
						  req->cmd == WIFI_ENABLE_NETWORK);
		if (ret < 0 || !fg)
			break;
		/* Each of its networks as the store now has it (SELECT leaves the root's
		 * own networks as they are). */
		for (unsigned i = 0; i < w->store->n; i++)
			queue_on(dev,
				 w->store->nets[i].disabled ? "DISABLE_NETWORK" : "ENABLE_NETWORK",
				 w->store->nets[i].id, NULL, NULL);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret == 0)
		w->dirty = true;
	answer_str(w, peer, ret == 0 ? "OK\n" : "FAIL\n");
}

static void save(struct wifi *w)
{
	struct error err;

	if (!w->store_path[0])
		return;
	if (wifi_store_save(w->store, w->store_path, &err) < 0)
		log_warn("%s", err.msg);
	else
		w->dirty = false;
}

static void handle(struct wifi *w, const char *buf, size_t len, const struct wifi_peer *peer)
{
	struct wifi_dev *dev = w->dev;
	char out[4096], text[WIFI_ARG_MAX + 8];
	struct wifi_req req;
	int ret;

	dev->requests++;
	if (wifi_req_parse(buf, len, &req) < 0) {
		dev->refused++;
		answer_str(w, peer, "FAIL\n");
		return;
	}
	switch (req.cmd) {
	case WIFI_PING:
		answer_str(w, peer, "PONG\n");
		return;
	case WIFI_ATTACH:
		answer_str(w, peer, wifi_ctrl_attach(&w->ctrl, peer) == 0 ? "OK\n" : "FAIL\n");
		return;
	case WIFI_DETACH:
		answer_str(w, peer, wifi_ctrl_detach(&w->ctrl, peer) == 0 ? "OK\n" : "FAIL\n");
		return;
	case WIFI_LIST_NETWORKS: {
		int current = dev->fg == w ? map_to_fg(dev, dev->current_real) : -1;
		answer(w, peer, out, wifi_store_list(w->store, current, out, sizeof(out)));
		return;
	}
	case WIFI_GET_NETWORK:
		ret = wifi_store_get(w->store, req.id, req.var, out, sizeof(out));
		answer(w, peer, ret < 0 ? "FAIL\n" : out, ret < 0 ? 5 : (size_t)ret);
		return;
	case WIFI_SAVE_CONFIG:
		if (w->dirty)
			save(w);
		answer_str(w, peer, w->dirty ? "FAIL\n" : "OK\n");
		return;
	case WIFI_STATUS:
		forward(w, &req, peer, "STATUS");
		return;
	case WIFI_SCAN:
		forward(w, &req, peer, "SCAN");
		return;
	case WIFI_SCAN_RESULTS:
		forward(w, &req, peer, "SCAN_RESULTS");
		return;
	case WIFI_SIGNAL_POLL:
		forward(w, &req, peer, "SIGNAL_POLL");
		return;
	case WIFI_BSS:
		snprintf(text, sizeof(text), "BSS %s", req.arg);
		forward(w, &req, peer, text);
		return;
	default:
		network_request(w, &req, peer);
	}
}

static void on_request(struct loop_watch *lw, uint32_t events)
{
	struct wifi *w = container_of(lw, struct wifi, watch);
	char buf[WIFI_REQ_MAX + 1];
	struct wifi_peer peer;

	(void)events;
	/* A few a wake-up: a VP flooding its socket holds the loop no longer than that. */
	for (unsigned i = 0; i < RECV_PER_WAKE; i++) {
		ssize_t n = wifi_ctrl_recv(&w->ctrl, buf, sizeof(buf), &peer);
		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n < 0) { /* nobody to answer */
			w->dev->refused++;
			continue;
		}
		if (!take_token(w)) { /* dropped unanswered: an answer costs as much */
			w->dev->refused++;
			continue;
		}
		/* Cut: longer than any request, refused by the parser as too long. */
		handle(w, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf), &peer);
		if (w->ctrl.stuck) {
			unstick(w);
			return;
		}
	}
}

/* ---- the supplicant's events --------------------------------------------------------- */

static void on_event(void *ctx, const char *line, size_t len)
{
	struct wifi_dev *dev = ctx;
	char out[WIFI_LINK_REPLY_MAX + 64];

	if (!wifi_event_forwarded(line, len))
		return;
	if (strstr(line, "CTRL-EVENT-CONNECTED "))
		dev->current_real = wifi_real_id(line, len);
	else if (strstr(line, "CTRL-EVENT-DISCONNECTED "))
		dev->current_real = -1;
	for (struct wifi *w = dev->vps; w; w = w->next) {
		size_t n;
		if (!wifi_ctrl_attached(&w->ctrl))
			continue;
		n = wifi_filter_ids(line, len, dev->fg == w ? map_to_fg : map_none, dev, out,
				    sizeof(out));
		wifi_ctrl_broadcast(&w->ctrl, out, n);
		unstick(w);
	}
}

static void marked(void *data, const char *reply, size_t len)
{
	struct own_req *r = data;
	int real;

	if (!reply || len < strlen(WIFI_MARK) ||
	    strncmp(reply, WIFI_MARK, strlen(WIFI_MARK)) != 0 ||
	    sscanf(r->text, "GET_NETWORK %d", &real) != 1 || map_to_fg(r->dev, real) >= 0)
		return;
	log_info("wifi: removing network %d, left in wpa_supplicant by a daemon before", real);
	queue_text(r->dev, "REMOVE_NETWORK %d", real);
}

/* The supplicant's networks, listed as it came (back): each one's id_str is asked. */
static void listed(void *data, const char *reply, size_t len)
{
	struct own_req *r = data;
	const char *line;

	(void)len;
	if (!reply || !(line = strchr(reply, '\n')))
		return;
	for (line++; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		struct own_req get = {.dev = r->dev, .gen = r->dev->gen, .vp_id = -1};
		int real;
		if (sscanf(line, "%d\t", &real) != 1 || real < 0)
			continue;
		snprintf(get.text, sizeof(get.text), "GET_NETWORK %d id_str", real);
		queue_own(r->dev, &get, marked);
	}
}

/* The supplicant is (back) there: whatever it had of ours is gone if it restarted, and
 * what a killed daemon left in it is removed. */
static void on_up(void *ctx)
{
	struct wifi_dev *dev = ctx;
	struct wifi *fg = dev->fg;
	struct own_req list = {.dev = dev, .gen = dev->gen, .vp_id = -1};

	dev->napplied = 0;
	dev->current_real = -1;
	snprintf(list.text, sizeof(list.text), "LIST_NETWORKS");
	queue_own(dev, &list, listed);
	if (fg)
		apply(dev, fg);
}

static const struct wifi_link_ops link_ops = {.event = on_event, .up = on_up};

/* ---- the device ---------------------------------------------------------------------- */

static const struct vdev_option wifi_options[] = {
	{"wpa-ctrl", "PATH",
	 "the control socket of the root's\nwpa_supplicant (its ctrl_interface\ndirectory and the "
	 "interface:\n/run/wpa_supplicant/wlan0): VPs\nwith wifi access read and configure\nWi-Fi "
	 "through it (default: none)"},
	{NULL, NULL, NULL},
};

static int wifi_check_option(const char *name, const char *value, struct error *err)
{
	if (strcmp(name, "wpa-ctrl") == 0 && (value[0] != '/' || strlen(value) >= 200))
		return error_set(err, EINVAL,
				 "--wpa-ctrl wants an absolute path (under 200 bytes)");
	return 0;
}

static int wifi_init(struct devns *core, void **global, struct error *err)
{
	struct wifi_dev *dev = calloc(1, sizeof(*dev));
	const char *path = NULL;
	int ret;

	if (!dev)
		return error_set(err, ENOMEM, "wifi");
	dev->core = core;
	dev->current_real = -1;
	if (devns_option_values(core, "wpa-ctrl", &path, 1) > 0 &&
	    (ret = wifi_link_open(core, path, &link_ops, dev, &dev->link, err)) < 0) {
		free(dev);
		return ret;
	}
	*global = dev;
	return 0;
}

static void wifi_fini(void *global)
{
	struct wifi_dev *dev = global;

	wifi_link_close(dev->link);
	free(dev);
}

static void release(struct wifi *w)
{
	if (w->watch.fd >= 0)
		devns_unwatch(w->dev->core, &w->watch);
	wifi_ctrl_close(&w->ctrl);
	if (w->dir[0]) {
		char path[sizeof(w->dir) + 8];
		snprintf(path, sizeof(path), "%s/wlan0", w->dir);
		unlink(path);
		rmdir(w->dir);
	}
	free(w->store);
	free(w);
}

static int wifi_prepare(void *global, const struct vdev_vp *vp, void **state,
			struct vdev_file *files, unsigned *nfiles, struct error *err)
{
	struct wifi_dev *dev = global;
	struct wifi *w = calloc(1, sizeof(*w));
	char persist[256];
	int ret;

	if (!w || !(w->store = calloc(1, sizeof(*w->store)))) {
		free(w);
		return error_set(err, ENOMEM, "wifi");
	}
	w->dev = dev;
	w->watch.fd = -1;
	w->ctrl.sock = w->ctrl.root = -1;
	w->tokens = BURST;
	w->tokens_at = (long long)monotonic_ns();
	snprintf(w->name, sizeof(w->name), "%s", vp->name);
	if ((ret = vdev_persist_dir(vp, persist, sizeof(persist), err)) < 0)
		goto fail;
	snprintf(w->store_path, sizeof(w->store_path), "%s/networks.json", persist);
	if ((ret = wifi_store_load(w->store, w->store_path, err)) < 0)
		goto fail;
	if ((size_t)snprintf(w->dir, sizeof(w->dir), "%s/%s.wifi", vp->dir, vp->name) >=
	    sizeof(w->dir)) {
		w->dir[0] = '\0';
		ret = error_set(err, ENAMETOOLONG, "wifi: directory of %s", vp->name);
		goto fail;
	}
	/* Listed by wpa_cli (which takes the first interface it finds); nothing in it but
	 * the socket, and the VP cannot add to it (the daemon's tmpfs). */
	if (mkdir(w->dir, 0755) < 0 && errno != EEXIST) {
		ret = error_set(err, errno, "wifi: create %s", w->dir);
		w->dir[0] = '\0';
		goto fail;
	}
	snprintf(w->sock_path, sizeof(w->sock_path), "%s/wlan0", w->dir);
	w->uid = vp->uid;
	if ((ret = wifi_ctrl_open(&w->ctrl, w->sock_path, vp->uid, err)) < 0)
		goto fail;
	w->watch = (struct loop_watch){w->ctrl.sock, on_request};
	if ((ret = devns_watch(dev->core, &w->watch, EPOLLIN)) < 0) {
		w->watch.fd = -1;
		ret = error_set(err, ret, "wifi: watch %s", w->sock_path);
		goto fail;
	}
	snprintf(files[0].vp_path, sizeof(files[0].vp_path), "/run/wpa_supplicant");
	snprintf(files[0].host_path, sizeof(files[0].host_path), "%s", w->dir);
	files[0].flags = VDEV_FILE_DIR;
	*nfiles = 1;
	w->next = dev->vps;
	dev->vps = w;
	*state = w;
	return 0;
fail:
	release(w);
	return ret;
}

static int wifi_attach(void *global, void *state, const struct vdev_started *vp, struct error *err)
{
	struct wifi *w = state;

	(void)global;
	return wifi_ctrl_set_root(&w->ctrl, vp->pid, err);
}

static void wifi_teardown(void *global, void *state)
{
	struct wifi_dev *dev = global;
	struct wifi *w = state;

	if (dev->fg == w)
		unapply(dev);
	wifi_link_cancel(dev->link, w);
	for (struct wifi **p = &dev->vps; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	if (w->dirty)
		save(w);
	release(w);
}

static void wifi_activate(void *global, void *state)
{
	apply(global, state);
}

static void wifi_deactivate(void *global, void *state)
{
	struct wifi_dev *dev = global;

	if (dev->fg == state)
		unapply(dev);
}

static void wifi_stats(void *global, json_t *stats)
{
	struct wifi_dev *dev = global;
	uint64_t sent = 0, dropped = 0, resets = 0;

	for (struct wifi *w = dev->vps; w; w = w->next) {
		sent += w->ctrl.events_sent;
		dropped += w->ctrl.events_dropped;
		resets += w->ctrl.resets;
	}
	json_object_set_new(stats, "wifi_socket_resets", json_integer((json_int_t)resets));
	json_object_set_new(stats, "wifi_requests", json_integer((json_int_t)dev->requests));
	json_object_set_new(stats, "wifi_refused", json_integer((json_int_t)dev->refused));
	json_object_set_new(stats, "wifi_events_sent", json_integer((json_int_t)sent));
	json_object_set_new(stats, "wifi_events_dropped", json_integer((json_int_t)dropped));
	json_object_set_new(stats, "wifi_supplicant", json_boolean(wifi_link_up(dev->link)));
}

const struct vdev_ops vdev_wifi = {
	.name = "wifi",
	.initial_access = DEV_SHARED,
	.init = wifi_init,
	.fini = wifi_fini,
	.prepare = wifi_prepare,
	.attach = wifi_attach,
	.teardown = wifi_teardown,
	.activate = wifi_activate,
	.deactivate = wifi_deactivate,
	.stats = wifi_stats,
	.options = wifi_options,
	.check_option = wifi_check_option,
};
