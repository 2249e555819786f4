/* The evdev device model: see evdev.h. The rules follow the kernel's input core
 * (input_get_disposition, input_handle_abs_event) and evdev driver (evdev_pass_values,
 * evdev_do_ioctl), so a reader cannot tell the difference by the API. */
#include "devices/evdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A 32-bit reader's struct input_event: its time is two 32-bit words. */
struct input_event_compat {
	uint32_t sec, usec;
	uint16_t type, code;
	int32_t value;
};
_Static_assert(sizeof(struct input_event_compat) == 16, "i386 input_event is 16 bytes");
_Static_assert(sizeof(struct input_event) == 24, "x86-64 input_event is 24 bytes");

#define MT_FIRST ABS_MT_TOUCH_MAJOR
#define MT_LAST	 ABS_MT_TOOL_Y

static bool bit(const uint8_t *bits, unsigned n)
{
	return bits[n / 8] & (1u << (n % 8));
}

static void set_bit_to(uint8_t *bits, unsigned n, bool on)
{
	if (on)
		bits[n / 8] |= (uint8_t)(1u << (n % 8));
	else
		bits[n / 8] &= (uint8_t) ~(1u << (n % 8));
}

void evdev_time_now(struct evdev_time *t)
{
	clock_gettime(CLOCK_MONOTONIC, &t->mono);
	clock_gettime(CLOCK_REALTIME, &t->real);
	clock_gettime(CLOCK_BOOTTIME, &t->boot);
}

void evdev_init(struct evdev *dev, unsigned queue_size)
{
	unsigned size = 64;

	memset(dev, 0, sizeof(*dev));
	while (size < queue_size)
		size *= 2;
	dev->queue_size = size;
	dev->id.bustype = BUS_VIRTUAL;
	evdev_enable(dev, EV_SYN, SYN_REPORT);
	for (unsigned s = 0; s < EVDEV_MT_SLOTS; s++)
		dev->mt[s][ABS_MT_TRACKING_ID - MT_FIRST] = -1;
}

/* The capability bits of TYPE, and how many codes it has (the kernel's *_MAX + 1). */
static uint8_t *type_bits(struct evdev *dev, unsigned type, unsigned *count)
{
	switch (type) {
	case 0: /* EVIOCGBIT(0): the event types */
		*count = EV_CNT;
		return dev->evbit;
	case EV_KEY:
		*count = KEY_CNT;
		return dev->keybit;
	case EV_ABS:
		*count = ABS_CNT;
		return dev->absbit;
	case EV_MSC:
		*count = MSC_CNT;
		return dev->mscbit;
	case EV_LED:
		*count = LED_CNT;
		return dev->ledbit;
	case EV_SND:
		*count = SND_CNT;
		return dev->sndbit;
	case EV_SW:
		*count = SW_CNT;
		return dev->swbit;
	case EV_REL:
		*count = REL_CNT;
		return dev->relbit;
	case EV_FF:
		*count = FF_CNT;
		return dev->ffbit;
	default:
		*count = 0;
		return NULL;
	}
}

void evdev_enable(struct evdev *dev, unsigned type, unsigned code)
{
	unsigned count;
	uint8_t *bits;

	if (type >= EV_CNT)
		return;
	set_bit_to(dev->evbit, type, true);
	bits = type_bits(dev, type, &count);
	if (bits && type != 0 && code < count)
		set_bit_to(bits, code, true);
}

void evdev_enable_abs(struct evdev *dev, unsigned code, int min, int max, int resolution)
{
	if (code >= ABS_CNT)
		return;
	evdev_enable(dev, EV_ABS, code);
	dev->abs[code] =
		(struct input_absinfo){.minimum = min, .maximum = max, .resolution = resolution};
}

void evdev_enable_prop(struct evdev *dev, unsigned prop)
{
	if (prop < INPUT_PROP_CNT)
		set_bit_to(dev->propbit, prop, true);
}

