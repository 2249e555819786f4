/* Unit tests of src/vp/config.c: defaults, the option and device setters, the strict JSON
 * form, and loading and saving config.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vp/config.h"
#include "common/fsutil.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The ten keys of a stored config. */
static const char *const config_keys[] = {"version", "name", "id",  "image",   "memory",
					  "disk",    "pids", "cpu", "restart", "devices"};

static int check_uplink(const char *key, const char *value, struct error *err)
{
	if (strcmp(key, "uplink") == 0 && strcmp(value, "wlan") != 0 && strcmp(value, "cell") != 0)
		return error_set(err, 0, "--uplink wants wlan or cell, not '%s'", value);
	return 0;
}

static const struct vp_setting_kind net_settings[] = {
	{"uplink", "NAME", "its uplink", "wlan"},
	{"publish", "PORTS", "ports served", ""},
	{NULL, NULL, NULL, NULL},
};
static const struct vp_setting_kind phone_settings[] = {
	{"number", "NUM", "its number", ""},
	{NULL, NULL, NULL, NULL},
};

/* What a daemon's devices could make of a config: as the registry gives it to cellsd. */
static const struct vp_device_kind kinds[] = {
	{"display", DEV_SHARED, NULL, NULL},
	{"input", DEV_SHARED, NULL, NULL},
	{"vt", DEV_SHARED, NULL, NULL},
	{"net", DEV_SHARED, net_settings, check_uplink},
	{"telephony", DEV_SHARED, phone_settings, NULL},
	{"audio", DEV_NONE, NULL, NULL},
};
static const struct vp_catalog catalog = {kinds, sizeof(kinds) / sizeof(kinds[0])};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static void assert_config_equal(const struct vp_config *a, const struct vp_config *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->image, b->image);
	assert_true(a->memory == b->memory);
	assert_true(a->disk == b->disk);
	assert_int_equal(a->pids, b->pids);
	assert_int_equal(a->cpu_percent, b->cpu_percent);
	assert_int_equal(a->restart, b->restart);
	assert_int_equal(a->ndevices, b->ndevices);
	for (unsigned i = 0; i < a->ndevices; i++) {
		assert_string_equal(a->devices[i].name, b->devices[i].name);
		assert_int_equal(a->devices[i].access, b->devices[i].access);
		assert_int_equal(a->devices[i].known, b->devices[i].known);
		assert_int_equal(a->devices[i].nsettings, b->devices[i].nsettings);
		for (unsigned k = 0; k < a->devices[i].nsettings; k++) {
			assert_string_equal(a->devices[i].settings[k].key,
					    b->devices[i].settings[k].key);
			assert_string_equal(a->devices[i].settings[k].value,
					    b->devices[i].settings[k].value);
		}
	}
}

/* A config with every field away from its default. */
static void custom_config(struct vp_config *c)
{
	struct error err = {{0}};

	vp_config_defaults(c, "work", &catalog);
	c->id = 17;
	c->restart = VP_RESTART_ALWAYS;
	assert_int_equal(vp_config_set_option(c, "image", "debian-12", &err), 0);
	assert_int_equal(vp_config_set_option(c, "memory", "512M", &err), 0);
	assert_int_equal(vp_config_set_option(c, "pids", "300", &err), 0);
	assert_int_equal(vp_config_set_option(c, "cpu", "50", &err), 0);
	assert_int_equal(vp_config_set_option(c, "number", "+15551234", &err), 0);
	assert_int_equal(vp_config_set_option(c, "uplink", "cell", &err), 0);
	assert_int_equal(vp_config_set_device(c, "display=none", &err), 0);
	assert_int_equal(vp_config_set_device(c, "audio=exclusive", &err), 0);
	assert_int_equal(vp_config_set_device(c, "vt=exclusive", &err), 0);
}

/* The JSON of the default config of "work", for tests to break. */
static json_t *valid_json(void)
{
	struct vp_config c;
	json_t *j;

	vp_config_defaults(&c, "work", &catalog);
	j = vp_config_to_json(&c);
	assert_non_null(j);
	return j;
}

/* The JSON of the default config of "work" as version 3 stored it: each device's right a
 * string, and three keys of devices yet to come at the top. */
static json_t *version_3_json(void)
{
	json_t *j = valid_json(), *devices = json_object();
	const char *name;
	json_t *entry;

	json_object_foreach(json_object_get(j, "devices"), name, entry)
		json_object_set(devices, name, json_object_get(entry, "access"));
	json_object_set_new(j, "devices", devices);
	json_object_set_new(j, "version", json_integer(3));
	json_object_set_new(j, "number", json_string(""));
	json_object_set_new(j, "uplink", json_string("wlan"));
	json_object_set_new(j, "background", json_string("run"));
	return j;
}

