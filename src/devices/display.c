/* mux_fb: every VP with display access gets /dev/fb0, a file on the daemon's tmpfs that
 * it opens, mmaps and writes natively (zero copy). Only the fbdev ioctls are trapped and
 * answered here. The scanout reads the foreground VP's visible page only: a switch moves
 * one pointer and repaints, whatever the number of VPs.
 *
 * A tmpfs file cannot be sealed, so a VP may truncate or punch its own buffer: the scanout
 * reads with pread, which can come back short but never faults, and fills the rest black. */
#include "common/font.h"
#include "common/panel.h"
#include "common/log.h"
#include "devns/devns.h"
#include "devices/sysfs_layout.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/vt.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define FB_TMPFS_SLACK (64u * 4096u) /* blocks for faults in flight */
#define BYTES_PER_PIX  4
#define VSYNC_HZ       60

/* linux/fb.h spells it with __u32, which is not a type in every user-space context. */
#define FB_WAITFORVSYNC _IOW('F', 0x20, uint32_t)

/* fb_fix_screeninfo as a 32-bit caller lays it out: unsigned long is 4 bytes there, the
 * alignment the same, so 68 bytes with line_length at 44. */
struct fb_fix_screeninfo32 {
	char id[16];
	uint32_t smem_start, smem_len, type, type_aux, visual;
	uint16_t xpanstep, ypanstep, ywrapstep;
	uint32_t line_length, mmio_start, mmio_len, accel;
	uint16_t capabilities, reserved[2];
};
_Static_assert(sizeof(struct fb_fix_screeninfo32) == 68, "i386 fb_fix_screeninfo is 68 bytes");
_Static_assert(offsetof(struct fb_fix_screeninfo32, line_length) == 44, "i386 layout");

/* fb_cmap as a 32-bit caller lays it out: its four pointers are 4 bytes. */
struct fb_cmap32 {
	uint32_t start, len;
	uint32_t red, green, blue, transp;
};

#define CMAP_LEN 256

struct fb {
	char name[NAME_MAX_LEN + 1];
	unsigned id;
	char dir[256]; /* its own tmpfs, the buffer's size: the file cannot grow past it */
	int fd;
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	int blank;
	/* Red, green, blue: a true-colour device's map is a gamma ramp, stored for the
	 * VP that sets it (as the kernel's drivers keep it for fbcon) and not applied. */
	uint16_t cmap[3][CMAP_LEN];
};

struct vsync_waiter {
	uint64_t listener, id;
};

struct display {
	struct devns *core;
	struct fb *shown;
	/* The foreground VP, for the status bar, even when it has no display of its own. */
	char foreground[NAME_MAX_LEN + 1];
	unsigned foreground_id;
	char notice[96]; /* a device's line for the bar (devns_announce), "" none */
	uint64_t generation;
	/* Told when the picture may have changed (the VNC sink, to compare at once). */
	void (*watcher)(void *arg);
	void *watcher_arg;
	int xres, yres; /* a VP's mode */
	int panel_yres; /* the output's: the status bar above a VP's screen */
	struct loop_watch vsync;
	/* Callers blocked in FBIO_WAITFORVSYNC, each a blocked thread of some VP: bounded
	 * by the VPs' task limits, not here. */
	struct vsync_waiter *waiters;
	unsigned nwaiters, waiters_size;
	/* The list being answered, swapped with the one that fills meanwhile (the loop's
	 * thread alone touches it). */
	struct vsync_waiter *spare_waiters;
	unsigned spare_size;
};

/* Status bar colours by VP id: distinct, and only the root paints them. */
static const uint32_t vp_colours[] = {0x1e88e5, 0x43a047, 0xe53935, 0x8e24aa,
				      0xfb8c00, 0x00897b, 0x6d4c41, 0x3949ab};

/* Called with the device lock held, from whichever thread changed the picture. */
static void picture_changed(struct display *d)
{
	d->generation++;
	if (d->watcher)
		d->watcher(d->watcher_arg);
}

static void arm_vsync(struct display *d, bool on)
{
	struct itimerspec its = {0};

	if (on) {
		its.it_value.tv_nsec = 1000000000L / VSYNC_HZ;
		its.it_interval.tv_nsec = 1000000000L / VSYNC_HZ;
	}
	timerfd_settime(d->vsync.fd, 0, &its, NULL);
}

