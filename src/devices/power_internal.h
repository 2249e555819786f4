/* The power device's state, shared by its files (power.c: the device and the suspend
 * recorder; power_fs.c: the VP's files; power_bg.c: the background policy). */
#ifndef CELLS_DEVICES_POWER_INTERNAL_H
#define CELLS_DEVICES_POWER_INTERNAL_H

#include "common/loop.h"
#include "common/names.h"
#include "devices/power_light.h"
#include "devices/power_locks.h"
#include "devices/power_policy.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define POWER_MAX_LEVEL 255 /* the VP's backlight's and LEDs' max_brightness */

struct devns;
struct fusetree;

struct power_vp;

struct power_dev {
	struct devns *core;
	struct power_light light;
	struct loop_watch expiry; /* the next wake lock timeout, any VP's or the root's */
	struct power_vp *vps;
	struct power_vp *fg; /* the foreground VP's instance, if it has one */
	/* Under the device lock: the root's own locks and the suspend recorder. */
	struct power_locks root;
	struct power_recorder rec;
	bool screen_off; /* the power key turned it off */
	bool have_fuse;	 /* without FUSE (no module) VPs get no files, the policy still holds */
};

enum power_file {
	PF_WAKE_LOCK,
	PF_WAKE_UNLOCK,
	PF_STATE,
	PF_BRIGHTNESS,
	PF_MAX_BRIGHTNESS,
	PF_ACTUAL_BRIGHTNESS,
	PF_BL_POWER,
	PF_TYPE,
	PF_LED_BRIGHTNESS,
	PF_LED_MAX_BRIGHTNESS,
};

#define POWER_ATTRS (8 + 2 * POWER_LEDS)

/* What one file of a VP's is: the handlers' data. */
struct power_attr {
	struct power_vp *v;
	enum power_file file;
	unsigned led;
};

struct power_vp {
	struct power_dev *dev;
	struct power_vp *next;
	char name[NAME_MAX_LEN + 1];
	char mountpoint[256];
	struct fusetree *tree;
	struct power_attr attrs[POWER_ATTRS];
	/* Under the device lock: */
	struct power_locks locks;
	unsigned brightness, bl_power;
	unsigned led[POWER_LEDS];
	bool active;
	/* The background policy (power_bg.c), on the loop's thread: */
	enum power_background background;
	unsigned throttle;    /* percent of one CPU */
	bool background_now;  /* out of the foreground (the loop's view) */
	bool held;	      /* the policy is applied now */
	uint64_t awake_until; /* devns_vp_wake: not held before (ns) */
	struct loop_watch bg_timer;
};

/* Re-arm the device's expiry timer for the earliest lock timeout; with the lock held. */
void power_arm_expiry(struct power_dev *dev);
/* A lock of a VP (or the root's: V NULL) was taken, released or expired: the recorder
 * looks again (a pending request may go through; a suspended device resumes when the
 * foreground takes one). With the lock held. */
void power_locks_changed(struct power_dev *dev, struct power_vp *v, bool taken);
/* A write to /sys/power/state by V; with the lock held. */
void power_request(struct power_dev *dev, struct power_vp *v, enum power_request req);
/* Apply V's backlight and LEDs to the real ones or the output (V in the foreground). */
void power_apply_light(struct power_dev *dev, struct power_vp *v);

/* What V's file shows, and a write to it (with the lock held): the length or -errno. */
ssize_t power_show(struct power_attr *a, char *buf, size_t size);
ssize_t power_store(struct power_attr *a, const char *buf, size_t len);

/* power_fs.c: V's files, mounted at V->mountpoint. */
int power_fs_create(struct power_vp *v, uid_t uid, struct error *err);
void power_fs_destroy(struct power_vp *v);

/* power_bg.c: the background policy. Without the lock, on the loop's thread. */
int power_bg_init(struct power_vp *v, struct error *err);
void power_bg_fini(struct power_vp *v);
/* V came to the foreground (thawed before it returns), or left it (held after a grace). */
void power_bg_foreground(struct power_vp *v, bool foreground);
/* Its policy or cap changed: applied now if it is in the background. */
void power_bg_changed(struct power_vp *v);
void power_bg_wake(struct power_vp *v, unsigned ms);

#endif