/* Each capability and where the kernel sets it, for a driver such as edt-ft5x06.c:
 *   EV_SYN                           input_register_device, for every device
 *   EV_ABS ABS_MT_POSITION_X, _Y     the driver (input_set_abs_params), 0 .. size - 1
 *   EV_ABS ABS_MT_SLOT               input_mt_init_slots: 0 .. num_slots - 1
 *   EV_ABS ABS_MT_TRACKING_ID        input_mt_init_slots: 0 .. TRKID_MAX (0xffff)
 *   EV_KEY BTN_TOUCH                 input_mt_init_slots, for INPUT_MT_DIRECT (or _POINTER)
 *   EV_ABS ABS_X, ABS_Y              input_mt_init_slots: copy_abs of the MT position axes
 *   INPUT_PROP_DIRECT                input_mt_init_slots, for INPUT_MT_DIRECT
 * and what it does not set: BTN_TOOL_FINGER .. BTN_TOOL_QUINTTAP and INPUT_PROP_POINTER
 * (INPUT_MT_POINTER only: a touchpad's), ABS_PRESSURE (copied from ABS_MT_PRESSURE, which
 * this screen lacks), ABS_MT_TOOL_TYPE (a driver's own choice, for pens; without it
 * input_mt_report_slot_state's tool type is filtered out), EV_MSC, EV_REP. */
void evdev_init_touchscreen(struct evdev *dev, unsigned queue_size, int width, int height)
{
	evdev_init(dev, queue_size);
	evdev_enable_abs(dev, ABS_MT_POSITION_X, 0, width - 1, 0);
	evdev_enable_abs(dev, ABS_MT_POSITION_Y, 0, height - 1, 0);
	evdev_enable_abs(dev, ABS_MT_SLOT, 0, EVDEV_MT_SLOTS - 1, 0);
	evdev_enable_abs(dev, ABS_MT_TRACKING_ID, 0, 0xffff, 0);
	evdev_enable(dev, EV_KEY, BTN_TOUCH);
	evdev_enable(dev, EV_ABS, ABS_X);
	dev->abs[ABS_X] = dev->abs[ABS_MT_POSITION_X];
	evdev_enable(dev, EV_ABS, ABS_Y);
	dev->abs[ABS_Y] = dev->abs[ABS_MT_POSITION_Y];
	evdev_enable_prop(dev, INPUT_PROP_DIRECT);
}

bool evdev_supports(const struct evdev *dev, unsigned type, unsigned code)
{
	unsigned count;
	const uint8_t *bits;

	if (type >= EV_CNT || !bit(dev->evbit, type))
		return false;
	if (type == EV_SYN || type == EV_REP)
		return true;
	bits = type_bits((struct evdev *)dev, type, &count);
	return bits && code < count && bit(bits, code);
}

bool evdev_key_down(const struct evdev *dev, unsigned key)
{
	return key < KEY_CNT && bit(dev->key, key);
}

int evdev_open(struct evdev *dev, struct evdev_client **out)
{
	struct evdev_client *c = calloc(1, sizeof(*c));

	if (!c || !(c->buf = calloc(dev->queue_size, sizeof(*c->buf)))) {
		free(c);
		return -ENOMEM;
	}
	c->dev = dev;
	c->clock = CLOCK_REALTIME; /* evdev's default */
	c->next = dev->clients;
	dev->clients = c;
	*out = c;
	return 0;
}

void evdev_close(struct evdev_client *client)
{
	struct evdev *dev = client->dev;

	if (dev->grab == client)
		dev->grab = NULL;
	for (struct evdev_client **p = &dev->clients; *p; p = &(*p)->next)
		if (*p == client) {
			*p = client->next;
			break;
		}
	free(client->buf);
	free(client);
}

static const struct timespec *time_for(const struct evdev_client *c, const struct evdev_time *t)
{
	switch (c->clock) {
	case CLOCK_MONOTONIC:
		return &t->mono;
	case CLOCK_BOOTTIME:
		return &t->boot;
	default:
		return &t->real;
	}
}

