/* Calls (telephony.h): one call on the modem and at most one waiting, each routed to
 * one VP. A VP sees and touches only its own: another VP dialling while the modem is
 * busy gets BUSY, a call for a VP that is in one arrives there as waiting (+CCWA), a
 * waiting call for another VP is rejected (the caller hears busy). The modem is asked
 * (+CLCC) whenever a call may have ended: its list is the truth. */
#include "devices/telephony.h"
#include "common/log.h"
#include "devns/devns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static struct tel_call *vp_call(struct tel_dev *dev, const struct tel_vp *vp)
{
	for (unsigned i = 0; i < TEL_CALLS; i++)
		if (dev->calls[i].used && dev->calls[i].vp == vp)
			return &dev->calls[i];
	return NULL;
}

static void clear_call(struct tel_dev *dev, struct tel_call *c)
{
	bool announced = c->vp && c->dir == 1;

	memset(c, 0, sizeof(*c));
	if (announced)
		tel_announce(dev, "");
}

/* The call C has ended (REASON: TEL_NO_CARRIER, TEL_BUSY...): its VP is told. */
static void ended(struct tel_dev *dev, struct tel_call *c, int reason, const char *why)
{
	if (c->vp) {
		tel_at_unsolicited(&c->vp->at, reason);
		tel_event(dev, "call-ended", c->vp, "reason", why);
	}
	clear_call(dev, c);
}

/* A +CLCC line: its index, direction, state and number. */
static int parse_clcc(const char *line, unsigned *idx, int *dir, int *stat, char *number,
		      size_t size)
{
	const char *q;
	size_t n;

	if (sscanf(line, "+CLCC: %u,%d,%d", idx, dir, stat) != 3)
		return -EINVAL;
	number[0] = '\0';
	if ((q = strchr(line, '"')) && (n = strcspn(q + 1, "\"")) < size) {
		memcpy(number, q + 1, n);
		number[n] = '\0';
	}
	return 0;
}

/* The modem's list of calls INFO: ours that are not in it have ended, the others take
 * its state. */
static void reconcile(struct tel_dev *dev, const char *info)
{
	bool seen[TEL_CALLS] = {false};
	char number[64];
	unsigned idx;
	int dir, stat;

	for (const char *l = info; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		if (parse_clcc(l, &idx, &dir, &stat, number, sizeof(number)) < 0)
			continue;
		for (unsigned i = 0; i < TEL_CALLS; i++)
			if (dev->calls[i].used && dev->calls[i].idx == idx) {
				seen[i] = true;
				if (dev->calls[i].stat != stat && stat == 0 && dev->calls[i].vp)
					tel_event(dev, "call-active", dev->calls[i].vp, NULL, NULL);
				dev->calls[i].stat = stat;
			}
	}
	for (unsigned i = 0; i < TEL_CALLS; i++)
		if (dev->calls[i].used && dev->calls[i].confirmed && !seen[i])
			ended(dev, &dev->calls[i], dev->end_reason,
			      dev->end_reason == TEL_BUSY ? "busy" : "hangup");
	/* A waiting call left alone once the other ended: the modem rings it anew. */
	if (!dev->calls[0].used && dev->calls[1].used) {
		dev->calls[0] = dev->calls[1];
		memset(&dev->calls[1], 0, sizeof(dev->calls[1]));
	}
	dev->end_reason = TEL_NO_CARRIER;
}

static void reconcile_done(void *data, int result, int code, const char *info)
{
	(void)code;
	if (result == TEL_OK)
		reconcile(data, info);
}

static void ask_calls(struct tel_dev *dev)
{
	if (tel_link_send(dev->link, "AT+CLCC", NULL, reconcile_done, dev) < 0)
		log_warn("telephony: cannot ask the modem for its calls");
}