/* vp_config_from_json must fail on J (which it consumes), with a message holding WANT. */
static void assert_from_json_fails(json_t *j, const char *want)
{
	struct vp_config c;
	struct error err = {{0}};

	assert_true(vp_config_from_json(j, &catalog, &c, &err) < 0);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' does not mention '%s'", err.msg, want);
	json_decref(j);
}

static void assert_option_ok(const char *key, const char *value)
{
	struct vp_config c;
	struct error err = {{0}};

	vp_config_defaults(&c, "work", &catalog);
	if (vp_config_set_option(&c, key, value, &err) != 0)
		fail_msg("%s=%s rejected: %s", key, value, err.msg);
}

/* Rejected, with an error message quoting the value. */
static void assert_option_bad(const char *key, const char *value)
{
	struct vp_config c;
	struct error err = {{0}};

	vp_config_defaults(&c, "work", &catalog);
	if (vp_config_set_option(&c, key, value, &err) >= 0)
		fail_msg("%s='%s' accepted", key, value);
	if (!strstr(err.msg, value))
		fail_msg("error '%s' does not quote '%s'", err.msg, value);
}

/* ---- defaults ---- */

static void defaults_fill_every_field(void **state)
{
	struct vp_config c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	vp_config_defaults(&c, "work", &catalog);
	assert_string_equal(c.name, "work");
	assert_int_equal(c.id, 0);
	assert_string_equal(c.image, "minimal");
	assert_true(c.memory == VP_MEMORY_DEFAULT);
	assert_true(c.disk == VP_DISK_DEFAULT);
	assert_int_equal(c.pids, VP_PIDS_DEFAULT);
	assert_int_equal(c.cpu_percent, 0);
	assert_int_equal(c.restart, VP_RESTART_UNLESS_STOPPED);
	assert_ptr_equal(c.catalog, &catalog);
	assert_string_equal(vp_config_setting(&c, "net", "uplink"), "wlan");
	assert_string_equal(vp_config_setting(&c, "net", "publish"), "");
	assert_string_equal(vp_config_setting(&c, "telephony", "number"), "");
	assert_null(vp_config_setting(&c, "net", "number"));
	assert_null(vp_config_setting(&c, "display", "uplink"));
}

static void defaults_give_each_known_device_its_right(void **state)
{
	struct vp_config c;

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(c.ndevices, N_KINDS);
	for (size_t i = 0; i < N_KINDS; i++) {
		assert_int_equal(vp_config_device_access(&c, kinds[i].name), kinds[i].initial);
		assert_true(vp_config_device(&c, kinds[i].name)->known);
	}
}

static void device_access_of_unknown_device_is_none(void **state)
{
	struct vp_config c;

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_device_access(&c, "toaster"), DEV_NONE);
}

static void dev_access_names(void **state)
{
	(void)state;
	assert_string_equal(dev_access_name(DEV_NONE), "none");
	assert_string_equal(dev_access_name(DEV_SHARED), "shared");
	assert_string_equal(dev_access_name(DEV_EXCLUSIVE), "exclusive");
}

/* ---- vp_config_set_option ---- */

static void option_image_takes_valid_names(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_set_option(&c, "image", "debian-12", &err), 0);
	assert_string_equal(c.image, "debian-12");
	assert_option_bad("image", "../etc");
	assert_option_bad("image", "a b");
	assert_option_bad("image", "");
}

static void option_memory_takes_sizes(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_set_option(&c, "memory", "512M", &err), 0);
	assert_true(c.memory == 512ull << 20);
	assert_int_equal(vp_config_set_option(&c, "memory", "4M", &err), 0);
	assert_true(c.memory == 4ull << 20);
	assert_int_equal(vp_config_set_option(&c, "memory", "2G", &err), 0);
	assert_true(c.memory == 2ull << 30);
}

static void option_memory_zero_means_no_limit(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	c.memory = 123ull << 20;
	assert_int_equal(vp_config_set_option(&c, "memory", "0", &err), 0);
	assert_true(c.memory == 0);
	c.memory = 123ull << 20;
	assert_int_equal(vp_config_set_option(&c, "memory", "max", &err), 0);
	assert_true(c.memory == 0);
	c.memory = 123ull << 20;
	assert_int_equal(vp_config_set_option(&c, "memory", "none", &err), 0);
	assert_true(c.memory == 0);
}

static void option_disk_takes_a_size_or_none(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_set_option(&c, "disk", "4G", &err), 0);
	assert_true(c.disk == 4ull << 30);
	assert_int_equal(vp_config_set_option(&c, "disk", "none", &err), 0);
	assert_true(c.disk == 0);
	assert_option_ok("disk", "64M");
	assert_option_bad("disk", "63M");
	assert_option_bad("disk", "1");
	assert_option_bad("disk", "lots");
	assert_option_bad("disk", "99999999T");
}

