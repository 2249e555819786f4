/* The real backlight and LEDs a power device drives for the foreground VP:
 * `cellsd --backlight /sys/class/backlight/X` and `--led NAME=/sys/class/leds/Y` name
 * directories of the kernel's (or a test's plain files: brightness, max_brightness).
 * Levels are the VP's, of its own maximum; they are scaled to the real one's. */
#ifndef CELLS_DEVICES_POWER_LIGHT_H
#define CELLS_DEVICES_POWER_LIGHT_H

#include "common/error.h"

#include <stdbool.h>

#define POWER_LEDS	 4 /* red, green, blue, vibrator */
#define POWER_LIGHT_PATH 240

struct power_output {
	char dir[POWER_LIGHT_PATH]; /* "": none */
	unsigned max;		    /* its max_brightness */
};

struct power_light {
	struct power_output backlight;
	struct power_output led[POWER_LEDS];
};

extern const char *const power_led_names[POWER_LEDS];

/* An option's value: a directory for --backlight, NAME=DIR for --led. */
int power_light_check(const char *option, const char *value, struct error *err);
/* Read every output's max_brightness. */
int power_light_open(struct power_light *l, const char *backlight, const char *const *leds,
		     unsigned nleds, struct error *err);
/* Set OUT to LEVEL of MAX: false if there is no such output. */
bool power_light_set(const struct power_output *out, unsigned level, unsigned max);

#endif