/* The modem's answer to a VP's command: the VP's result, and the calls asked for. */
static void vp_done(void *data, int result, int code, const char *info)
{
	struct tel_vp *vp = data;

	(void)info;
	tel_at_done(&vp->at, result, code);
	ask_calls(vp->dev);
}

static int send_for(struct tel_dev *dev, struct tel_vp *vp, const char *cmd, tel_link_done done,
		    int *code)
{
	int ret = tel_link_send(dev->link, cmd, NULL, done, vp);

	if (ret == 0)
		return TEL_PENDING;
	*code = ret == -ENOTCONN ? CME_NO_NETWORK : CME_UNKNOWN;
	return TEL_CME;
}

static void dial_done(void *data, int result, int code, const char *info)
{
	struct tel_vp *vp = data;
	struct tel_dev *dev = vp->dev;
	struct tel_call *c = vp_call(dev, vp);

	(void)info;
	if (result != TEL_OK && c) {
		clear_call(dev, c);
		if (result == TEL_ERROR || result == TEL_CME)
			result = TEL_NO_CARRIER;
	} else if (c) {
		c->confirmed = true;
		tel_event(dev, "call-dialing", vp, "to", c->number);
	}
	tel_at_done(&vp->at, result, code);
}

int tel_call_dial(struct tel_dev *dev, struct tel_vp *vp, const char *dest, int *code)
{
	char dial[80], cmd[96];
	struct error err;
	struct tel_call *c = &dev->calls[0];

	if (c->used) {
		if (c->vp == vp) {
			*code = CME_NOT_ALLOWED;
			return TEL_CME;
		}
		return TEL_BUSY; /* the modem has another VP's call */
	}
	if (tel_number_dial(&dev->numbers, tel_vp_owns_sim(dev, vp), vp->id, dest, dial,
			    sizeof(dial), &err) < 0) {
		log_info("telephony: %s: dial refused: %s", vp->name, err.msg);
		tel_event(dev, "call-refused", vp, "reason", err.msg);
		*code = CME_NOT_ALLOWED;
		return TEL_CME;
	}
	snprintf(cmd, sizeof(cmd), "ATD%s;", dial);
	/* The modem is this VP's from now: a second VP's ATD meanwhile gets BUSY. */
	*c = (struct tel_call){.used = true, .vp = vp, .idx = 1, .dir = 0, .stat = 2};
	snprintf(c->number, sizeof(c->number), "%s", dest);
	dev->calls_out++;
	int r = send_for(dev, vp, cmd, dial_done, code);
	if (r != TEL_PENDING)
		clear_call(dev, c);
	return r;
}

static void answer_done(void *data, int result, int code, const char *info)
{
	struct tel_vp *vp = data;
	struct tel_dev *dev = vp->dev;
	struct tel_call *c = vp_call(dev, vp);

	(void)info;
	if (result == TEL_OK && c) {
		c->stat = 0;
		tel_event(dev, "call-answered", vp, "from", c->number);
		tel_announce(dev, "");
		if (vp->on_call != TEL_ON_CALL_NONE && !tel_vp_foreground(dev, vp))
			devns_request_foreground(dev->core, vp->name);
	}
	tel_at_done(&vp->at, result, code);
}

int tel_call_answer(struct tel_dev *dev, struct tel_vp *vp, int *code)
{
	struct tel_call *c = &dev->calls[0];

	if (!c->used || c->dir != 1 || c->stat != 4)
		return TEL_NO_CARRIER; /* nothing ringing: as a modem says */
	if (c->vp != vp) {
		*code = CME_NOT_ALLOWED; /* another VP's call */
		return TEL_CME;
	}
	return send_for(dev, vp, "ATA", answer_done, code);
}

