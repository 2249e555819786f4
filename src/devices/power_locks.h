/* A VP's wake locks as Android's kernel keeps them (kernel/power/wakelock.c): a write of
 * "NAME [TIMEOUT_NS]" to /sys/power/wake_lock takes NAME (for TIMEOUT_NS nanoseconds, or
 * until a write of "NAME" to wake_unlock); reading wake_lock lists the active names,
 * wake_unlock the inactive ones. Plain memory, no clock of its own (the caller passes
 * the monotonic time in ns), no global state: the device serialises. */
#ifndef CELLS_DEVICES_POWER_LOCKS_H
#define CELLS_DEVICES_POWER_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Locks one VP keeps at most, active or not (the kernel's CONFIG_PM_WAKELOCKS_LIMIT): one
 * more is ENOSPC, so a VP that takes thousands costs the daemon a bounded table. */
#define POWER_LOCKS_MAX	    100
#define POWER_LOCK_NAME_MAX 127

struct power_lock {
	char name[POWER_LOCK_NAME_MAX + 1];
	bool active;
	uint64_t expires; /* ns, CLOCK_MONOTONIC; 0: none */
	uint64_t used;	  /* when last taken or released: the oldest inactive goes first */
};

struct power_locks {
	struct power_lock lock[POWER_LOCKS_MAX];
	unsigned n;
};

/* What a VP wrote: one line "NAME" or "NAME TIMEOUT_NS" (a trailing newline taken off, as
 * the kernel's sysfs store sees `echo`'s). NAME: up to the first white space, at most
 * POWER_LOCK_NAME_MAX bytes, no control characters; TIMEOUT_NS: decimal, no sign, above 0
 * (*TIMEOUT 0: none given). 0, or -EINVAL for anything else. */
int power_lock_parse(const char *buf, size_t len, bool timeout_allowed, char *name,
		     uint64_t *timeout);

/* A write of BUF to wake_lock at NOW: 0 or -errno (-EINVAL, -ENOSPC when POWER_LOCKS_MAX
 * are active). */
int power_locks_take(struct power_locks *l, const char *buf, size_t len, uint64_t now);
/* A write of BUF to wake_unlock: 0, -EINVAL (no such lock, or bad text). */
int power_locks_release(struct power_locks *l, const char *buf, size_t len, uint64_t now);
/* Deactivate every lock whose timeout passed at NOW: how many did. */
unsigned power_locks_expire(struct power_locks *l, uint64_t now);
/* The earliest timeout of an active lock (0: none). */
uint64_t power_locks_next_expiry(const struct power_locks *l);
unsigned power_locks_active(const struct power_locks *l);
/* The active (or inactive) names, separated by spaces, ended by "\n", into BUF (SIZE
 * bytes): the length. Names that do not fit are left out, as the kernel's page is. */
size_t power_locks_show(const struct power_locks *l, bool active, char *buf, size_t size);

#endif
