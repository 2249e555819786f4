/* The link to the real wpa_supplicant (wifi_link.h). libwpa-client opens the connections
 * (a socket of the daemon's bound in RUN/wifi, connected to the supplicant's: never in
 * /tmp, where a killed daemon's would stay; the next daemon empties RUN/wifi); its
 * wpa_ctrl_request and wpa_ctrl_attach wait up to 10 s for an answer, which the event
 * loop must never do, so requests are sent on the connection's descriptor without
 * waiting, and the answer is read when the loop sees it. One request is in flight at a
 * time: the supplicant answers in order, and a late answer after a timeout is never
 * taken for the next one's (the connection is opened anew). */
#include "devices/wifi_link.h"
#include "common/clock.h"
#include "common/log.h"
#include "devns/devns.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <wpa_ctrl.h>

#define TIMEOUT_NS (3 * 1000000000LL)

struct wifi_link {
	struct devns *core;
	char path[256];
	char cli_dir[80]; /* our sockets (wpa_ctrl_PID-N: a sun_path of 108 at most) */
	const struct wifi_link_ops *ops;
	void *ctx;
	struct wpa_ctrl *cmd, *mon;
	struct loop_watch cmd_watch, mon_watch, tick;
	struct wifi_link_req queue[WIFI_LINK_QUEUE];
	unsigned head, count;
	bool in_flight;
	long long deadline;
};

bool wifi_link_up(const struct wifi_link *link)
{
	return link && link->cmd && link->mon;
}

static void disconnect(struct wifi_link *link)
{
	if (link->cmd) {
		devns_unwatch(link->core, &link->cmd_watch);
		wpa_ctrl_close(link->cmd);
		link->cmd = NULL;
	}
	if (link->mon) {
		devns_unwatch(link->core, &link->mon_watch);
		wpa_ctrl_close(link->mon);
		link->mon = NULL;
	}
}

/* The request at the head is over: REPLY to its owner (NULL: failed). */
static void finish(struct wifi_link *link, const char *reply, size_t len)
{
	struct wifi_link_req req = link->queue[link->head];

	link->head = (link->head + 1) % WIFI_LINK_QUEUE;
	link->count--;
	link->in_flight = false;
	if (req.done)
		req.done(req.data, reply, len);
}

static void pump(struct wifi_link *link);

static void fail_all(struct wifi_link *link)
{
	while (link->count > 0)
		finish(link, NULL, 0);
}

static void on_cmd(struct loop_watch *w, uint32_t events)
{
	struct wifi_link *link = container_of(w, struct wifi_link, cmd_watch);
	char reply[WIFI_LINK_REPLY_MAX + 1];
	ssize_t n;

	(void)events;
	n = recv(w->fd, reply, WIFI_LINK_REPLY_MAX, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn_errno(errno, "wifi: read from wpa_supplicant");
		disconnect(link);
		fail_all(link);
		return;
	}
	/* Only ever the answer to what is in flight: this connection is never attached. */
	if (!link->in_flight)
		return;
	reply[n] = '\0';
	finish(link, reply, (size_t)n);
	pump(link);
}

static void on_mon(struct loop_watch *w, uint32_t events)
{
	struct wifi_link *link = container_of(w, struct wifi_link, mon_watch);
	char line[WIFI_LINK_REPLY_MAX + 1];

	(void)events;
	/* A few a wake-up, so that a chatty supplicant cannot hold the loop. */
	for (unsigned i = 0; i < 16; i++) {
		ssize_t n = recv(w->fd, line, WIFI_LINK_REPLY_MAX, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				log_warn_errno(errno, "wifi: read wpa_supplicant's events");
				disconnect(link);
				fail_all(link);
			}
			return;
		}
		line[n] = '\0';
		if (n > 0 && line[0] == '<' && link->ops->event)
			link->ops->event(link->ctx, line, (size_t)n);
	}
}

