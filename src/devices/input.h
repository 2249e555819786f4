/* The input device (DESIGN.md §5): in every VP with input access, /dev/input/event0 (a
 * multitouch touchscreen the size of the display) and /dev/input/event1 (buttons and a
 * keyboard, with switches, LEDs and sounds), served by FUSE (input_fs.c) with the evdev
 * model of evdev.c.
 *
 * Sources (the VNC sink, host evdev devices, the control socket) reach the VPs through
 * the calls below, which take the device lock around the router (input_router.h: what
 * goes to which VP, the system switch chord, what a switch releases). */
#ifndef CELLS_DEVICES_INPUT_H
#define CELLS_DEVICES_INPUT_H

#include "devices/input_router.h"

#include <linux/input.h>
#include <stdbool.h>
#include <stdint.h>

struct input;

/* Route one packet, a source's events up to and including its SYN_REPORT (taking the
 * device lock). Events with no device here are dropped. */
void input_route(struct input *in, const struct input_event *events, unsigned count);

/* A pointer as a touch on slot 0: DOWN while the button is held, at (X, Y) in the pixels
 * of a VP's screen (clamped). Y < 0 is above it, on the root's status bar: no contact
 * begins there, one dragged there stays at the screen's edge. Only changes make events. */
void input_pointer(struct input *in, int x, int y, bool down);

/* A key of the keyboard by code: pressed, released or repeated (VALUE 1, 0, 2). */
void input_key(struct input *in, unsigned code, int value);

/* A key typed as a character: pressed (VALUE 1) with shift as SHIFT says (1 down, 0 up, -1
 * as the sources hold it), the shift keys pressed or lifted around the press and put back
 * after it, all under one lock so no other event falls inside; VALUE 0 releases it. A letter
 * while ctrl, alt or meta is held is a shortcut: its shift stays as held. With TAP the key
 * is pressed and released inside the shift (a typist's order: shift, key, key up, shift
 * up). */
void input_key_shift(struct input *in, unsigned code, int value, int shift, bool tap);

/* The touchscreen's size: a VP's screen (the display's mode less the status bar). */
void input_size(const struct input *in, int *width, int *height);

/* Counters for `cell stats`. */
void input_get_stats(struct input *in, struct input_stats *out);

#endif
