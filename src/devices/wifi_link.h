/* The daemon's link to the root's real wpa_supplicant (`cellsd --wpa-ctrl PATH`), through
 * libwpa-client: a command connection whose requests go one at a time from a bounded
 * queue, never waited for (the reply comes on the event loop), and a monitor connection
 * whose events are handed on. Either is opened again when the supplicant comes back. */
#ifndef CELLS_WIFI_LINK_H
#define CELLS_WIFI_LINK_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>

struct devns;
struct wifi_link;

#define WIFI_LINK_QUEUE	    512
#define WIFI_LINK_DATA	    256
#define WIFI_LINK_REPLY_MAX 4096

/* A request in the queue. BUILD writes its text when its turn comes (a SET_NETWORK needs
 * the id the ADD_NETWORK before it got): its length, or < 0 to drop it. DONE gets the
 * reply (NULL when it failed: no supplicant, a timeout). Both get DATA, copied in. */
struct wifi_link_req {
	const void *owner; /* wifi_link_cancel drops an owner's requests */
	int (*build)(void *data, char *buf, size_t size);
	void (*done)(void *data, const char *reply, size_t len);
	unsigned char data[WIFI_LINK_DATA];
};

struct wifi_link_ops {
	void (*event)(void *ctx, const char *line, size_t len); /* "<3>CTRL-EVENT-…" */
	void (*up)(void *ctx); /* connected (again): what the supplicant had of ours is gone
				* if it restarted */
};

/* On the loop's thread, as every call below. PATH need not exist yet. */
int wifi_link_open(struct devns *core, const char *path, const struct wifi_link_ops *ops, void *ctx,
		   struct wifi_link **out, struct error *err);
void wifi_link_close(struct wifi_link *link);
/* 0, -ENOSPC (the queue is full) or -ENOTCONN (no supplicant now). */
int wifi_link_queue(struct wifi_link *link, const struct wifi_link_req *req);
void wifi_link_cancel(struct wifi_link *link, const void *owner);
bool wifi_link_up(const struct wifi_link *link);

#endif
