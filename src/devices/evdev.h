/* One evdev device as the kernel's evdev driver shows it to its readers: identity,
 * capabilities and state (keys, axes, multitouch slots, LEDs, switches), and per-open
 * clients, each with its own bounded queue. Events pass the input core's filter (a key
 * already down is not pressed again, an unchanged axis is not reported, ABS_MT_SLOT is
 * sent only before an event of another slot, an empty packet is dropped); a client reads
 * whole packets only (up to the last SYN_REPORT); a client that does not read loses its
 * queue to one SYN_DROPPED and the newest event, as evdev does.
 *
 * It knows nothing of FUSE, VPs or routing (input.c does): it is plain memory, so its
 * unit tests drive it directly. Not thread-safe: the caller serialises. */
#ifndef CELLS_DEVICES_EVDEV_H
#define CELLS_DEVICES_EVDEV_H

#include <linux/input.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define EVDEV_MT_SLOTS	 10
#define EVDEV_STRING_MAX 64

#define EVDEV_BITS(n) (((n) + 7) / 8)

/* An event's time on each clock a client may choose (EVIOCSCLOCKID). */
struct evdev_time {
	struct timespec mono, real, boot;
};

void evdev_time_now(struct evdev_time *t);

struct evdev_client;

struct evdev {
	char name[EVDEV_STRING_MAX], phys[EVDEV_STRING_MAX], uniq[EVDEV_STRING_MAX];
	struct input_id id;
	uint8_t propbit[EVDEV_BITS(INPUT_PROP_CNT)];
	uint8_t evbit[EVDEV_BITS(EV_CNT)];
	uint8_t keybit[EVDEV_BITS(KEY_CNT)], absbit[EVDEV_BITS(ABS_CNT)];
	uint8_t mscbit[EVDEV_BITS(MSC_CNT)], ledbit[EVDEV_BITS(LED_CNT)];
	uint8_t sndbit[EVDEV_BITS(SND_CNT)], swbit[EVDEV_BITS(SW_CNT)];
	uint8_t relbit[EVDEV_BITS(REL_CNT)], ffbit[EVDEV_BITS(FF_CNT)];
	/* State, as EVIOCGKEY, EVIOCGLED, EVIOCGSND, EVIOCGSW and EVIOCGABS report it. */
	uint8_t key[EVDEV_BITS(KEY_CNT)], led[EVDEV_BITS(LED_CNT)];
	uint8_t snd[EVDEV_BITS(SND_CNT)], sw[EVDEV_BITS(SW_CNT)];
	struct input_absinfo abs[ABS_CNT];
	int rep[REP_CNT];
	/* Multitouch (type B): the values of every slot, and the slot events go to. */
	int mt[EVDEV_MT_SLOTS][ABS_MT_TOOL_Y - ABS_MT_TOUCH_MAJOR + 1];
	int mt_slot;
	/* When each slot's contact began (a count of contacts), for the pointer emulation's
	 * oldest contact. */
	uint32_t mt_began[EVDEV_MT_SLOTS], mt_contacts;
	unsigned queue_size; /* per client, a power of two */
	unsigned pending;    /* events passed since the last SYN_REPORT: a packet is open */
	struct evdev_client *clients, *grab;
	/* A client has a new packet to read (or SYN_DROPPED). */
	void (*readable)(struct evdev_client *client, void *ctx);
	void *ctx;
};

struct evdev_client {
	struct evdev *dev;
	struct evdev_client *next;
	struct input_event *buf;
	unsigned head, tail, packet_head; /* indices mod dev->queue_size */
	clockid_t clock;
	bool revoked; /* EVIOCREVOKE: nothing more, every call ENODEV */
	void *data;   /* the owner's (input.c: pending reads, poll handle) */
};

/* An empty device: no capability, QUEUE_SIZE events per client (rounded up to a power
 * of two). */
void evdev_init(struct evdev *dev, unsigned queue_size);
/* Capabilities, set before clients open it. */
void evdev_enable(struct evdev *dev, unsigned type, unsigned code);
void evdev_enable_abs(struct evdev *dev, unsigned code, int min, int max, int resolution);
void evdev_enable_prop(struct evdev *dev, unsigned prop);
bool evdev_supports(const struct evdev *dev, unsigned type, unsigned code);