int tel_call_accept(struct tel_dev *dev, const char **name)
{
	struct tel_call *c = &dev->calls[0];
	struct tel_vp *vp = c->vp;

	if (!c->used || c->dir != 1 || c->stat != 4 || !vp)
		return -ENOENT;
	*name = vp->name;
	if (tel_link_send(dev->link, "ATA", NULL, NULL, NULL) < 0)
		return -ENOTCONN;
	c->stat = 0;
	tel_event(dev, "call-answered", vp, "from", c->number);
	tel_announce(dev, "");
	if (vp->on_call != TEL_ON_CALL_NONE && !tel_vp_foreground(dev, vp))
		devns_request_foreground(dev->core, vp->name);
	return 0;
}

/* The VP's own hang-up done: its call (SLOT's) is over at once, before its program may
 * close the tty. */
static void hangup_done(struct tel_vp *vp, unsigned slot, int result, int code)
{
	struct tel_dev *dev = vp->dev;
	struct tel_call *c = &dev->calls[slot];

	if (result == TEL_OK && c->used && c->vp == vp) {
		tel_event(dev, "call-ended", vp, "reason", "hangup");
		clear_call(dev, c);
	}
	tel_at_done(&vp->at, result, code);
	ask_calls(dev);
}

static void hangup_active_done(void *data, int result, int code, const char *info)
{
	(void)info;
	hangup_done(data, 0, result, code);
}

static void hangup_waiting_done(void *data, int result, int code, const char *info)
{
	(void)info;
	hangup_done(data, 1, result, code);
}

int tel_call_hangup(struct tel_dev *dev, struct tel_vp *vp, int *code)
{
	if (dev->calls[0].used && dev->calls[0].vp == vp) {
		dev->end_reason = TEL_NO_CARRIER;
		return send_for(dev, vp, "ATH", hangup_active_done, code);
	}
	if (dev->calls[1].used && dev->calls[1].vp == vp)
		return send_for(dev, vp, "AT+CHLD=0", hangup_waiting_done, code);
	return TEL_OK; /* none of its own: another VP's call is not its to end */
}

/* The modem's list, the VP's calls only, with the numbers as the VP knows them. */
static void list_done(void *data, int result, int code, const char *info)
{
	struct tel_vp *vp = data;
	struct tel_dev *dev = vp->dev;
	char line[160], number[64];
	unsigned idx;
	int dir, stat;

	if (result == TEL_OK) {
		for (const char *l = info; *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
			if (parse_clcc(l, &idx, &dir, &stat, number, sizeof(number)) < 0)
				continue;
			for (unsigned i = 0; i < TEL_CALLS; i++) {
				struct tel_call *c = &dev->calls[i];
				if (!c->used || c->vp != vp || c->idx != idx)
					continue;
				snprintf(line, sizeof(line), "+CLCC: %u,%d,%d,0,0,\"%s\",%d", idx,
					 c->dir, stat, c->number, tel_number_type(c->number));
				tel_at_info(&vp->at, line);
			}
		}
		reconcile(dev, info);
	}
	tel_at_done(&vp->at, result, code);
}

int tel_call_list(struct tel_dev *dev, struct tel_vp *vp, int *code)
{
	if (!vp_call(dev, vp))
		return TEL_OK; /* none: the modem need not be asked */
	return send_for(dev, vp, "AT+CLCC", list_done, code);
}

int tel_call_chld(struct tel_dev *dev, struct tel_vp *vp, const char *arg, int *code)
{
	char cmd[32];

	/* Holding and swapping join calls: only when every call on the modem is its own. */
	for (unsigned i = 0; i < TEL_CALLS; i++)
		if (dev->calls[i].used && dev->calls[i].vp != vp) {
			*code = CME_NOT_ALLOWED;
			return TEL_CME;
		}
	if (!vp_call(dev, vp) || strspn(arg, "0123456789") != strlen(arg)) {
		*code = CME_NOT_ALLOWED;
		return TEL_CME;
	}
	snprintf(cmd, sizeof(cmd), "AT+CHLD=%s", arg);
	return send_for(dev, vp, cmd, vp_done, code);
}

