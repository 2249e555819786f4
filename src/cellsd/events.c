/* The event stream of `cell events`: VP state changes and foreground switches. */
#include "cellsd/daemon.h"
#include "common/cleanup.h"
#include "common/log.h"

#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Seconds since the epoch to the microsecond need 16 significant digits: the control
 * protocol's usual 9 would give every event of a 10-second window the same time. */
#define EVENT_REAL_PRECISION 16

void event_emit(struct daemon *d, json_t *event)
{
	_cleanup_free_ char *text = NULL;
	struct timespec ts;
	json_int_t usec;
	size_t len;

	if (!event)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	usec = (json_int_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	json_object_set_new(event, "time", json_real((double)usec / 1e6));
	json_object_set_new(event, "time_us", json_integer(usec));
	text = json_dumps(event, JSON_COMPACT | JSON_REAL_PRECISION(EVENT_REAL_PRECISION));
	json_decref(event);
	if (!text)
		return;
	len = strlen(text);
	text[len++] = '\n'; /* the NUL's place: the line is sent by its length */
	for (struct client *c = d->clients; c; c = c->next) {
		if (!c->subscribed || c->closed)
			continue;
		/* A subscriber that does not read is dropped, never waited for: a line sent in
		 * part cannot be followed by another. */
		if (send(c->watch.fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
			log_warn("dropping an event subscriber that does not keep up");
			shutdown(c->watch.fd, SHUT_RDWR);
			c->subscribed = false;
		}
	}
}

void event_state(struct vp *vp, const char *reason)
{
	event_emit(vp->daemon,
		   json_pack("{s:s, s:s, s:s, s:s}", "event", "state", "vp", vp->config.name,
			     "state", vp_state_name(vp->state), "reason", reason));
}
