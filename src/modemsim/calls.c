/* The calls on the modem and the remote parties at their other end (TS 27.007 §6, §7.18
 * +CLCC's states, TS 22.083 hold and waiting): one call on the modem and at most one more
 * waiting or held. Each change gives the URC a real modem gives (RING/+CRING and +CLIP,
 * +CCWA, NO CARRIER, BUSY, +COLP) and the event the control socket's clients follow. */
#include "modemsim/sim.h"
#include "common/clock.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

struct call *call_by_id(struct sim *sim, int id)
{
	for (size_t i = 0; i < CALLS_MAX; i++)
		if (sim->calls[i].used && sim->calls[i].id == id)
			return &sim->calls[i];
	return NULL;
}

struct call *call_by_idx(struct sim *sim, int idx)
{
	for (size_t i = 0; i < CALLS_MAX; i++)
		if (sim->calls[i].used && sim->calls[i].idx == idx)
			return &sim->calls[i];
	return NULL;
}

struct call *call_find(struct sim *sim, enum call_stat stat)
{
	for (size_t i = 0; i < CALLS_MAX; i++)
		if (sim->calls[i].used && sim->calls[i].stat == stat)
			return &sim->calls[i];
	return NULL;
}

int calls_count(struct sim *sim)
{
	int n = 0;

	for (size_t i = 0; i < CALLS_MAX; i++)
		n += sim->calls[i].used;
	return n;
}

static struct call *call_new(struct sim *sim)
{
	for (size_t i = 0; i < CALLS_MAX; i++) {
		struct call *c = &sim->calls[i];
		int idx = 1;

		if (c->used)
			continue;
		/* +CLCC's index: the lowest one free. */
		while (call_by_idx(sim, idx))
			idx++;
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->idx = idx;
		c->id = ++sim->next_call_id;
		return c;
	}
	return NULL;
}

static int type_of(const char *number)
{
	return number[0] == '+' ? 145 : 129;
}

static void event_call(struct sim *sim, const char *event, const struct call *c, const char *by)
{
	if (!control_subscribed(sim))
		return;
	if (by)
		control_event(
			sim, json_pack("{s:s, s:i, s:s}", "event", event, "call", c->id, "by", by));
	else
		control_event(sim, json_pack("{s:s, s:i}", "event", event, "call", c->id));
}

void call_ring_now(struct sim *sim, struct call *c)
{
	modem_urc_result(sim, sim->cfg.crc ? "+CRING: VOICE" : "RING");
	if (sim->cfg.clip)
		modem_urc(sim, "+CLIP: \"%s\",%d", c->number, c->type);
	c->next_ring_ms = (int64_t)monotonic_ms() + sim->ring_interval_ms;
}

int call_dial(struct sim *sim, const char *dialled, struct error *err)
{
	char dest[NUMBER_MAX], shown[NUMBER_MAX];
	struct call *c;
	int r;

	if (sim->cfg.cfun != 1)
		return error_set(err, ENETDOWN, "radio off");
	if (calls_count(sim) > 0)
		return error_set(err, EBUSY, "a call is on the modem");
	r = service_route_call(sim, dialled, dest, shown, err);
	if (r < 0)
		return r;
	c = call_new(sim);
	c->dir = 0;
	c->stat = CALL_DIALING;
	snprintf(c->number, sizeof(c->number), "%s", dialled);
	c->type = type_of(dialled);
	snprintf(c->remote, sizeof(c->remote), "%s", dest);
	snprintf(c->shown, sizeof(c->shown), "%s", shown);
	/* The network reaches the callee once the modem has said OK: calls_tick(). */
	c->next_ring_ms = (int64_t)monotonic_ms();
	return 0;
}

/* An outgoing call reaches its remote party, which behaves as told. */
static void call_reach(struct sim *sim, struct call *c)
{
	c->stat = CALL_ALERTING;
	c->next_ring_ms = 0;
	if (control_subscribed(sim))
		control_event(sim, json_pack("{s:s, s:i, s:s, s:s}", "event", "ringing", "call",
					     c->id, "from", c->shown, "to", c->remote));
	switch (service_party(sim, c->remote)) {
	case PARTY_ANSWER:
		call_answer(sim, c, "remote");
		break;
	case PARTY_BUSY:
		modem_urc_result(sim, "BUSY");
		event_call(sim, "hangup", c, "busy");
		c->used = false;
		break;
	case PARTY_RING:
		break;
	}
}

int call_incoming(struct sim *sim, const char *from, const char *to, struct error *err)
{
	char shown[NUMBER_MAX];
	struct call *c;
	int r;

	if (sim->cfg.cfun != 1)
		return error_set(err, ENETDOWN, "the modem's radio is off");
	r = service_route_incoming(sim, from, to, shown, err);
	if (r < 0)
		return r;
	if (calls_count(sim) >= CALLS_MAX || call_find(sim, CALL_WAITING) ||
	    call_find(sim, CALL_INCOMING) || call_find(sim, CALL_DIALING) ||
	    call_find(sim, CALL_ALERTING)) {
		/* The message is the reply's error as it stands: "busy". */
		error_set(err, 0, "busy");
		return -EBUSY;
	}
	c = call_new(sim);
	c->dir = 1;
	snprintf(c->number, sizeof(c->number), "%s", shown);
	c->type = type_of(shown);
	snprintf(c->remote, sizeof(c->remote), "%s", from);
	snprintf(c->shown, sizeof(c->shown), "%s", from);
	if (calls_count(sim) == 1) {
		c->stat = CALL_INCOMING;
		call_ring_now(sim, c);
	} else {
		c->stat = CALL_WAITING;
		if (sim->cfg.ccwa)
			modem_urc(sim, "+CCWA: \"%s\",%d,1", c->number, c->type);
	}
	return c->id;
}

