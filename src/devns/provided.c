/* What devices provide the daemon's own users (the screen's picture, a way into the
 * foreground's input), the devices' stats and run directory, and the switch's news to every device.
 */
#include "devns/core.h"

const char *devns_run_dir(const struct devns *core)
{
	return core->host.run_dir;
}

void devns_provide_screen(struct devns *core, const struct devns_screen_ops *ops, void *dev)
{
	core->screen = (struct devns_provided_screen){.ops = ops, .dev = dev};
}

void devns_provide_input(struct devns *core, const struct devns_input_ops *ops, void *dev)
{
	core->input = (struct devns_provided_input){.ops = ops, .dev = dev};
}

const struct devns_provided_screen *devns_screen(struct devns *core)
{
	return core->screen.ops ? &core->screen : NULL;
}

const struct devns_provided_input *devns_input(struct devns *core)
{
	return core->input.ops ? &core->input : NULL;
}

void devns_stats(struct devns *core, json_t *stats)
{
	for (unsigned d = 0; d < vdev_count; d++)
		if (vdev_registry[d]->stats && core->global[d])
			vdev_registry[d]->stats(core->global[d], stats);
}

void devns_vp_stats(struct devns_vp *dvp, json_t *stats)
{
	for (unsigned d = 0; d < vdev_count; d++)
		if (vdev_registry[d]->vp_stats && dvp->state[d] && dvp->core->global[d])
			vdev_registry[d]->vp_stats(dvp->core->global[d], dvp->state[d], stats);
}
