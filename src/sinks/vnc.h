/* The VNC sink: the composed output over RFB (libvncserver), WebSockets included, so noVNC
 * in a browser and any VNC client show the phone. */
#ifndef CELLS_SINKS_VNC_H
#define CELLS_SINKS_VNC_H

#include "common/error.h"
#include "devices/display.h"
#include "devices/input.h"

#include <stdint.h>

struct vnc;

/* Listen on ADDR:PORT (IPv4 dotted quad). The clients' pointer and keys go to INPUT. */
int vnc_start(struct vnc **out, struct display *display, struct input *input, const char *addr,
	      int port, struct error *err);
void vnc_stop(struct vnc *vnc);
/* The picture may have changed (a switch): send it now rather than at the next tick. */
void vnc_refresh(struct vnc *vnc);
/* Bytes sent to clients so far, and clients connected now. */
uint64_t vnc_bytes_sent(struct vnc *vnc);
unsigned vnc_clients(struct vnc *vnc);

#endif
