/* A host evdev device as an input source (`cellsd --input /dev/input/eventN`): grabbed so
 * that nothing else on the host reads it, its axes scaled to the display, its events
 * handed to the router a whole packet at a time. A FIFO is taken too (records of struct
 * input_event, not grabbed, not scaled): a way to script input. */
#ifndef CELLS_DEVICES_INPUT_HOST_H
#define CELLS_DEVICES_INPUT_HOST_H

#include "common/error.h"
#include "common/loop.h"

struct input;
struct input_host;

struct devns;
int input_host_open(struct input_host **out, struct devns *core, const char *path, struct input *in,
		    struct error *err);
void input_host_close(struct input_host *host);

#endif
