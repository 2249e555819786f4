/* The power device's rules as plain functions (DESIGN.md §5, "Power"): what a VP's writes
 * to /sys/power/state and the brightness files mean, the suspend decision, and the
 * background policy's names. No state, no clock. */
#ifndef CELLS_DEVICES_POWER_POLICY_H
#define CELLS_DEVICES_POWER_POLICY_H

#include <stdbool.h>
#include <stddef.h>

enum power_request {
	POWER_REQ_SUSPEND, /* "mem", "freeze", "standby" */
	POWER_REQ_ON,	   /* "on": Android's early-suspend interface cancels a request */
};

/* What a VP wrote to /sys/power/state (a trailing newline allowed): 0 or -EINVAL. */
int power_parse_state(const char *buf, size_t len, enum power_request *out);
/* A brightness: decimal (a trailing newline allowed), 0 to MAX: 0 or -EINVAL. */
int power_parse_level(const char *buf, size_t len, unsigned max, unsigned *out);

enum power_verdict {
	POWER_IGNORED, /* asked by a background VP: it counts as holding a lock */
	POWER_BLOCKED, /* the foreground VP or the root holds a wake lock */
	POWER_SUSPEND, /* nothing counted holds one: the device suspends */
};

/* The root's decision on a suspend request: only the foreground VP's and the root's
 * locks count; a background VP never makes the device suspend. */
enum power_verdict power_decide(bool from_foreground, unsigned foreground_locks,
				unsigned root_locks);
const char *power_verdict_name(enum power_verdict v);

/* The root's suspend recorder: the device is awake or suspended, and a foreground
 * request blocked by locks waits until they are released (Android's autosleep tries
 * again) or the foreground changes. Each function says what happened to the device. */
struct power_recorder {
	bool suspended;
	bool pending;
	char pending_vp[64];
	unsigned long long suspends, blocked, ignored, resumes;
};

enum power_change {
	POWER_NO_CHANGE,
	POWER_SUSPENDED,
	POWER_RESUMED,
};

/* VP (FOREGROUND or not) wrote REQ; FOREGROUND_LOCKS and ROOT_LOCKS are the counted
 * locks held now. *VERDICT: the decision on a suspend request. */
enum power_change power_rec_request(struct power_recorder *r, const char *vp, bool foreground,
				    unsigned foreground_locks, unsigned root_locks,
				    enum power_request req, enum power_verdict *verdict);
/* A counted lock (the foreground's or the root's) was taken (TAKEN) or went (COUNTED:
 * how many are held now). A background VP's lock changes nothing: not called. */
enum power_change power_rec_locks(struct power_recorder *r, bool taken, unsigned counted);
/* VP leaves the foreground: its pending request goes. */
void power_rec_leave(struct power_recorder *r, const char *vp);
/* A VP comes to the foreground: the device resumes. */
enum power_change power_rec_switch(struct power_recorder *r);

enum power_background {
	POWER_BG_RUN,	   /* left alone */
	POWER_BG_THROTTLE, /* its CPU capped */
	POWER_BG_FREEZE,   /* its cgroup frozen */
};

int power_background_parse(const char *text, enum power_background *out);
const char *power_background_name(enum power_background b);
/* A throttle cap: a percentage of one CPU, 1 to 100. */
int power_parse_percent(const char *text, unsigned *out);

#endif