void call_answer(struct sim *sim, struct call *c, const char *by)
{
	c->stat = CALL_ACTIVE;
	c->next_ring_ms = 0;
	if (c->dir == 0 && sim->cfg.colp)
		modem_urc(sim, "+COLP: \"%s\",%d", c->remote, type_of(c->remote));
	event_call(sim, "answered", c, by);
}

/* A waiting call left alone on the modem rings as a new one does. */
static void promote_waiting(struct sim *sim)
{
	struct call *w = call_find(sim, CALL_WAITING);

	if (w && calls_count(sim) == 1) {
		w->stat = CALL_INCOMING;
		call_ring_now(sim, w);
	}
}

void call_end(struct sim *sim, struct call *c, const char *by)
{
	if (strcmp(by, "remote") == 0)
		modem_urc_result(sim, "NO CARRIER");
	event_call(sim, "hangup", c, by);
	c->used = false;
	promote_waiting(sim);
}

void calls_release_on_modem(struct sim *sim)
{
	bool ended = false;

	for (size_t i = 0; i < CALLS_MAX; i++) {
		struct call *c = &sim->calls[i];

		if (c->used && c->stat != CALL_WAITING) {
			event_call(sim, "hangup", c, "modem");
			c->used = false;
			ended = true;
		}
	}
	if (!ended) {
		struct call *w = call_find(sim, CALL_WAITING);

		if (w) {
			event_call(sim, "hangup", w, "modem");
			w->used = false;
		}
	}
	promote_waiting(sim);
}

static void release(struct sim *sim, struct call *c)
{
	event_call(sim, "hangup", c, "modem");
	c->used = false;
}

/* The call that is not C (the other one), if any. */
static struct call *other(struct sim *sim, const struct call *c)
{
	for (size_t i = 0; i < CALLS_MAX; i++)
		if (sim->calls[i].used && &sim->calls[i] != c)
			return &sim->calls[i];
	return NULL;
}

/* TS 27.007 §7.13 +CHLD (TS 22.030 §6.5.5.1): 0 releases the held or waiting call, 1
 * the active one and takes the other, 1x call x, 2 holds the active one and takes the
 * other, 2x keeps call x only active. Returns 0 or a +CME error number. */
int calls_chld(struct sim *sim, const char *arg)
{
	struct call *active = call_find(sim, CALL_ACTIVE), *held = call_find(sim, CALL_HELD),
		    *waiting = call_find(sim, CALL_WAITING), *x = NULL;

	if (arg[0] && arg[1]) {
		if (arg[2] || arg[1] < '1' || arg[1] > '9')
			return 50;
		x = call_by_idx(sim, arg[1] - '0');
		if (!x)
			return 21;
	}
	switch (arg[0]) {
	case '0':
		if (x)
			return 50;
		if (waiting)
			release(sim, waiting);
		else if (held)
			release(sim, held);
		else
			return 3;
		break;
	case '1':
		if (x) {
			release(sim, x);
			promote_waiting(sim);
			break;
		}
		if (!active && !waiting && !held)
			return 3;
		if (active)
			release(sim, active);
		if (waiting)
			call_answer(sim, waiting, "modem");
		else if (held)
			held->stat = CALL_ACTIVE;
		break;
	case '2':
		if (x) {
			if (x->stat != CALL_ACTIVE && x->stat != CALL_HELD)
				return 3;
			x->stat = CALL_ACTIVE;
			if (other(sim, x) && other(sim, x)->stat == CALL_ACTIVE)
				other(sim, x)->stat = CALL_HELD;
			break;
		}
		if (!active && !held && !waiting)
			return 3;
		if (active)
			active->stat = CALL_HELD;
		if (waiting)
			call_answer(sim, waiting, "modem");
		else if (held)
			held->stat = CALL_ACTIVE;
		break;
	default:
		return 50;
	}
	return 0;
}

void calls_tick(struct sim *sim)
{
	int64_t now = (int64_t)monotonic_ms();

	for (size_t i = 0; i < CALLS_MAX; i++) {
		struct call *c = &sim->calls[i];

		if (!c->used || !c->next_ring_ms || c->next_ring_ms > now)
			continue;
		if (c->stat == CALL_DIALING)
			call_reach(sim, c);
		else if (c->stat == CALL_INCOMING)
			call_ring_now(sim, c);
	}
}

int64_t calls_next_deadline(struct sim *sim)
{
	int64_t next = 0;

	for (size_t i = 0; i < CALLS_MAX; i++) {
		struct call *c = &sim->calls[i];

		if (c->used && c->next_ring_ms && (!next || c->next_ring_ms < next))
			next = c->next_ring_ms;
	}
	return next;
}
