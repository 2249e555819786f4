/* The input device and its router: see input.h. */
#include "devices/input.h"
#include "common/log.h"
#include "common/panel.h"
#include "devices/evdev.h"
#include "devices/input_fs.h"
#include "devices/input_host.h"
#include "devices/input_router.h"
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

enum { TOUCH = INPUT_ROUTER_TOUCH, KEYS = INPUT_ROUTER_KEYS, NDEVS = INPUT_ROUTER_NDEVS };

#define TOUCH_QUEUE 512 /* evdev: 8 packets of up to ~50 events (10 slots) */
#define KEYS_QUEUE  64
#define MAX_OPENS   64 /* per VP, both nodes */

struct input_vp {
	struct input *in;
	char name[NAME_MAX_LEN + 1];
	struct evdev devs[NDEVS];
	struct input_router_vp route;
	struct input_fs *fs;
	struct input_vp *next;
};

struct input {
	struct devns *core;
	struct input_router *router; /* under the device lock */
	struct input_vp *vps;
	/* System switches asked for from any thread, done on the loop. */
	int wake[2];
	struct loop_watch woken;
	struct input_host *hosts[INPUT_MAX_HOSTS];
	unsigned nhosts;
	bool have_fuse; /* without FUSE (no module) VPs get no /dev/input, and say so */
};

/* What the router asked for, a byte in the pipe: a switch's direction (1, -1) or these. */
enum { WOKEN_POWER = 0, WOKEN_ACCEPT = 2 };

static void on_woken(struct loop_watch *w, uint32_t events)
{
	struct input *in = container_of(w, struct input, woken);
	signed char dir[16];
	ssize_t n;

	(void)events;
	while ((n = read(w->fd, dir, sizeof(dir))) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (dir[i] == WOKEN_POWER)
				devns_system_key(in->core, DEVNS_KEY_POWER);
			else if (dir[i] == WOKEN_ACCEPT)
				devns_system_key(in->core, DEVNS_KEY_ACCEPT);
			else
				devns_request_switch(in->core, dir[i]);
}

#define DEFAULT_SWITCH_KEYS "ctrl+alt+right,ctrl+alt+left"
#define DEFAULT_ACCEPT_KEY  "phone"

static const struct vdev_option input_options[] = {
	{"input", "DEVICE",
	 "a host evdev device (grabbed) or a FIFO of input_event\n"
	 "records, routed to the foreground VP; repeatable\n"
	 "(default: none)"},
	{"switch-keys", "NEXT,PREV",
	 "the system switch chords, never seen by a VP\n"
	 "(default " DEFAULT_SWITCH_KEYS ")"},
	{"accept-key", "KEY",
	 "the key that answers a ringing call, never seen\n"
	 "by a VP; none: no such key (default " DEFAULT_ACCEPT_KEY ")"},
	{NULL, NULL, NULL},
};

static int input_check_option(const char *name, const char *value, struct error *err)
{
	struct key_chord next, prev;

	if (strcmp(name, "switch-keys") == 0 &&
	    input_router_parse_switch_keys(value, &next, &prev) < 0)
		return error_set(err, 0,
				 "--switch-keys wants two key chords, NEXT,PREV, like "
				 "ctrl+alt+right,ctrl+alt+left; not '%s'",
				 value);
	if (strcmp(name, "accept-key") == 0 && strcmp(value, "none") != 0 &&
	    (!keymap_from_name(value) || keymap_modifier(keymap_from_name(value))))
		return error_set(err, 0,
				 "--accept-key wants a key that is no modifier, like phone, or "
				 "none; not '%s'",
				 value);
	return 0;
}

/* The router's switch chord, under the device lock and maybe on a sink's thread: the switch
 * itself runs on the loop. */
static void request_switch(void *ctx, int direction)
{
	struct input *in = ctx;
	signed char dir = (signed char)direction;

	if (write(in->wake[1], &dir, 1) < 0)
		log_warn_errno(errno, "input: system switch");
}

/* The router's system key, as a switch is: done on the loop. */
static void system_key(void *ctx, int key)
{
	struct input *in = ctx;
	signed char code = key == INPUT_KEY_ACCEPT ? WOKEN_ACCEPT : WOKEN_POWER;

	if (write(in->wake[1], &code, 1) < 0)
		log_warn_errno(errno, "input: system key");
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
	struct input_router_config route = {.request_switch = request_switch,
					    .system_key = system_key};
	const char *accept[INPUT_MAX_HOSTS] = {DEFAULT_ACCEPT_KEY};
	unsigned naccept;
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
	in->wake[0] = in->wake[1] = -1;
	devns_panel_size(core, &width, &height);
	route.width = (int)width;
	route.height = panel_vp_height((int)height); /* the VP's screen, below the bar */
	/* Checked by input_check_option. */
	input_router_parse_switch_keys(keys[nkeys - 1], &route.next, &route.prev);
	naccept = devns_option_values(core, "accept-key", accept, INPUT_MAX_HOSTS);
	naccept = naccept > INPUT_MAX_HOSTS ? INPUT_MAX_HOSTS : naccept ? naccept : 1;
	route.accept_key = keymap_from_name(accept[naccept - 1]); /* "none": 0 */
	route.ctx = in;
	if ((ret = input_router_create(&in->router, &route, err)) < 0)
		goto fail;
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
	input_router_destroy(in->router);
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
	input_router_destroy(in->router);
	free(in);
}

static void set_up_touchscreen(struct evdev *dev, const struct input *in, const char *vp)
{
	int width, height;

	input_size(in, &width, &height);
	evdev_init_touchscreen(dev, TOUCH_QUEUE, width, height);
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
	ivp->route.devs[TOUCH] = &ivp->devs[TOUCH];
	ivp->route.devs[KEYS] = &ivp->devs[KEYS];
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
	input_router_add(in->router, &ivp->route);
	*state = ivp;
	return 0;
}

static void input_teardown(void *global, void *state)
{
	struct input *in = global;
	struct input_vp *ivp = state;

	input_router_remove(in->router, &ivp->route);
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
	struct input_vp *ivp = state;

	input_router_activate(in->router, &ivp->route);
}

static void input_deactivate(void *global, void *state)
{
	struct input *in = global;
	struct input_vp *ivp = state;

	input_router_deactivate(in->router, &ivp->route);
}

/* The sources' ways in: each under the lock, so no switch falls inside a packet. */
void input_route(struct input *in, const struct input_event *events, unsigned count)
{
	devns_lock(in->core);
	input_router_route(in->router, events, count);
	devns_unlock(in->core);
}

void input_pointer(struct input *in, int x, int y, bool down)
{
	devns_lock(in->core);
	input_router_pointer(in->router, x, y, down);
	devns_unlock(in->core);
}

void input_key(struct input *in, unsigned code, int value)
{
	devns_lock(in->core);
	input_router_key(in->router, code, value);
	devns_unlock(in->core);
}

void input_key_shift(struct input *in, unsigned code, int value, int shift, bool tap)
{
	devns_lock(in->core);
	input_router_key_shift(in->router, code, value, shift, tap);
	devns_unlock(in->core);
}

void input_size(const struct input *in, int *width, int *height)
{
	input_router_size(in->router, width, height);
}

void input_get_stats(struct input *in, struct input_stats *out)
{
	devns_lock(in->core);
	input_router_stats(in->router, out);
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
	json_object_set_new(stats, "system_keys", json_integer((json_int_t)is.system_keys));
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