static void option_memory_below_4m_is_rejected(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_true(vp_config_set_option(&c, "memory", "4095k", &err) < 0);
	assert_non_null(strstr(err.msg, "4M"));
	assert_true(c.memory == VP_MEMORY_DEFAULT);
	assert_option_bad("memory", "1");
	assert_option_bad("memory", "4194303");
	assert_option_ok("memory", "4194304");
}

static void option_memory_rejects_junk(void **state)
{
	(void)state;
	assert_option_bad("memory", "lots");
	assert_option_bad("memory", "12x");
	assert_option_bad("memory", "-1");
	assert_option_bad("memory", "");
	assert_option_bad("memory", "99999999999999T");
}

static void option_pids_range_is_8_to_4194304(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_set_option(&c, "pids", "8", &err), 0);
	assert_int_equal(c.pids, 8);
	assert_int_equal(vp_config_set_option(&c, "pids", "4194304", &err), 0);
	assert_int_equal(c.pids, 4194304);
	assert_option_bad("pids", "7");
	assert_option_bad("pids", "1");
	assert_option_ok("pids", "0");
	assert_option_ok("pids", "max");
	assert_option_bad("pids", "4194305");
	assert_option_bad("pids", "99999999999999999999999");
}

static void option_pids_rejects_junk(void **state)
{
	(void)state;
	assert_option_bad("pids", "");
	assert_option_bad("pids", "-8");
	assert_option_bad("pids", "+8");
	assert_option_bad("pids", "12a");
	assert_option_bad("pids", " 12");
	assert_option_bad("pids", "many");
}

static void option_cpu_takes_percent_of_one_cpu(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_set_option(&c, "cpu", "50", &err), 0);
	assert_int_equal(c.cpu_percent, 50);
	assert_int_equal(vp_config_set_option(&c, "cpu", "250", &err), 0);
	assert_int_equal(c.cpu_percent, 250);
	assert_int_equal(vp_config_set_option(&c, "cpu", "100000", &err), 0);
	assert_int_equal(c.cpu_percent, 100000);
	assert_int_equal(vp_config_set_option(&c, "cpu", "0", &err), 0);
	assert_int_equal(c.cpu_percent, 0);
}

static void option_cpu_rejects_junk_and_too_much(void **state)
{
	(void)state;
	assert_option_bad("cpu", "100001");
	assert_option_bad("cpu", "50%");
	assert_option_bad("cpu", "-1");
	assert_option_bad("cpu", "");
	assert_option_bad("cpu", "0.5");
}

/* A key the config does not have is a device's setting, checked by the device. */
static void option_of_a_device_goes_to_its_settings(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_set_option(&c, "uplink", "cell", &err), 0);
	assert_string_equal(vp_config_setting(&c, "net", "uplink"), "cell");
	assert_int_equal(vp_config_set_option(&c, "number", "+15551234", &err), 0);
	assert_string_equal(vp_config_setting(&c, "telephony", "number"), "+15551234");
	assert_option_bad("uplink", "eth");
	assert_option_bad("uplink", "");
}

static void option_of_a_device_is_bounded(void **state)
{
	char value[VP_SETTING_VALUE_MAX + 2];
	struct vp_config c;
	struct error err = {{0}};

	memset(value, '1', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	vp_config_defaults(&c, "work", &catalog);
	assert_true(vp_config_set_option(&c, "number", value, &err) < 0);
	assert_non_null(strstr(err.msg, "--number"));
	value[VP_SETTING_VALUE_MAX] = '\0';
	assert_option_ok("number", value);
	(void)state;
}

/* Without a catalog (the daemon's option parser) only the config's own keys exist. */
static void option_without_catalog_knows_only_its_own(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", NULL);
	assert_int_equal(c.ndevices, 0);
	assert_int_equal(vp_config_set_option(&c, "disk", "1G", &err), 0);
	assert_true(vp_config_set_option(&c, "uplink", "wlan", &err) < 0);
	assert_non_null(strstr(err.msg, "--uplink"));
}

static void option_unknown_key_is_rejected(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_true(vp_config_set_option(&c, "colour", "blue", &err) < 0);
	assert_non_null(strstr(err.msg, "colour"));
	assert_true(vp_config_set_option(&c, "name", "other", &err) < 0);
	assert_string_equal(c.name, "work");
}

/* ---- vp_config_set_device ---- */

static void device_spec_sets_access(void **state)
{
	struct vp_config c;
	struct error err = {{0}};

	(void)state;
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_set_device(&c, "display=none", &err), 0);
	assert_int_equal(vp_config_device_access(&c, "display"), DEV_NONE);
	assert_int_equal(vp_config_set_device(&c, "audio=exclusive", &err), 0);
	assert_int_equal(vp_config_device_access(&c, "audio"), DEV_EXCLUSIVE);
	assert_int_equal(vp_config_set_device(&c, "audio=shared", &err), 0);
	assert_int_equal(vp_config_device_access(&c, "audio"), DEV_SHARED);
	assert_int_equal(c.ndevices, N_KINDS);
}

