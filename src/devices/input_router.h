/* The input router: which VP hears the machine's input. Sources (the VNC sink, host evdev
 * devices, `cell input`) hand it whole packets, a pointer or keys; it sends them to the
 * foreground VP's evdev devices (evdev.h) only.
 *
 * - A key or a contact belongs to the VP that saw it begin: its repeats, moves and release
 *   go to that VP while it is in the foreground, and nowhere otherwise. A VP leaving the
 *   foreground (or going) gets everything it holds released in one packet; the new
 *   foreground starts clean: nothing of what began before it reaches it.
 * - A packet is routed whole, so no switch falls inside one (the caller serialises); a
 *   source's own SYN_DROPPED reaches the foreground VP as one. EV_SW reaches every VP.
 * - The system switch chords are the root's: their key, its repeats and its release are
 *   never any VP's; the router asks its owner for the switch instead. So is the accept
 *   key (a phone's call key), ringing call or not: the root is the phone.
 * - A source's BTN_TOUCH, BTN_TOOL_*, ABS_X and ABS_Y are dropped: the VP's screen makes its
 *   own from its contacts (evdev_mt_sync_frame).
 *
 * It knows nothing of FUSE, the loop, threads or the device namespace core: plain memory
 * and the VPs' evdev devices, so its unit tests (tests/unit/test_input_router.c) drive it
 * directly. Not thread-safe: the caller serialises every call (input.c: the device lock). */
#ifndef CELLS_DEVICES_INPUT_ROUTER_H
#define CELLS_DEVICES_INPUT_ROUTER_H

#include "common/error.h"
#include "common/keymap.h"
#include "devices/evdev.h"

#include <linux/input.h>
#include <stdbool.h>
#include <stdint.h>

/* A VP's devices, in the order of input_router_vp.devs. */
enum { INPUT_ROUTER_TOUCH, INPUT_ROUTER_KEYS, INPUT_ROUTER_NDEVS };

/* One VP as the router knows it: the caller's memory (embedded in its own instance), its
 * devices set before input_router_add; `next` is the router's. */
struct input_router_vp {
	struct evdev *devs[INPUT_ROUTER_NDEVS];
	struct input_router_vp *next;
};

enum { INPUT_KEY_POWER, INPUT_KEY_ACCEPT }; /* input_router_config.system_key's KEY */

#define INPUT_POWER_SHORT_NS 1000000000LL /* longer: the VP's own (a power menu) */

struct input_router_config {
	int width, height;	     /* the VP's screen: the pointer's range */
	struct key_chord next, prev; /* the system switch chords */
	/* A switch chord was pressed: DIRECTION 1 (next) or -1 (prev). Called inside the
	 * routing call: it must not call the router. */
	void (*request_switch)(void *ctx, int direction);
	unsigned accept_key; /* the phone's accept key, never a VP's (0: none) */
	/* A system key: INPUT_KEY_POWER, a short press of the power key (released within
	 * INPUT_POWER_SHORT_NS: the root turns the screen off or on), or INPUT_KEY_ACCEPT,
	 * the accept key went down. Called inside the routing call; NULL: nobody. */
	void (*system_key)(void *ctx, int key);
	void *ctx;
};

/* Counters for `cell stats`. */
struct input_stats {
	uint64_t packets, events_delivered, events_dropped, system_switches, system_keys;
};

struct input_router;

int input_router_create(struct input_router **out, const struct input_router_config *config,
			struct error *err);
void input_router_destroy(struct input_router *r);

/* "NEXT,PREV", two key chords (`cellsd --switch-keys`). -EINVAL for anything else. */
int input_router_parse_switch_keys(const char *text, struct key_chord *next,
				   struct key_chord *prev);

/* A VP comes (in the background) and goes: a VP that goes lets go of what it holds. */
void input_router_add(struct input_router *r, struct input_router_vp *vp);
void input_router_remove(struct input_router *r, struct input_router_vp *vp);
/* VP becomes the foreground (the previous one deactivated first) or leaves it: what it
 * holds is released on its devices and is nobody's from then on. */
void input_router_activate(struct input_router *r, struct input_router_vp *vp);
void input_router_deactivate(struct input_router *r, struct input_router_vp *vp);

/* One packet: a source's events up to and including its SYN_REPORT. A source names its
 * MT slot in every packet with MT events (the router starts each packet on slot 0). */
void input_router_route(struct input_router *r, const struct input_event *events, unsigned count);

/* A pointer as a touch on slot 0: DOWN while the button is held, at (X, Y) in the pixels
 * of a VP's screen (clamped). Y < 0 is above it, on the root's status bar: no contact
 * begins there, one dragged there stays at the screen's edge. Only changes make events. */
void input_router_pointer(struct input_router *r, int x, int y, bool down);

/* A key by code: pressed, released or repeated (VALUE 1, 0, 2); a press of a key that is
 * down is a repeat. Codes and values out of range are ignored. */
void input_router_key(struct input_router *r, unsigned code, int value);

/* A key typed as a character (see input_key_shift in input.h): the shift keys pressed or
 * lifted around it as SHIFT says, each event its own packet. */
void input_router_key_shift(struct input_router *r, unsigned code, int value, int shift, bool tap);

void input_router_size(const struct input_router *r, int *width, int *height);
void input_router_stats(const struct input_router *r, struct input_stats *out);

#endif
