/* A VP's configuration, as stored in STATE/vps/NAME/config.json. */
#ifndef CELLS_VP_CONFIG_H
#define CELLS_VP_CONFIG_H

#include "common/error.h"
#include "common/names.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum dev_access { DEV_NONE, DEV_SHARED, DEV_EXCLUSIVE };

/* Whether a VP runs again when cellsd starts (after a stop or a crash of the daemon):
 * always; unless-stopped: if it was running and the user had not stopped it; no. */
enum vp_restart { VP_RESTART_UNLESS_STOPPED, VP_RESTART_ALWAYS, VP_RESTART_NO };

#define VP_ID_MAX	     4095
#define VP_DEVICES_MAX	     16
#define VP_SETTINGS_MAX	     8
#define VP_DEVICE_NAME_MAX   15
#define VP_SETTING_KEY_MAX   23
#define VP_SETTING_VALUE_MAX 95
/* What a new VP gets unless told otherwise: enough for a phone's OS, not the host's all. */
#define VP_PIDS_DEFAULT	  4096
#define VP_MEMORY_DEFAULT (2ull << 30)
#define VP_DISK_DEFAULT	  (8ull << 30)

/* What the daemon's devices make of a VP's config (DESIGN.md §4: a device owns its part
 * of the config); the config itself names no device. */
struct vp_setting_kind {
	const char *key;     /* `cell create --KEY VALUE`: unique among all devices' and the
			      * config's own keys */
	const char *arg;     /* the value's name in the help: "NAME" */
	const char *help;    /* one line */
	const char *initial; /* a new VP's value */
};
struct vp_device_kind {
	const char *name;
	enum dev_access initial;		/* a new VP's right */
	const struct vp_setting_kind *settings; /* ended by a {NULL} entry; NULL: none */
	/* Whether VALUE is good for its setting KEY (NULL: any value fits). */
	int (*check)(const char *key, const char *value, struct error *err);
};
struct vp_catalog {
	const struct vp_device_kind *devices;
	unsigned ndevices;
};

/* Whether CATALOG can describe configs: names and keys well formed and unique, no key the
 * config's own, sizes within the limits above. */
int vp_catalog_check(const struct vp_catalog *catalog, struct error *err);
/* The catalog's settings and devices, for clients' help: {"devices": [NAME…], "settings":
 * [{"key", "arg", "help", "device"}…]}. */
json_t *vp_catalog_describe(const struct vp_catalog *catalog);
/* One setting, for clients' help: {"key", "arg", "help", "initial"}. */
json_t *vp_setting_describe(const struct vp_setting_kind *setting);

struct vp_setting {
	char key[VP_SETTING_KEY_MAX + 1];
	char value[VP_SETTING_VALUE_MAX + 1];
};

/* A device's part of a VP's config: its right and its settings. A device the daemon does
 * not have (a config written by a cellsd that had it) is kept as stored and unused. */
struct vp_device_config {
	char name[VP_DEVICE_NAME_MAX + 1];
	enum dev_access access;
	bool known; /* in the catalog */
	unsigned nsettings;
	struct vp_setting settings[VP_SETTINGS_MAX];
};

struct vp_config {
	char name[NAME_MAX_LEN + 1];
	unsigned id; /* picks the uid range; unique among VPs */
	char image[NAME_MAX_LEN + 1];
	uint64_t memory;      /* bytes; 0: no limit */
	uint64_t disk;	      /* bytes of its disk image; 0: a plain directory, no limit */
	unsigned pids;	      /* tasks at most */
	unsigned cpu_percent; /* 100 = one CPU; 0: no limit */
	enum vp_restart restart;
	const struct vp_catalog *catalog; /* the devices it is read and checked against */
	struct vp_device_config devices[VP_DEVICES_MAX];
	unsigned ndevices;
};

/* Defaults for a new VP: image "minimal", the default limits, every device of CATALOG
 * with its initial right and settings. CATALOG stays in use while C does. */
void vp_config_defaults(struct vp_config *c, const char *name, const struct vp_catalog *catalog);

/* Strict parse: unknown keys, wrong types and out-of-range values are errors; a device
 * the catalog lacks is kept as stored (its entry checked for form only). */
int vp_config_from_json(json_t *json, const struct vp_catalog *catalog, struct vp_config *c,
			struct error *err);
json_t *vp_config_to_json(const struct vp_config *c);

int vp_config_load(const char *path, const struct vp_catalog *catalog, struct vp_config *c,
		   struct error *err);
int vp_config_save(const char *path, const struct vp_config *c, struct error *err);

/* The option setters shared by the CLI's parsing and the daemon's validation. */
int vp_config_set_device(struct vp_config *c, const char *spec, struct error *err);
/* The "options" object and "devices" array of a create or config request (either may be
 * NULL), applied to CONFIG through the setters above, which check a stored config too. */
int vp_config_apply_request(struct vp_config *config, json_t *options, json_t *devices,
			    struct error *err);
/* KEY is the config's own (image, memory…) or a setting of one of its catalog's devices. */
int vp_config_set_option(struct vp_config *c, const char *key, const char *value,
			 struct error *err);

const char *dev_access_name(enum dev_access a);
const char *vp_restart_name(enum vp_restart r);
enum dev_access vp_config_device_access(const struct vp_config *c, const char *device);
/* DEVICE's value of its setting KEY (its initial one unless set), or NULL. */
const char *vp_config_setting(const struct vp_config *c, const char *device, const char *key);
/* DEVICE's entry, or NULL. */
const struct vp_device_config *vp_config_device(const struct vp_config *c, const char *device);

#endif