static void assert_device_bad(const char *spec, const char *want)
{
	struct vp_config c, before;
	struct error err = {{0}};

	vp_config_defaults(&c, "work", &catalog);
	before = c;
	if (vp_config_set_device(&c, spec, &err) >= 0)
		fail_msg("--device '%s' accepted", spec);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' does not mention '%s'", err.msg, want);
	assert_config_equal(&c, &before);
}

static void device_spec_without_equals_is_rejected(void **state)
{
	(void)state;
	assert_device_bad("display", "display");
}

static void device_spec_unknown_device_is_rejected(void **state)
{
	(void)state;
	assert_device_bad("foo=shared", "foo");
	assert_device_bad("gpu=shared",
			  "this cellsd has: display, input, vt, net, telephony, audio");
	assert_device_bad("=shared", "unknown device");
	assert_device_bad("Display=shared", "Display");
	assert_device_bad("averyveryveryverylongdevicenamethatdoesnotfit=shared", "averyvery");
}

static void device_spec_unknown_access_is_rejected(void **state)
{
	(void)state;
	assert_device_bad("display=maybe", "maybe");
	assert_device_bad("display=", "display");
	assert_device_bad("display=none=x", "none=x");
	assert_device_bad("display=Shared", "Shared");
}

/* ---- JSON ---- */

static void to_json_has_version_4_and_every_key(void **state)
{
	json_t *j = valid_json();

	(void)state;
	assert_int_equal(json_object_size(j), N_KEYS);
	for (size_t i = 0; i < N_KEYS; i++)
		assert_non_null(json_object_get(j, config_keys[i]));
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 4);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(j, "devices"), "display"), "access")),
		"shared");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(j, "devices"), "net"), "uplink")),
		"wlan");
	json_decref(j);
}

static void json_round_trip_of_defaults(void **state)
{
	struct vp_config a, b;
	struct error err = {{0}};
	json_t *j;

	(void)state;
	vp_config_defaults(&a, "work", &catalog);
	j = vp_config_to_json(&a);
	assert_int_equal(vp_config_from_json(j, &catalog, &b, &err), 0);
	assert_config_equal(&a, &b);
	json_decref(j);
}

static void json_round_trip_of_custom_config(void **state)
{
	struct vp_config a, b;
	struct error err = {{0}};
	json_t *j;

	(void)state;
	custom_config(&a);
	j = vp_config_to_json(&a);
	if (vp_config_from_json(j, &catalog, &b, &err) < 0)
		fail_msg("%s", err.msg);
	assert_config_equal(&a, &b);
	json_decref(j);
}

static void json_round_trip_of_largest_id(void **state)
{
	struct vp_config a, b;
	struct error err = {{0}};
	json_t *j;

	(void)state;
	vp_config_defaults(&a, "work", &catalog);
	a.id = VP_ID_MAX;
	j = vp_config_to_json(&a);
	assert_int_equal(vp_config_from_json(j, &catalog, &b, &err), 0);
	assert_int_equal(b.id, VP_ID_MAX);
	json_decref(j);
}

/* Whatever vp_config_set_option accepts must survive a save and a load. */
static void json_round_trip_of_largest_memory_the_setter_accepts(void **state)
{
	struct vp_config a, b;
	struct error err = {{0}};
	json_t *j;
	int ret;

	(void)state;
	vp_config_defaults(&a, "work", &catalog);
	if (vp_config_set_option(&a, "memory", "9000000T", &err) < 0)
		return; /* refused up front: fine too */
	j = vp_config_to_json(&a);
	ret = vp_config_from_json(j, &catalog, &b, &err);
	json_decref(j);
	if (ret < 0)
		fail_msg("memory 9000000T was accepted by the setter but not read back: %s",
			 err.msg);
	assert_true(a.memory == b.memory);
}

static void from_json_keeps_default_rights_for_unlisted_devices(void **state)
{
	struct vp_config c;
	struct error err = {{0}};
	json_t *j = valid_json();

	(void)state;
	json_object_set_new(j, "devices", json_pack("{s:{s:s}}", "audio", "access", "exclusive"));
	assert_int_equal(vp_config_from_json(j, &catalog, &c, &err), 0);
	assert_int_equal(vp_config_device_access(&c, "audio"), DEV_EXCLUSIVE);
	assert_int_equal(vp_config_device_access(&c, "display"), DEV_SHARED);
	assert_string_equal(vp_config_setting(&c, "net", "uplink"), "wlan");
	json_decref(j);
}

