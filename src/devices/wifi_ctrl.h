/* A VP's end of the Wi-Fi proxy: the wpa_ctrl datagram socket the daemon serves at the
 * VP's /run/wpa_supplicant/wlan0, and the clients in the VP that get its events.
 *
 * A client (wpa_cli, libwpa-client) binds its own socket in the VP, /tmp/wpa_ctrl_PID-N,
 * and sends from it: that name means something only in the VP's mount namespace. So an
 * answer is sent to the client's socket found under the VP's root (held open from the
 * VP's start), resolved beneath it with no symlink followed and checked to be a socket,
 * through /proc/self/fd: a VP cannot point the daemon's answer at any socket but one of
 * its own. */
#ifndef CELLS_WIFI_CTRL_H
#define CELLS_WIFI_CTRL_H

#include "common/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#define WIFI_MAX_ATTACHED 8
/* A client that has not taken this many events in a row is detached, as wpa_supplicant
 * drops a monitor that does not read. */
#define WIFI_MAX_FAILURES 32

struct wifi_peer {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
};

struct wifi_client {
	struct wifi_peer peer;
	int fd; /* O_PATH of its socket */
	unsigned failures;
};

struct wifi_ctrl {
	int sock;
	/* Its send buffer is full: a client that does not read holds it (a datagram to a
	 * socket connected to ours is queued past the receiver's queue limit, charged to our
	 * buffer), so no other client of the VP would get an answer. Set by a send that
	 * failed so; wifi_ctrl_reopen is the cure. */
	bool stuck;
	int root;	/* O_PATH of the VP's root, -1 until wifi_ctrl_set_root */
	dev_t self_dev; /* our socket's node: never an answer's destination (a VP that */
	ino_t self_ino; /* binds it over its client's name would have us answer ourselves) */
	struct wifi_client clients[WIFI_MAX_ATTACHED];
	unsigned nclients;
	uint64_t events_sent, events_dropped, resets;
};

/* The socket at PATH, the VP's root's (UID) to send to. */
int wifi_ctrl_open(struct wifi_ctrl *c, const char *path, uid_t uid, struct error *err);
/* The VP's root: its init's (PID, waiting at its start). */
int wifi_ctrl_set_root(struct wifi_ctrl *c, pid_t pid, struct error *err);
void wifi_ctrl_close(struct wifi_ctrl *c);
/* A new socket at PATH in place of the old one, whose clients are forgotten (wpa_cli
 * opens its connection again when a request fails), the VP's root kept. */
int wifi_ctrl_reopen(struct wifi_ctrl *c, const char *path, uid_t uid, struct error *err);
/* One datagram into BUF (at most SIZE bytes) and who sent it: its full length (more than
 * SIZE: it was cut), -EAGAIN when none is waiting, -EADDRNOTAVAIL for a sender with no
 * name in the VP's file system (unnamed, abstract: nothing can answer it). */
ssize_t wifi_ctrl_recv(struct wifi_ctrl *c, char *buf, size_t size, struct wifi_peer *peer);
/* BUF to PEER, without waiting: 0 or a negative errno. */
int wifi_ctrl_reply(struct wifi_ctrl *c, const struct wifi_peer *peer, const char *buf, size_t len);
int wifi_ctrl_attach(struct wifi_ctrl *c, const struct wifi_peer *peer);
int wifi_ctrl_detach(struct wifi_ctrl *c, const struct wifi_peer *peer);
bool wifi_ctrl_attached(const struct wifi_ctrl *c);
/* LINE to every attached client; one that cannot take it loses it (counted). */
void wifi_ctrl_broadcast(struct wifi_ctrl *c, const char *line, size_t len);

#endif
