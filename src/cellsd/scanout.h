/* The daemon's side of the viewer's scanout: a thread of its own composes the output into
 * the shared memory while clients watch, and says so through an eventfd. */
#ifndef CELLS_CELLSD_SCANOUT_H
#define CELLS_CELLSD_SCANOUT_H

#include "common/error.h"
#include "devns/devns.h"

#include <stdbool.h>

struct scanout;

/* A memfd of the output's size, and the thread that fills it. */
int scanout_start(struct scanout **out, const struct devns_provided_screen *screen,
		  const struct devns *devns, struct error *err);
void scanout_stop(struct scanout *s);
/* A descriptor of the memfd that can only be read (for the viewer); the caller closes it. */
int scanout_open_readonly(struct scanout *s, struct error *err);
/* The eventfd written after each publication. */
int scanout_frame_fd(struct scanout *s);
/* How many clients watch: none, no composing. */
void scanout_set_watching(struct scanout *s, bool watching);
/* A switch begins: until it ends, nothing composed is published (it would show the new
 * VP's page under the old one's name). The end composes at once if WATCHED. */
void scanout_switch_begin(struct scanout *s);
void scanout_switch_end(struct scanout *s, bool watched);
/* Compose and publish now (a switch, a new client), even an unchanged picture. */
void scanout_refresh(struct scanout *s);

#endif
