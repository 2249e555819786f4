/* The real backlight and LEDs (power_light.h). */
#include "devices/power_light.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const power_led_names[POWER_LEDS] = {"red", "green", "blue", "vibrator"};

static int led_index(const char *name, size_t len)
{
	for (unsigned i = 0; i < POWER_LEDS; i++)
		if (strlen(power_led_names[i]) == len && memcmp(power_led_names[i], name, len) == 0)
			return (int)i;
	return -1;
}

int power_light_check(const char *option, const char *value, struct error *err)
{
	const char *dir = value;

	if (strcmp(option, "led") == 0) {
		const char *eq = strchr(value, '=');
		if (!eq || led_index(value, (size_t)(eq - value)) < 0)
			return error_set(err, EINVAL,
					 "--led %s: NAME=DIR, NAME red, green, blue or vibrator",
					 value);
		dir = eq + 1;
	}
	if (dir[0] != '/' || strlen(dir) >= POWER_LIGHT_PATH)
		return error_set(err, EINVAL, "--%s %s: an absolute path is needed", option, value);
	return 0;
}

static int open_output(struct power_output *out, const char *dir, struct error *err)
{
	char path[POWER_LIGHT_PATH + 32];
	_cleanup_free_ char *text = NULL;
	unsigned long max;
	char *end;
	int ret;

	snprintf(out->dir, sizeof(out->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/max_brightness", dir);
	if ((ret = read_file(path, 64, &text, NULL)) < 0)
		return error_set(err, ret, "read %s", path);
	max = strtoul(text, &end, 10);
	if (end == text || max == 0 || max > 1000000)
		return error_set(err, EINVAL, "%s: no maximum brightness", path);
	out->max = (unsigned)max;
	return 0;
}

int power_light_open(struct power_light *l, const char *backlight, const char *const *leds,
		     unsigned nleds, struct error *err)
{
	int ret;

	memset(l, 0, sizeof(*l));
	if (backlight && (ret = open_output(&l->backlight, backlight, err)) < 0)
		return ret;
	for (unsigned i = 0; i < nleds; i++) {
		const char *eq = strchr(leds[i], '=');
		int n = eq ? led_index(leds[i], (size_t)(eq - leds[i])) : -1;
		if (n < 0)
			return error_set(err, EINVAL, "--led %s", leds[i]);
		if ((ret = open_output(&l->led[n], eq + 1, err)) < 0)
			return ret;
	}
	return 0;
}

bool power_light_set(const struct power_output *out, unsigned level, unsigned max)
{
	char path[POWER_LIGHT_PATH + 32], value[16];
	_cleanup_close_ int fd = -1;
	unsigned scaled;

	if (!out->dir[0])
		return false;
	scaled = max ? (unsigned)(((unsigned long long)level * out->max + max / 2) / max) : 0;
	snprintf(path, sizeof(path), "%s/brightness", out->dir);
	snprintf(value, sizeof(value), "%u\n", scaled);
	/* Truncated: sysfs ignores it, a test's plain file needs it. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		log_warn_errno(errno, "power: write %u to %s", scaled, path);
	return true;
}