int tel_call_vts(struct tel_dev *dev, struct tel_vp *vp, const char *arg, int *code)
{
	char cmd[32];

	if (!dev->calls[0].used || dev->calls[0].vp != vp || dev->calls[0].stat != 0 ||
	    strlen(arg) != 1 || !strchr("0123456789*#ABCD", arg[0])) {
		*code = CME_NOT_ALLOWED;
		return TEL_CME;
	}
	snprintf(cmd, sizeof(cmd), "AT+VTS=%s", arg);
	return send_for(dev, vp, cmd, vp_done, code);
}

/* The number in a +CLIP or +CCWA line. */
static int quoted_number(const char *line, char *out, size_t size)
{
	const char *q = strchr(line, '"');
	size_t n;

	if (!q || (n = strcspn(q + 1, "\"")) >= size || q[1 + n] != '"')
		return -EINVAL;
	memcpy(out, q + 1, n);
	out[n] = '\0';
	return 0;
}

/* Which VP an incoming CALLER_ID is for, and the caller it shows; NULL: nobody's. */
static struct tel_vp *route(struct tel_dev *dev, const char *caller_id, char *caller, size_t size,
			    const char **why)
{
	unsigned id = 0;
	int tagged = tel_number_incoming(&dev->numbers, caller_id, &id, caller, size);
	struct tel_vp *vp;

	if (tagged < 0) {
		*why = "a malformed tag";
		return NULL;
	}
	vp = tagged ? tel_vp_by_id(dev, id) : tel_vp_owner(dev);
	if (!vp)
		*why = tagged ? "its VP is not running with telephony"
			      : "no VP owns the SIM's number";
	return vp;
}

/* The refusal's answer is no list of calls: the calls are asked for after it. */
static void after_refusal(void *data, int result, int code, const char *info)
{
	(void)result, (void)code, (void)info;
	ask_calls(data);
}

static void refuse(struct tel_dev *dev, const char *cmd, const char *from, const char *why)
{
	dev->calls_refused++;
	log_info("telephony: call from %s refused: %s", from, why);
	tel_link_send(dev->link, cmd, NULL, after_refusal, dev);
	tel_event(dev, "call-refused", NULL, "from", from);
}

/* The first +CLIP of an incoming call: whose it is. */
static void incoming(struct tel_dev *dev, struct tel_call *c, const char *caller_id)
{
	char caller[TEL_NUMBER_MAX], text[128];
	const char *why = "";
	struct tel_vp *vp = route(dev, caller_id, caller, sizeof(caller), &why);

	if (!vp) {
		clear_call(dev, c);
		refuse(dev, "ATH", caller_id, why);
		return;
	}
	c->vp = vp;
	snprintf(c->number, sizeof(c->number), "%s", caller);
	dev->calls_in++;
	tel_wake_vp(dev, vp, TEL_WAKE_CALL_MS);
	tel_event(dev, "call-incoming", vp, "from", caller);
	if (tel_vp_foreground(dev, vp))
		return;
	snprintf(text, sizeof(text), "call for %s from %s", vp->name, caller);
	tel_announce(dev, text);
	if (vp->on_call == TEL_ON_CALL_SWITCH && devns_request_foreground(dev->core, vp->name) == 0)
		c->switched = true;
}

static void on_clip(struct tel_dev *dev, const char *line)
{
	struct tel_call *c = &dev->calls[0];
	char number[64];

	if (!c->used || c->dir != 1 || c->stat != 4 ||
	    quoted_number(line, number, sizeof(number)) < 0)
		return;
	if (!c->vp)
		incoming(dev, c, number);
	if (c->used && c->vp) {
		if (c->vp->at.set.crc)
			tel_at_urc(&c->vp->at, "+CRING: VOICE");
		else
			tel_at_unsolicited(&c->vp->at, TEL_RING);
		if (c->vp->at.set.clip) {
			char out[96];
			snprintf(out, sizeof(out), "+CLIP: \"%s\",%d", c->number,
				 tel_number_type(c->number));
			tel_at_urc(&c->vp->at, out);
		}
	}
}