static void push(struct evdev_client *c, const struct evdev_time *t, unsigned type, unsigned code,
		 int value)
{
	unsigned mask = c->dev->queue_size - 1;
	const struct timespec *ts = time_for(c, t);
	struct input_event ev = {.type = (uint16_t)type, .code = (uint16_t)code, .value = value};

	if (c->revoked)
		return;
	ev.input_event_sec = ts->tv_sec;
	ev.input_event_usec = ts->tv_nsec / 1000;
	c->buf[c->head] = ev;
	c->head = (c->head + 1) & mask;
	if (c->head == c->tail) {
		/* Full: what was unread is gone; the reader gets SYN_DROPPED and the newest. */
		c->tail = (c->head - 2) & mask;
		c->buf[c->tail] = ev;
		c->buf[c->tail].type = EV_SYN;
		c->buf[c->tail].code = SYN_DROPPED;
		c->buf[c->tail].value = 0;
		c->packet_head = c->tail;
	}
	/* Readable up to the end of a packet; a SYN_DROPPED waits for the next one too. */
	if (type == EV_SYN && code == SYN_REPORT) {
		c->packet_head = c->head;
		if (c->dev->readable)
			c->dev->readable(c, c->dev->ctx);
	}
}

static void pass(struct evdev *dev, const struct evdev_time *t, unsigned type, unsigned code,
		 int value)
{
	if (dev->grab) {
		push(dev->grab, t, type, code, value);
		return;
	}
	for (struct evdev_client *c = dev->clients; c; c = c->next)
		push(c, t, type, code, value);
}

static bool is_mt(unsigned code)
{
	return code >= MT_FIRST && code <= MT_LAST;
}

/* The input core's filter for an axis: false if the event is to be dropped. */
static bool abs_event(struct evdev *dev, const struct evdev_time *t, unsigned code, int value)
{
	int *old;

	if (code == ABS_MT_SLOT) {
		/* Chooses the slot of the events that follow; reported only before one. */
		if (value >= 0 && value < EVDEV_MT_SLOTS)
			dev->mt_slot = value;
		return false;
	}
	/* An MT axis's value is its slot's: its absinfo keeps what it was set up with. */
	old = is_mt(code) ? &dev->mt[dev->mt_slot][code - MT_FIRST] : &dev->abs[code].value;
	if (*old == value)
		return false;
	*old = value;
	if (code == ABS_MT_TRACKING_ID && value >= 0) /* a new contact */
		dev->mt_began[dev->mt_slot] = ++dev->mt_contacts;
	if (is_mt(code)) {
		if (dev->abs[ABS_MT_SLOT].value != dev->mt_slot &&
		    evdev_supports(dev, EV_ABS, ABS_MT_SLOT)) {
			dev->abs[ABS_MT_SLOT].value = dev->mt_slot;
			pass(dev, t, EV_ABS, ABS_MT_SLOT, dev->mt_slot);
			dev->pending++;
		}
	}
	return true;
}

void evdev_event(struct evdev *dev, const struct evdev_time *t, unsigned type, unsigned code,
		 int value)
{
	if (!evdev_supports(dev, type, code))
		return;
	switch (type) {
	case EV_SYN:
		if (code != SYN_REPORT)
			return;
		if (dev->pending == 0) /* an empty packet says nothing */
			return;
		dev->pending = 0;
		break;
	case EV_KEY:
		if (value == 2 ? !bit(dev->key, code) : bit(dev->key, code) == (value != 0))
			return;
		if (value != 2)
			set_bit_to(dev->key, code, value != 0);
		break;
	case EV_ABS:
		if (!abs_event(dev, t, code, value))
			return;
		break;
	case EV_SW:
	case EV_LED:
	case EV_SND: {
		uint8_t *state = type == EV_SW ? dev->sw : type == EV_LED ? dev->led : dev->snd;
		if (bit(state, code) == (value != 0))
			return;
		set_bit_to(state, code, value != 0);
		break;
	}
	case EV_REP:
		if (code < REP_CNT)
			dev->rep[code] = value;
		break;
	default:
		break;
	}
	if (type != EV_SYN)
		dev->pending++;
	pass(dev, t, type, code, value);
}

