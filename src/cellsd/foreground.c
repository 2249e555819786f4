/* Which VP is in the foreground. Only the root changes it: the CLI, the web UI, or the
 * reserved system key; the screen and input follow it in their own devices. */
#include "cellsd/daemon.h"
#include "common/log.h"
#include "devices/display.h"

static bool switchable(const struct vp *vp)
{
	return vp->state == VP_RUNNING;
}

int foreground_switch(struct daemon *d, struct vp *to, struct error *err)
{
	struct vp *from = d->foreground;
	uint64_t start = now_ns(), took;

	if (to && !switchable(to))
		return error_set(err, 0, "VP %s is not running", to->config.name);
	if (to == from)
		return 0;
	devns_switch(from ? &from->devns : NULL, to ? &to->devns : NULL);
	d->foreground = to;
	display_set_foreground(devns_global(&d->devns, "display"), to ? to->config.name : NULL,
			       to ? to->config.id : 0);
	took = now_ns() - start;
	d->switches++;
	d->last_switch_ns = took;
	event_emit(d, json_pack("{s:s, s:s?, s:s?, s:f}", "event", "switch", "from",
				from ? from->config.name : NULL, "to", to ? to->config.name : NULL,
				"usec", (double)took / 1000.0));
	/* The screen follows at once, outside the measured switch. */
	vnc_refresh(d->vnc);
	log_info("foreground: %s -> %s", from ? from->config.name : "(none)",
		 to ? to->config.name : "(none)");
	return 0;
}

/* The running VP after (direction 1) or before (-1) the foreground, in id order, wrapping. */
struct vp *foreground_neighbour(struct daemon *d, int direction)
{
	struct vp *first = NULL, *last = NULL, *prev = NULL, *after = NULL;
	bool seen = false;

	/* The foreground is the anchor even when it has just stopped: its successor is the
	 * next running VP after it, not the first one. */
	for (struct vp *vp = d->vps; vp; vp = vp->next) {
		if (vp == d->foreground) {
			seen = true;
			continue;
		}
		if (!switchable(vp))
			continue;
		if (!first)
			first = vp;
		last = vp;
		if (!seen)
			prev = vp;
		else if (!after)
			after = vp;
	}
	if (!d->foreground || !seen)
		return first;
	if (!first)
		return switchable(d->foreground) ? d->foreground : NULL;
	if (direction > 0)
		return after ? after : first;
	return prev ? prev : last;
}

void foreground_lost(struct daemon *d, struct vp *gone)
{
	if (d->foreground != gone)
		return;
	foreground_switch(d, foreground_neighbour(d, 1), NULL);
}
