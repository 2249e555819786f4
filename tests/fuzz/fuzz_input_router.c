/* What the input router (src/devices/input_router.c) is handed by clients it does not
 * trust: the viewer's pointer and keys (cells-viewer runs unprivileged and parses VNC from
 * the network: any coordinates, any key code and value, any shift), packets of any events
 * as a FIFO source writes them, and between them what the daemon does (VPs come and go,
 * foreground switches). The input is a script of such steps, over three VPs whose devices
 * are set up as input.c sets them up.
 *
 * It checks the router's promises: a VP out of the foreground hears only EV_SW (and the
 * releases of its own keys and contacts when it leaves), so it never holds a key or a
 * contact; every switch chord asks for one switch, next or prev, and is counted. */
#include "common/keymap.h"
#include "devices/input_router.h"

#include "script.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WIDTH  720
#define HEIGHT 1252
#define NVPS   3

struct vp {
	struct evdev devs[INPUT_ROUTER_NDEVS];
	struct evdev_client *clients[INPUT_ROUTER_NDEVS];
	struct input_router_vp route;
	bool added;
};

static struct vp vps[NVPS];
static unsigned switches;

static void request_switch(void *ctx, int direction)
{
	(void)ctx;
	if (direction != 1 && direction != -1)
		abort();
	switches++;
}

static void set_up(struct vp *vp)
{
	const unsigned *codes;
	unsigned n = keymap_keys(&codes);
	struct evdev *keys = &vp->devs[INPUT_ROUTER_KEYS];

	memset(vp, 0, sizeof(*vp));
	evdev_init_touchscreen(&vp->devs[INPUT_ROUTER_TOUCH], 512, WIDTH, HEIGHT);
	evdev_init(keys, 64);
	for (unsigned i = 0; i < n; i++)
		evdev_enable(keys, EV_KEY, codes[i]);
	evdev_enable(keys, EV_SW, SW_LID);
	evdev_enable(keys, EV_SW, SW_HEADPHONE_INSERT);
	evdev_enable(keys, EV_LED, LED_CAPSL);
	for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++) {
		vp->route.devs[d] = &vp->devs[d];
		if (evdev_open(&vp->devs[d], &vp->clients[d]) < 0)
			abort();
	}
}

/* Nothing held: what a VP out of the foreground must be. */
static void check_let_go(const struct vp *vp)
{
	for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++) {
		const struct evdev *dev = &vp->devs[d];
		for (unsigned b = 0; b < sizeof(dev->key); b++)
			if (dev->key[b])
				abort();
		for (unsigned s = 0; s < EVDEV_MT_SLOTS; s++)
			if (dev->mt[s][ABS_MT_TRACKING_ID - ABS_MT_TOUCH_MAJOR] >= 0)
				abort();
	}
}

/* Read what the VP's programs would; out of the foreground (and not leaving it now) that
 * is switches and reports only. */
static void drain(struct vp *vp, bool heard)
{
	struct input_event ev[64];
	ssize_t n;

	for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++)
		while ((n = evdev_read(vp->clients[d], ev, sizeof(ev), false)) > 0)
			for (ssize_t i = 0; !heard && i < n / (ssize_t)sizeof(ev[0]); i++)
				if (ev[i].type != EV_SW && ev[i].type != EV_SYN)
					abort();
}

/* A packet of any events, as a FIFO source could write; ended by a SYN_REPORT unless the
 * script says not. */
static void do_route(struct input_router *r, struct script *s)
{
	unsigned n = take(s, 1) % 33;
	struct input_event *packet = calloc(n + 1, sizeof(*packet));

	if (!packet)
		abort();
	for (unsigned i = 0; i < n; i++) {
		/* Mostly the types a source sends, so that the fuzzer reaches their codes. */
		static const uint16_t types[] = {EV_SYN, EV_KEY, EV_ABS, EV_SW, EV_ABS, EV_KEY};
		unsigned t = take(s, 1);
		packet[i].type = t < 0xf0 ? types[t % 6] : (uint16_t)t;
		packet[i].code = (uint16_t)take(s, 2);
		packet[i].value = (int)take(s, 4);
	}
	if (take(s, 1) & 1)
		packet[n++] = (struct input_event){.type = EV_SYN, .code = SYN_REPORT};
	input_router_route(r, packet, n);
	free(packet);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input_router_config config = {
		.width = WIDTH, .height = HEIGHT, .request_switch = request_switch};
	struct script s = {data, size};
	struct input_router *r;
	struct input_stats stats;
	struct error err;
	int active = -1;

	switches = 0;
	if (input_router_parse_switch_keys("ctrl+alt+right,ctrl+alt+left", &config.next,
					   &config.prev) < 0 ||
	    input_router_create(&r, &config, &err) < 0)
		abort();
	for (unsigned i = 0; i < NVPS; i++)
		set_up(&vps[i]);
	while (s.left) {
		unsigned op = take(&s, 1), which = (op >> 4) % NVPS;
		struct vp *vp = &vps[which];
		int leaving = -1;

		switch (op % 8) {
		case 0:
			do_route(r, &s);
			break;
		case 1: {
			int x = (int)take(&s, 4), y = (int)take(&s, 4);
			input_router_pointer(r, x, y, take(&s, 1) & 1);
			break;
		}
		case 2: {
			unsigned code = take(&s, 2);
			input_router_key(r, code, (int)take(&s, 4));
			break;
		}
		case 3: {
			unsigned code = take(&s, 2), value = take(&s, 4), shift = take(&s, 4);
			input_router_key_shift(r, code, (int)value, (int)shift, take(&s, 1) & 1);
			break;
		}
		case 4: /* the daemon's switch to VP: the old foreground leaves first */
			if (!vp->added || active == (int)which)
				break;
			if (active >= 0)
				input_router_deactivate(r, &vps[active].route);
			leaving = active;
			input_router_activate(r, &vp->route);
			active = (int)which;
			break;
		case 5:
			if (active == (int)which) {
				input_router_deactivate(r, &vp->route);
				leaving = active;
				active = -1;
			}
			break;
		case 6:
			if (!vp->added) {
				input_router_add(r, &vp->route);
				vp->added = true;
			} else {
				input_router_remove(r, &vp->route);
				vp->added = false;
				leaving = (int)which;
				if (active == (int)which)
					active = -1;
			}
			break;
		default: /* a VP's program leaves its queue unread a while */
			continue;
		}
		for (int i = 0; i < NVPS; i++) {
			drain(&vps[i], i == active || i == leaving);
			if (i != active)
				check_let_go(&vps[i]);
		}
	}
	input_router_stats(r, &stats);
	if (stats.system_switches != switches)
		abort();
	for (unsigned i = 0; i < NVPS; i++)
		for (unsigned d = 0; d < INPUT_ROUTER_NDEVS; d++)
			evdev_close(vps[i].clients[d]);
	input_router_destroy(r);
	return 0;
}
