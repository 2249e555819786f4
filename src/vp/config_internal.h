/* What config.c and config_devices.c share, and nothing outside uses. */
#ifndef CELLS_VP_CONFIG_INTERNAL_H
#define CELLS_VP_CONFIG_INTERNAL_H

#include "vp/config.h"

int dev_access_parse(const char *text, enum dev_access *a);
bool config_word_is_valid(const char *word, size_t max);
/* Whether KEY is one of the config's own options (image, memory…). */
bool config_own_key(const char *key);
/* The setting KEY of a device of CATALOG, and that device; NULL if none has it. */
const struct vp_setting_kind *vp_catalog_owner(const struct vp_catalog *catalog, const char *key,
					       const struct vp_device_kind **device);
struct vp_device_config *config_device_entry(struct vp_config *c, const char *device,
					     struct error *err);
int config_device_set(struct vp_device_config *d, const struct vp_catalog *catalog, const char *key,
		      const char *value, struct error *err);
void config_devices_defaults(struct vp_config *c);
int config_devices_from_json(struct vp_config *c, json_t *devices, struct error *err);
json_t *config_devices_to_json(const struct vp_config *c);

#endif