static void on_ccwa(struct tel_dev *dev, const char *line)
{
	struct tel_call *active = &dev->calls[0], *w = &dev->calls[1];
	char number[64], caller[TEL_NUMBER_MAX], out[96];
	const char *why = "";
	struct tel_vp *vp;

	if (quoted_number(line, number, sizeof(number)) < 0)
		return;
	if (!w->used) {
		vp = route(dev, number, caller, sizeof(caller), &why);
		if (!vp || !active->used || active->vp != vp) {
			/* Its VP is free, or nobody's: the modem is busy with another's call. */
			refuse(dev, "AT+CHLD=0", number,
			       vp ? "the modem is in another VP's call" : why);
			return;
		}
		*w = (struct tel_call){.used = true,
				       .vp = vp,
				       .idx = active->idx == 1 ? 2 : 1,
				       .dir = 1,
				       .stat = 5,
				       .confirmed = true};
		snprintf(w->number, sizeof(w->number), "%s", caller);
		dev->calls_in++;
		tel_event(dev, "call-waiting", vp, "from", caller);
		ask_calls(dev); /* the other's state: the modem says nothing when it is answered */
	}
	if (w->vp && w->vp->at.set.ccwa) {
		snprintf(out, sizeof(out), "+CCWA: \"%s\",%d,1", w->number,
			 tel_number_type(w->number));
		tel_at_urc(&w->vp->at, out);
	}
}

bool tel_call_urc(struct tel_dev *dev, const char *line)
{
	struct tel_call *c = &dev->calls[0];

	if (strcmp(line, "RING") == 0 || starts(line, "+CRING:")) {
		if (!c->used)
			*c = (struct tel_call){
				.used = true, .idx = 1, .dir = 1, .stat = 4, .confirmed = true};
		return true; /* the VP is rung with the +CLIP that follows */
	}
	if (starts(line, "+CLIP:")) {
		on_clip(dev, line);
		return true;
	}
	if (starts(line, "+CCWA:")) {
		on_ccwa(dev, line);
		return true;
	}
	if (strcmp(line, "NO CARRIER") == 0 || strcmp(line, "BUSY") == 0 ||
	    strcmp(line, "NO ANSWER") == 0) {
		dev->end_reason = line[0] == 'B' ? TEL_BUSY : TEL_NO_CARRIER;
		ask_calls(dev);
		return true;
	}
	return false;
}

static void gone_done(void *data, int result, int code, const char *info)
{
	(void)result, (void)code, (void)info;
	ask_calls(data);
}

void tel_call_vp_gone(struct tel_dev *dev, struct tel_vp *vp, bool forget)
{
	for (unsigned i = 0; i < TEL_CALLS; i++) {
		struct tel_call *c = &dev->calls[i];
		if (!c->used || c->vp != vp)
			continue;
		/* A call still ringing waits for a program (or the root) to answer it. */
		if (!forget && c->dir == 1 && (c->stat == 4 || c->stat == 5))
			continue;
		log_info("telephony: %s: its call is hung up", vp->name);
		tel_link_send(dev->link, i == 0 ? "ATH" : "AT+CHLD=0", NULL, gone_done, dev);
		tel_event(dev, "call-ended", vp, "reason", forget ? "vp-stopped" : "tty-closed");
		clear_call(dev, c);
	}
	if (!dev->calls[0].used && dev->calls[1].used) {
		dev->calls[0] = dev->calls[1];
		memset(&dev->calls[1], 0, sizeof(dev->calls[1]));
	}
}

void tel_call_link_down(struct tel_dev *dev)
{
	for (unsigned i = 0; i < TEL_CALLS; i++)
		if (dev->calls[i].used)
			ended(dev, &dev->calls[i], TEL_NO_CARRIER, "modem-lost");
}