void evdev_mt_sync_frame(struct evdev *dev, const struct evdev_time *t)
{
	int oldest = -1;

	for (int s = 0; s < EVDEV_MT_SLOTS; s++) {
		if (dev->mt[s][ABS_MT_TRACKING_ID - MT_FIRST] < 0)
			continue;
		if (oldest < 0 || (int32_t)(dev->mt_began[s] - dev->mt_began[oldest]) < 0)
			oldest = s;
	}
	evdev_event(dev, t, EV_KEY, BTN_TOUCH, oldest >= 0);
	if (oldest < 0)
		return;
	evdev_event(dev, t, EV_ABS, ABS_X, dev->mt[oldest][ABS_MT_POSITION_X - MT_FIRST]);
	evdev_event(dev, t, EV_ABS, ABS_Y, dev->mt[oldest][ABS_MT_POSITION_Y - MT_FIRST]);
}

void evdev_cut(struct evdev *dev, const struct evdev_time *t)
{
	dev->pending = 0;
	for (struct evdev_client *c = dev->clients; c; c = c->next)
		push(c, t, EV_SYN, SYN_DROPPED, 0);
}

void evdev_release_all(struct evdev *dev, const struct evdev_time *t)
{
	for (unsigned s = 0; s < EVDEV_MT_SLOTS; s++) {
		if (dev->mt[s][ABS_MT_TRACKING_ID - MT_FIRST] < 0)
			continue;
		evdev_event(dev, t, EV_ABS, ABS_MT_SLOT, (int)s);
		evdev_event(dev, t, EV_ABS, ABS_MT_TRACKING_ID, -1);
	}
	/* A byte at a time: on a switch hardly a key is down, and this runs for every
	 * device of the VP leaving the foreground, inside the switch. */
	for (unsigned b = 0; b < sizeof(dev->key); b++)
		for (unsigned k = b * 8; dev->key[b] && k < b * 8 + 8; k++)
			if (bit(dev->key, k))
				evdev_event(dev, t, EV_KEY, k, 0);
	evdev_event(dev, t, EV_SYN, SYN_REPORT, 0);
}

bool evdev_readable(const struct evdev_client *client)
{
	return client->packet_head != client->tail;
}

ssize_t evdev_read(struct evdev_client *c, void *buf, size_t size, bool compat)
{
	size_t rec = compat ? sizeof(struct input_event_compat) : sizeof(struct input_event);
	unsigned mask = c->dev->queue_size - 1;
	size_t done = 0;

	if (c->revoked)
		return -ENODEV;
	if (size < rec)
		return -EINVAL;
	while (done + rec <= size && c->tail != c->packet_head) {
		const struct input_event *ev = &c->buf[c->tail];
		if (compat) {
			struct input_event_compat e32 = {
				.sec = (uint32_t)ev->input_event_sec,
				.usec = (uint32_t)ev->input_event_usec,
				.type = ev->type,
				.code = ev->code,
				.value = ev->value,
			};
			memcpy((char *)buf + done, &e32, rec);
		} else {
			memcpy((char *)buf + done, ev, rec);
		}
		done += rec;
		c->tail = (c->tail + 1) & mask;
	}
	return (ssize_t)done;
}

ssize_t evdev_write(struct evdev_client *c, const void *buf, size_t size, bool compat,
		    const struct evdev_time *t)
{
	size_t rec = compat ? sizeof(struct input_event_compat) : sizeof(struct input_event);
	size_t done = 0;

	if (c->revoked)
		return -ENODEV;
	if (size < rec)
		return -EINVAL;
	for (; done + rec <= size; done += rec) {
		unsigned type, code;
		int value;
		if (compat) {
			struct input_event_compat e32;
			memcpy(&e32, (const char *)buf + done, rec);
			type = e32.type, code = e32.code, value = e32.value;
		} else {
			struct input_event ev;
			memcpy(&ev, (const char *)buf + done, rec);
			type = ev.type, code = ev.code, value = ev.value;
		}
		/* Only what a reader may set: the LEDs and sounds of the device. A reader
		 * never makes keys or touches, not even for itself. */
		if (type == EV_LED || type == EV_SND || (type == EV_SYN && code == SYN_REPORT))
			evdev_event(c->dev, t, type, code, value);
	}
	return (ssize_t)done;
}

