/* The background policy of one VP (DESIGN.md §5, "Power"): out of the foreground, after a
 * grace period, `freeze` has the daemon freeze its cgroup and `throttle` cap its CPU;
 * `run` leaves it alone. Coming back to the foreground thaws it at once (the power device
 * activates first, so before the VP's other devices do); devns_vp_wake lets it run for a
 * while (an incoming call). All on the loop's thread, through devns_vp_schedule: the
 * device never sees the cgroup. */
#include "devices/power_internal.h"
#include "common/clock.h"
#include "common/log.h"
#include "devns/devns.h"

#include <errno.h>
#include <jansson.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* Out of the foreground, a VP finishes what a switch asks of it (its VT's release, its
 * last frame) before it is held back. */
#define HOLD_GRACE_MS 1000

static void arm(struct power_vp *v, uint64_t ms)
{
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(ms / 1000),
					      .tv_nsec = (long)(ms % 1000) * 1000000L}};

	if (ms == 0)
		its.it_value.tv_nsec = 1; /* due now; all zero would disarm it */
	if (timerfd_settime(v->bg_timer.fd, 0, &its, NULL) < 0)
		log_warn_errno(errno, "power: %s: arm the policy's timer", v->name);
}

static void disarm(struct power_vp *v)
{
	struct itimerspec none = {{0, 0}, {0, 0}};

	timerfd_settime(v->bg_timer.fd, 0, &none, NULL);
}

/* Hold V back as its policy says (HOLD), or let it run; REASON for the event. */
static void apply(struct power_vp *v, bool hold, const char *reason)
{
	struct devns_vp_sched s = {0};
	struct error err = {{0}};

	if (hold && v->background == POWER_BG_FREEZE)
		s.frozen = true;
	else if (hold && v->background == POWER_BG_THROTTLE)
		s.cpu_percent = v->throttle;
	if (devns_vp_schedule(v->dev->core, v->name, &s, &err) < 0) {
		log_warn("power: %s: %s", v->name, err.msg);
		return;
	}
	v->held = s.frozen || s.cpu_percent;
	devns_emit_event(v->dev->core, "power",
			 json_pack("{s:s, s:s, s:s, s:s}", "event",
				   v->held ? "power-hold" : "power-release", "vp", v->name,
				   "policy", power_background_name(v->background), "reason",
				   reason));
}

static void on_timer(struct loop_watch *w, uint32_t events)
{
	struct power_vp *v = container_of(w, struct power_vp, bg_timer);
	uint64_t ticks, now = monotonic_ns();

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "power: %s: read the policy's timer", v->name);
	if (!v->background_now || v->background == POWER_BG_RUN)
		return;
	if (now < v->awake_until) {
		arm(v, (v->awake_until - now + 999999) / 1000000);
		return;
	}
	apply(v, true, v->awake_until ? "wake-over" : "background");
	v->awake_until = 0;
}

int power_bg_init(struct power_vp *v, struct error *err)
{
	v->background_now = true; /* until its first activation */
	v->bg_timer = (struct loop_watch){.handle = on_timer};
	v->bg_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (v->bg_timer.fd < 0)
		return error_set(err, errno, "power: timerfd");
	if (devns_watch(v->dev->core, &v->bg_timer, EPOLLIN) < 0) {
		int ret = error_set(err, errno, "power: watch a timer");
		close(v->bg_timer.fd);
		v->bg_timer.fd = -1;
		return ret;
	}
	/* A VP started behind another is held back once it is up. */
	if (v->background != POWER_BG_RUN)
		arm(v, HOLD_GRACE_MS);
	return 0;
}

void power_bg_fini(struct power_vp *v)
{
	if (v->bg_timer.fd < 0)
		return;
	devns_unwatch(v->dev->core, &v->bg_timer);
	close(v->bg_timer.fd);
	v->bg_timer.fd = -1;
}

void power_bg_foreground(struct power_vp *v, bool foreground)
{
	v->background_now = !foreground;
	if (foreground) {
		disarm(v);
		v->awake_until = 0;
		if (v->held)
			apply(v, false, "foreground");
	} else if (v->background != POWER_BG_RUN) {
		arm(v, HOLD_GRACE_MS);
	}
}

void power_bg_changed(struct power_vp *v)
{
	if (!v->background_now)
		return;
	disarm(v);
	if (v->background == POWER_BG_RUN) {
		if (v->held)
			apply(v, false, "policy");
	} else {
		apply(v, true, "policy");
	}
}

void power_bg_wake(struct power_vp *v, unsigned ms)
{
	uint64_t until = monotonic_ns() + (uint64_t)ms * 1000000;

	if (!v->background_now || v->background == POWER_BG_RUN)
		return;
	if (until > v->awake_until)
		v->awake_until = until;
	if (v->held)
		apply(v, false, "wake");
	arm(v, ms);
}
