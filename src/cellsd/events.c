/* The event stream of `cell events`: VP state changes and foreground switches. */
#include "cellsd/daemon.h"
#include "common/log.h"

#include <sys/socket.h>
#include <time.h>

void event_emit(struct daemon *d, json_t *event)
{
	struct timespec ts;

	if (!event)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(event, "time", json_real((double)ts.tv_sec + ts.tv_nsec / 1e9));
	for (struct client *c = d->clients; c; c = c->next) {
		if (!c->subscribed || c->closed)
			continue;
		/* A subscriber that does not read is dropped, never waited for. */
		if (proto_send(c->watch.fd, event, NULL, 0, MSG_DONTWAIT) < 0) {
			log_warn("dropping an event subscriber that does not keep up");
			shutdown(c->watch.fd, SHUT_RDWR);
			c->subscribed = false;
		}
	}
	json_decref(event);
}

void event_state(struct vp *vp, const char *reason)
{
	event_emit(vp->daemon,
		   json_pack("{s:s, s:s, s:s, s:s}", "event", "state", "vp", vp->config.name,
			     "state", vp_state_name(vp->state), "reason", reason));
}