static int connect_link(struct wifi_link *link)
{
	int ret;

	if (!(link->cmd = wpa_ctrl_open2(link->path, link->cli_dir)) ||
	    !(link->mon = wpa_ctrl_open2(link->path, link->cli_dir))) {
		ret = -(errno ? errno : ECONNREFUSED);
		goto fail;
	}
	link->cmd_watch = (struct loop_watch){wpa_ctrl_get_fd(link->cmd), on_cmd};
	link->mon_watch = (struct loop_watch){wpa_ctrl_get_fd(link->mon), on_mon};
	if ((ret = devns_watch(link->core, &link->cmd_watch, EPOLLIN)) < 0)
		goto fail;
	if ((ret = devns_watch(link->core, &link->mon_watch, EPOLLIN)) < 0) {
		devns_unwatch(link->core, &link->cmd_watch);
		goto fail;
	}
	/* wpa_ctrl_attach would wait for the OK: it comes to on_mon, which drops it. */
	if (send(link->mon_watch.fd, "ATTACH", 6, MSG_DONTWAIT) < 0) {
		ret = -errno;
		devns_unwatch(link->core, &link->cmd_watch);
		devns_unwatch(link->core, &link->mon_watch);
		goto fail;
	}
	log_info("wifi: connected to wpa_supplicant at %s", link->path);
	return 0;
fail:
	if (link->cmd)
		wpa_ctrl_close(link->cmd);
	if (link->mon)
		wpa_ctrl_close(link->mon);
	link->cmd = link->mon = NULL;
	return ret;
}

static void pump(struct wifi_link *link)
{
	while (!link->in_flight && link->count > 0) {
		struct wifi_link_req *req = &link->queue[link->head];
		char buf[WIFI_LINK_REPLY_MAX];
		int len;

		if (!link->cmd) {
			finish(link, NULL, 0);
			continue;
		}
		len = req->build ? req->build(req->data, buf, sizeof(buf)) : -1;
		if (len < 0 || (size_t)len >= sizeof(buf)) {
			finish(link, NULL, 0);
			continue;
		}
		if (send(link->cmd_watch.fd, buf, (size_t)len, MSG_DONTWAIT) < 0) {
			log_warn_errno(errno, "wifi: send to wpa_supplicant");
			if (errno != EAGAIN) {
				disconnect(link);
				fail_all(link);
				return;
			}
			finish(link, NULL, 0);
			continue;
		}
		link->in_flight = true;
		link->deadline = (long long)monotonic_ns() + TIMEOUT_NS;
	}
}

static void on_tick(struct loop_watch *w, uint32_t events)
{
	struct wifi_link *link = container_of(w, struct wifi_link, tick);
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (link->in_flight && (long long)monotonic_ns() > link->deadline) {
		/* Its answer may still come: a new connection never gets it. */
		log_warn("wifi: wpa_supplicant did not answer in time");
		disconnect(link);
		fail_all(link);
	}
	if (link->mon && send(link->mon_watch.fd, "PING", 4, MSG_DONTWAIT) < 0 && errno != EAGAIN) {
		log_warn_errno(errno, "wifi: wpa_supplicant is gone");
		disconnect(link);
		fail_all(link);
	}
	if (!link->cmd && connect_link(link) == 0 && link->ops->up)
		link->ops->up(link->ctx);
}

/* RUN/wifi for our sockets, emptied of a killed daemon's (libwpa-client unlinks its own
 * only when it closes them). */
static int client_dir(struct wifi_link *link, const char *run, struct error *err)
{
	struct dirent *e;
	DIR *dir;

	if (!run)
		return error_set(err, ENOENT, "wifi: no run directory");
	if ((size_t)snprintf(link->cli_dir, sizeof(link->cli_dir), "%s/wifi", run) >=
	    sizeof(link->cli_dir))
		return error_set(err, ENAMETOOLONG, "wifi: %s/wifi", run);
	if (mkdir(link->cli_dir, 0700) < 0 && errno != EEXIST)
		return error_set(err, errno, "wifi: create %s", link->cli_dir);
	if (!(dir = opendir(link->cli_dir)))
		return error_set(err, errno, "wifi: open %s", link->cli_dir);
	while ((e = readdir(dir)))
		if (strncmp(e->d_name, "wpa_ctrl_", 9) == 0 &&
		    unlinkat(dirfd(dir), e->d_name, 0) < 0)
			log_warn_errno(errno, "wifi: remove %s/%s", link->cli_dir, e->d_name);
	closedir(dir);
	return 0;
}

