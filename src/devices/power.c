/* The power device (DESIGN.md §5, "Power"): each VP's /sys/power (Android's wake locks,
 * a suspend request through `state`), /sys/class/backlight/panel and /sys/class/leds,
 * the root's suspend decision, and the background policy (power_bg.c).
 *
 * As the Cells kernel: a background VP's wake locks are recorded but not counted; the
 * root decides suspend counting only the foreground VP's and its own; a background VP's
 * request never suspends the device. Here the root's decisions are recorded (events and
 * `cell stats`) rather than written to the real /sys/power/state. The foreground VP's
 * backlight and LEDs reach the real ones (--backlight, --led) or, without a backlight,
 * the output (the daemon dims what it composes); a background VP's writes are kept and
 * applied when it comes to the foreground. */
#include "devices/power_internal.h"
#include "common/clock.h"
#include "common/log.h"
#include "devns/devns.h"
#include "devns/fusetree.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_LEDS_GIVEN 8

/* The recorder. */

static unsigned counted_locks(const struct power_dev *dev)
{
	return (dev->fg ? power_locks_active(&dev->fg->locks) : 0) + power_locks_active(&dev->root);
}

static void add_names(json_t *list, const struct power_locks *l, const char *owner)
{
	char name[POWER_LOCK_NAME_MAX + NAME_MAX_LEN + 2];

	for (unsigned i = 0; i < l->n; i++)
		if (l->lock[i].active) {
			snprintf(name, sizeof(name), "%s:%s", owner, l->lock[i].name);
			json_array_append_new(list, json_string(name));
		}
}

static void emit(struct power_dev *dev, json_t *event)
{
	devns_emit_event(dev->core, "power", event);
}

/* Tell what the recorder did: VP asked, REASON resumed. */
static void changed(struct power_dev *dev, enum power_change c, const char *vp, const char *reason)
{
	if (c == POWER_SUSPENDED)
		emit(dev, json_pack("{s:s, s:s}", "event", "suspend", "vp", vp));
	else if (c == POWER_RESUMED)
		emit(dev, json_pack("{s:s, s:s}", "event", "resume", "reason", reason));
}

void power_locks_changed(struct power_dev *dev, struct power_vp *v, bool taken)
{
	if (v && v != dev->fg)
		return; /* a background VP's lock: recorded, not counted */
	changed(dev, power_rec_locks(&dev->rec, taken, counted_locks(dev)), dev->rec.pending_vp,
		"wake-lock");
}

void power_request(struct power_dev *dev, struct power_vp *v, enum power_request req)
{
	bool foreground = v == dev->fg;
	unsigned held = foreground ? power_locks_active(&v->locks) : 0;
	enum power_verdict verdict;
	enum power_change c;
	json_t *holders;

	c = power_rec_request(&dev->rec, v->name, foreground, held, power_locks_active(&dev->root),
			      req, &verdict);
	if (req == POWER_REQ_SUSPEND) {
		holders = json_array();
		if (verdict == POWER_BLOCKED) {
			add_names(holders, &v->locks, v->name);
			add_names(holders, &dev->root, "root");
		}
		emit(dev,
		     json_pack("{s:s, s:s, s:s, s:o}", "event", "suspend-request", "vp", v->name,
			       "verdict", power_verdict_name(verdict), "holders", holders));
	}
	changed(dev, c, v->name, "on");
}

/* Wake lock timeouts: one timer for the device, at the earliest. */

