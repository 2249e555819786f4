/* The devices' part of a VP's config: each device's right and settings, read and checked
 * against the catalog the daemon makes of its devices (DESIGN.md §4). */
#include "vp/config.h"
#include "common/fsutil.h"
#include "vp/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

const char *dev_access_name(enum dev_access a)
{
	switch (a) {
	case DEV_SHARED:
		return "shared";
	case DEV_EXCLUSIVE:
		return "exclusive";
	case DEV_NONE:
		break;
	}
	return "none";
}

int dev_access_parse(const char *text, enum dev_access *a)
{
	if (strcmp(text, "none") == 0)
		*a = DEV_NONE;
	else if (strcmp(text, "shared") == 0)
		*a = DEV_SHARED;
	else if (strcmp(text, "exclusive") == 0)
		*a = DEV_EXCLUSIVE;
	else
		return -EINVAL;
	return 0;
}

/* Lower-case letters, digits and '-', starting with a letter: a device's name or a
 * setting's key, as the command line spells it. */
bool config_word_is_valid(const char *word, size_t max)
{
	size_t len = strnlen(word, max + 1);

	if (len == 0 || len > max || !islower((unsigned char)word[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)word[i]) && !isdigit((unsigned char)word[i]) &&
		    word[i] != '-')
			return false;
	return true;
}

static const struct vp_device_kind *kind_of(const struct vp_catalog *catalog, const char *name)
{
	for (unsigned i = 0; catalog && i < catalog->ndevices; i++)
		if (strcmp(catalog->devices[i].name, name) == 0)
			return &catalog->devices[i];
	return NULL;
}

static const struct vp_setting_kind *setting_kind(const struct vp_device_kind *kind,
						  const char *key)
{
	for (const struct vp_setting_kind *s = kind ? kind->settings : NULL; s && s->key; s++)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

int vp_catalog_check(const struct vp_catalog *catalog, struct error *err)
{
	if (catalog->ndevices > VP_DEVICES_MAX)
		return error_set(err, 0, "%u devices: a VP's config holds %d", catalog->ndevices,
				 VP_DEVICES_MAX);
	for (unsigned i = 0; i < catalog->ndevices; i++) {
		const struct vp_device_kind *k = &catalog->devices[i];
		unsigned n = 0;

		if (!config_word_is_valid(k->name, VP_DEVICE_NAME_MAX))
			return error_set(err, 0, "device name '%s' is not a short lower-case word",
					 k->name);
		if (kind_of(catalog, k->name) != k)
			return error_set(err, 0, "two devices are named '%s'", k->name);
		for (const struct vp_setting_kind *s = k->settings; s && s->key; s++, n++) {
			const struct vp_device_kind *owner;
			if (!config_word_is_valid(s->key, VP_SETTING_KEY_MAX) ||
			    config_own_key(s->key))
				return error_set(err, 0, "device %s: '%s' cannot be a setting",
						 k->name, s->key);
			if (vp_catalog_owner(catalog, s->key, &owner) != s || owner != k)
				return error_set(err, 0, "setting '%s' belongs to two devices",
						 s->key);
			if (!s->initial || strlen(s->initial) > VP_SETTING_VALUE_MAX)
				return error_set(err, 0,
						 "device %s: setting %s has no initial value",
						 k->name, s->key);
		}
		if (n > VP_SETTINGS_MAX)
			return error_set(err, 0, "device %s has %u settings: at most %d", k->name,
					 n, VP_SETTINGS_MAX);
	}
	return 0;
}

const struct vp_setting_kind *vp_catalog_owner(const struct vp_catalog *catalog, const char *key,
					       const struct vp_device_kind **device)
{
	for (unsigned i = 0; catalog && i < catalog->ndevices; i++) {
		const struct vp_setting_kind *s = setting_kind(&catalog->devices[i], key);
		if (s) {
			*device = &catalog->devices[i];
			return s;
		}
	}
	return NULL;
}

json_t *vp_setting_describe(const struct vp_setting_kind *s)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "key", s->key, "arg", s->arg ? s->arg : "VALUE",
			 "help", s->help ? s->help : "", "initial", s->initial);
}

