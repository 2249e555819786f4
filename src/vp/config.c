#include "vp/config.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "vp/config_internal.h"
#include "vp/disk.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Version 1 had "autostart": true|false where version 2 has "restart"; version 3 adds
 * "disk"; version 4 gives each device an object (its right and its settings) and drops
 * "number", "uplink" and "background" (now settings of the devices that own them). A VP
 * of version 1 or 2 has no disk image: "disk" 0. */
#define CONFIG_VERSION	 4
#define CONFIG_MAX_BYTES 65536
#define CPU_PERCENT_MAX	 100000

static const char *const own_keys[] = {"image", "memory", "disk", "pids", "cpu", "restart"};

bool config_own_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(own_keys); i++)
		if (strcmp(own_keys[i], key) == 0)
			return true;
	return false;
}

const char *vp_restart_name(enum vp_restart r)
{
	switch (r) {
	case VP_RESTART_ALWAYS:
		return "always";
	case VP_RESTART_NO:
		return "no";
	case VP_RESTART_UNLESS_STOPPED:
		break;
	}
	return "unless-stopped";
}

void vp_config_defaults(struct vp_config *c, const char *name, const struct vp_catalog *catalog)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->image, sizeof(c->image), "minimal");
	c->pids = VP_PIDS_DEFAULT;
	c->memory = VP_MEMORY_DEFAULT;
	c->disk = VP_DISK_DEFAULT;
	c->catalog = catalog;
	config_devices_defaults(c);
}

/* "max" and "none" (and 0) say no limit. */
static bool means_unlimited(const char *text)
{
	return strcmp(text, "max") == 0 || strcmp(text, "none") == 0;
}

static int parse_uint(const char *text, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v > max)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

int vp_config_set_option(struct vp_config *c, const char *key, const char *value, struct error *err)
{
	if (strcmp(key, "image") == 0) {
		if (!name_is_valid(value))
			return error_set(err, 0, "invalid image name '%s'", value);
		snprintf(c->image, sizeof(c->image), "%s", value);
	} else if (strcmp(key, "memory") == 0) {
		uint64_t bytes = 0;
		if (!means_unlimited(value) && parse_size(value, &bytes) < 0)
			return error_set(err, 0,
					 "--memory wants a size like 256M or 1G, or max, not '%s'",
					 value);
		if (bytes != 0 && bytes < (4u << 20))
			return error_set(err, 0, "--memory %s is below the 4M a VP needs", value);
		if (bytes > INT64_MAX)
			return error_set(err, 0, "--memory %s is too large", value);
		c->memory = bytes;
	} else if (strcmp(key, "disk") == 0) {
		uint64_t bytes = 0;
		if (!means_unlimited(value) && parse_size(value, &bytes) < 0)
			return error_set(err, 0,
					 "--disk wants a size like 512M or 8G, or none, not '%s'",
					 value);
		if (bytes != 0 && bytes < VP_DISK_MIN)
			return error_set(err, 0, "--disk %s is below the 64M a VP's disk needs",
					 value);
		if (bytes > INT64_MAX / 2)
			return error_set(err, 0, "--disk %s is too large", value);
		c->disk = bytes;
	} else if (strcmp(key, "pids") == 0) {
		unsigned pids = 0;
		if (!means_unlimited(value) &&
		    (parse_uint(value, 4194304, &pids) < 0 || (pids != 0 && pids < 8)))
			return error_set(
				err, 0, "--pids wants a number from 8 to 4194304, or max, not '%s'",
				value);
		c->pids = pids;
	} else if (strcmp(key, "cpu") == 0) {
		unsigned percent;
		if (parse_uint(value, CPU_PERCENT_MAX, &percent) < 0)
			return error_set(err, 0,
					 "--cpu wants a percentage of one CPU (0 = no limit), "
					 "not '%s'",
					 value);
		c->cpu_percent = percent;
	} else if (strcmp(key, "restart") == 0) {
		if (strcmp(value, "always") == 0)
			c->restart = VP_RESTART_ALWAYS;
		else if (strcmp(value, "unless-stopped") == 0)
			c->restart = VP_RESTART_UNLESS_STOPPED;
		else if (strcmp(value, "no") == 0)
			c->restart = VP_RESTART_NO;
		else
			return error_set(err, 0,
					 "--restart wants always, unless-stopped or no, not '%s'",
					 value);
	} else {
		const struct vp_device_kind *owner = NULL;
		struct vp_device_config *d;
		if (!vp_catalog_owner(c->catalog, key, &owner))
			return error_set(err, 0, "unknown option '--%s'", key);
		if (!(d = config_device_entry(c, owner->name, err)))
			return -EINVAL;
		return config_device_set(d, c->catalog, key, value, err);
	}
	return 0;
}