/* A direct multitouch screen of WIDTH x HEIGHT pixels, with the capabilities a kernel
 * driver gives one (edt-ft5x06, goodix: ABS_MT_POSITION_X/Y, then
 * input_mt_init_slots(dev, EVDEV_MT_SLOTS, INPUT_MT_DIRECT)): no BTN_TOOL_*, so that
 * readers (Xorg's evdev, libinput, udev) take it for a touchscreen, not a touchpad. Its
 * BTN_TOUCH, ABS_X and ABS_Y are its own, made by evdev_mt_sync_frame. */
void evdev_init_touchscreen(struct evdev *dev, unsigned queue_size, int width, int height);
/* input_mt_sync_frame of a direct device, before the SYN_REPORT of a frame: BTN_TOUCH 1
 * while a contact is down, and ABS_X/ABS_Y at the oldest contact
 * (input_mt_report_pointer_emulation; a direct device has no finger count). */
void evdev_mt_sync_frame(struct evdev *dev, const struct evdev_time *t);

/* Open and close: -ENOMEM if out of memory. Close drops the client's grab. */
int evdev_open(struct evdev *dev, struct evdev_client **out);
void evdev_close(struct evdev_client *client);

/* An event from a source: filtered, applied to the state, queued for the clients (only
 * the grabbing one if a client grabs). */
void evdev_event(struct evdev *dev, const struct evdev_time *t, unsigned type, unsigned code,
		 int value);
/* A packet was cut (the device lost or gained its source in the middle of one): every
 * client gets SYN_DROPPED, readable with the next packet (after which a reader re-reads
 * the state with the ioctls), and the partial packet is over. */
void evdev_cut(struct evdev *dev, const struct evdev_time *t);
/* Lift every key and finger held down, in one packet: the device loses its source. */
void evdev_release_all(struct evdev *dev, const struct evdev_time *t);
/* Is KEY down? */
bool evdev_key_down(const struct evdev *dev, unsigned key);

/* A whole packet is waiting. */
bool evdev_readable(const struct evdev_client *client);
/* Copy whole events into BUF (SIZE bytes), 24 bytes each, or 16 for a 32-bit (COMPAT)
 * reader. Returns the bytes copied (0: nothing to read), -EINVAL if SIZE holds no event. */
ssize_t evdev_read(struct evdev_client *client, void *buf, size_t size, bool compat);
/* Events written by a reader: EV_LED and EV_SND change the state and reach every reader
 * (as evdev's input_inject_event), others are ignored. Returns the bytes taken (whole
 * events), -EINVAL if SIZE holds none. */
ssize_t evdev_write(struct evdev_client *client, const void *buf, size_t size, bool compat,
		    const struct evdev_time *t);

/* EVIOCGMTSLOTS: the value of the multitouch axis CODE in each slot, at most MAX of them
 * into VALUES; *N is how many. -EINVAL for a device without slots or a code that is not a
 * multitouch axis. */
int evdev_mt_slots(const struct evdev *dev, unsigned code, int32_t *values, unsigned max,
		   unsigned *n);

/* Grab (EVIOCGRAB 1) and release (EVIOCGRAB 0): -EBUSY if grabbed already, -EINVAL if
 * releasing a grab the client does not hold. */
int evdev_grab(struct evdev_client *client, bool grab);

/* EVIOCREVOKE: the client hears nothing more, its grab is released and its queue
 * emptied; from then on its reads, writes, grabs and ioctls are -ENODEV (and a poll is
 * the owner's POLLHUP | POLLERR). -ENODEV if revoked already. */
int evdev_revoke(struct evdev_client *client);

/* An EVIOC ioctl. IN (IN_SIZE bytes) holds what the caller passed for a _IOC_WRITE
 * request; for a _IOC_READ one the answer goes to OUT, at most *OUT_SIZE bytes, and
 * *OUT_SIZE is set to what was written. Returns the ioctl's value or -errno. EVIOCGRAB is
 * not answered here (its argument is a value, not a pointer: see evdev_grab). */
long evdev_ioctl(struct evdev_client *client, uint32_t cmd, const void *in, size_t in_size,
		 void *out, size_t *out_size, bool compat);

#endif
