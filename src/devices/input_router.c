/* The input router: see input_router.h. */
#include "devices/input_router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TRACKING_ID_MAX 65535 /* the kernel's TRKID_MAX */

struct input_router {
	struct input_router_config config;
	struct input_router_vp *vps, *active;
	/* Who saw each key and contact begin: only that VP hears the rest of it, and only
	 * while in the foreground. */
	struct input_router_vp *key_owner[KEY_CNT];
	struct input_router_vp *slot_owner[EVDEV_MT_SLOTS];
	/* The owner of what began in no VP's hands or outside the foreground: nobody hears
	 * it. Only its address is used. */
	struct input_router_vp nobody;
	bool key_down[KEY_CNT];	    /* at the sources */
	struct timespec power_down; /* when the power key went down */
	int slot;		    /* the slot of the packet's MT events */
	/* The pointer, as a touch on slot 0. */
	bool pointer_down;
	int tracking_id;
	struct input_stats stats;
};

int input_router_create(struct input_router **out, const struct input_router_config *config,
			struct error *err)
{
	struct input_router *r = calloc(1, sizeof(*r));

	if (!r)
		return error_set(err, ENOMEM, "input router");
	r->config = *config;
	*out = r;
	return 0;
}

void input_router_destroy(struct input_router *r)
{
	free(r);
}

int input_router_parse_switch_keys(const char *text, struct key_chord *next, struct key_chord *prev)
{
	char first[64];
	const char *comma = strchr(text, ',');

	if (!comma || (size_t)(comma - text) >= sizeof(first))
		return -EINVAL;
	memcpy(first, text, (size_t)(comma - text));
	first[comma - text] = '\0';
	if (keymap_parse_chord(first, next) < 0 || keymap_parse_chord(comma + 1, prev) < 0)
		return -EINVAL;
	return 0;
}

void input_router_add(struct input_router *r, struct input_router_vp *vp)
{
	vp->next = r->vps;
	r->vps = vp;
}

/* VP leaves the foreground or goes: what it holds is lifted, what it began is nobody's. */
static void let_go(struct input_router *r, struct input_router_vp *vp)
{
	struct evdev_time now;

	evdev_time_now(&now);
	for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++) {
		if (vp->devs[d]->pending) /* cannot happen: packets are routed whole */
			evdev_cut(vp->devs[d], &now);
		evdev_release_all(vp->devs[d], &now);
	}
	for (unsigned k = 0; k < KEY_CNT; k++)
		if (r->key_owner[k] == vp)
			r->key_owner[k] = &r->nobody;
	for (unsigned s = 0; s < EVDEV_MT_SLOTS; s++)
		if (r->slot_owner[s] == vp)
			r->slot_owner[s] = &r->nobody;
	if (r->active == vp)
		r->active = NULL;
}

void input_router_remove(struct input_router *r, struct input_router_vp *vp)
{
	let_go(r, vp);
	for (struct input_router_vp **p = &r->vps; *p; p = &(*p)->next)
		if (*p == vp) {
			*p = vp->next;
			break;
		}
}

void input_router_activate(struct input_router *r, struct input_router_vp *vp)
{
	/* It starts clean: what began elsewhere stays nobody's. */
	r->active = vp;
}

void input_router_deactivate(struct input_router *r, struct input_router_vp *vp)
{
	let_go(r, vp);
}

static bool is_touch_key(unsigned code)
{
	return code >= BTN_DIGI && code < BTN_WHEEL;
}

static bool is_mt(unsigned code)
{
	return code >= ABS_MT_TOUCH_MAJOR && code <= ABS_MT_TOOL_Y;
}

static unsigned modifiers_down(const struct input_router *r)
{
	unsigned mods = 0;

	for (unsigned k = KEY_LEFTCTRL; k <= KEY_RIGHTMETA; k++)
		if (r->key_down[k])
			mods |= keymap_modifier(k);
	return mods;
}

static void deliver(struct input_router *r, struct input_router_vp *to, unsigned dev,
		    const struct evdev_time *t, const struct input_event *ev)
{
	if (!to || to == &r->nobody || to != r->active) {
		r->stats.events_dropped++;
		return;
	}
	evdev_event(to->devs[dev], t, ev->type, ev->code, ev->value);
	r->stats.events_delivered++;
}

static bool chord_hit(const struct key_chord *chord, unsigned key, unsigned mods)
{
	return chord->mods && key == chord->key && (mods & chord->mods) == chord->mods;
}

/* A short press of the power key is also the root's: the foreground VP hears the key (a
 * long press is its power menu), the root turns the screen off or on. */