json_t *vp_config_to_json(const struct vp_config *c)
{
	json_t *devices = config_devices_to_json(c);

	if (!devices)
		return NULL;
	return json_pack("{s:i, s:s, s:i, s:s, s:I, s:I, s:i, s:i, s:s, s:o}", "version",
			 CONFIG_VERSION, "name", c->name, "id", (int)c->id, "image", c->image,
			 "memory", (json_int_t)c->memory, "disk", (json_int_t)c->disk, "pids",
			 (int)c->pids, "cpu", (int)c->cpu_percent, "restart",
			 vp_restart_name(c->restart), "devices", devices);
}

/* A config.json as stored, before its values are checked. */
struct stored_config {
	json_int_t version, id, memory, disk, pids, cpu;
	const char *name, *image, *restart;
	const char *number, *uplink, *background; /* versions 1 to 3 */
	json_t *devices;
};

/* The keys every version has, then each version's own. */
static int unpack_stored(json_t *json, struct stored_config *s, struct error *err)
{
	json_error_t jerr;
	int autostart = 0, ret;

	s->restart = "unless-stopped";
	if (s->version == 1)
		ret = json_unpack_ex(json, &jerr, JSON_STRICT,
				     "{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:b, s:o}",
				     "version", &s->version, "name", &s->name, "id", &s->id,
				     "image", &s->image, "memory", &s->memory, "pids", &s->pids,
				     "cpu", &s->cpu, "number", &s->number, "uplink", &s->uplink,
				     "background", &s->background, "autostart", &autostart,
				     "devices", &s->devices);
	else if (s->version == 2)
		ret = json_unpack_ex(json, &jerr, JSON_STRICT,
				     "{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:o}",
				     "version", &s->version, "name", &s->name, "id", &s->id,
				     "image", &s->image, "memory", &s->memory, "pids", &s->pids,
				     "cpu", &s->cpu, "number", &s->number, "uplink", &s->uplink,
				     "background", &s->background, "restart", &s->restart,
				     "devices", &s->devices);
	else if (s->version == 3)
		ret = json_unpack_ex(
			json, &jerr, JSON_STRICT,
			"{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:o}",
			"version", &s->version, "name", &s->name, "id", &s->id, "image", &s->image,
			"memory", &s->memory, "disk", &s->disk, "pids", &s->pids, "cpu", &s->cpu,
			"number", &s->number, "uplink", &s->uplink, "background", &s->background,
			"restart", &s->restart, "devices", &s->devices);
	else
		ret = json_unpack_ex(json, &jerr, JSON_STRICT,
				     "{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:o}",
				     "version", &s->version, "name", &s->name, "id", &s->id,
				     "image", &s->image, "memory", &s->memory, "disk", &s->disk,
				     "pids", &s->pids, "cpu", &s->cpu, "restart", &s->restart,
				     "devices", &s->devices);
	if (ret < 0)
		return error_set(err, 0, "config: %s", jerr.text);
	if (autostart)
		s->restart = "always";
	return 0;
}

/* Versions 1 to 3: each device's right as a string, and three settings of devices yet to
 * come at the top, stored where they belong now unless they held the value every VP had
 * (the options were refused until those devices came). */
static int migrate_stored(struct vp_config *c, const struct stored_config *s, struct error *err)
{
	const struct {
		const char *key, *device, *old_default, *value;
	} moved[] = {{"number", "telephony", "", s->number},
		     {"uplink", "net", "wlan", s->uplink},
		     {"background", "power", "run", s->background}};
	const char *name;
	json_t *value;
	int ret;

	json_object_foreach(s->devices, name, value)
	{
		struct vp_device_config *d;
		enum dev_access access;
		if (!json_is_string(value) ||
		    dev_access_parse(json_string_value(value), &access) < 0)
			return error_set(err, 0,
					 "config: device '%s' is not none, shared or "
					 "exclusive",
					 name);
		if (!(d = config_device_entry(c, name, err)))
			return -EINVAL;
		d->access = access;
	}
	for (size_t i = 0; i < ARRAY_SIZE(moved); i++) {
		struct vp_device_config *d;
		if (strcmp(moved[i].value, moved[i].old_default) == 0)
			continue;
		if (!(d = config_device_entry(c, moved[i].device, err)))
			return -EINVAL;
		if ((ret = config_device_set(d, c->catalog, moved[i].key, moved[i].value, err)) < 0)
			return ret;
	}
	return 0;
}