int evdev_mt_slots(const struct evdev *dev, unsigned code, int32_t *values, unsigned max,
		   unsigned *n)
{
	*n = 0;
	if (!evdev_supports(dev, EV_ABS, ABS_MT_SLOT) || !is_mt(code))
		return -EINVAL;
	for (unsigned s = 0; s < EVDEV_MT_SLOTS && s < max; s++)
		values[(*n)++] = dev->mt[s][code - MT_FIRST];
	return 0;
}

int evdev_grab(struct evdev_client *client, bool grab)
{
	struct evdev *dev = client->dev;

	if (client->revoked)
		return -ENODEV;
	if (grab) {
		if (dev->grab)
			return -EBUSY;
		dev->grab = client;
		return 0;
	}
	if (dev->grab != client)
		return -EINVAL;
	dev->grab = NULL;
	return 0;
}

int evdev_revoke(struct evdev_client *client)
{
	if (client->revoked)
		return -ENODEV;
	client->revoked = true;
	if (client->dev->grab == client)
		client->dev->grab = NULL;
	client->head = client->tail = client->packet_head = 0;
	return 0;
}

/* A bitmap as the kernel's bits_to_user copies it: whole longs of the caller's size. */
static long bits_out(const uint8_t *bits, unsigned count, void *out, size_t *out_size, bool compat)
{
	size_t word = compat ? 4 : 8;
	size_t len = (count + word * 8 - 1) / (word * 8) * word;
	size_t have = EVDEV_BITS(count);

	if (len > *out_size)
		len = *out_size;
	memset(out, 0, len);
	memcpy(out, bits, len < have ? len : have);
	*out_size = len;
	return (long)len;
}

/* The state of TYPE was just read: its queued events would tell it twice. Drop them from
 * the client's queue, and packets left empty (evdev does the same, so that a reader that
 * syncs after SYN_DROPPED sees each change once). */
static void drop_queued(struct evdev_client *c, unsigned type)
{
	unsigned mask = c->dev->queue_size - 1, to = c->tail, in_packet = 1;

	c->packet_head = c->tail;
	for (unsigned i = c->tail; i != c->head; i = (i + 1) & mask) {
		struct input_event ev = c->buf[i];
		bool report = ev.type == EV_SYN && ev.code == SYN_REPORT;
		if (ev.type == type || (report && in_packet == 0))
			continue;
		c->buf[to] = ev;
		to = (to + 1) & mask;
		in_packet++;
		if (report) {
			in_packet = 0;
			c->packet_head = to;
		}
	}
	c->head = to;
}

static long state_out(struct evdev_client *c, unsigned type, const uint8_t *bits, unsigned count,
		      void *out, size_t *out_size, bool compat)
{
	long ret = bits_out(bits, count, out, out_size, compat);

	drop_queued(c, type);
	return ret;
}

static long string_out(const char *s, void *out, size_t *out_size)
{
	size_t len = strlen(s) + 1;

	if (!s[0])
		return -ENOENT;
	if (len > *out_size)
		len = *out_size;
	memcpy(out, s, len);
	*out_size = len;
	return (long)len;
}

static long fixed_out(const void *val, size_t len, void *out, size_t *out_size)
{
	if (*out_size < len)
		return -EINVAL; /* cannot happen: the size is the request's own */
	memcpy(out, val, len);
	*out_size = len;
	return 0;
}

static int int_in(const void *in, size_t in_size, int *v)
{
	if (in_size < sizeof(*v))
		return -EINVAL;
	memcpy(v, in, sizeof(*v));
	return 0;
}

static long set_clock(struct evdev_client *c, const void *in, size_t in_size)
{
	struct evdev_time now;
	int id;

	if (int_in(in, in_size, &id) < 0)
		return -EINVAL;
	if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC && id != CLOCK_BOOTTIME)
		return -EINVAL;
	if (c->clock != id) {
		c->clock = id;
		/* What is queued is on the old clock: the reader starts over, as evdev does. */
		if (c->head != c->tail) {
			c->tail = c->packet_head = c->head;
			evdev_time_now(&now);
			push(c, &now, EV_SYN, SYN_DROPPED, 0);
		}
	}
	return 0;
}

