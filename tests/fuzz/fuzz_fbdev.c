/* The fbdev ioctl decoder (src/devices/display.c, display_ioctl): what a VP's program
 * passes to a trapped FBIO* call on its /dev/fb0, the request number, the argument and the
 * caller's memory behind it, in either ABI. The device's file is included so its handler
 * runs on a screen made here; the core's services are stubs, the caller's memory a window
 * of the input (a pointer outside it is EFAULT, as vdev_read/vdev_write answer).
 *
 * Input: byte 0 picks the request (or, past the list, the next 4 bytes are one), byte 1
 * the ABI, bytes 2-5 the argument's offset into the window (or the value, for FBIOBLANK);
 * the rest is the window, based at MEMORY_BASE.
 *
 * Checked after each call: the mode is still the one the device serves (only the pan
 * offset may change, within the virtual screen); an error is an errno; a deferred call
 * is queued. */
#include "devices/display.c"

#include "common/cleanup.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEMORY_BASE 0x10000000ull

static uint8_t *memory;
static size_t memory_len;

static bool in_window(uint64_t addr, size_t len)
{
	return addr >= MEMORY_BASE && len <= memory_len && addr - MEMORY_BASE <= memory_len - len;
}

int vdev_read(const struct vdev_call *call, uint64_t addr, void *buf, size_t len)
{
	(void)call;
	if (!in_window(addr, len))
		return -EFAULT;
	memcpy(buf, memory + (addr - MEMORY_BASE), len);
	return 0;
}

int vdev_write(const struct vdev_call *call, uint64_t addr, const void *buf, size_t len)
{
	(void)call;
	if (!in_window(addr, len))
		return -EFAULT;
	memcpy(memory + (addr - MEMORY_BASE), buf, len);
	return 0;
}

void devns_lock(struct devns *core)
{
	(void)core;
}

void devns_unlock(struct devns *core)
{
	(void)core;
}

void devns_reply(struct devns *core, uint64_t listener_serial, uint64_t notify_id, long ret,
		 int error)
{
	(void)core, (void)listener_serial, (void)notify_id, (void)ret, (void)error;
}

void devns_panel_size(const struct devns *core, unsigned *width, unsigned *height)
{
	(void)core;
	*width = DEVNS_SCREEN_WIDTH;
	*height = DEVNS_SCREEN_HEIGHT;
}

int sysfs_layout_fb(struct sysfs_tree *t, unsigned index, const struct fb_var_screeninfo *var,
		    const struct fb_fix_screeninfo *fix, uint64_t usec, struct error *err)
{
	(void)t, (void)index, (void)var, (void)fix, (void)usec, (void)err;
	return 0;
}

void devns_provide_screen(struct devns *core, const struct devns_screen_ops *ops, void *dev)
{
	(void)core, (void)ops, (void)dev;
}

int devns_watch(struct devns *core, struct loop_watch *w, uint32_t events)
{
	(void)core, (void)w, (void)events;
	return 0;
}

void devns_unwatch(struct devns *core, struct loop_watch *w)
{
	(void)core, (void)w;
}

static const uint32_t requests[] = {
	FBIOGET_VSCREENINFO, FBIOPUT_VSCREENINFO, FBIOGET_FSCREENINFO, FBIOGETCMAP,
	FBIOPUTCMAP,	     FBIOPAN_DISPLAY,	  FBIOBLANK,	       FB_WAITFORVSYNC,
};

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct display d = {.vsync = {.fd = -1}};
	struct fb fb = {.fd = -1};
	struct vdev_call call = {.mem_fd = -1, .maps_fd = -1};
	struct fb_var_screeninfo mode;
	unsigned queued;
	size_t head = 6;

	if (size < head)
		return 0;
	call.request = data[0] < ARRAY_SIZE(requests) ? requests[data[0]]
		       : size >= head + 4	      ? get32(data + head)
						      : 0;
	if (data[0] >= ARRAY_SIZE(requests))
		head += 4;
	if (size < head)
		return 0;
	call.compat = data[1] & 1;
	call.arg = call.request == FBIOBLANK ? get32(data + 2) : MEMORY_BASE + get32(data + 2);
	memory_len = size - head;
	memory = malloc(memory_len ? memory_len : 1);
	memcpy(memory, data + head, memory_len);
	default_mode(&fb, DEVNS_SCREEN_WIDTH, DEVNS_SCREEN_HEIGHT);
	mode = fb.var;
	d.shown = data[1] & 2 ? &fb : NULL;

	display_ioctl(&d, &fb, 0, &call);

	queued = d.nwaiters;
	if (call.deferred != (queued == 1))
		abort();
	if (call.error < 0 || call.error > 4095)
		abort();
	/* Only the pan offset of the mode may change, and only within the virtual screen. */
	mode.yoffset = fb.var.yoffset;
	if (memcmp(&mode, &fb.var, sizeof(mode)) != 0 ||
	    fb.var.yoffset > fb.var.yres_virtual - fb.var.yres)
		abort();
	free(d.waiters);
	free(d.spare_waiters);
	free(memory);
	return 0;
}