/* Each stored key is checked for its type; the values go through the same setters as
 * the command line, so a hand-edited file cannot hold what `cell create` would refuse. */
int vp_config_from_json(json_t *json, const struct vp_catalog *catalog, struct vp_config *c,
			struct error *err)
{
	json_t *version = json_object_get(json, "version");
	struct stored_config s = {.version = json_integer_value(version)};
	char buf[32];
	int ret;

	if (!json_is_integer(version))
		return error_set(err, 0, "config: \"version\" must be an integer");
	if (s.version < 1 || s.version > CONFIG_VERSION)
		return error_set(err, 0, "config: version %lld is not 1 to %d",
				 (long long)s.version, CONFIG_VERSION);
	if ((ret = unpack_stored(json, &s, err)) < 0)
		return ret;
	if (!name_is_valid(s.name))
		return error_set(err, 0, "config: invalid name");
	if (s.id < 0 || s.id > VP_ID_MAX)
		return error_set(err, 0, "config: id %lld out of range 0..%d", (long long)s.id,
				 VP_ID_MAX);
	if (s.memory < 0 || s.disk < 0 || s.pids < 0 || s.cpu < 0 || !json_is_object(s.devices))
		return error_set(err, 0, "config: negative limit or devices not an object");
	vp_config_defaults(c, s.name, catalog);
	c->id = (unsigned)s.id;
	if ((ret = vp_config_set_option(c, "restart", s.restart, err)) < 0)
		return ret;
	if ((ret = vp_config_set_option(c, "image", s.image, err)) < 0)
		return ret;
	snprintf(buf, sizeof(buf), "%lld", (long long)s.memory);
	if ((ret = vp_config_set_option(c, "memory", buf, err)) < 0)
		return ret;
	snprintf(buf, sizeof(buf), "%lld", (long long)s.disk);
	if ((ret = vp_config_set_option(c, "disk", buf, err)) < 0)
		return ret;
	snprintf(buf, sizeof(buf), "%lld", (long long)s.pids);
	if ((ret = vp_config_set_option(c, "pids", buf, err)) < 0)
		return ret;
	snprintf(buf, sizeof(buf), "%lld", (long long)s.cpu);
	if ((ret = vp_config_set_option(c, "cpu", buf, err)) < 0)
		return ret;
	if (s.version < 4)
		return migrate_stored(c, &s, err);
	return config_devices_from_json(c, s.devices, err);
}

int vp_config_load(const char *path, const struct vp_catalog *catalog, struct vp_config *c,
		   struct error *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ json_t *json = NULL;
	json_error_t jerr;
	int ret;

	ret = read_file(path, CONFIG_MAX_BYTES, &text, NULL);
	if (ret < 0)
		return error_set(err, ret, "read %s", path);
	json = json_loads(text, 0, &jerr);
	if (!json)
		return error_set(err, 0, "%s: malformed JSON at line %d: %s", path, jerr.line,
				 jerr.text);
	struct error inner = {{0}};
	ret = vp_config_from_json(json, catalog, c, &inner);
	if (ret < 0)
		return error_set(err, 0, "%s: %s", path, inner.msg);
	return 0;
}

int vp_config_save(const char *path, const struct vp_config *c, struct error *err)
{
	_cleanup_json_ json_t *json = vp_config_to_json(c);
	_cleanup_free_ char *text = NULL;
	int ret;

	if (!json || !(text = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS)))
		return error_set(err, ENOMEM, "encode config of %s", c->name);
	ret = write_file_atomic(path, text, strlen(text), 0600);
	if (ret < 0)
		return error_set(err, ret, "write %s", path);
	return 0;
}

int vp_config_apply_request(struct vp_config *config, json_t *options, json_t *devices,
			    struct error *err)
{
	const char *key;
	json_t *value;
	size_t i;
	int ret;

	if ((options && !json_is_object(options)) || (devices && !json_is_array(devices)))
		return error_set(err, 0, "\"options\" must be an object, \"devices\" an array");
	json_object_foreach(options, key, value)
	{
		if (!json_is_string(value))
			return error_set(err, 0, "option values must be strings");
		if ((ret = vp_config_set_option(config, key, json_string_value(value), err)) < 0)
			return ret;
	}
	json_array_foreach(devices, i, value)
	{
		if (!json_is_string(value))
			return error_set(err, 0, "devices must be strings");
		if ((ret = vp_config_set_device(config, json_string_value(value), err)) < 0)
			return ret;
	}
	return 0;
}
