/* What the parts of the device framework call of each other, and nothing outside uses. */
#ifndef CELLS_DEVNS_INTERNAL_H
#define CELLS_DEVNS_INTERNAL_H

#include "devns/devns.h"

int devns_notify_sizes(struct devns *core, struct error *err);
void devns_vp_close_listeners(struct devns_vp *dvp);

#endif
