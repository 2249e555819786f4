/* The input device and its router: see input.h. */
#include "devices/input.h"
#include "common/log.h"
#include "common/panel.h"
#include "devices/evdev.h"
#include "devices/input_fs.h"
#include "devices/input_host.h"
#include "devns/devns.h"
#include "devices/sysfs_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define INPUT_MAX_HOSTS 8 /* --input devices */

enum { TOUCH, KEYS, NDEVS };

#define TOUCH_QUEUE	512 /* evdev: 8 packets of up to ~50 events (10 slots) */
#define KEYS_QUEUE	64
#define MAX_OPENS	64    /* per VP, both nodes */
#define TRACKING_ID_MAX 65535 /* the kernel's TRKID_MAX */

struct input_vp {
	struct input *in;
	char name[NAME_MAX_LEN + 1];
	struct evdev devs[NDEVS];
	struct input_fs *fs;
	struct input_vp *next;
};

struct input {
	struct devns *core;
	int width, height;
	struct input_vp *vps, *active;
	/* Who saw each key and contact begin: only that VP hears the rest of it, and only
	 * while in the foreground. */
	struct input_vp *key_owner[KEY_CNT];
	struct input_vp *slot_owner[EVDEV_MT_SLOTS];
	bool key_down[KEY_CNT]; /* at the sources */
	int slot;		/* the slot of the packet's MT events */
	struct key_chord next, prev;
	/* The pointer of the VNC sink, as a touch on slot 0. */
	bool pointer_down;
	int tracking_id;
	/* System switches asked for from any thread, done on the loop. */
	int wake[2];
	struct loop_watch woken;
	struct input_host *hosts[INPUT_MAX_HOSTS];
	unsigned nhosts;
	struct input_stats stats;
	bool have_fuse; /* without FUSE (no module) VPs get no /dev/input, and say so */
};

/* The owner of what began in no VP's hands or outside the foreground: nobody hears it.
 * Only its address is used (a sentinel, never written). */
static struct input_vp nobody;

static void on_woken(struct loop_watch *w, uint32_t events)
{
	struct input *in = container_of(w, struct input, woken);
	signed char dir[16];
	ssize_t n;

	(void)events;
	while ((n = read(w->fd, dir, sizeof(dir))) > 0)
		for (ssize_t i = 0; i < n; i++)
			devns_request_switch(in->core, dir[i]);
}

#define DEFAULT_SWITCH_KEYS "ctrl+alt+right,ctrl+alt+left"

static const struct vdev_option input_options[] = {
	{"input", "DEVICE",
	 "a host evdev device (grabbed) or a FIFO of input_event\n"
	 "records, routed to the foreground VP; repeatable\n"
	 "(default: none)"},
	{"switch-keys", "NEXT,PREV",
	 "the system switch chords, never seen by a VP\n"
	 "(default " DEFAULT_SWITCH_KEYS ")"},
	{NULL, NULL, NULL},
};

static int parse_switch_keys(const char *text, struct key_chord *next, struct key_chord *prev)
{
	char first[64];
	const char *comma = strchr(text, ',');

	if (!comma || (size_t)(comma - text) >= sizeof(first))
		return -EINVAL;
	memcpy(first, text, (size_t)(comma - text));
	first[comma - text] = '\0';
	if (keymap_parse_chord(first, next) < 0 || keymap_parse_chord(comma + 1, prev) < 0)
		return -EINVAL;
	return 0;
}

static int input_check_option(const char *name, const char *value, struct error *err)
{
	struct key_chord next, prev;

	if (strcmp(name, "switch-keys") == 0 && parse_switch_keys(value, &next, &prev) < 0)
		return error_set(err, 0,
				 "--switch-keys wants two key chords, NEXT,PREV, like "
				 "ctrl+alt+right,ctrl+alt+left; not '%s'",
				 value);
	return 0;
}

/* The way into the foreground's input this device provides the daemon's users. */
static void provided_size(void *dev, int *width, int *height)
{
	input_size(dev, width, height);
}

static void provided_pointer(void *dev, int x, int y, bool down)
{
	input_pointer(dev, x, y, down);
}

static void provided_key(void *dev, unsigned code, int value)
{
	input_key(dev, code, value);
}

static void provided_key_shift(void *dev, unsigned code, int value, int shift, bool tap)
{
	input_key_shift(dev, code, value, shift, tap);
}

static const struct devns_input_ops input_provided = {
	.size = provided_size,
	.pointer = provided_pointer,
	.key = provided_key,
	.key_shift = provided_key_shift,
};

