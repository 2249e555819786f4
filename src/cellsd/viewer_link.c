/* What the viewer asks, checked already by viewer_parse (src/viewer/proto.c), done here
 * as the root's own: a pointer or key to the foreground VP, a switch, a start or a stop
 * from the web page's buttons, the VP list for the page. The answers are sent without
 * waiting: a viewer that does not read loses them (its page times out), never blocks
 * cellsd. */
#include "cellsd/daemon.h"
#include "cellsd/scanout.h"
#include "cellsd/viewer.h"
#include "common/log.h"
#include "common/panel.h"
#include "common/keymap.h"

#include <errno.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int viewer_send(struct viewer *v, const void *msg, size_t len)
{
	if (v->link.fd < 0)
		return -EPIPE;
	if (send(v->link.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	return 0;
}

void viewer_send_hello(struct viewer *v)
{
	struct viewer_hello h = {0};
	const struct devns_provided_screen *screen = devns_screen(&v->daemon->devns);
	int width = 0, height = 0;

	viewer_head_init(&h.head, VIEWER_HELLO);
	if (screen)
		screen->ops->size(screen->dev, &width, &height);
	h.width = (uint32_t)width;
	h.height = (uint32_t)height;
	for (int i = 0; i < VIEWER_LISTENERS; i++)
		if (v->listeners[i] >= 0)
			h.listeners |= 1u << i;
	snprintf(h.vnc_password, sizeof(h.vnc_password), "%s", v->secrets.vnc_password);
	snprintf(h.web_token, sizeof(h.web_token), "%s", v->secrets.web_token);
	if (viewer_send(v, &h, sizeof(h)) < 0)
		log_warn_errno(errno, "viewer: send the hello");
}

static void send_result(struct viewer *v, uint32_t id, bool ok, const char *name, const char *state,
			const char *error)
{
	struct viewer_result r = {0};

	viewer_head_init(&r.head, VIEWER_RESULT);
	r.id = id;
	r.ok = ok;
	snprintf(r.name, sizeof(r.name), "%s", name ? name : "");
	snprintf(r.state, sizeof(r.state), "%s", state ? state : "");
	snprintf(r.error, sizeof(r.error), "%s", error ? error : "");
	viewer_send(v, &r, sizeof(r));
}

static void act(struct viewer *v, const struct viewer_action_msg *a)
{
	struct daemon *d = v->daemon;
	struct error err = {{0}};
	struct vp *to = NULL;

	if (a->action == VIEWER_NEXT || a->action == VIEWER_PREV) {
		to = foreground_neighbour(d, a->action == VIEWER_NEXT ? 1 : -1);
		if (!to) {
			send_result(v, a->id, false, NULL, NULL, "no VP is running");
			return;
		}
	} else if (!(to = vp_find(d, a->name))) {
		send_result(v, a->id, false, NULL, NULL, "no such VP");
		return;
	}
	if (a->action == VIEWER_START || a->action == VIEWER_STOP) {
		/* A stop is answered at once: the list shows it stopping, then stopped. */
		int ret = a->action == VIEWER_START ? vp_start(to, &err)
						    : vp_stop(to, d->stop_timeout_s, NULL, &err);
		send_result(v, a->id, ret == 0, to->config.name, vp_state_name(to->state),
			    ret < 0 ? err.msg : NULL);
		vp_start_finish(to);
		return;
	}
	if (foreground_switch(d, to, &err) < 0) {
		send_result(v, a->id, false, NULL, NULL, err.msg);
		return;
	}
	send_result(v, a->id, true, to->config.name, NULL, NULL);
}

static void send_list(struct viewer *v, uint32_t id)
{
	struct daemon *d = v->daemon;
	struct viewer_vp m = {0};
	uint32_t count = 0, index = 0;

	viewer_head_init(&m.head, VIEWER_VP);
	m.id = id;
	for (struct vp *vp = d->vps; vp; vp = vp->next)
		count++;
	m.count = count;
	if (count == 0) {
		viewer_send(v, &m, sizeof(m));
		return;
	}
	for (struct vp *vp = d->vps; vp; vp = vp->next) {
		m.index = index++;
		m.foreground = d->foreground == vp;
		snprintf(m.name, sizeof(m.name), "%s", vp->config.name);
		snprintf(m.state, sizeof(m.state), "%s", vp_state_name(vp->state));
		if (viewer_send(v, &m, sizeof(m)) < 0)
			return; /* the viewer waits no longer than its page does */
	}
}

void viewer_link_handle(struct viewer *v, const union viewer_msg *msg)
{
	struct daemon *d = v->daemon;
	const struct devns_provided_input *input = devns_input(&d->devns);
	const struct devns_provided_screen *screen = devns_screen(&d->devns);
	int width, height, shift;
	unsigned code;

	switch (msg->head.type) {
	case VIEWER_STATUS:
		v->clients = msg->status.clients;
		v->bytes_sent = msg->status.bytes_sent;
		scanout_set_watching(v->scanout, v->clients > 0);
		if (msg->status.repaint)
			viewer_refresh(v);
		break;
	case VIEWER_POINTER:
		if (!input || !screen)
			break;
		/* The client points on the panel; the VP's screen begins below the bar. */
		screen->ops->size(screen->dev, &width, &height);
		input->ops->pointer(input->dev, msg->pointer.x < width ? msg->pointer.x : width - 1,
				    (msg->pointer.y < height ? msg->pointer.y : height - 1) -
					    PANEL_BAR_HEIGHT,
				    msg->pointer.buttons & 1);
		break;
	case VIEWER_KEY:
		/* A keysym is a character, whatever the client's shift (see input_key_shift);
		 * Caps Lock stays with the client. */
		code = keymap_from_keysym_shift(msg->key.keysym, &shift);
		if (input && code && code != KEY_CAPSLOCK)
			input->ops->key_shift(input->dev, code, msg->key.down ? 1 : 0, shift,
					      false);
		break;
	case VIEWER_ACTION:
		act(v, &msg->action);
		break;
	case VIEWER_LIST:
		send_list(v, msg->list.id);
		break;
	default:
		break;
	}
}
