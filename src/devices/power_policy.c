/* The power device's rules (power_policy.h). */
#include "devices/power_policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static size_t chomp(const char *buf, size_t len)
{
	return len > 0 && buf[len - 1] == '\n' ? len - 1 : len;
}

static bool is(const char *buf, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(buf, word, len) == 0;
}

int power_parse_state(const char *buf, size_t len, enum power_request *out)
{
	len = chomp(buf, len);
	if (is(buf, len, "mem") || is(buf, len, "freeze") || is(buf, len, "standby"))
		*out = POWER_REQ_SUSPEND;
	else if (is(buf, len, "on"))
		*out = POWER_REQ_ON;
	else
		return -EINVAL;
	return 0;
}

int power_parse_level(const char *buf, size_t len, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	len = chomp(buf, len);
	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned digit = (unsigned char)buf[i] - '0';
		if (digit > 9)
			return -EINVAL;
		v = v * 10 + digit;
	}
	if (v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

enum power_verdict power_decide(bool from_foreground, unsigned foreground_locks,
				unsigned root_locks)
{
	if (!from_foreground)
		return POWER_IGNORED;
	return foreground_locks || root_locks ? POWER_BLOCKED : POWER_SUSPEND;
}

const char *power_verdict_name(enum power_verdict v)
{
	switch (v) {
	case POWER_IGNORED:
		return "ignored";
	case POWER_BLOCKED:
		return "blocked";
	case POWER_SUSPEND:
		return "suspend";
	}
	return "?";
}

static enum power_change suspend_now(struct power_recorder *r)
{
	r->suspended = true;
	r->pending = false;
	r->suspends++;
	return POWER_SUSPENDED;
}

static enum power_change resume_now(struct power_recorder *r)
{
	if (!r->suspended)
		return POWER_NO_CHANGE;
	r->suspended = false;
	r->resumes++;
	return POWER_RESUMED;
}

enum power_change power_rec_request(struct power_recorder *r, const char *vp, bool foreground,
				    unsigned foreground_locks, unsigned root_locks,
				    enum power_request req, enum power_verdict *verdict)
{
	*verdict = power_decide(foreground, foreground_locks, root_locks);
	if (req == POWER_REQ_ON) {
		if (!foreground)
			return POWER_NO_CHANGE;
		r->pending = false;
		return resume_now(r);
	}
	switch (*verdict) {
	case POWER_IGNORED:
		r->ignored++;
		return POWER_NO_CHANGE;
	case POWER_BLOCKED:
		r->blocked++;
		r->pending = true;
		snprintf(r->pending_vp, sizeof(r->pending_vp), "%s", vp);
		return POWER_NO_CHANGE;
	case POWER_SUSPEND:
		return suspend_now(r);
	}
	return POWER_NO_CHANGE;
}

enum power_change power_rec_locks(struct power_recorder *r, bool taken, unsigned counted)
{
	if (taken)
		return resume_now(r);
	if (r->pending && counted == 0)
		return suspend_now(r);
	return POWER_NO_CHANGE;
}

void power_rec_leave(struct power_recorder *r, const char *vp)
{
	if (r->pending && strcmp(r->pending_vp, vp) == 0)
		r->pending = false;
}

enum power_change power_rec_switch(struct power_recorder *r)
{
	return resume_now(r);
}

static const char *const bg_names[] = {"run", "throttle", "freeze"};

int power_background_parse(const char *text, enum power_background *out)
{
	for (unsigned i = 0; i < sizeof(bg_names) / sizeof(bg_names[0]); i++)
		if (strcmp(text, bg_names[i]) == 0) {
			*out = (enum power_background)i;
			return 0;
		}
	return -EINVAL;
}

const char *power_background_name(enum power_background b)
{
	return (unsigned)b < sizeof(bg_names) / sizeof(bg_names[0]) ? bg_names[b] : "?";
}

int power_parse_percent(const char *text, unsigned *out)
{
	unsigned v;

	if (power_parse_level(text, strlen(text), 100, &v) < 0 || v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}