long evdev_ioctl(struct evdev_client *c, uint32_t cmd, const void *in, size_t in_size, void *out,
		 size_t *out_size, bool compat)
{
	struct evdev *dev = c->dev;
	size_t want = *out_size;
	unsigned nr = _IOC_NR(cmd), count;
	const uint8_t *bits;
	int version = EV_VERSION, v[2];

	*out_size = 0;
	if (c->revoked)
		return -ENODEV;
	switch (cmd) {
	case EVIOCGVERSION:
		*out_size = want;
		return fixed_out(&version, sizeof(version), out, out_size);
	case EVIOCGID:
		*out_size = want;
		return fixed_out(&dev->id, sizeof(dev->id), out, out_size);
	case EVIOCGREP:
		if (!bit(dev->evbit, EV_REP))
			return -ENOSYS;
		*out_size = want;
		return fixed_out(dev->rep, sizeof(int) * 2, out, out_size);
	case EVIOCSREP:
		if (!bit(dev->evbit, EV_REP))
			return -ENOSYS;
		if (in_size < sizeof(v))
			return -EINVAL;
		memcpy(v, in, sizeof(v));
		dev->rep[REP_DELAY] = v[0];
		dev->rep[REP_PERIOD] = v[1];
		return 0;
	case EVIOCGEFFECTS:
		version = 0; /* no force feedback */
		*out_size = want;
		return fixed_out(&version, sizeof(version), out, out_size);
	case EVIOCSCLOCKID:
		return set_clock(c, in, in_size);
	default:
		break;
	}
	if (_IOC_TYPE(cmd) != 'E')
		return -EINVAL;
	if (_IOC_DIR(cmd) == _IOC_READ) {
		*out_size = want < _IOC_SIZE(cmd) ? want : _IOC_SIZE(cmd);
		if ((nr & ~EV_MAX) == _IOC_NR(EVIOCGBIT(0, 0))) {
			bits = type_bits(dev, nr & EV_MAX, &count);
			if (!bits)
				return -EINVAL;
			return bits_out(bits, count, out, out_size, compat);
		}
		if ((nr & ~ABS_MAX) == _IOC_NR(EVIOCGABS(0))) {
			struct input_absinfo abs = dev->abs[nr & ABS_MAX];
			if (!bit(dev->evbit, EV_ABS))
				return -EINVAL;
			if (*out_size > sizeof(abs))
				*out_size = sizeof(abs);
			memcpy(out, &abs, *out_size);
			return 0;
		}
		if (nr == _IOC_NR(EVIOCGNAME(0)))
			return string_out(dev->name, out, out_size);
		if (nr == _IOC_NR(EVIOCGPHYS(0)))
			return string_out(dev->phys, out, out_size);
		if (nr == _IOC_NR(EVIOCGUNIQ(0)))
			return string_out(dev->uniq, out, out_size);
		if (nr == _IOC_NR(EVIOCGPROP(0)))
			return bits_out(dev->propbit, INPUT_PROP_CNT, out, out_size, compat);
		if (nr == _IOC_NR(EVIOCGKEY(0)))
			return state_out(c, EV_KEY, dev->key, KEY_CNT, out, out_size, compat);
		if (nr == _IOC_NR(EVIOCGLED(0)))
			return state_out(c, EV_LED, dev->led, LED_CNT, out, out_size, compat);
		if (nr == _IOC_NR(EVIOCGSND(0)))
			return state_out(c, EV_SND, dev->snd, SND_CNT, out, out_size, compat);
		if (nr == _IOC_NR(EVIOCGSW(0)))
			return state_out(c, EV_SW, dev->sw, SW_CNT, out, out_size, compat);
		*out_size = 0;
		return -EINVAL;
	}
	if (_IOC_DIR(cmd) == _IOC_WRITE && (nr & ~ABS_MAX) == _IOC_NR(EVIOCSABS(0))) {
		struct input_absinfo abs;
		unsigned code = nr & ABS_MAX;
		if (!bit(dev->evbit, EV_ABS) || !bit(dev->absbit, code) || code == ABS_MT_SLOT)
			return -EINVAL;
		if (in_size < sizeof(abs))
			return -EINVAL;
		memcpy(&abs, in, sizeof(abs));
		dev->abs[code] = abs;
		return 0;
	}
	return -EINVAL;
}