void power_arm_expiry(struct power_dev *dev)
{
	uint64_t next = power_locks_next_expiry(&dev->root), t;
	struct itimerspec its = {{0, 0}, {0, 0}};

	for (struct power_vp *v = dev->vps; v; v = v->next)
		if ((t = power_locks_next_expiry(&v->locks)) && (!next || t < next))
			next = t;
	its.it_value.tv_sec = (time_t)(next / 1000000000ull);
	its.it_value.tv_nsec = (long)(next % 1000000000ull);
	if (timerfd_settime(dev->expiry.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_warn_errno(errno, "power: arm the wake locks' timer");
}

static void on_expiry(struct loop_watch *w, uint32_t events)
{
	struct power_dev *dev = container_of(w, struct power_dev, expiry);
	uint64_t ticks, now = monotonic_ns();

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "power: read the wake locks' timer");
	devns_lock(dev->core);
	for (struct power_vp *v = dev->vps; v; v = v->next)
		if (power_locks_expire(&v->locks, now))
			power_locks_changed(dev, v, false);
	if (power_locks_expire(&dev->root, now))
		power_locks_changed(dev, NULL, false);
	power_arm_expiry(dev);
	devns_unlock(dev->core);
}

/* The lights. */

void power_apply_light(struct power_dev *dev, struct power_vp *v)
{
	unsigned level = v->bl_power == 0 && !dev->screen_off ? v->brightness : 0;

	if (!power_light_set(&dev->light.backlight, level, POWER_MAX_LEVEL))
		devns_output_brightness(dev->core, level, POWER_MAX_LEVEL);
	for (unsigned i = 0; i < POWER_LEDS; i++)
		power_light_set(&dev->light.led[i], v->led[i], POWER_MAX_LEVEL);
}

/* The VP's files (power_fs.c calls these with the lock held). */

static ssize_t print(char *buf, size_t size, unsigned value)
{
	int n = snprintf(buf, size, "%u\n", value);

	return n < 0 || (size_t)n >= size ? -EINVAL : n;
}

ssize_t power_show(struct power_attr *a, char *buf, size_t size)
{
	struct power_vp *v = a->v;

	switch (a->file) {
	case PF_WAKE_LOCK:
	case PF_WAKE_UNLOCK:
		power_locks_expire(&v->locks, monotonic_ns());
		return (ssize_t)power_locks_show(&v->locks, a->file == PF_WAKE_LOCK, buf, size);
	case PF_STATE:
		return snprintf(buf, size, "freeze mem\n");
	case PF_BRIGHTNESS:
		return print(buf, size, v->brightness);
	case PF_ACTUAL_BRIGHTNESS:
		return print(buf, size, v->bl_power == 0 ? v->brightness : 0);
	case PF_MAX_BRIGHTNESS:
	case PF_LED_MAX_BRIGHTNESS:
		return print(buf, size, POWER_MAX_LEVEL);
	case PF_BL_POWER:
		return print(buf, size, v->bl_power);
	case PF_TYPE:
		return snprintf(buf, size, "raw\n");
	case PF_LED_BRIGHTNESS:
		return print(buf, size, v->led[a->led]);
	}
	return -EINVAL;
}

ssize_t power_store(struct power_attr *a, const char *buf, size_t len)
{
	struct power_vp *v = a->v;
	struct power_dev *dev = v->dev;
	uint64_t now = monotonic_ns();
	enum power_request req;
	unsigned level;
	int ret = -EINVAL;

	switch (a->file) {
	case PF_WAKE_LOCK:
		power_locks_expire(&v->locks, now);
		if ((ret = power_locks_take(&v->locks, buf, len, now)) == 0) {
			power_locks_changed(dev, v, true);
			power_arm_expiry(dev);
		}
		break;
	case PF_WAKE_UNLOCK:
		if ((ret = power_locks_release(&v->locks, buf, len, now)) == 0)
			power_locks_changed(dev, v, false);
		break;
	case PF_STATE:
		if ((ret = power_parse_state(buf, len, &req)) == 0)
			power_request(dev, v, req);
		break;
	case PF_BRIGHTNESS:
	case PF_BL_POWER:
	case PF_LED_BRIGHTNESS:
		ret = power_parse_level(buf, len, a->file == PF_BL_POWER ? 4 : POWER_MAX_LEVEL,
					&level);
		if (ret < 0)
			break;
		if (a->file == PF_BRIGHTNESS)
			v->brightness = level;
		else if (a->file == PF_BL_POWER)
			v->bl_power = level;
		else
			v->led[a->led] = level;
		if (v == dev->fg)
			power_apply_light(dev, v);
		break;
	default:
		break;
	}
	return ret < 0 ? ret : (ssize_t)len;
}

/* The device. */

static const struct vdev_option power_options[] = {
	{"backlight", "DIR",
	 "the real backlight the foreground VP\ndrives (/sys/class/backlight/X)\n(default: "
	 "none: the output is dimmed)"},
	{"led", "NAME=DIR",
	 "a real LED for the VPs' NAME (red,\ngreen, blue, vibrator):\n/sys/class/leds/Y; "
	 "repeatable\n(default: none)"},
	{NULL, NULL, NULL},
};

static int power_check_option(const char *name, const char *value, struct error *err)
{
	return power_light_check(name, value, err);
}

static const struct vp_setting_kind power_settings[] = {
	{"background", "run|throttle|freeze",
	 "what the VP may do out of the foreground: run, have its CPU capped, or be frozen", "run"},
	{"throttle", "PERCENT", "the CPU a throttled background VP gets, of one CPU", "10"},
	{NULL, NULL, NULL, NULL},
};

static int power_check_setting(const char *key, const char *value, struct error *err)
{
	enum power_background bg;
	unsigned percent;

	if (strcmp(key, "background") == 0 && power_background_parse(value, &bg) < 0)
		return error_set(err, EINVAL, "background: run, throttle or freeze, not '%s'",
				 value);
	if (strcmp(key, "throttle") == 0 && power_parse_percent(value, &percent) < 0)
		return error_set(err, EINVAL, "throttle: a percentage of one CPU, 1 to 100");
	return 0;
}

static int power_init(struct devns *core, void **global, struct error *err)
{
	const char *backlight = NULL, *leds[MAX_LEDS_GIVEN];
	unsigned nleds = devns_option_values(core, "led", leds, MAX_LEDS_GIVEN);
	struct power_dev *dev;
	int ret;

	if (nleds > MAX_LEDS_GIVEN)
		return error_set(err, EINVAL, "--led: %u given, %d at most", nleds, MAX_LEDS_GIVEN);
	devns_option_values(core, "backlight", &backlight, 1);
	if (!(dev = calloc(1, sizeof(*dev))))
		return error_set(err, ENOMEM, "power");
	dev->core = core;
	ret = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	dev->have_fuse = ret >= 0;
	if (ret >= 0)
		close(ret);
	else
		log_warn_errno(errno, "power: /dev/fuse (is the fuse module loaded?): VPs get no "
				      "/sys/power, backlight or LEDs");
	if ((ret = power_light_open(&dev->light, backlight, leds, nleds, err)) < 0)
		goto fail;
	dev->expiry = (struct loop_watch){.handle = on_expiry};
	dev->expiry.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (dev->expiry.fd < 0) {
		ret = error_set(err, errno, "power: timerfd");
		goto fail;
	}
	if (devns_watch(core, &dev->expiry, EPOLLIN) < 0) {
		ret = error_set(err, errno, "power: watch a timer");
		close(dev->expiry.fd);
		goto fail;
	}
	*global = dev;
	return 0;
fail:
	free(dev);
	return ret;
}

static void power_fini(void *global)
{
	struct power_dev *dev = global;

	devns_unwatch(dev->core, &dev->expiry);
	close(dev->expiry.fd);
	free(dev);
}

/* The VP's settings into V. */
static int read_settings(struct power_vp *v, const struct vdev_vp *vp, struct error *err)
{
	const char *bg = vdev_setting(vp, "background"), *cap = vdev_setting(vp, "throttle");

	if (bg && power_background_parse(bg, &v->background) < 0)
		return error_set(err, EINVAL, "power: background '%s'", bg);
	if (cap && power_parse_percent(cap, &v->throttle) < 0)
		return error_set(err, EINVAL, "power: throttle '%s'", cap);
	return 0;
}

#define POWER_VP_PATH "/sys/devices/platform/cells-power"

static int power_prepare(void *global, const struct vdev_vp *vp, void **state,
			 struct vdev_file *files, unsigned *nfiles, struct error *err)
{
	struct power_dev *dev = global;
	struct power_vp *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return error_set(err, ENOMEM, "power");
	v->dev = dev;
	v->bg_timer.fd = -1;
	v->brightness = POWER_MAX_LEVEL;
	v->throttle = 10;
	snprintf(v->name, sizeof(v->name), "%s", vp->name);
	snprintf(v->mountpoint, sizeof(v->mountpoint), "%s/%s.power", vp->dir, vp->name);
	if ((ret = read_settings(v, vp, err)) < 0 ||
	    (dev->have_fuse && (ret = power_fs_create(v, vp->uid, err)) < 0))
		goto fail;
	if ((ret = power_bg_init(v, err)) < 0) {
		power_fs_destroy(v);
		goto fail;
	}
	*nfiles = 0;
	if (v->tree) {
		files[0] = (struct vdev_file){.dev = fusetree_dev(v->tree),
					      .ino = fusetree_ino(fusetree_root(v->tree)),
					      .flags = VDEV_FILE_DIR | VDEV_FILE_KNOWN_ID};
		snprintf(files[0].vp_path, sizeof(files[0].vp_path), POWER_VP_PATH);
		snprintf(files[0].host_path, sizeof(files[0].host_path), "%s", v->mountpoint);
		*nfiles = 1;
	}
	v->next = dev->vps;
	dev->vps = v;
	*state = v;
	return 0;
fail:
	free(v);
	return ret;
}

/* The mount point in the VP's composed /sys, and the kernel's names leading to it. */
static int power_sysfs(void *global, void *state, struct sysfs_tree *tree, struct error *err)
{
	static const char dir[] = "sys/devices/platform/cells-power";
	char path[64], target[96];
	int ret;

	(void)global;
	if (!((struct power_vp *)state)->tree)
		return 0;
	if ((ret = sysfs_tree_dir(tree, dir, err)) < 0 ||
	    (ret = sysfs_tree_link(tree, "sys/power", "sys/devices/platform/cells-power/power",
				   err)) < 0 ||
	    (ret = sysfs_tree_link(tree, "sys/class/backlight/panel",
				   "sys/devices/platform/cells-power/backlight/panel", err)) < 0)
		return ret;
	for (unsigned i = 0; i < POWER_LEDS; i++) {
		snprintf(path, sizeof(path), "sys/class/leds/%s", power_led_names[i]);
		snprintf(target, sizeof(target), "%s/leds/%s", dir, power_led_names[i]);
		if ((ret = sysfs_tree_link(tree, path, target, err)) < 0)
			return ret;
	}
	return 0;
}

static void power_teardown(void *global, void *state)
{
	struct power_dev *dev = global;
	struct power_vp *v = state;

	for (struct power_vp **p = &dev->vps; *p; p = &(*p)->next)
		if (*p == v) {
			*p = v->next;
			break;
		}
	if (dev->fg == v)
		dev->fg = NULL;
	power_rec_leave(&dev->rec, v->name);
	power_bg_fini(v);
	power_fs_destroy(v);
	power_arm_expiry(dev);
	free(v);
}

/* First in the registry: the VP is thawed before its other devices activate. */
static void power_activate(void *global, void *state)
{
	struct power_dev *dev = global;
	struct power_vp *v = state;

	power_bg_foreground(v, true);
	dev->fg = v;
	v->active = true;
	/* Its backlight says the screen is off (FB_BLANK_POWERDOWN), as the kernel's
	 * backlight follows the framebuffer's blank. */
	if (dev->screen_off)
		v->bl_power = FB_BLANK_POWERDOWN;
	changed(dev, power_rec_switch(&dev->rec), v->name, "switch");
	power_apply_light(dev, v);
	/* Its locks count now: a request it made before was a background one. */
}

static void power_deactivate(void *global, void *state)
{
	struct power_dev *dev = global;
	struct power_vp *v = state;

	v->active = false;
	if (dev->fg == v)
		dev->fg = NULL;
	power_rec_leave(&dev->rec, v->name);
	power_bg_foreground(v, false);
}

static void power_switched(void *global, const struct vdev_vp *to)
{
	struct power_dev *dev = global;

	/* A foreground VP without the device has the output at full brightness, or dark
	 * while the power key has the screen off. */
	if (to && !dev->fg)
		devns_output_brightness(dev->core, dev->screen_off ? 0 : POWER_MAX_LEVEL,
					POWER_MAX_LEVEL);
}

static json_t *lock_names(const struct power_locks *l)
{
	json_t *list = json_array();

	for (unsigned i = 0; i < l->n; i++)
		if (l->lock[i].active)
			json_array_append_new(list, json_string(l->lock[i].name));
	return list;
}

static void power_stats(void *global, json_t *stats)
{
	struct power_dev *dev = global;
	json_t *vps = json_object();

	devns_lock(dev->core);
	for (struct power_vp *v = dev->vps; v; v = v->next)
		json_object_set_new(vps, v->name,
				    json_pack("{s:o, s:b, s:s, s:b, s:i, s:i}", "wake_locks",
					      lock_names(&v->locks), "counted", v == dev->fg,
					      "background", power_background_name(v->background),
					      "held", v->held, "brightness", (int)v->brightness,
					      "actual_brightness",
					      (int)(v->bl_power == 0 ? v->brightness : 0)));
	json_object_set_new(
		stats, "power",
		json_pack("{s:b, s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:o}", "screen_on",
			  !dev->screen_off, "state", dev->rec.suspended ? "suspended" : "awake",
			  "pending", dev->rec.pending, "suspends", (json_int_t)dev->rec.suspends,
			  "suspend_blocked", (json_int_t)dev->rec.blocked, "suspend_ignored",
			  (json_int_t)dev->rec.ignored, "resumes", (json_int_t)dev->rec.resumes,
			  "root_wake_locks", lock_names(&dev->root), "vps", vps));
	devns_unlock(dev->core);
}

static int power_configure(void *global, void *state, const char *key, const char *value,
			   struct error *err)
{
	struct power_vp *v = state;
	int ret;

	(void)global;
	if ((ret = power_check_setting(key, value, err)) < 0)
		return ret;
	if (strcmp(key, "background") == 0)
		power_background_parse(value, &v->background);
	else if (strcmp(key, "throttle") == 0)
		power_parse_percent(value, &v->throttle);
	else
		return error_set(err, EINVAL, "power has no setting '%s'", key);
	power_bg_changed(v);
	return 0;
}

/* A short press of the power key: the screen goes off or back on for the foreground VP,
 * which reads it in its backlight's bl_power (FB_BLANK_POWERDOWN or FB_BLANK_UNBLANK). A
 * background VP learns nothing of it. */
static void power_system_key(void *global, enum devns_system_key key)
{
	struct power_dev *dev = global;
	bool off;

	if (key != DEVNS_KEY_POWER)
		return;
	devns_lock(dev->core);
	off = dev->screen_off = !dev->screen_off;
	if (dev->fg) {
		dev->fg->bl_power = off ? FB_BLANK_POWERDOWN : FB_BLANK_UNBLANK;
		power_apply_light(dev, dev->fg);
	} else {
		devns_output_brightness(dev->core, off ? 0 : POWER_MAX_LEVEL, POWER_MAX_LEVEL);
	}
	devns_unlock(dev->core);
	devns_emit_event(dev->core, "power",
			 json_pack("{s:s, s:b}", "event", "screen", "on", !off));
	/* Others show it their way (the VT's blank). */
	devns_system_key(dev->core, off ? DEVNS_SCREEN_OFF : DEVNS_SCREEN_ON);
}

static void power_wake(void *global, void *state, unsigned ms)
{
	(void)global;
	power_bg_wake(state, ms);
}

static void power_pump(void *global)
{
	struct power_dev *dev = global;

	for (struct power_vp *v = dev->vps; v; v = v->next)
		if (v->tree)
			fusetree_serve(v->tree);
}

/* Commands: the root's own wake locks, and a wake of a VP (what an incoming call does). */

static const char *arg(json_t *args, size_t i)
{
	return json_string_value(json_array_get(args, i));
}

static int root_lock(void *global, json_t *args, json_t *reply, struct error *err, bool take)
{
	struct power_dev *dev = global;
	const char *name = arg(args, 0), *timeout = arg(args, 1);
	char line[POWER_LOCK_NAME_MAX + 32];
	int ret;

	if (!name)
		return error_set(err, EINVAL, "a lock's name is needed");
	snprintf(line, sizeof(line), "%s%s%s", name, timeout ? " " : "", timeout ? timeout : "");
	devns_lock(dev->core);
	if (take)
		ret = power_locks_take(&dev->root, line, strlen(line), monotonic_ns());
	else
		ret = power_locks_release(&dev->root, line, strlen(line), monotonic_ns());
	if (ret == 0) {
		power_locks_changed(dev, NULL, take);
		power_arm_expiry(dev);
	}
	devns_unlock(dev->core);
	if (ret < 0)
		return error_set(err, -ret, "power: %s '%s'", take ? "lock" : "unlock", line);
	json_object_set_new(reply, "text", json_pack("[s]", take ? "locked" : "unlocked"));
	return 0;
}

static int power_lock_verb(void *global, json_t *args, json_t *reply, struct error *err)
{
	return root_lock(global, args, reply, err, true);
}

static int power_unlock_verb(void *global, json_t *args, json_t *reply, struct error *err)
{
	return root_lock(global, args, reply, err, false);
}

static int power_wake_verb(void *global, json_t *args, json_t *reply, struct error *err)
{
	struct power_dev *dev = global;
	const char *vp = arg(args, 0), *ms = arg(args, 1);
	unsigned long n = ms ? strtoul(ms, NULL, 10) : 10000;

	if (!vp)
		return error_set(err, EINVAL, "a VP's name is needed");
	if (n == 0 || n > 3600000)
		return error_set(err, EINVAL, "wake: 1 to 3600000 ms");
	if (devns_vp_wake(dev->core, vp, (unsigned)n) < 0)
		return error_set(err, ENOENT, "VP %s is not running", vp);
	json_object_set_new(reply, "text", json_pack("[s]", "woken"));
	return 0;
}

static const struct vdev_verb power_verbs[] = {
	{"lock", "NAME [TIMEOUT_NS]", "take a wake lock of the root's", power_lock_verb},
	{"unlock", "NAME", "release a wake lock of the root's", power_unlock_verb},
	{"wake", "VP [MS]", "let a background VP run for MS ms (10000), as a call does",
	 power_wake_verb},
	{NULL, NULL, NULL, NULL},
};

const struct vdev_ops vdev_power = {
	.name = "power",
	.init = power_init,
	.fini = power_fini,
	.prepare = power_prepare,
	.teardown = power_teardown,
	.activate = power_activate,
	.deactivate = power_deactivate,
	.switched = power_switched,
	.stats = power_stats,
	.sysfs = power_sysfs,
	.pump = power_pump,
	.options = power_options,
	.check_option = power_check_option,
	.initial_access = DEV_SHARED,
	.settings = power_settings,
	.check_setting = power_check_setting,
	.configure = power_configure,
	.verbs = power_verbs,
	.wake = power_wake,
	.system_key = power_system_key,
};
