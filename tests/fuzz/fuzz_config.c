/* A VP's config.json as cellsd loads it (vp_config_load: read, parse, validate): the file
 * may be hand-edited or come with an import. What loads must be a config `cell create`
 * could have made, and must survive a save and a load unchanged. */
#include "vp/config.h"
#include "fuzz_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_valid(const struct vp_config *c)
{
	if (!name_is_valid(c->name) || !name_is_valid(c->image) || c->id > VP_ID_MAX ||
	    c->ndevices > VP_DEVICES_MAX || (c->pids != 0 && c->pids < 8) || c->pids > 4194304 ||
	    (c->memory != 0 && c->memory < (4u << 20)) || c->memory > INT64_MAX)
		abort();
	for (unsigned i = 0; i < c->ndevices; i++)
		if (c->devices[i].access > DEV_EXCLUSIVE ||
		    c->devices[i].nsettings > VP_SETTINGS_MAX ||
		    strnlen(c->devices[i].name, sizeof(c->devices[i].name)) ==
			    sizeof(c->devices[i].name))
			abort();
}

/* Save (to_json, dumped as vp_config_save does) and load again: the same config. */
static void check_round_trip(const struct vp_config *c)
{
	json_t *json = vp_config_to_json(c);
	char *text = json ? json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_t *again = text ? json_loads(text, 0, NULL) : NULL;
	struct vp_config back;
	struct error err = {{0}};

	if (!again || vp_config_from_json(again, &fuzz_catalog, &back, &err) < 0) {
		fprintf(stderr, "round trip: %s\n%s\n", err.msg, text ? text : "(none)");
		abort();
	}
	if (memcmp(c, &back, sizeof(back)) != 0)
		abort();
	json_decref(again);
	free(text);
	json_decref(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct vp_config c;
	struct error err = {{0}};

	/* The file itself, so the reading (size limit, NUL bytes) is the daemon's too. */
	if (fd < 0) {
		if ((fd = memfd_create("config.json", MFD_CLOEXEC)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (vp_config_load(path, &fuzz_catalog, &c, &err) < 0)
		return 0;
	check_valid(&c);
	check_round_trip(&c);
	return 0;
}