static void power_key(struct input_router *r, const struct evdev_time *t, bool down)
{
	long long held;

	if (down) {
		r->power_down = t->mono;
		return;
	}
	held = (t->mono.tv_sec - r->power_down.tv_sec) * 1000000000LL + t->mono.tv_nsec -
	       r->power_down.tv_nsec;
	if (r->key_down[KEY_POWER] && held < INPUT_POWER_SHORT_NS && r->config.system_key) {
		r->stats.system_keys++;
		r->config.system_key(r->config.ctx, INPUT_KEY_POWER);
	}
}

static void route_key(struct input_router *r, const struct evdev_time *t,
		      const struct input_event *ev)
{
	struct input_router_vp *owner;

	/* A source's BTN_TOUCH and BTN_TOOL_*: the VP's screen makes its own BTN_TOUCH from
	 * its contacts (evdev_mt_sync_frame), and has no tools. */
	if (is_touch_key(ev->code)) {
		r->stats.events_dropped++;
		return;
	}
	if (ev->code == KEY_POWER && ev->value != 2)
		power_key(r, t, ev->value == 1);
	if (ev->value == 1) {
		unsigned mods = modifiers_down(r);
		bool next = chord_hit(&r->config.next, ev->code, mods);

		r->key_down[ev->code] = true;
		/* The system switch: the root's alone, never any VP's, and its release and
		 * repeats are nobody's either. */
		if (next || chord_hit(&r->config.prev, ev->code, mods)) {
			r->key_owner[ev->code] = &r->nobody;
			r->stats.system_switches++;
			r->config.request_switch(r->config.ctx, next ? 1 : -1);
			return;
		}
		/* The accept key: a phone's call key is its phone's, here the root's, with or
		 * without a call ringing (no VP learns from it whether one rings). */
		if (ev->code == r->config.accept_key && r->config.accept_key) {
			r->key_owner[ev->code] = &r->nobody;
			r->stats.system_keys++;
			if (r->config.system_key)
				r->config.system_key(r->config.ctx, INPUT_KEY_ACCEPT);
			return;
		}
		r->key_owner[ev->code] = r->active;
		deliver(r, r->active, INPUT_ROUTER_KEYS, t, ev);
		return;
	}
	owner = r->key_owner[ev->code];
	if (ev->value == 0) {
		r->key_down[ev->code] = false;
		r->key_owner[ev->code] = NULL;
	}
	deliver(r, owner, INPUT_ROUTER_KEYS, t, ev);
}

static void route_abs(struct input_router *r, const struct evdev_time *t,
		      const struct input_event *ev)
{
	struct input_router_vp *owner;

	if (ev->code == ABS_MT_SLOT) {
		if (ev->value >= 0 && ev->value < EVDEV_MT_SLOTS)
			r->slot = ev->value;
		return;
	}
	if (!is_mt(ev->code)) {
		/* ABS_X and ABS_Y are the screen's own, at its oldest contact; it has no
		 * other axis. */
		r->stats.events_dropped++;
		return;
	}
	if (ev->code == ABS_MT_TRACKING_ID && ev->value >= 0)
		r->slot_owner[r->slot] = r->active; /* a new contact */
	owner = r->slot_owner[r->slot];
	if (owner == r->active && owner) /* the device sends the slot only if it changed */
		evdev_event(owner->devs[INPUT_ROUTER_TOUCH], t, EV_ABS, ABS_MT_SLOT, r->slot);
	deliver(r, owner, INPUT_ROUTER_TOUCH, t, ev);
	if (ev->code == ABS_MT_TRACKING_ID && ev->value < 0)
		r->slot_owner[r->slot] = NULL;
}

static void end_packet(struct input_router *r, const struct evdev_time *t)
{
	for (struct input_router_vp *v = r->vps; v; v = v->next) {
		/* Its contacts changed: so may its pointer. */
		if (v->devs[INPUT_ROUTER_TOUCH]->pending)
			evdev_mt_sync_frame(v->devs[INPUT_ROUTER_TOUCH], t);
		for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++)
			evdev_event(v->devs[d], t, EV_SYN, SYN_REPORT, 0);
	}
}