json_t *vp_catalog_describe(const struct vp_catalog *catalog)
{
	json_t *devices = json_array(), *settings = json_array();

	for (unsigned i = 0; catalog && i < catalog->ndevices; i++) {
		const struct vp_device_kind *k = &catalog->devices[i];
		json_array_append_new(devices, json_string(k->name));
		for (const struct vp_setting_kind *s = k->settings; s && s->key; s++) {
			json_t *one = vp_setting_describe(s);
			json_object_set_new(one, "device", json_string(k->name));
			json_array_append_new(settings, one);
		}
	}
	return json_pack("{s:o, s:o}", "devices", devices, "settings", settings);
}

static struct vp_device_config *device_slot(struct vp_config *c, const char *device)
{
	for (unsigned i = 0; i < c->ndevices; i++)
		if (strcmp(c->devices[i].name, device) == 0)
			return &c->devices[i];
	return NULL;
}

const struct vp_device_config *vp_config_device(const struct vp_config *c, const char *device)
{
	return device_slot((struct vp_config *)c, device);
}

enum dev_access vp_config_device_access(const struct vp_config *c, const char *device)
{
	const struct vp_device_config *d = vp_config_device(c, device);

	return d ? d->access : DEV_NONE;
}

const char *vp_config_setting(const struct vp_config *c, const char *device, const char *key)
{
	const struct vp_device_config *d = vp_config_device(c, device);

	for (unsigned i = 0; d && i < d->nsettings; i++)
		if (strcmp(d->settings[i].key, key) == 0)
			return d->settings[i].value;
	return NULL;
}

/* DEVICE's entry, added (with no right and no settings) if it has none. */
struct vp_device_config *config_device_entry(struct vp_config *c, const char *device,
					     struct error *err)
{
	struct vp_device_config *d = device_slot(c, device);

	if (d)
		return d;
	if (!config_word_is_valid(device, VP_DEVICE_NAME_MAX)) {
		error_set(err, 0, "'%s' is not a device name", device);
		return NULL;
	}
	if (c->ndevices == VP_DEVICES_MAX) {
		error_set(err, 0, "more than %d devices", VP_DEVICES_MAX);
		return NULL;
	}
	/* Devices the catalog lacks come after its own, by name: as a saved config lists
	 * them, so that saving and loading again gives the same config. */
	d = &c->devices[c->ndevices++];
	while (d > c->devices && !d[-1].known && strcmp(d[-1].name, device) > 0) {
		d[0] = d[-1];
		d--;
	}
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", device);
	d->known = kind_of(c->catalog, device) != NULL;
	return d;
}

int config_device_set(struct vp_device_config *d, const struct vp_catalog *catalog, const char *key,
		      const char *value, struct error *err)
{
	const struct vp_device_kind *kind = kind_of(catalog, d->name);
	struct vp_setting *slot = NULL;
	int ret;

	if (kind && !setting_kind(kind, key))
		return error_set(err, 0, "device %s has no setting '%s'", d->name, key);
	if (!kind && !config_word_is_valid(key, VP_SETTING_KEY_MAX))
		return error_set(err, 0, "device %s: '%s' is not a setting's name", d->name, key);
	if (strlen(value) > VP_SETTING_VALUE_MAX)
		return error_set(err, 0, "--%s: a value of at most %d bytes", key,
				 VP_SETTING_VALUE_MAX);
	if (kind && kind->check && (ret = kind->check(key, value, err)) < 0)
		return ret;
	for (unsigned i = 0; i < d->nsettings; i++)
		if (strcmp(d->settings[i].key, key) == 0)
			slot = &d->settings[i];
	if (!slot) {
		if (d->nsettings == VP_SETTINGS_MAX)
			return error_set(err, 0, "device %s: more than %d settings", d->name,
					 VP_SETTINGS_MAX);
		/* By key, as a saved config lists them (a known device's are all there). */
		slot = &d->settings[d->nsettings++];
		while (slot > d->settings && strcmp(slot[-1].key, key) > 0) {
			slot[0] = slot[-1];
			slot--;
		}
		memset(slot, 0, sizeof(*slot));
		snprintf(slot->key, sizeof(slot->key), "%s", key);
	}
	snprintf(slot->value, sizeof(slot->value), "%s", value);
	return 0;
}