static void from_json_rejects_unknown_extra_key(void **state)
{
	json_t *j = valid_json();

	(void)state;
	json_object_set_new(j, "colour", json_string("blue"));
	assert_from_json_fails(j, "colour");
}

static void from_json_rejects_each_missing_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_KEYS; i++) {
		json_t *j = valid_json();
		json_object_del(j, config_keys[i]);
		assert_from_json_fails(j, config_keys[i]);
	}
}

static void from_json_rejects_wrong_types(void **state)
{
	static const struct {
		const char *key;
		const char *json;
	} cases[] = {
		{"version", "\"1\""},
		{"name", "5"},
		{"id", "\"1\""},
		{"id", "1.0"},
		{"image", "null"},
		{"memory", "\"512M\""},
		{"memory", "1e9"},
		{"pids", "true"},
		{"cpu", "[50]"},
		{"restart", "1"},
		{"restart", "\"sometimes\""},
		{"devices", "[]"},
		{"devices", "\"all\""},
		{"devices", "{\"display\": \"shared\"}"},
		{"devices", "{\"display\": {}}"},
		{"devices", "{\"net\": {\"access\": \"shared\", \"uplink\": 1}}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vp_config c;
		struct error err = {{0}};
		json_t *j = valid_json();
		json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);

		assert_non_null(v);
		json_object_set_new(j, cases[i].key, v);
		if (vp_config_from_json(j, &catalog, &c, &err) >= 0)
			fail_msg("%s: %s accepted", cases[i].key, cases[i].json);
		json_decref(j);
	}
}

static void from_json_rejects_other_versions(void **state)
{
	json_t *j = valid_json();

	(void)state;
	json_object_set_new(j, "version", json_integer(5));
	assert_from_json_fails(j, "version 5");
	j = valid_json();
	json_object_set_new(j, "version", json_integer(0));
	assert_from_json_fails(j, "version 0");
}

/* A version 2 file (before disk images) is a VP of a plain upper directory: disk 0; its
 * memory as stored, 0 (no limit) included. "disk" in a version 2 file is refused. */
static void from_json_reads_version_2_without_disk(void **state)
{
	struct vp_config c;
	struct error err = {{0}};
	json_t *j = version_3_json();

	(void)state;
	json_object_set_new(j, "version", json_integer(2));
	json_object_del(j, "disk");
	json_object_set_new(j, "memory", json_integer(0));
	if (vp_config_from_json(j, &catalog, &c, &err) < 0)
		fail_msg("version 2 refused: %s", err.msg);
	assert_true(c.disk == 0);
	assert_true(c.memory == 0);
	json_decref(j);
	j = version_3_json();
	json_object_set_new(j, "version", json_integer(2));
	assert_from_json_fails(j, "disk");
}

/* A version 1 file (before restart policies) is read: "autostart" true is "always", false
 * "unless-stopped"; a version 1 file without "autostart" or a version 2 with it is not. */
static void from_json_reads_version_1(void **state)
{
	static const struct {
		int autostart;
		enum vp_restart want;
	} cases[] = {{1, VP_RESTART_ALWAYS}, {0, VP_RESTART_UNLESS_STOPPED}};
	struct vp_config c;
	struct error err = {{0}};
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = version_3_json();
		json_object_set_new(j, "version", json_integer(1));
		json_object_del(j, "restart");
		json_object_del(j, "disk");
		json_object_set_new(j, "autostart", json_boolean(cases[i].autostart));
		if (vp_config_from_json(j, &catalog, &c, &err) < 0)
			fail_msg("version 1 refused: %s", err.msg);
		assert_int_equal(c.restart, cases[i].want);
		json_decref(j);
	}
	j = version_3_json();
	json_object_set_new(j, "version", json_integer(1));
	json_object_del(j, "disk");
	assert_from_json_fails(j, "autostart");
	j = version_3_json();
	json_object_set_new(j, "autostart", json_true());
	assert_from_json_fails(j, "autostart");
}

/* Version 3: the rights as strings; "number", "uplink" and "background" go to the
 * devices that own them now, unless they held what every VP had; a device this daemon
 * lacks (telephony's right, power's setting) is kept as stored, and saved again. */
