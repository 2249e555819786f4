/* A create or config request as cellsd's commands.c decodes it: the VP's name, then its
 * "options" object and "devices" array applied to the defaults by vp_config_apply_request,
 * as the daemon calls it. Whatever a client sends, the config that results must be one
 * that saves and loads again unchanged: a request must not store what a restart refuses. */
#include "vp/config.h"
#include "fuzz_catalog.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Text options are stored as given, never cut short: the image, and a device's setting. */
static void check_stored(json_t *options, const struct vp_config *c)
{
	const char *image = json_string_value(json_object_get(options, "image"));
	const char *uplink = json_string_value(json_object_get(options, "uplink"));

	if (image && strcmp(image, c->image) != 0)
		abort();
	if (uplink && strcmp(uplink, vp_config_setting(c, "net", "uplink")) != 0)
		abort();
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
	vp_config_defaults(&config, name, &fuzz_catalog);
	if (vp_config_apply_request(&config, json_object_get(req, "options"),
				    json_object_get(req, "devices"), &err) < 0) {
		if (!err.msg[0])
			abort(); /* a refusal says why */
		goto out;
	}
	check_stored(json_object_get(req, "options"), &config);
	/* As vp_config_save and vp_config_load would. */
	if (!(saved = vp_config_to_json(&config)))
		abort();
	if (vp_config_from_json(saved, &fuzz_catalog, &back, &err) < 0 ||
	    memcmp(&config, &back, sizeof(back)))
		abort();
out:
	json_decref(saved);
	json_decref(req);
	return 0;
}