static int input_init(struct devns *core, void **global, struct error *err)
{
	const char *inputs[INPUT_MAX_HOSTS], *keys[INPUT_MAX_HOSTS] = {DEFAULT_SWITCH_KEYS};
	unsigned ninputs = devns_option_values(core, "input", inputs, INPUT_MAX_HOSTS), nkeys;
	struct input *in;
	unsigned width, height;
	int ret;

	if (ninputs > INPUT_MAX_HOSTS)
		return error_set(err, E2BIG, "at most %d --input devices", INPUT_MAX_HOSTS);
	/* The last --switch-keys counts. */
	nkeys = devns_option_values(core, "switch-keys", keys, INPUT_MAX_HOSTS);
	nkeys = nkeys > INPUT_MAX_HOSTS ? INPUT_MAX_HOSTS : nkeys ? nkeys : 1;
	if (!(in = calloc(1, sizeof(*in))))
		return error_set(err, ENOMEM, "input");
	in->core = core;
	devns_panel_size(core, &width, &height);
	in->width = (int)width;
	in->height = panel_vp_height((int)height); /* the VP's screen, below the bar */
	parse_switch_keys(keys[nkeys - 1], &in->next, &in->prev); /* input_check_option's */
	in->wake[0] = in->wake[1] = -1;
	if (pipe2(in->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = error_set(err, errno, "input: pipe");
		goto fail;
	}
	in->woken = (struct loop_watch){.fd = in->wake[0], .handle = on_woken};
	if ((ret = devns_watch(core, &in->woken, EPOLLIN)) < 0) {
		error_set(err, ret, "input: watch its pipe");
		goto fail;
	}
	*global = in;
	devns_provide_input(core, &input_provided, in);
	ret = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	in->have_fuse = ret >= 0;
	if (ret >= 0)
		close(ret);
	else
		log_warn_errno(errno, "input: /dev/fuse (is the fuse module loaded?): VPs get no "
				      "/dev/input");
	for (unsigned i = 0; i < ninputs; i++) {
		if ((ret = input_host_open(&in->hosts[in->nhosts], core, inputs[i], in, err)) < 0)
			goto fail_watched;
		in->nhosts++;
	}
	return 0;
fail_watched:
	*global = NULL;
	for (unsigned i = 0; i < in->nhosts; i++)
		input_host_close(in->hosts[i]);
	devns_unwatch(core, &in->woken);
fail:
	if (in->wake[0] >= 0) {
		close(in->wake[0]);
		close(in->wake[1]);
	}
	free(in);
	return ret;
}

static void input_fini(void *global)
{
	struct input *in = global;

	for (unsigned i = 0; i < in->nhosts; i++)
		input_host_close(in->hosts[i]);
	devns_unwatch(in->core, &in->woken);
	close(in->wake[0]);
	close(in->wake[1]);
	free(in);
}

static void set_up_touchscreen(struct evdev *dev, const struct input *in, const char *vp)
{
	evdev_init_touchscreen(dev, TOUCH_QUEUE, in->width, in->height);
	snprintf(dev->name, sizeof(dev->name), "Cells touchscreen");
	snprintf(dev->phys, sizeof(dev->phys), "cells/%s/input0", vp);
	dev->id = (struct input_id){BUS_VIRTUAL, 0x1d6b, 0x0001, 0x0001};
}

static void set_up_keys(struct evdev *dev, const char *vp)
{
	const unsigned *keys;
	unsigned n = keymap_keys(&keys);

	evdev_init(dev, KEYS_QUEUE);
	snprintf(dev->name, sizeof(dev->name), "Cells keys");
	snprintf(dev->phys, sizeof(dev->phys), "cells/%s/input1", vp);
	dev->id = (struct input_id){BUS_VIRTUAL, 0x1d6b, 0x0002, 0x0001};
	for (unsigned i = 0; i < n; i++)
		evdev_enable(dev, EV_KEY, keys[i]);
	evdev_enable(dev, EV_SW, SW_LID);
	evdev_enable(dev, EV_SW, SW_HEADPHONE_INSERT);
	evdev_enable(dev, EV_SW, SW_MICROPHONE_INSERT);
	evdev_enable(dev, EV_LED, LED_NUML);
	evdev_enable(dev, EV_LED, LED_CAPSL);
	evdev_enable(dev, EV_LED, LED_SCROLLL);
	evdev_enable(dev, EV_SND, SND_CLICK);
	evdev_enable(dev, EV_SND, SND_BELL);
	evdev_enable(dev, EV_REP, REP_DELAY);
	dev->rep[REP_DELAY] = 250;
	dev->rep[REP_PERIOD] = 33;
}

static int input_prepare(void *global, const struct vdev_vp *vp, void **state,
			 struct vdev_file *files, unsigned *nfiles, struct error *err)
{
	struct input *in = global;
	struct input_vp *ivp = calloc(1, sizeof(*ivp));
	struct input_fs_config config = {
		.core = in->core,
		.uid = vp->uid,
		.max_opens = MAX_OPENS,
	};
	char mountpoint[256];
	int ret;

	if (!ivp)
		return error_set(err, ENOMEM, "input");
	ivp->in = in;
	snprintf(ivp->name, sizeof(ivp->name), "%s", vp->name);
	set_up_touchscreen(&ivp->devs[TOUCH], in, vp->name);
	set_up_keys(&ivp->devs[KEYS], vp->name);
	if (!in->have_fuse) {
		*nfiles = 0;
		goto done;
	}
	snprintf(mountpoint, sizeof(mountpoint), "%s/%s.input", vp->dir, vp->name);
	config.mountpoint = mountpoint;
	config.devices[0] = &ivp->devs[TOUCH];
	config.devices[1] = &ivp->devs[KEYS];
	if ((ret = input_fs_create(&ivp->fs, &config, err)) < 0) {
		free(ivp);
		return ret;
	}
	files[0] = (struct vdev_file){.dev = input_fs_dev(ivp->fs),
				      .ino = input_fs_ino(0),
				      .flags = VDEV_FILE_DIR | VDEV_FILE_KNOWN_ID};
	snprintf(files[0].vp_path, sizeof(files[0].vp_path), "/dev/input");
	snprintf(files[0].host_path, sizeof(files[0].host_path), "%s", mountpoint);
	for (unsigned i = 1; i <= INPUT_FS_FILES; i++) {
		files[i] = (struct vdev_file){.dev = input_fs_dev(ivp->fs),
					      .ino = input_fs_ino(i),
					      .flags = VDEV_FILE_NO_BIND | VDEV_FILE_KNOWN_ID |
						       VDEV_FILE_TRANSIENT};
		snprintf(files[i].vp_path, sizeof(files[i].vp_path), "/dev/input/event%u", i - 1);
		snprintf(files[i].host_path, sizeof(files[i].host_path), "%s/event%u", mountpoint,
			 i - 1);
	}
	*nfiles = 1 + INPUT_FS_FILES;
done:
	ivp->next = in->vps;
	in->vps = ivp;
	*state = ivp;
	return 0;
}

/* VP leaves the foreground or goes: what it holds is lifted, what it began is nobody's. */
static void let_go(struct input *in, struct input_vp *ivp)
{
	struct evdev_time now;

	evdev_time_now(&now);
	for (unsigned d = 0; d < NDEVS; d++) {
		if (ivp->devs[d].pending) /* cannot happen: packets are routed whole */
			evdev_cut(&ivp->devs[d], &now);
		evdev_release_all(&ivp->devs[d], &now);
	}
	for (unsigned k = 0; k < KEY_CNT; k++)
		if (in->key_owner[k] == ivp)
			in->key_owner[k] = &nobody;
	for (unsigned s = 0; s < EVDEV_MT_SLOTS; s++)
		if (in->slot_owner[s] == ivp)
			in->slot_owner[s] = &nobody;
	if (in->active == ivp)
		in->active = NULL;
}

static void input_teardown(void *global, void *state)
{
	struct input *in = global;
	struct input_vp *ivp = state;

	let_go(in, ivp);
	for (struct input_vp **p = &in->vps; *p; p = &(*p)->next)
		if (*p == ivp) {
			*p = ivp->next;
			break;
		}
	input_fs_destroy(ivp->fs);
	free(ivp);
}

static void input_activate(void *global, void *state)
{
	struct input *in = global;

	/* It starts clean: what began elsewhere stays nobody's. */
	in->active = state;
}

static void input_deactivate(void *global, void *state)
{
	let_go(global, state);
}

static bool is_touch_key(unsigned code)
{
	return code >= BTN_DIGI && code < BTN_WHEEL;
}

static bool is_mt(unsigned code)
{
	return code >= ABS_MT_TOUCH_MAJOR && code <= ABS_MT_TOOL_Y;
}

static unsigned modifiers_down(const struct input *in)
{
	unsigned mods = 0;

	for (unsigned k = KEY_LEFTCTRL; k <= KEY_RIGHTMETA; k++)
		if (in->key_down[k])
			mods |= keymap_modifier(k);
	return mods;
}

static void deliver(struct input *in, struct input_vp *to, unsigned dev, const struct evdev_time *t,
		    const struct input_event *ev)
{
	if (!to || to == &nobody || to != in->active) {
		in->stats.events_dropped++;
		return;
	}
	evdev_event(&to->devs[dev], t, ev->type, ev->code, ev->value);
	in->stats.events_delivered++;
}

static void ask_switch(struct input *in, signed char direction)
{
	in->stats.system_switches++;
	if (write(in->wake[1], &direction, 1) < 0)
		log_warn_errno(errno, "input: system switch");
}

static bool chord_hit(const struct key_chord *chord, unsigned key, unsigned mods)
{
	return chord->mods && key == chord->key && (mods & chord->mods) == chord->mods;
}

static void route_key(struct input *in, const struct evdev_time *t, const struct input_event *ev)
{
	struct input_vp *owner;

	/* A source's BTN_TOUCH and BTN_TOOL_*: the VP's screen makes its own BTN_TOUCH from
	 * its contacts (evdev_mt_sync_frame), and has no tools. */
	if (is_touch_key(ev->code)) {
		in->stats.events_dropped++;
		return;
	}
	if (ev->value == 1) {
		unsigned mods = modifiers_down(in);
		in->key_down[ev->code] = true;
		/* The system switch: the root's alone, never any VP's, and its release and
		 * repeats are nobody's either. */
		if (chord_hit(&in->next, ev->code, mods) || chord_hit(&in->prev, ev->code, mods)) {
			in->key_owner[ev->code] = &nobody;
			ask_switch(in, chord_hit(&in->next, ev->code, mods) ? 1 : -1);
			return;
		}
		in->key_owner[ev->code] = in->active;
		deliver(in, in->active, KEYS, t, ev);
		return;
	}
	owner = in->key_owner[ev->code];
	if (ev->value == 0) {
		in->key_down[ev->code] = false;
		in->key_owner[ev->code] = NULL;
	}
	deliver(in, owner, KEYS, t, ev);
}

static void route_abs(struct input *in, const struct evdev_time *t, const struct input_event *ev)
{
	struct input_vp *owner;

	if (ev->code == ABS_MT_SLOT) {
		if (ev->value >= 0 && ev->value < EVDEV_MT_SLOTS)
			in->slot = ev->value;
		return;
	}
	if (!is_mt(ev->code)) {
		/* ABS_X and ABS_Y are the screen's own, at its oldest contact; it has no
		 * other axis. */
		in->stats.events_dropped++;
		return;
	}
	if (ev->code == ABS_MT_TRACKING_ID && ev->value >= 0)
		in->slot_owner[in->slot] = in->active; /* a new contact */
	owner = in->slot_owner[in->slot];
	if (owner == in->active && owner) /* the device sends the slot only if it changed */
		evdev_event(&owner->devs[TOUCH], t, EV_ABS, ABS_MT_SLOT, in->slot);
	deliver(in, owner, TOUCH, t, ev);
	if (ev->code == ABS_MT_TRACKING_ID && ev->value < 0)
		in->slot_owner[in->slot] = NULL;
}

/* With the lock held. */
static void route_locked(struct input *in, const struct input_event *events, unsigned count)
{
	struct evdev_time now;

	evdev_time_now(&now);
	in->stats.packets++;
	in->slot = 0; /* a source names its slot in every packet with MT events */
	for (unsigned i = 0; i < count; i++) {
		const struct input_event *ev = &events[i];
		switch (ev->type) {
		case EV_KEY:
			if (ev->code < KEY_CNT && ev->value >= 0 && ev->value <= 2)
				route_key(in, &now, ev);
			break;
		case EV_ABS:
			if (ev->code < ABS_CNT)
				route_abs(in, &now, ev);
			break;
		case EV_SW:
			/* A lid or a headphone jack is every VP's news. */
			for (struct input_vp *v = in->vps; v; v = v->next)
				evdev_event(&v->devs[KEYS], &now, ev->type, ev->code, ev->value);
			break;
		case EV_SYN:
			if (ev->code == SYN_REPORT) {
				for (struct input_vp *v = in->vps; v; v = v->next) {
					/* Its contacts changed: so may its pointer. */
					if (v->devs[TOUCH].pending)
						evdev_mt_sync_frame(&v->devs[TOUCH], &now);
					for (unsigned d = 0; d < NDEVS; d++)
						evdev_event(&v->devs[d], &now, EV_SYN, SYN_REPORT,
							    0);
				}
			} else if (ev->code == SYN_DROPPED && in->active) {
				for (unsigned d = 0; d < NDEVS; d++)
					evdev_cut(&in->active->devs[d], &now);
			}
			break;
		default:
			in->stats.events_dropped++;
			break;
		}
	}
}

void input_route(struct input *in, const struct input_event *events, unsigned count)
{
	devns_lock(in->core);
	route_locked(in, events, count);
	devns_unlock(in->core);
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void input_pointer(struct input *in, int x, int y, bool down)
{
	struct input_event ev[6];
	unsigned n = 0;

#define ADD(t, c, v) (ev[n++] = (struct input_event){.type = (t), .code = (c), .value = (v)})
	devns_lock(in->core);
	if (y < 0 && !in->pointer_down) /* on the root's bar: no contact begins there */
		down = false;
	x = clamp(x, 0, in->width - 1);
	y = clamp(y, 0, in->height - 1);
	if (down || in->pointer_down)
		ADD(EV_ABS, ABS_MT_SLOT, 0);
	if (down && !in->pointer_down) {
		in->tracking_id = (in->tracking_id + 1) & TRACKING_ID_MAX;
		ADD(EV_ABS, ABS_MT_TRACKING_ID, in->tracking_id);
	}
	/* The contact alone: the screen adds BTN_TOUCH and ABS_X/ABS_Y at the frame's end. */
	if (down) {
		ADD(EV_ABS, ABS_MT_POSITION_X, x);
		ADD(EV_ABS, ABS_MT_POSITION_Y, y);
	} else if (in->pointer_down) {
		ADD(EV_ABS, ABS_MT_TRACKING_ID, -1);
	}
	if (n) {
		ADD(EV_SYN, SYN_REPORT, 0);
		route_locked(in, ev, n);
	}
	in->pointer_down = down;
	devns_unlock(in->core);
#undef ADD
}

void input_key(struct input *in, unsigned code, int value)
{
	struct input_event ev[2] = {
		{.type = EV_KEY, .code = (uint16_t)code, .value = value},
		{.type = EV_SYN, .code = SYN_REPORT},
	};

	if (code >= KEY_CNT || value < 0 || value > 2)
		return;
	devns_lock(in->core);
	if (value == 1 && in->key_down[code])
		ev[0].value = 2; /* a client's autorepeat: a repeat, not a new press */
	route_locked(in, ev, 2);
	devns_unlock(in->core);
}

void input_key_shift(struct input *in, unsigned code, int value, int shift, bool tap)
{
	static const unsigned shifts[] = {KEY_LEFTSHIFT, KEY_RIGHTSHIFT};
	struct input_event ev[12];
	bool held[2], change;
	unsigned n = 0;

#define ADD(c, v)                                                                                  \
	do {                                                                                       \
		ev[n++] = (struct input_event){.type = EV_KEY, .code = (c), .value = (v)};         \
		ev[n++] = (struct input_event){.type = EV_SYN, .code = SYN_REPORT};                \
	} while (0)
	if (code >= KEY_CNT || value < 0 || value > 1)
		return;
	devns_lock(in->core);
	held[0] = in->key_down[KEY_LEFTSHIFT];
	held[1] = in->key_down[KEY_RIGHTSHIFT];
	change = value == 1 && shift >= 0 && (held[0] || held[1]) != (shift == 1) &&
		 !(keymap_is_letter(code) &&
		   (modifiers_down(in) & (KEYMAP_CTRL | KEYMAP_ALT | KEYMAP_META)));
	if (change && shift == 1)
		ADD(KEY_LEFTSHIFT, 1);
	for (unsigned i = 0; change && shift == 0 && i < 2; i++)
		if (held[i])
			ADD(shifts[i], 0);
	ADD(code, value == 1 && in->key_down[code] ? 2 : value);
	if (tap && value == 1)
		ADD(code, 0);
	if (change && shift == 1)
		ADD(KEY_LEFTSHIFT, 0);
	for (unsigned i = 0; change && shift == 0 && i < 2; i++)
		if (held[i])
			ADD(shifts[i], 1);
	route_locked(in, ev, n);
	devns_unlock(in->core);
#undef ADD
}

void input_size(const struct input *in, int *width, int *height)
{
	*width = in->width;
	*height = in->height;
}

void input_get_stats(struct input *in, struct input_stats *out)
{
	devns_lock(in->core);
	*out = in->stats;
	devns_unlock(in->core);
}

/* On the loop's thread, which alone makes and ends instances: the list is stable. */
static void input_pump(void *global)
{
	struct input *in = global;

	for (struct input_vp *v = in->vps; v; v = v->next)
		input_fs_serve(v->fs);
}

/* EVIOCGRAB's and EVIOCREVOKE's arguments are values, which FUSE would take for pointers:
 * trapped, and made again on the caller's own open file with the value behind a pointer. */
static const struct ioctl_trap input_ioctls[] = {IOCTL_TRAP(EVIOCGRAB), IOCTL_TRAP(EVIOCREVOKE),
						 IOCTL_TRAP_SIZED(EVIOCGMTSLOTS(0))};

/* EVIOCGMTSLOTS(len): a code in, the slots' values out, in one buffer, which FUSE cannot
 * pass (it copies in only what a request writes): answered here, from the VP's device. */
static void get_mt_slots(struct input *in, struct input_vp *ivp, unsigned file,
			 struct vdev_call *call)
{
	size_t size = _IOC_SIZE(call->request);
	int32_t values[EVDEV_MT_SLOTS];
	uint32_t code;
	unsigned n;
	int ret;

	if (size < sizeof(code)) {
		call->error = EINVAL;
		return;
	}
	if (vdev_read(call, call->arg, &code, sizeof(code)) < 0) {
		call->error = EFAULT;
		return;
	}
	devns_lock(in->core);
	ret = evdev_mt_slots(&ivp->devs[file == 1 ? TOUCH : KEYS], code, values,
			     (unsigned)((size - sizeof(code)) / sizeof(values[0])), &n);
	devns_unlock(in->core);
	if (ret < 0)
		call->error = -ret;
	else if (vdev_write(call, call->arg + sizeof(code), values, n * sizeof(values[0])) < 0)
		call->error = EFAULT;
}

static void input_ioctl(void *global, void *state, unsigned file, struct vdev_call *call)
{
	if (file == 0) { /* the directory */
		call->error = ENOTTY;
		return;
	}
	switch (call->request) {
	case EVIOCGRAB:
		call->forward.on = true;
		call->forward.request = CELLS_EVIOCSGRAB;
		call->forward.value = call->arg != 0;
		return;
	case EVIOCREVOKE:
		if (call->arg != 0) { /* as evdev: the argument must be 0 */
			call->error = EINVAL;
			return;
		}
		call->forward.on = true;
		call->forward.request = CELLS_EVIOCREVOKE;
		return;
	}
	get_mt_slots(global, state, file, call);
}

static void input_stats(void *global, json_t *stats)
{
	struct input_stats is;

	input_get_stats(global, &is);
	json_object_set_new(stats, "input_packets", json_integer((json_int_t)is.packets));
	json_object_set_new(stats, "input_events_delivered",
			    json_integer((json_int_t)is.events_delivered));
	json_object_set_new(stats, "input_events_dropped",
			    json_integer((json_int_t)is.events_dropped));
	json_object_set_new(stats, "system_switches", json_integer((json_int_t)is.system_switches));
}

/* Its /sys and udev database: the touchscreen input0/event0, the keys input1/event1. */
static int input_sysfs(void *global, void *state, struct sysfs_tree *tree, struct error *err)
{
	struct input_vp *ivp = state;
	struct timespec now;
	uint64_t usec;
	int ret;

	(void)global;
	clock_gettime(CLOCK_MONOTONIC, &now);
	usec = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
	if ((ret = sysfs_layout_input(tree, &ivp->devs[TOUCH], 0, 0, usec, err)) < 0)
		return ret;
	return sysfs_layout_input(tree, &ivp->devs[KEYS], 1, 1, usec, err);
}

const struct vdev_ops vdev_input = {
	.sysfs = input_sysfs,
	.stats = input_stats,
	.name = "input",
	.initial_access = DEV_SHARED,
	.init = input_init,
	.fini = input_fini,
	.prepare = input_prepare,
	.teardown = input_teardown,
	.activate = input_activate,
	.deactivate = input_deactivate,
	.pump = input_pump,
	.ioctls = input_ioctls,
	.nioctls = sizeof(input_ioctls) / sizeof(input_ioctls[0]),
	.ioctl = input_ioctl,
	.options = input_options,
	.check_option = input_check_option,
};