static void from_json_migrates_version_3(void **state)
{
	struct vp_config c, back;
	struct error err = {{0}};
	json_t *j = version_3_json(), *saved;

	(void)state;
	json_object_set_new(json_object_get(j, "devices"), "display", json_string("none"));
	json_object_set_new(json_object_get(j, "devices"), "power", json_string("exclusive"));
	json_object_set_new(j, "number", json_string("+4912345"));
	json_object_set_new(j, "uplink", json_string("cell"));
	json_object_set_new(j, "background", json_string("freeze"));
	if (vp_config_from_json(j, &catalog, &c, &err) < 0)
		fail_msg("version 3 refused: %s", err.msg);
	json_decref(j);
	assert_int_equal(vp_config_device_access(&c, "display"), DEV_NONE);
	assert_string_equal(vp_config_setting(&c, "telephony", "number"), "+4912345");
	assert_string_equal(vp_config_setting(&c, "net", "uplink"), "cell");
	assert_int_equal(vp_config_device_access(&c, "power"), DEV_EXCLUSIVE);
	assert_false(vp_config_device(&c, "power")->known);
	assert_string_equal(vp_config_setting(&c, "power", "background"), "freeze");
	saved = vp_config_to_json(&c);
	assert_int_equal(vp_config_from_json(saved, &catalog, &back, &err), 0);
	assert_config_equal(&c, &back);
	json_decref(saved);

	/* What the old defaults held stays out; a value its device refuses is refused. */
	j = version_3_json();
	assert_int_equal(vp_config_from_json(j, &catalog, &c, &err), 0);
	assert_null(vp_config_device(&c, "power"));
	json_decref(j);
	j = version_3_json();
	json_object_set_new(j, "uplink", json_string("eth"));
	assert_from_json_fails(j, "eth");
}

/* A device the catalog lacks (written by a cellsd that had it) is kept, with its
 * settings, in any order it was stored in, and saved again the same. */
static void from_json_keeps_devices_it_does_not_know(void **state)
{
	struct vp_config c, back;
	struct error err = {{0}};
	json_t *j = valid_json(), *saved;

	(void)state;
	json_object_set_new(
		json_object_get(j, "devices"), "wifi",
		json_pack("{s:s, s:s, s:s}", "zone", "home", "access", "shared", "band", "5"));
	json_object_set_new(json_object_get(j, "devices"), "gpu",
			    json_pack("{s:s}", "access", "none"));
	if (vp_config_from_json(j, &catalog, &c, &err) < 0)
		fail_msg("%s", err.msg);
	json_decref(j);
	assert_int_equal(c.ndevices, N_KINDS + 2);
	assert_string_equal(c.devices[N_KINDS].name, "gpu");
	assert_string_equal(c.devices[N_KINDS + 1].name, "wifi");
	assert_string_equal(c.devices[N_KINDS + 1].settings[0].key, "band");
	assert_string_equal(vp_config_setting(&c, "wifi", "zone"), "home");
	assert_int_equal(vp_config_device_access(&c, "wifi"), DEV_SHARED);
	/* Not a device this daemon can give: --device refuses it. */
	assert_true(vp_config_set_device(&c, "wifi=none", &err) < 0);
	saved = vp_config_to_json(&c);
	assert_int_equal(vp_config_from_json(saved, &catalog, &back, &err), 0);
	assert_config_equal(&c, &back);
	json_decref(saved);
}

static void from_json_rejects_unknown_setting_of_a_known_device(void **state)
{
	json_t *j = valid_json();

	(void)state;
	json_object_set_new(json_object_get(json_object_get(j, "devices"), "net"), "colour",
			    json_string("blue"));
	assert_from_json_fails(j, "colour");
	j = valid_json();
	json_object_set_new(json_object_get(json_object_get(j, "devices"), "net"), "uplink",
			    json_string("eth"));
	assert_from_json_fails(j, "eth");
}

/* The registry's names and keys are checked when the daemon starts. */
static void catalog_check_refuses_what_configs_could_not_hold(void **state)
{
	static const struct vp_setting_kind own[] = {{"memory", "X", "", ""}, {NULL}};
	static const struct vp_setting_kind clash[] = {{"uplink", "X", "", "a"}, {NULL}};
	static const struct vp_setting_kind no_initial[] = {{"colour", "X", "", NULL}, {NULL}};
	const struct {
		struct vp_device_kind kinds[2];
		unsigned n;
		const char *want;
	} cases[] = {
		{{{"Display", DEV_SHARED, NULL, NULL}}, 1, "Display"},
		{{{"a-very-long-device-name", DEV_SHARED, NULL, NULL}}, 1, "a-very-long"},
		{{{"x", DEV_SHARED, NULL, NULL}, {"x", DEV_NONE, NULL, NULL}}, 2, "two devices"},
		{{{"x", DEV_SHARED, own, NULL}}, 1, "memory"},
		{{{"x", DEV_SHARED, net_settings, NULL}, {"y", DEV_SHARED, clash, NULL}},
		 2,
		 "uplink"},
		{{{"x", DEV_SHARED, no_initial, NULL}}, 1, "colour"},
	};

	(void)state;
	assert_int_equal(vp_catalog_check(&catalog, &(struct error){{0}}), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vp_catalog bad = {cases[i].kinds, cases[i].n};
		struct error err = {{0}};
		assert_true(vp_catalog_check(&bad, &err) < 0);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("error '%s' does not mention '%s'", err.msg, cases[i].want);
	}
}