void input_router_route(struct input_router *r, const struct input_event *events, unsigned count)
{
	struct evdev_time now;

	evdev_time_now(&now);
	r->stats.packets++;
	r->slot = 0; /* a source names its slot in every packet with MT events */
	for (unsigned i = 0; i < count; i++) {
		const struct input_event *ev = &events[i];
		switch (ev->type) {
		case EV_KEY:
			if (ev->code < KEY_CNT && ev->value >= 0 && ev->value <= 2)
				route_key(r, &now, ev);
			break;
		case EV_ABS:
			if (ev->code < ABS_CNT)
				route_abs(r, &now, ev);
			break;
		case EV_SW:
			/* A lid or a headphone jack is every VP's news. */
			for (struct input_router_vp *v = r->vps; v; v = v->next)
				evdev_event(v->devs[INPUT_ROUTER_KEYS], &now, ev->type, ev->code,
					    ev->value);
			break;
		case EV_SYN:
			if (ev->code == SYN_REPORT) {
				end_packet(r, &now);
			} else if (ev->code == SYN_DROPPED && r->active) {
				for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++)
					evdev_cut(r->active->devs[d], &now);
			}
			break;
		default:
			r->stats.events_dropped++;
			break;
		}
	}
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void input_router_pointer(struct input_router *r, int x, int y, bool down)
{
	struct input_event ev[6];
	unsigned n = 0;

#define ADD(t, c, v) (ev[n++] = (struct input_event){.type = (t), .code = (c), .value = (v)})
	if (y < 0 && !r->pointer_down) /* on the root's bar: no contact begins there */
		down = false;
	x = clamp(x, 0, r->config.width - 1);
	y = clamp(y, 0, r->config.height - 1);
	if (down || r->pointer_down)
		ADD(EV_ABS, ABS_MT_SLOT, 0);
	if (down && !r->pointer_down) {
		r->tracking_id = (r->tracking_id + 1) & TRACKING_ID_MAX;
		ADD(EV_ABS, ABS_MT_TRACKING_ID, r->tracking_id);
	}
	/* The contact alone: the screen adds BTN_TOUCH and ABS_X/ABS_Y at the frame's end. */
	if (down) {
		ADD(EV_ABS, ABS_MT_POSITION_X, x);
		ADD(EV_ABS, ABS_MT_POSITION_Y, y);
	} else if (r->pointer_down) {
		ADD(EV_ABS, ABS_MT_TRACKING_ID, -1);
	}
	if (n) {
		ADD(EV_SYN, SYN_REPORT, 0);
		input_router_route(r, ev, n);
	}
	r->pointer_down = down;
#undef ADD
}

void input_router_key(struct input_router *r, unsigned code, int value)
{
	struct input_event ev[2] = {
		{.type = EV_KEY, .code = (uint16_t)code, .value = value},
		{.type = EV_SYN, .code = SYN_REPORT},
	};

	if (code >= KEY_CNT || value < 0 || value > 2)
		return;
	if (value == 1 && r->key_down[code])
		ev[0].value = 2; /* a client's autorepeat: a repeat, not a new press */
	input_router_route(r, ev, 2);
}

void input_router_key_shift(struct input_router *r, unsigned code, int value, int shift, bool tap)
{
	static const unsigned shifts[] = {KEY_LEFTSHIFT, KEY_RIGHTSHIFT};
	struct input_event ev[12];
	bool held[2], change;
	unsigned n = 0;

#define ADD(c, v)                                                                                  \
	do {                                                                                       \
		ev[n++] = (struct input_event){.type = EV_KEY, .code = (c), .value = (v)};         \
		ev[n++] = (struct input_event){.type = EV_SYN, .code = SYN_REPORT};                \
	} while (0)
	if (code >= KEY_CNT || value < 0 || value > 1)
		return;
	held[0] = r->key_down[KEY_LEFTSHIFT];
	held[1] = r->key_down[KEY_RIGHTSHIFT];
	change = value == 1 && shift >= 0 && (held[0] || held[1]) != (shift == 1) &&
		 !(keymap_is_letter(code) &&
		   (modifiers_down(r) & (KEYMAP_CTRL | KEYMAP_ALT | KEYMAP_META)));
	if (change && shift == 1)
		ADD(KEY_LEFTSHIFT, 1);
	for (unsigned i = 0; change && shift == 0 && i < 2; i++)
		if (held[i])
			ADD(shifts[i], 0);
	ADD(code, value == 1 && r->key_down[code] ? 2 : value);
	if (tap && value == 1)
		ADD(code, 0);
	if (change && shift == 1)
		ADD(KEY_LEFTSHIFT, 0);
	for (unsigned i = 0; change && shift == 0 && i < 2; i++)
		if (held[i])
			ADD(shifts[i], 1);
	input_router_route(r, ev, n);
#undef ADD
}

void input_router_size(const struct input_router *r, int *width, int *height)
{
	*width = r->config.width;
	*height = r->config.height;
}

void input_router_stats(const struct input_router *r, struct input_stats *out)
{
	*out = r->stats;
}