int wifi_link_open(struct devns *core, const char *path, const struct wifi_link_ops *ops, void *ctx,
		   struct wifi_link **out, struct error *err)
{
	struct itimerspec its = {.it_interval.tv_sec = 1, .it_value.tv_sec = 1};
	struct wifi_link *link = calloc(1, sizeof(*link));
	int ret;

	if (!link)
		return error_set(err, ENOMEM, "wifi");
	if (strlen(path) >= sizeof(link->path)) {
		free(link);
		return error_set(err, ENAMETOOLONG, "wifi: %s", path);
	}
	strcpy(link->path, path);
	if ((ret = client_dir(link, devns_run_dir(core), err)) < 0) {
		free(link);
		return ret;
	}
	link->core = core;
	link->ops = ops;
	link->ctx = ctx;
	link->tick = (struct loop_watch){
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), on_tick};
	if (link->tick.fd < 0) {
		ret = error_set(err, errno, "wifi: timerfd");
		free(link);
		return ret;
	}
	if (timerfd_settime(link->tick.fd, 0, &its, NULL) < 0)
		ret = -errno;
	else
		ret = devns_watch(core, &link->tick, EPOLLIN);
	if (ret < 0) {
		ret = error_set(err, -ret, "wifi: arm the link's timer");
		close(link->tick.fd);
		free(link);
		return ret;
	}
	*out = link;
	if ((ret = connect_link(link)) < 0)
		log_warn_errno(-ret, "wifi: no wpa_supplicant at %s yet", path);
	else if (ops->up)
		ops->up(ctx);
	return 0;
}

/* What is still queued (the foreground VP's networks being removed, as the daemon stops)
 * is sent without waiting for the answers: the supplicant takes them in order all the
 * same, and a VP's networks do not stay in it after the daemon. */
static void flush(struct wifi_link *link)
{
	for (unsigned i = link->in_flight ? 1 : 0; link->cmd && i < link->count; i++) {
		struct wifi_link_req *req = &link->queue[(link->head + i) % WIFI_LINK_QUEUE];
		char buf[WIFI_LINK_REPLY_MAX];
		int len = req->build ? req->build(req->data, buf, sizeof(buf)) : -1;

		if (len >= 0 && (size_t)len < sizeof(buf) &&
		    send(link->cmd_watch.fd, buf, (size_t)len, MSG_DONTWAIT) < 0)
			log_warn_errno(errno, "wifi: send to wpa_supplicant as the daemon stops");
	}
}

void wifi_link_close(struct wifi_link *link)
{
	if (!link)
		return;
	flush(link);
	for (unsigned i = 0; i < WIFI_LINK_QUEUE; i++)
		link->queue[i].done = NULL;
	disconnect(link);
	devns_unwatch(link->core, &link->tick);
	close(link->tick.fd);
	free(link);
}

int wifi_link_queue(struct wifi_link *link, const struct wifi_link_req *req)
{
	if (!link->cmd)
		return -ENOTCONN;
	if (link->count >= WIFI_LINK_QUEUE)
		return -ENOSPC;
	link->queue[(link->head + link->count) % WIFI_LINK_QUEUE] = *req;
	link->count++;
	pump(link);
	return 0;
}

void wifi_link_cancel(struct wifi_link *link, const void *owner)
{
	for (unsigned i = 0; link && i < link->count; i++) {
		struct wifi_link_req *req = &link->queue[(link->head + i) % WIFI_LINK_QUEUE];
		if (req->owner == owner) {
			/* Still sent if in flight (its answer must be read), told to nobody. */
			req->done = NULL;
			if (i > 0 || !link->in_flight)
				req->build = NULL;
		}
	}
}