static void catalog_describes_its_settings(void **state)
{
	json_t *d = vp_catalog_describe(&catalog);
	json_t *first;

	(void)state;
	assert_int_equal(json_array_size(json_object_get(d, "devices")), N_KINDS);
	assert_int_equal(json_array_size(json_object_get(d, "settings")), 3);
	first = json_array_get(json_object_get(d, "settings"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "key")), "uplink");
	assert_string_equal(json_string_value(json_object_get(first, "device")), "net");
	json_decref(d);
}

static void from_json_rejects_negative_numbers(void **state)
{
	static const char *const keys[] = {"id", "memory", "pids", "cpu"};

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *j = valid_json();
		json_object_set_new(j, keys[i], json_integer(-1));
		assert_from_json_fails(j, "");
	}
}

static void from_json_rejects_id_above_max(void **state)
{
	json_t *j = valid_json();

	(void)state;
	json_object_set_new(j, "id", json_integer(VP_ID_MAX + 1));
	assert_from_json_fails(j, "4096");
}

static void from_json_rejects_device_value_not_string(void **state)
{
	json_t *j = valid_json();

	(void)state;
	json_object_set_new(json_object_get(j, "devices"), "audio", json_integer(1));
	assert_from_json_fails(j, "audio");
	j = valid_json();
	json_object_set_new(json_object_get(j, "devices"), "gpu", json_null());
	assert_from_json_fails(j, "gpu");
	j = valid_json();
	json_object_set_new(json_object_get(j, "devices"), "audio", json_string("shared"));
	assert_from_json_fails(j, "audio");
}

static void from_json_rejects_bad_device_name_or_access(void **state)
{
	json_t *j = valid_json();

	(void)state;
	json_object_set_new(json_object_get(j, "devices"), "Toaster",
			    json_pack("{s:s}", "access", "shared"));
	assert_from_json_fails(j, "Toaster");
	j = valid_json();
	json_object_set_new(json_object_get(j, "devices"), "audio",
			    json_pack("{s:s}", "access", "loud"));
	assert_from_json_fails(j, "audio");
}

