/* A catalog of devices as a daemon's registry gives the VP config: devices with and
 * without settings, one setting with a check, for the config harnesses. */
#ifndef CELLS_FUZZ_CATALOG_H
#define CELLS_FUZZ_CATALOG_H

#include "vp/config.h"

#include <string.h>

static int fuzz_check_uplink(const char *key, const char *value, struct error *err)
{
	if (strcmp(key, "uplink") == 0 && strcmp(value, "wlan") != 0 && strcmp(value, "cell") != 0)
		return error_set(err, 0, "--uplink wants wlan or cell, not '%s'", value);
	return 0;
}

static const struct vp_setting_kind fuzz_net_settings[] = {
	{"uplink", "NAME", "", "wlan"},
	{"publish", "PORTS", "", ""},
	{NULL, NULL, NULL, NULL},
};

static const struct vp_device_kind fuzz_kinds[] = {
	{"display", DEV_SHARED, NULL, NULL},
	{"input", DEV_SHARED, NULL, NULL},
	{"vt", DEV_SHARED, NULL, NULL},
	{"net", DEV_SHARED, fuzz_net_settings, fuzz_check_uplink},
	{"audio", DEV_NONE, NULL, NULL},
};

static const struct vp_catalog fuzz_catalog = {fuzz_kinds,
					       sizeof(fuzz_kinds) / sizeof(fuzz_kinds[0])};

#endif
