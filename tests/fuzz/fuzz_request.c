/* A create or config request as cellsd's commands.c decodes it: the VP's name, then its
 * "options" object and "devices" array applied to the defaults through the setters a
 * stored config goes through too (vp_config_set_option, vp_config_set_device), as
 * apply_request does. Whatever a client sends, the config that results must be one that
 * saves and loads again unchanged: a request must not store what a restart refuses. */
#include "vp/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same steps as apply_request in src/cellsd/commands.c (static there). */
static int apply(json_t *req, struct vp_config *config, struct error *err)
{
	json_t *options = json_object_get(req, "options");
	json_t *devices = json_object_get(req, "devices");
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

/* Text options are stored as given, never cut short. */
static void check_stored(json_t *options, const struct vp_config *c)
{
	static const struct {
		const char *key;
		size_t offset;
	} fields[] = {{"image", offsetof(struct vp_config, image)},
		      {"number", offsetof(struct vp_config, number)},
		      {"uplink", offsetof(struct vp_config, uplink)},
		      {"background", offsetof(struct vp_config, background)}};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *given = json_string_value(json_object_get(options, fields[i].key));
		if (given && strcmp(given, (const char *)c + fields[i].offset) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = json_loadb((const char *)data, size, 0, NULL);
	const char *name = json_string_value(json_object_get(req, "name"));
	struct vp_config config, back;
	struct error err = {{0}};
	json_t *saved = NULL;

	if (!json_is_object(req) || !name || !name_is_valid(name))
		goto out;
	vp_config_defaults(&config, name);
	if (apply(req, &config, &err) < 0) {
		if (!err.msg[0])
			abort(); /* a refusal says why */
		goto out;
	}
	check_stored(json_object_get(req, "options"), &config);
	/* As vp_config_save and vp_config_load would. */
	if (!(saved = vp_config_to_json(&config)))
		abort();
	if (vp_config_from_json(saved, &back, &err) < 0 || memcmp(&config, &back, sizeof(back)))
		abort();
out:
	json_decref(saved);
	json_decref(req);
	return 0;
}