/* The stored values go through the command line's checks. */
static void from_json_rejects_what_the_setters_refuse(void **state)
{
	static const struct {
		const char *key;
		const char *json;
	} cases[] = {
		{"name", "\"../x\""}, {"name", "\"\""},	     {"image", "\"a b\""},
		{"pids", "7"},	      {"memory", "1000"},    {"cpu", "100001"},
		{"pids", "4194305"},  {"memory", "4194303"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vp_config c;
		struct error err = {{0}};
		json_t *j = valid_json();

		json_object_set_new(j, cases[i].key,
				    json_loads(cases[i].json, JSON_DECODE_ANY, NULL));
		if (vp_config_from_json(j, &catalog, &c, &err) >= 0)
			fail_msg("%s: %s accepted", cases[i].key, cases[i].json);
		assert_true(err.msg[0] != '\0');
		json_decref(j);
	}
}

/* ---- load and save, in a temporary directory ---- */

static int setup_dir(void **state)
{
	char *dir = malloc(PATH_MAX);

	if (!dir)
		return -1;
	snprintf(dir, PATH_MAX, "/tmp/cells-test-config-XXXXXX");
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int teardown_dir(void **state)
{
	char *dir = *state;

	rm_rf(dir);
	free(dir);
	return 0;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void save_then_load_gives_same_config(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config a, b;
	struct error err = {{0}};
	struct stat st;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	custom_config(&a);
	assert_int_equal(vp_config_save(path, &a, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	if (vp_config_load(path, &catalog, &b, &err) < 0)
		fail_msg("%s", err.msg);
	assert_config_equal(&a, &b);
}

static void save_replaces_previous_config(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config a, b;
	struct error err = {{0}};

	snprintf(path, sizeof(path), "%s/config.json", dir);
	custom_config(&a);
	assert_int_equal(vp_config_save(path, &a, &err), 0);
	vp_config_defaults(&a, "work", &catalog);
	assert_int_equal(vp_config_save(path, &a, &err), 0);
	assert_int_equal(vp_config_load(path, &catalog, &b, &err), 0);
	assert_config_equal(&a, &b);
}

static void load_of_truncated_file_names_the_file(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config c;
	struct error err = {{0}};
	char *text = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	custom_config(&c);
	assert_int_equal(vp_config_save(path, &c, &err), 0);
	assert_int_equal(read_file(path, 1 << 16, &text, &len), 0);
	write_text(path, text, len / 2);
	free(text);

	assert_true(vp_config_load(path, &catalog, &c, &err) < 0);
	if (!strstr(err.msg, path))
		fail_msg("error '%s' does not name %s", err.msg, path);
	assert_non_null(strstr(err.msg, "JSON"));
}

static void load_of_empty_file_names_the_file(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config c;
	struct error err = {{0}};

	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_text(path, "", 0);
	assert_true(vp_config_load(path, &catalog, &c, &err) < 0);
	assert_non_null(strstr(err.msg, path));
}

static void load_of_missing_file_gives_enoent_naming_it(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config c;
	struct error err = {{0}};

	snprintf(path, sizeof(path), "%s/absent.json", dir);
	assert_int_equal(vp_config_load(path, &catalog, &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
}

static void load_of_invalid_config_names_file_and_problem(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config c;
	struct error err = {{0}};
	json_t *j = valid_json();
	char *text;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	json_object_set_new(j, "pids", json_integer(3));
	text = json_dumps(j, 0);
	write_text(path, text, strlen(text));
	free(text);
	json_decref(j);

	assert_true(vp_config_load(path, &catalog, &c, &err) < 0);
	assert_true(strncmp(err.msg, path, strlen(path)) == 0);
	assert_non_null(strstr(err.msg, "pids"));
}

static void load_of_huge_file_is_refused(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config c;
	struct error err = {{0}};
	size_t len = 65536 + 1;
	char *text = malloc(len);

	assert_non_null(text);
	memset(text, ' ', len);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	write_text(path, text, len);
	free(text);
	assert_int_equal(vp_config_load(path, &catalog, &c, &err), -EFBIG);
	assert_non_null(strstr(err.msg, path));
}

static void save_into_missing_dir_names_the_file(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct vp_config c;
	struct error err = {{0}};

	snprintf(path, sizeof(path), "%s/nodir/config.json", dir);
	vp_config_defaults(&c, "work", &catalog);
	assert_int_equal(vp_config_save(path, &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
}

int main(void)
{
#define T(f)  cmocka_unit_test(f)
#define TD(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(defaults_fill_every_field),
		T(defaults_give_each_known_device_its_right),
		T(device_access_of_unknown_device_is_none),
		T(dev_access_names),
		T(option_image_takes_valid_names),
		T(option_memory_takes_sizes),
		T(option_memory_zero_means_no_limit),
		T(option_memory_below_4m_is_rejected),
		T(option_disk_takes_a_size_or_none),
		T(option_memory_rejects_junk),
		T(option_pids_range_is_8_to_4194304),
		T(option_pids_rejects_junk),
		T(option_cpu_takes_percent_of_one_cpu),
		T(option_cpu_rejects_junk_and_too_much),
		T(option_of_a_device_goes_to_its_settings),
		T(option_of_a_device_is_bounded),
		T(option_without_catalog_knows_only_its_own),
		T(option_unknown_key_is_rejected),
		T(device_spec_sets_access),
		T(device_spec_without_equals_is_rejected),
		T(device_spec_unknown_device_is_rejected),
		T(device_spec_unknown_access_is_rejected),
		T(to_json_has_version_4_and_every_key),
		T(json_round_trip_of_defaults),
		T(json_round_trip_of_custom_config),
		T(json_round_trip_of_largest_id),
		T(json_round_trip_of_largest_memory_the_setter_accepts),
		T(from_json_keeps_default_rights_for_unlisted_devices),
		T(from_json_rejects_unknown_extra_key),
		T(from_json_rejects_each_missing_key),
		T(from_json_rejects_wrong_types),
		T(from_json_rejects_other_versions),
		T(from_json_reads_version_1),
		T(from_json_reads_version_2_without_disk),
		T(from_json_rejects_negative_numbers),
		T(from_json_rejects_id_above_max),
		T(from_json_rejects_device_value_not_string),
		T(from_json_rejects_bad_device_name_or_access),
		T(from_json_migrates_version_3),
		T(from_json_keeps_devices_it_does_not_know),
		T(from_json_rejects_unknown_setting_of_a_known_device),
		T(catalog_check_refuses_what_configs_could_not_hold),
		T(catalog_describes_its_settings),
		T(from_json_rejects_what_the_setters_refuse),
		TD(save_then_load_gives_same_config),
		TD(save_replaces_previous_config),
		TD(load_of_truncated_file_names_the_file),
		TD(load_of_empty_file_names_the_file),
		TD(load_of_missing_file_gives_enoent_naming_it),
		TD(load_of_invalid_config_names_file_and_problem),
		TD(load_of_huge_file_is_refused),
		TD(save_into_missing_dir_names_the_file),
	};
#undef T
#undef TD

	return cmocka_run_group_tests(tests, NULL, NULL);
}