static void on_vsync(struct loop_watch *w, uint32_t events)
{
	struct display *d = container_of(w, struct display, vsync);
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	/* The waiters are taken out under the lock and answered after it: each answer is a
	 * system call, and a VP may have a thousand threads waiting. */
	devns_lock(d->core);
	struct vsync_waiter *waiters = d->waiters;
	unsigned n = d->nwaiters;
	d->waiters = d->spare_waiters;
	d->spare_waiters = waiters;
	unsigned size = d->waiters_size;
	d->waiters_size = d->spare_size;
	d->spare_size = size;
	d->nwaiters = 0;
	arm_vsync(d, false);
	devns_unlock(d->core);
	for (unsigned i = 0; i < n; i++)
		devns_reply(d->core, waiters[i].listener, waiters[i].id, 0, 0);
}

#define STATUS_BAR_HEIGHT PANEL_BAR_HEIGHT /* the root's indicator of the foreground VP */

/* The screen this device provides the daemon's sinks (defined below). */
static void display_size(void *dev, int *width, int *height);
static uint64_t display_compose(void *dev, uint32_t *out);
static void display_watch(void *dev, void (*changed)(void *arg), void *arg);
static const struct devns_screen_ops display_screen = {
	.size = display_size,
	.compose = display_compose,
	.watch = display_watch,
};

static int display_init(struct devns *core, void **global, struct error *err)
{
	struct display *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return error_set(err, ENOMEM, "display");
	d->core = core;
	unsigned width, height;
	devns_panel_size(core, &width, &height);
	d->xres = (int)width;
	d->panel_yres = (int)height;
	d->yres = panel_vp_height(d->panel_yres);
	d->vsync.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->vsync.handle = on_vsync;
	if (d->vsync.fd < 0) {
		free(d);
		return error_set(err, errno, "display: timerfd");
	}
	if ((ret = devns_watch(core, &d->vsync, EPOLLIN)) < 0) {
		close(d->vsync.fd);
		free(d);
		return error_set(err, ret, "display: watch the vsync timer");
	}
	*global = d;
	devns_provide_screen(core, &display_screen, d);
	return 0;
}

static void display_fini(void *global)
{
	struct display *d = global;

	devns_unwatch(d->core, &d->vsync);
	close(d->vsync.fd);
	free(d->waiters);
	free(d->spare_waiters);
	free(d);
}

static void default_mode(struct fb *fb, int xres, int yres)
{
	struct fb_var_screeninfo *v = &fb->var;
	struct fb_fix_screeninfo *f = &fb->fix;

	memset(v, 0, sizeof(*v));
	v->xres = v->xres_virtual = (uint32_t)xres;
	v->yres = (uint32_t)yres;
	v->yres_virtual = 2 * (uint32_t)yres; /* two pages: draw one, show the other */
	v->bits_per_pixel = 32;
	v->red = (struct fb_bitfield){16, 8, 0};
	v->green = (struct fb_bitfield){8, 8, 0};
	v->blue = (struct fb_bitfield){0, 8, 0};
	v->activate = FB_ACTIVATE_NOW;
	v->height = v->width = (uint32_t)-1;
	v->pixclock = 1000000000u / ((uint32_t)xres * (uint32_t)yres / 1000u * VSYNC_HZ);
	v->vmode = FB_VMODE_NONINTERLACED;
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "cells mux_fb");
	f->line_length = (uint32_t)xres * BYTES_PER_PIX;
	f->smem_len = f->line_length * v->yres_virtual;
	f->type = FB_TYPE_PACKED_PIXELS;
	f->visual = FB_VISUAL_TRUECOLOR;
	f->ypanstep = 1;
	/* The identity ramp, what a DRM device's gamma starts as. */
	for (unsigned c = 0; c < 3; c++)
		for (unsigned i = 0; i < CMAP_LEN; i++)
			fb->cmap[c][i] = (uint16_t)(i << 8 | i);
}

static void release_dir(struct fb *fb)
{
	if (!fb->dir[0])
		return;
	if (umount2(fb->dir, MNT_DETACH) < 0)
		log_warn_errno(errno, "display: unmount %s", fb->dir);
	rmdir(fb->dir);
}

static int display_prepare(void *global, const struct vdev_vp *vp, void **state,
			   struct vdev_file *files, unsigned *nfiles, struct error *err)
{
	struct display *d = global;
	struct fb *fb = calloc(1, sizeof(*fb));
	struct vdev_file *file = &files[0];
	char opts[96];
	int ret;

