/* What a VP can do to its evdev devices (src/devices/evdev.c), as input_fs.c and input.c
 * pass it on: write arbitrary bytes (the 64-bit and the 32-bit ABI), read with any buffer
 * size, EVIOCGMTSLOTS with any code and length, the other EVIOC ioctls with any command
 * and argument, grab, revoke, open and close; and between them the events of the host's
 * input, which a VP does not choose. The input is a script of such steps. The devices are
 * set up as input.c sets up a VP's touchscreen and keys. */
#include "devices/evdev.h"
#include "common/keymap.h"

#include "script.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLIENTS 4

static void set_up(struct evdev *touch, struct evdev *keys)
{
	const unsigned *codes;
	unsigned n = keymap_keys(&codes);

	evdev_init_touchscreen(touch, 64, 720, 1252);

	evdev_init(keys, 64);
	for (unsigned i = 0; i < n; i++)
		evdev_enable(keys, EV_KEY, codes[i]);
	evdev_enable(keys, EV_SW, SW_LID);
	evdev_enable(keys, EV_LED, LED_NUML);
	evdev_enable(keys, EV_LED, LED_CAPSL);
	evdev_enable(keys, EV_SND, SND_BELL);
	evdev_enable(keys, EV_REP, REP_DELAY);
}

/* A host event: only what the device has (input.c never sends others). */
static void host_event(struct evdev *dev, const struct evdev_time *t, struct script *s)
{
	unsigned type = take(s, 1) % EV_CNT, code = take(s, 2) % 0x300;
	int value = (int)take(s, 4);

	if (type == EV_SYN && code == SYN_REPORT)
		evdev_mt_sync_frame(dev, t); /* as input.c ends a frame */
	if (type == EV_SYN || evdev_supports(dev, type, code))
		evdev_event(dev, t, type, code, value);
}

static void do_write(struct evdev_client *c, const struct evdev_time *t, struct script *s)
{
	bool compat = take(s, 1) & 1;
	size_t len = take(s, 1);
	uint8_t *buf;

	if (len > s->left)
		len = s->left;
	/* Exactly the bytes written, so ASan sees a read past them. */
	if (!(buf = malloc(len ? len : 1)))
		abort();
	memcpy(buf, s->p, len);
	s->p += len, s->left -= len;
	ssize_t n = evdev_write(c, buf, len, compat, t);
	size_t rec = compat ? 16 : 24;
	if (n >= 0 && ((size_t)n % rec || (size_t)n > len || len - (size_t)n >= rec))
		abort();
	free(buf);
}

static void do_read(struct evdev_client *c, struct script *s)
{
	bool compat = take(s, 1) & 1;
	size_t len = take(s, 2) % 4096;
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		abort();
	ssize_t n = evdev_read(c, buf, len, compat);
	if (n > (ssize_t)len || (n > 0 && n % (compat ? 16 : 24)))
		abort();
	free(buf);
}

/* EVIOCGMTSLOTS as input.c's get_mt_slots passes it: the count from the ioctl's size. */
static void do_mt_slots(const struct evdev *dev, struct script *s)
{
	unsigned code = take(s, 4), max = take(s, 2);
	int32_t *values = malloc(EVDEV_MT_SLOTS * sizeof(*values));
	unsigned n = ~0u;

	if (!values)
		abort();
	if (evdev_mt_slots(dev, code, values, max < EVDEV_MT_SLOTS ? max : EVDEV_MT_SLOTS, &n) ==
		    0 &&
	    n > max)
		abort();
	free(values);
}

static void do_ioctl(struct evdev_client *c, struct script *s)
{
	uint32_t cmd = take(s, 4);
	bool compat = take(s, 1) & 1;
	size_t in_size = take(s, 1), out_size = take(s, 2) % 1024, want = out_size;

	if (in_size > s->left)
		in_size = s->left;
	uint8_t *in = malloc(in_size ? in_size : 1), *out = malloc(out_size ? out_size : 1);
	if (!in || !out)
		abort();
	memcpy(in, s->p, in_size);
	s->p += in_size, s->left -= in_size;
	evdev_ioctl(c, cmd, in, in_size, out, &out_size, compat);
	if (out_size > want)
		abort();
	free(in);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct evdev devs[2];
	struct evdev_client *clients[CLIENTS] = {NULL};
	struct script s = {data, size};
	struct evdev_time t = {{1, 0}, {2, 0}, {3, 0}};

	set_up(&devs[0], &devs[1]);
	while (s.left) {
		unsigned op = take(&s, 1), which = op >> 4;
		struct evdev *dev = &devs[which & 1];
		struct evdev_client **c = &clients[which % CLIENTS];

		t.mono.tv_nsec = (t.mono.tv_nsec + 1000) % 1000000000;
		if (op % 16 == 0) {
			host_event(dev, &t, &s);
			continue;
		}
		if (op % 16 == 1) {
			do_mt_slots(dev, &s);
			continue;
		}
		/* The rest is a client's: open one if it has none. */
		if (!*c) {
			if (evdev_open(dev, c) < 0)
				abort();
			continue;
		}
		switch (op % 16) {
		case 2:
		case 3:
			do_write(*c, &t, &s);
			break;
		case 4:
			do_read(*c, &s);
			break;
		case 5:
			do_ioctl(*c, &s);
			break;
		case 6:
			evdev_grab(*c, take(&s, 1) & 1);
			break;
		case 7:
			evdev_revoke(*c);
			break;
		case 8:
			evdev_close(*c);
			*c = NULL;
			break;
		case 9:
			evdev_cut((*c)->dev, &t);
			break;
		case 10:
			evdev_release_all((*c)->dev, &t);
			break;
		default:
			if (evdev_readable(*c) && evdev_read(*c, (uint8_t[24]){0}, 24, false) <= 0)
				abort();
			break;
		}
	}
	for (unsigned i = 0; i < CLIENTS; i++)
		if (clients[i])
			evdev_close(clients[i]);
	return 0;
}