void config_devices_defaults(struct vp_config *c)
{
	for (unsigned i = 0; c->catalog && i < c->catalog->ndevices; i++) {
		const struct vp_device_kind *k = &c->catalog->devices[i];
		struct vp_device_config *d = &c->devices[c->ndevices++];

		snprintf(d->name, sizeof(d->name), "%s", k->name);
		d->access = k->initial;
		d->known = true;
		for (const struct vp_setting_kind *s = k->settings; s && s->key; s++) {
			struct vp_setting *slot = &d->settings[d->nsettings++];
			snprintf(slot->key, sizeof(slot->key), "%s", s->key);
			snprintf(slot->value, sizeof(slot->value), "%s", s->initial);
		}
	}
}

static int set_device_access(struct vp_config *c, const char *device, const char *access,
			     struct error *err)
{
	struct vp_device_config *slot = device_slot(c, device);
	enum dev_access a;

	if (!slot || !slot->known) {
		char known[VP_DEVICES_MAX * (VP_DEVICE_NAME_MAX + 2) + 1] = "";
		for (unsigned i = 0; c->catalog && i < c->catalog->ndevices; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 i ? ", " : "", c->catalog->devices[i].name);
		return error_set(err, 0, "unknown device '%s' (this cellsd has: %s)", device,
				 known[0] ? known : "none");
	}
	if (dev_access_parse(access, &a) < 0)
		return error_set(err, 0,
				 "device '%s': access must be none, shared or exclusive, "
				 "not '%s'",
				 device, access);
	slot->access = a;
	return 0;
}

int vp_config_set_device(struct vp_config *c, const char *spec, struct error *err)
{
	char device[VP_DEVICE_NAME_MAX + 1];
	const char *eq = strchr(spec, '=');

	if (!eq || (size_t)(eq - spec) >= sizeof(device))
		return error_set(err, 0, "--device wants DEV=none|shared|exclusive, not '%s'",
				 spec);
	memcpy(device, spec, (size_t)(eq - spec));
	device[eq - spec] = '\0';
	return set_device_access(c, device, eq + 1, err);
}

/* "devices": {"NAME": {"access": "shared", "KEY": "VALUE"…}…}: a known device is checked
 * like the command line; an unknown one for form, and kept. */
int config_devices_from_json(struct vp_config *c, json_t *devices, struct error *err)
{
	const char *name, *key;
	json_t *entry, *value;
	int ret;

	json_object_foreach(devices, name, entry)
	{
		struct vp_device_config *d;
		enum dev_access access;
		json_t *a = json_object_get(entry, "access");

		if (!json_is_object(entry) || !json_is_string(a) ||
		    dev_access_parse(json_string_value(a), &access) < 0)
			return error_set(err, 0,
					 "config: device '%s' wants {\"access\": "
					 "\"none|shared|exclusive\", settings…}",
					 name);
		if (!(d = config_device_entry(c, name, err)))
			return -EINVAL;
		d->access = access;
		json_object_foreach(entry, key, value)
		{
			if (strcmp(key, "access") == 0)
				continue;
			if (!json_is_string(value))
				return error_set(err, 0, "config: device %s: '%s' is not a string",
						 name, key);
			if ((ret = config_device_set(d, c->catalog, key, json_string_value(value),
						     err)) < 0)
				return ret;
		}
	}
	return 0;
}

json_t *config_devices_to_json(const struct vp_config *c)
{
	json_t *devices = json_object();

	for (unsigned i = 0; devices && i < c->ndevices; i++) {
		const struct vp_device_config *d = &c->devices[i];
		json_t *entry = json_pack("{s:s}", "access", dev_access_name(d->access));

		for (unsigned s = 0; entry && s < d->nsettings; s++)
			json_object_set_new(entry, d->settings[s].key,
					    json_string(d->settings[s].value));
		json_object_set_new(devices, d->name, entry);
	}
	return devices;
}