	if (!fb)
		return error_set(err, ENOMEM, "display");
	snprintf(fb->name, sizeof(fb->name), "%s", vp->name);
	fb->id = vp->id;
	default_mode(fb, d->xres, d->yres);
	snprintf(file->vp_path, sizeof(file->vp_path), "/dev/fb0");
	snprintf(fb->dir, sizeof(fb->dir), "%s/%s.display", vp->dir, vp->name);
	snprintf(file->host_path, sizeof(file->host_path), "%s/fb0", fb->dir);
	fb->fd = -1;
	/* A tmpfs of the buffer's size: a VP that grows its file and writes past the end
	 * gets ENOSPC, whatever its memory limit. Searchable, for the VP's root to bind. The
	 * slack: a write fault on a hole reserves its block before it finds that another
	 * thread's fault filled it, so with none, threads drawing the last holes at once
	 * could get ENOSPC (SIGBUS) inside the buffer. */
	snprintf(opts, sizeof(opts), "size=%u,nr_inodes=4,mode=0711",
		 fb->fix.smem_len + FB_TMPFS_SLACK);
	if (mkdir(fb->dir, 0711) < 0 && errno != EEXIST) {
		ret = error_set(err, errno, "create %s", fb->dir);
		goto fail;
	}
	if (mount("cells-fb", fb->dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
		ret = error_set(err, errno, "mount a tmpfs on %s", fb->dir);
		rmdir(fb->dir);
		fb->dir[0] = '\0';
		goto fail;
	}
	fb->fd = open(file->host_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fb->fd < 0) {
		ret = error_set(err, errno, "create %s", file->host_path);
		goto fail;
	}
	/* Sparse: a page costs memory once the VP draws on it (the second page of a VP that
	 * never pans, never). The tmpfs is this file's alone and as large, so a write never
	 * meets ENOSPC; holes read as black. */
	if (fchown(fb->fd, vp->uid, vp->uid) < 0 ||
	    ftruncate(fb->fd, (off_t)fb->fix.smem_len) < 0) {
		ret = error_set(err, errno, "set up %s", file->host_path);
		goto fail;
	}
	*nfiles = 1;
	*state = fb;
	return 0;
fail:
	if (fb->fd >= 0)
		close(fb->fd);
	release_dir(fb);
	free(fb);
	return ret;
}

static void display_teardown(void *global, void *state)
{
	struct display *d = global;
	struct fb *fb = state;

	if (d->shown == fb) {
		d->shown = NULL;
		picture_changed(d);
	}
	close(fb->fd);
	release_dir(fb);
	free(fb);
}

static void display_activate(void *global, void *state)
{
	struct display *d = global;

	d->shown = state;
	picture_changed(d);
}

static void display_deactivate(void *global, void *state)
{
	struct display *d = global;

	if (d->shown == state) {
		d->shown = NULL;
		picture_changed(d);
	}
}

/* The one mode this device serves, with the offsets a pan may choose. */
static bool mode_is_servable(const struct fb *fb, const struct fb_var_screeninfo *v)
{
	return v->xres == fb->var.xres && v->yres == fb->var.yres &&
	       v->xres_virtual == fb->var.xres_virtual &&
	       (v->yres_virtual == fb->var.yres || v->yres_virtual == fb->var.yres_virtual) &&
	       (v->bits_per_pixel == 32 || v->bits_per_pixel == 0) && v->xoffset == 0 &&
	       v->yoffset <= fb->var.yres_virtual - fb->var.yres;
}

static void reply(struct vdev_call *call, int error)
{
	call->error = error < 0 ? -error : error;
	call->ret = 0;
}

static void get_var(struct display *d, const struct fb *fb, struct vdev_call *call)
{
	struct fb_var_screeninfo v;

	devns_lock(d->core);
	v = fb->var;
	devns_unlock(d->core);
	reply(call, vdev_write(call, call->arg, &v, sizeof(v)));
}

/* The fixed information never changes after the device is made. */
static void get_fix(const struct fb *fb, struct vdev_call *call)
{
	if (call->compat) {
		struct fb_fix_screeninfo32 f32 = {0};
		memcpy(f32.id, fb->fix.id, sizeof(f32.id));
		f32.smem_len = fb->fix.smem_len;
		f32.type = fb->fix.type;
		f32.visual = fb->fix.visual;
		f32.ypanstep = fb->fix.ypanstep;
		f32.line_length = fb->fix.line_length;
		reply(call, vdev_write(call, call->arg, &f32, sizeof(f32)));
		return;
	}
	reply(call, vdev_write(call, call->arg, &fb->fix, sizeof(fb->fix)));
}

/* FBIOPUT_VSCREENINFO and FBIOPAN_DISPLAY: of a mode, only the pan offsets can change. */
static void put_var(struct display *d, struct fb *fb, struct vdev_call *call)
{
	struct fb_var_screeninfo v, out;
	bool test, servable;
	int ret;

	if ((ret = vdev_read(call, call->arg, &v, sizeof(v))) < 0) {
		reply(call, ret);
		return;
	}
	test = call->request == FBIOPUT_VSCREENINFO &&
	       (v.activate & FB_ACTIVATE_MASK) == FB_ACTIVATE_TEST;
	devns_lock(d->core);
	if (call->request == FBIOPAN_DISPLAY) {
		struct fb_var_screeninfo pan = fb->var;
		pan.xoffset = v.xoffset;
		pan.yoffset = v.yoffset;
		v = pan;
	}
	servable = mode_is_servable(fb, &v);
	out = fb->var;
	out.yoffset = v.yoffset;
	if (servable && test) {
		out.activate = v.activate; /* only asks whether the mode would do */
	} else if (servable) {
		fb->var.yoffset = v.yoffset;
		if (d->shown == fb)
			picture_changed(d);
	}
	devns_unlock(d->core);
	if (!servable)
		reply(call, -EINVAL);
	else if (call->request == FBIOPUT_VSCREENINFO)
		reply(call, vdev_write(call, call->arg, &out, sizeof(out)));
	else
		reply(call, 0);
}

/* The caller's fb_cmap, in either ABI: its range, and where its red, green, blue and
 * transparency arrays are (transp may be 0: none). */
static int read_cmap(struct vdev_call *call, uint32_t *start, uint32_t *len, uint64_t arrays[4])
{
	int ret;

	if (call->compat) {
		struct fb_cmap32 c;
		if ((ret = vdev_read(call, call->arg, &c, sizeof(c))) < 0)
			return ret;
		*start = c.start;
		*len = c.len;
		arrays[0] = c.red, arrays[1] = c.green, arrays[2] = c.blue, arrays[3] = c.transp;
		return 0;
	}
	struct fb_cmap c;
	if ((ret = vdev_read(call, call->arg, &c, sizeof(c))) < 0)
		return ret;
	*start = c.start;
	*len = c.len;
	arrays[0] = (uintptr_t)c.red, arrays[1] = (uintptr_t)c.green;
	arrays[2] = (uintptr_t)c.blue, arrays[3] = (uintptr_t)c.transp;
	return 0;
}

/* FBIOGETCMAP and FBIOPUTCMAP: the range must lie in the map (EINVAL), every array the
 * call uses must be the caller's (EFAULT). A put is read whole before any of it is kept,
 * as the kernel copies it in first; its transparency is read, and has nowhere to go. */
static int cmap_ioctl(struct display *d, struct fb *fb, struct vdev_call *call)
{
	uint16_t ramp[4][CMAP_LEN];
	uint64_t arrays[4];
	uint32_t start, len;
	int ret;

	if ((ret = read_cmap(call, &start, &len, arrays)) < 0)
		return ret;
	if (start >= CMAP_LEN || len > CMAP_LEN - start)
		return -EINVAL;
	if (call->request == FBIOGETCMAP) {
		if (len == 0)
			return -EINVAL;
		devns_lock(d->core);
		for (unsigned c = 0; c < 3; c++)
			memcpy(ramp[c], &fb->cmap[c][start], len * sizeof(uint16_t));
		devns_unlock(d->core);
		for (unsigned c = 0; c < 3; c++)
			if ((ret = vdev_write(call, arrays[c], ramp[c], len * sizeof(uint16_t))) <
			    0)
				return ret;
		return 0;
	}
	for (unsigned c = 0; c < 4; c++)
		if ((c < 3 || arrays[c]) &&
		    (ret = vdev_read(call, arrays[c], ramp[c], len * sizeof(uint16_t))) < 0)
			return ret;
	devns_lock(d->core);
	for (unsigned c = 0; c < 3; c++)
		memcpy(&fb->cmap[c][start], ramp[c], len * sizeof(uint16_t));
	devns_unlock(d->core);
	return 0;
}

static int blank(struct display *d, struct fb *fb, uint64_t level)
{
	if (level > FB_BLANK_POWERDOWN)
		return -EINVAL;
	devns_lock(d->core);
	fb->blank = (int)level;
	if (d->shown == fb)
		picture_changed(d);
	devns_unlock(d->core);
	return 0;
}

/* FBIOGET_CON2FBMAP: the framebuffer a VT is drawn on, as fbcon answers it. Every VT of
 * the VP's is on its one framebuffer, fb0 (fbcon maps every console to the first one
 * registered); numbers past the kernel's consoles are EINVAL. fbi asks it for the VT it
 * runs on, and exits when it fails. The struct is the same in both ABIs. */
static void get_con2fb(struct vdev_call *call)
{
	struct fb_con2fbmap map;
	int ret;

	if ((ret = vdev_read(call, call->arg, &map, sizeof(map))) < 0) {
		reply(call, ret);
		return;
	}
	if (map.console < 1 || map.console > MAX_NR_CONSOLES) {
		reply(call, -EINVAL);
		return;
	}
	map.framebuffer = 0;
	reply(call, vdev_write(call, call->arg, &map, sizeof(map)));
}

/* Answered at the next vsync by on_vsync. The kernel reads the CRTC number first: a bad
 * pointer is EFAULT. */
static void wait_for_vsync(struct display *d, struct vdev_call *call)
{
	uint32_t crtc;
	int ret;

	if ((ret = vdev_read(call, call->arg, &crtc, sizeof(crtc))) < 0) {
		reply(call, ret);
		return;
	}
	devns_lock(d->core);
	if (d->nwaiters == d->waiters_size) {
		unsigned size = d->waiters_size ? 2 * d->waiters_size : 16;
		struct vsync_waiter *more = realloc(d->waiters, size * sizeof(*more));
		if (!more) {
			devns_unlock(d->core);
			reply(call, -ENOMEM);
			return;
		}
		d->waiters = more;
		d->waiters_size = size;
	}
	d->waiters[d->nwaiters++] = (struct vsync_waiter){call->listener_serial, call->notify_id};
	if (d->nwaiters == 1)
		arm_vsync(d, true);
	devns_unlock(d->core);
	call->deferred = true;
}

static void display_ioctl(void *global, void *state, unsigned file, struct vdev_call *call)
{
	struct display *d = global;
	struct fb *fb = state;

	(void)file;
	switch (call->request) {
	case FBIOGET_VSCREENINFO:
		get_var(d, fb, call);
		return;
	case FBIOGET_FSCREENINFO:
		get_fix(fb, call);
		return;
	case FBIOPUT_VSCREENINFO:
	case FBIOPAN_DISPLAY:
		put_var(d, fb, call);
		return;
	case FBIOGETCMAP:
	case FBIOPUTCMAP:
		reply(call, cmap_ioctl(d, fb, call));
		return;
	case FBIOBLANK:
		reply(call, blank(d, fb, call->arg));
		return;
	case FB_WAITFORVSYNC:
		wait_for_vsync(d, call);
		return;
	case FBIOGET_CON2FBMAP:
		get_con2fb(call);
		return;
	}
	reply(call, -ENOTTY);
}

static void display_watch(void *dev, void (*changed)(void *arg), void *arg)
{
	struct display *d = dev;

	devns_lock(d->core);
	d->watcher = changed;
	d->watcher_arg = arg;
	devns_unlock(d->core);
}

static void display_size(void *dev, int *width, int *height)
{
	const struct display *d = dev;

	*width = d->xres;
	*height = d->panel_yres;
}

/* The root's bar names the foreground VP, whether or not it has a display. Called with
 * the lock held. */
static void display_switched(void *global, const struct vdev_vp *to)
{
	struct display *d = global;

	snprintf(d->foreground, sizeof(d->foreground), "%s", to ? to->name : "");
	d->foreground_id = to ? to->id : 0;
	picture_changed(d);
}

/* The root's bar: the foreground VP's colour and name (ID and NAME; "" when there is
 * none), whether or not it has a display, and after them a device's NOTICE (a call
 * ringing in another VP), in yellow. */
static void draw_status_bar(int xres, const char *name, unsigned id, const char *notice,
			    uint32_t *out)
{
	bool any = name[0] != '\0';
	uint32_t colour =
		any ? vp_colours[id % (sizeof(vp_colours) / sizeof(vp_colours[0]))] : 0x202020;
	const char *shown = any ? name : "no VP in the foreground";

	for (int y = 0; y < STATUS_BAR_HEIGHT; y++)
		for (int x = 0; x < xres; x++)
			out[y * xres + x] = colour;
	font_draw(out, (size_t)xres, xres, STATUS_BAR_HEIGHT, 8, (STATUS_BAR_HEIGHT - 8 * 2) / 2,
		  shown, 0xffffff, 2);
	if (notice[0])
		font_draw(out, (size_t)xres, xres, STATUS_BAR_HEIGHT,
			  8 + (int)(strlen(shown) + 2) * 8 * 2, (STATUS_BAR_HEIGHT - 8 * 2) / 2,
			  notice, 0xffff40, 2);
}

/* A device's line for the bar; with the lock held. */
static void display_announce(void *global, const char *device, const char *text)
{
	struct display *d = global;

	(void)device;
	snprintf(d->notice, sizeof(d->notice), "%s", text);
	picture_changed(d);
}

/* What is shown is taken under the lock, the pixels are read after it: a page is 3.6 MB
 * at the default mode, whose pread would hold every VP's trapped calls and input for a
 * millisecond or more, 60 times a second while a VNC client watches. The file is held by
 * a descriptor of its own meanwhile, so a VP that stops cannot take it away. */
static uint64_t display_compose(void *dev, uint32_t *out)
{
	struct display *d = dev;

	size_t page = (size_t)d->xres * (size_t)d->yres * BYTES_PER_PIX;
	uint32_t *screen = out + (size_t)d->xres * STATUS_BAR_HEIGHT; /* below the bar */
	char name[sizeof(d->foreground)], notice[sizeof(d->notice)];
	unsigned id;
	ssize_t got = 0;
	off_t offset = 0;
	uint64_t generation;
	int fd = -1;

	devns_lock(d->core);
	if (d->shown && d->shown->blank == FB_BLANK_UNBLANK) {
		fd = fcntl(d->shown->fd, F_DUPFD_CLOEXEC, 0);
		offset = (off_t)d->shown->var.yoffset * d->shown->fix.line_length;
	}
	memcpy(name, d->foreground, sizeof(name));
	id = d->foreground_id;
	memcpy(notice, d->notice, sizeof(notice));
	generation = d->generation;
	devns_unlock(d->core);
	if (fd >= 0) {
		got = pread(fd, screen, page, offset);
		close(fd);
	}
	if (got < 0)
		got = 0;
	memset((char *)screen + got, 0, page - (size_t)got);
	draw_status_bar(d->xres, name, id, notice, out);
	return generation;
}

static const struct ioctl_trap display_ioctls[] = {
	IOCTL_TRAP(FBIOGET_VSCREENINFO), IOCTL_TRAP(FBIOPUT_VSCREENINFO),
	IOCTL_TRAP(FBIOGET_FSCREENINFO), IOCTL_TRAP(FBIOPAN_DISPLAY),
	IOCTL_TRAP(FBIOBLANK),		 IOCTL_TRAP(FB_WAITFORVSYNC),
	IOCTL_TRAP(FBIOGETCMAP),	 IOCTL_TRAP(FBIOPUTCMAP),
	IOCTL_TRAP(FBIOGET_CON2FBMAP),
};

/* Its /sys: fb0 under a platform parent, as Xorg's fbdev probe wants it. */
static int display_sysfs(void *global, void *state, struct sysfs_tree *tree, struct error *err)
{
	struct fb *fb = state;
	struct timespec now;

	(void)global;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return sysfs_layout_fb(tree, 0, &fb->var, &fb->fix,
			       (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000, err);
}

const struct vdev_ops vdev_display = {
	.sysfs = display_sysfs,
	.switched = display_switched,
	.announce = display_announce,
	.name = "display",
	.initial_access = DEV_SHARED,
	.init = display_init,
	.fini = display_fini,
	.prepare = display_prepare,
	.teardown = display_teardown,
	.activate = display_activate,
	.deactivate = display_deactivate,
	.ioctls = display_ioctls,
	.nioctls = sizeof(display_ioctls) / sizeof(display_ioctls[0]),
	.ioctl = display_ioctl,
};
