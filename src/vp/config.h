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

#define VP_ID_MAX      4095
#define VP_DEVICES_MAX 16
#define VP_NUMBER_MAX  20
/* What a new VP gets unless told otherwise: enough for a phone's OS, not the host's all. */
#define VP_PIDS_DEFAULT	  4096
#define VP_MEMORY_DEFAULT (2ull << 30)
#define VP_DISK_DEFAULT	  (8ull << 30)

struct vp_device_right {
	char name[16];
	enum dev_access access;
};

struct vp_config {
	char name[NAME_MAX_LEN + 1];
	unsigned id; /* picks the uid range; unique among VPs */
	char image[NAME_MAX_LEN + 1];
	uint64_t memory;      /* bytes; 0: no limit */
	uint64_t disk;	      /* bytes of its disk image; 0: a plain directory, no limit */
	unsigned pids;	      /* tasks at most */
	unsigned cpu_percent; /* 100 = one CPU; 0: no limit */
	char number[VP_NUMBER_MAX + 1];
	char uplink[8];	     /* wlan | cell */
	char background[12]; /* run | throttle | freeze */
	enum vp_restart restart;
	struct vp_device_right devices[VP_DEVICES_MAX];
	unsigned ndevices;
};

/* Defaults for a new VP: image "minimal", the default limits, every known device with its
 * default right. */
void vp_config_defaults(struct vp_config *c, const char *name);

/* Strict parse: unknown keys, wrong types and out-of-range values are errors. */
int vp_config_from_json(json_t *json, struct vp_config *c, struct error *err);
json_t *vp_config_to_json(const struct vp_config *c);

int vp_config_load(const char *path, struct vp_config *c, struct error *err);
int vp_config_save(const char *path, const struct vp_config *c, struct error *err);

/* The option setters shared by the CLI's parsing and the daemon's validation. */
int vp_config_set_device(struct vp_config *c, const char *spec, struct error *err);
/* The "options" object and "devices" array of a create or config request (either may be
 * NULL), applied to CONFIG through the setters above, which check a stored config too.
 * Options whose devices have not landed are refused, never stored. */
int vp_config_apply_request(struct vp_config *config, json_t *options, json_t *devices,
			    struct error *err);
int vp_config_set_option(struct vp_config *c, const char *key, const char *value,
			 struct error *err);

const char *dev_access_name(enum dev_access a);
const char *vp_restart_name(enum vp_restart r);
enum dev_access vp_config_device_access(const struct vp_config *c, const char *device);

#endif
