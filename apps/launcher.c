/*
 * launcher: the home screen of a VP of the minimal image. Draws the VP's name on its own
 * colour, a clock that changes every second and a bouncing square, through the fbdev API
 * only (FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO, mmap, FBIOPAN_DISPLAY,
 * FBIO_WAITFORVSYNC), so a screenshot shows which VP is on screen and that it is alive.
 * It reads the VP's touchscreen and keys (/dev/input/event0 and event1, evdev) and draws a
 * yellow mark where it was last touched and the last key pressed under the clock, so a
 * screenshot also shows what input reached which VP.
 *
 * Usage: launcher [--fb PATH] [--name NAME] [--frames N]
 *   --fb PATH    framebuffer device (default /dev/fb0)
 *   --name NAME  text to show (default $CELL_NAME, then the hostname)
 *   --frames N   exit after N frames (default: run until SIGTERM or SIGINT)
 *
 * Double buffered when the mode has two pages (yres_virtual >= 2 * yres): each frame is
 * drawn into the hidden page, which is then panned to. A page is redrawn in full when the
 * clock's second changes; in between only the square moves (erased where it was on that
 * page, drawn where it is now), at most 10 frames a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/font.h"

#define FRAME_NS     100000000L /* 10 frames a second at most */
#define NAME_MAX_LEN 63

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int usage(void)
{
	fprintf(stderr, "usage: launcher [--fb PATH] [--name NAME] [--frames N]\n");
	return 2;
}

/* The VP's colour: one of 8 clearly distinct dark colours, on which white text reads,
 * picked by the 32-bit FNV-1a hash of the name (0xRRGGBB). */
static const uint32_t palette[8] = {
	0x1e3a8a, /* blue */
	0x8b1a1a, /* red */
	0x166534, /* green */
	0x6b21a8, /* purple */
	0x9a4a00, /* orange */
	0x0f5f66, /* teal */
	0x831843, /* magenta */
	0x374151, /* slate */
};

static uint32_t name_colour(const char *name)
{
	uint32_t hash = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		hash ^= *p;
		hash *= 16777619u;
	}
	return palette[hash % 8];
}

/* The mode as the launcher draws it: pixel format from the var screeninfo's bitfields. */
struct screen {
	uint8_t *base; /* the mapping, map_len bytes */
	size_t map_len;
	int width, height;
	size_t stride;	   /* pixels per line */
	size_t page_bytes; /* line_length * yres */
	int pages;	   /* 2 when double buffered, else 1 */
	int vsync;	   /* FBIO_WAITFORVSYNC still worth calling */
	struct fb_bitfield red, green, blue, transp;
};

/* What input has reached the VP, as drawn. */
#define MARK_SIZE   24
#define MARK_COLOUR 0xffd400
struct input_seen {
	int fds[2]; /* event0 (touch), event1 (keys); -1 if absent */
	int slot, x[10], y[10], tracking[10];
	int dropping; /* after SYN_DROPPED, until the next SYN_REPORT */
	int mark_x, mark_y, marked;
	int last_key;
	int changed;
};

/* What one page holds, so the next frame drawn into it can erase just the square. */
struct page_state {
	int valid;
	time_t second;
	int sq_x, sq_y, sq_size;
};

static uint32_t channel(uint32_t value8, const struct fb_bitfield *field)
{
	if (field->length == 0)
		return 0;
	return (value8 >> (8 - field->length)) << field->offset;
}

/* 0xRRGGBB in the mode's pixel format; transparency, where the mode has it, opaque. */
static uint32_t pixel(const struct screen *s, uint32_t rgb)
{
	uint32_t p = channel((rgb >> 16) & 0xff, &s->red) | channel((rgb >> 8) & 0xff, &s->green) |
		     channel(rgb & 0xff, &s->blue);

	return p | channel(0xff, &s->transp);
}

static int field_ok(const struct fb_bitfield *field)
{
	return field->length <= 8 && field->offset <= 32 - field->length;
}

static void fill_rect(const struct screen *s, uint32_t *page, int x, int y, int w, int h,
		      uint32_t colour)
{
	if (x < 0) {
		w += x;
		x = 0;
	}
	if (y < 0) {
		h += y;
		y = 0;
	}
	if (w > s->width - x)
		w = s->width - x;
	if (h > s->height - y)
		h = s->height - y;
	if (w <= 0 || h <= 0)
		return;
	for (int row = y; row < y + h; row++) {
		uint32_t *line = page + (size_t)row * s->stride + x;

		for (int i = 0; i < w; i++)
			line[i] = colour;
	}
}

static void draw_text_centred(const struct screen *s, uint32_t *page, int centre_y,
			      const char *text, uint32_t colour, int scale)
{
	/* The ink of a line spans [x, x + text width - scale): centre that. */
	int x = (s->width - font_text_width(text, scale) + scale) / 2;

	font_draw(page, s->stride, s->width, s->height, x, centre_y - FONT_HEIGHT * scale / 2, text,
		  colour, scale);
}

/* The largest scale up to WANTED at which TEXT fits in 90% of the width (at least 1). */
static int fit_scale(const struct screen *s, const char *text, int wanted)
{
	int scale = wanted;

	while (scale > 1 && font_text_width(text, scale) > s->width * 9 / 10)
		scale--;
	return scale < 1 ? 1 : scale;
}

/* Position along a segment of LENGTH pixels, bouncing between its ends, at SPEED pixels a
 * second after MS milliseconds. */
static int bounce(long long ms, int length, int speed)
{
	long long period, pos;

	if (length <= 0)
		return 0;
	period = 2LL * length;
	pos = (ms * speed / 1000) % period;
	return (int)(pos < length ? pos : period - pos);
}

struct scene {
	const char *name;
	uint32_t bg, fg, dim, square, mark;
	int name_scale, clock_scale, label_scale, sq_size;
	const struct input_seen *input;
};

static const char *key_name(int code, char *buf, size_t len)
{
	static const char letters[] = "qwertyuiop\0\0\0\0asdfghjkl\0\0\0\0\0zxcvbnm";

	if (code >= KEY_1 && code <= KEY_9)
		snprintf(buf, len, "%c", '1' + code - KEY_1);
	else if (code == KEY_0)
		snprintf(buf, len, "0");
	else if (code >= KEY_Q && code <= KEY_M && letters[code - KEY_Q])
		snprintf(buf, len, "%c", letters[code - KEY_Q] - 'a' + 'A');
	else if (code == KEY_BACK)
		snprintf(buf, len, "BACK");
	else if (code == KEY_HOMEPAGE)
		snprintf(buf, len, "HOME");
	else if (code == KEY_POWER)
		snprintf(buf, len, "POWER");
	else if (code == KEY_VOLUMEUP || code == KEY_VOLUMEDOWN)
		snprintf(buf, len, "VOL%s", code == KEY_VOLUMEUP ? "+" : "-");
	else
		snprintf(buf, len, "%d", code);
	return buf;
}

static void draw_frame(const struct screen *s, const struct scene *sc, struct page_state *ps,
		       uint32_t *page, const struct timespec *mono, time_t now)
{
	long long ms = (long long)mono->tv_sec * 1000 + mono->tv_nsec / 1000000;
	int third = s->height / 3;
	int band = third - sc->sq_size; /* vertical room of the square in the middle third */
	int sq_x = bounce(ms, s->width - sc->sq_size, s->width / 3 > 0 ? s->width / 3 : 1);
	int sq_y = third + bounce(ms, band, s->height / 10 > 0 ? s->height / 10 : 1);

	if (!ps->valid || ps->second != now) {
		int name_h = FONT_HEIGHT * sc->name_scale, clock_h = FONT_HEIGHT * sc->clock_scale;
		int top = third / 2 - (name_h + 2 * clock_h) / 2; /* name, a gap, the clock */
		char clock[16];
		struct tm tm;

		if (!localtime_r(&now, &tm))
			memset(&tm, 0, sizeof(tm));
		snprintf(clock, sizeof(clock), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
		fill_rect(s, page, 0, 0, s->width, s->height, sc->bg);
		draw_text_centred(s, page, top + name_h / 2, sc->name, sc->fg, sc->name_scale);
		draw_text_centred(s, page, top + name_h + clock_h + clock_h / 2, clock, sc->fg,
				  sc->clock_scale);
		draw_text_centred(s, page, s->height - FONT_HEIGHT * sc->label_scale * 2, "Cells",
				  sc->dim, sc->label_scale);
		if (sc->input && sc->input->last_key) {
			char text[32], name[16];
			snprintf(text, sizeof(text), "key %s",
				 key_name(sc->input->last_key, name, sizeof(name)));
			draw_text_centred(s, page, top + name_h + 3 * clock_h + clock_h / 2, text,
					  sc->fg, sc->clock_scale);
		}
		ps->valid = 1;
		ps->second = now;
	} else {
		fill_rect(s, page, ps->sq_x, ps->sq_y, ps->sq_size, ps->sq_size, sc->bg);
	}
	fill_rect(s, page, sq_x, sq_y, sc->sq_size, sc->sq_size, sc->square);
	/* Over the square, which erases only itself: the mark is redrawn every frame. */
	if (sc->input && sc->input->marked)
		fill_rect(s, page, sc->input->mark_x - MARK_SIZE / 2,
			  sc->input->mark_y - MARK_SIZE / 2, MARK_SIZE, MARK_SIZE, sc->mark);
	ps->sq_x = sq_x;
	ps->sq_y = sq_y;
	ps->sq_size = sc->sq_size;
}

static int xioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, request, arg);
	while (ret < 0 && errno == EINTR && !stop_signal);
	return ret;
}

/* Learns and checks the mode and maps the framebuffer. Returns 0, or -1 after saying why. */
static int open_screen(const char *path, int fd, struct screen *s, struct fb_var_screeninfo *var)
{
	struct fb_fix_screeninfo fix;
	unsigned long long page_bytes, needed;
	struct stat st;

	if (xioctl(fd, FBIOGET_VSCREENINFO, var) < 0) {
		fprintf(stderr, "launcher: %s: FBIOGET_VSCREENINFO: %s\n", path, strerror(errno));
		return -1;
	}
	if (xioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0) {
		fprintf(stderr, "launcher: %s: FBIOGET_FSCREENINFO: %s\n", path, strerror(errno));
		return -1;
	}
	if (var->bits_per_pixel != 32 || var->grayscale || fix.type != FB_TYPE_PACKED_PIXELS ||
	    (fix.visual != FB_VISUAL_TRUECOLOR && fix.visual != FB_VISUAL_DIRECTCOLOR)) {
		fprintf(stderr,
			"launcher: %s: unsupported mode %ux%u, %u bpp (type %u, visual %u): only "
			"32 bpp packed true colour is supported\n",
			path, var->xres, var->yres, var->bits_per_pixel, fix.type, fix.visual);
		return -1;
	}
	if (!field_ok(&var->red) || !field_ok(&var->green) || !field_ok(&var->blue) ||
	    !field_ok(&var->transp) || !var->red.length || !var->green.length ||
	    !var->blue.length) {
		fprintf(stderr,
			"launcher: %s: unsupported pixel layout (red %u/%u green %u/%u "
			"blue %u/%u)\n",
			path, var->red.offset, var->red.length, var->green.offset,
			var->green.length, var->blue.offset, var->blue.length);
		return -1;
	}
	page_bytes = (unsigned long long)fix.line_length * var->yres;
	if (var->xres == 0 || var->yres == 0 || var->xres > 65536 || var->yres > 65536 ||
	    fix.line_length % 4 || fix.line_length / 4 < var->xres || page_bytes > fix.smem_len) {
		fprintf(stderr,
			"launcher: %s: inconsistent mode %ux%u, line_length %u, smem_len %u\n",
			path, var->xres, var->yres, fix.line_length, fix.smem_len);
		return -1;
	}
	s->width = (int)var->xres;
	s->height = (int)var->yres;
	s->stride = fix.line_length / 4;
	s->page_bytes = (size_t)page_bytes;
	s->pages = var->yres_virtual >= 2 * var->yres && 2 * page_bytes <= fix.smem_len ? 2 : 1;
	s->red = var->red;
	s->green = var->green;
	s->blue = var->blue;
	s->transp = var->transp;
	s->vsync = 1;
	needed = page_bytes * (unsigned)s->pages;

	/* A plain file standing for the device (as cellsd's /dev/fb0 is) must really hold the
	 * pages: touching a mapping past its end would be SIGBUS. */
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "launcher: %s: fstat: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size < needed) {
		fprintf(stderr, "launcher: %s: file holds %lld bytes, the mode needs %llu\n", path,
			(long long)st.st_size, needed);
		return -1;
	}
	s->map_len = fix.smem_len;
	s->base = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->base == MAP_FAILED) {
		fprintf(stderr, "launcher: %s: mmap of %zu bytes: %s\n", path, s->map_len,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void open_input(struct input_seen *in)
{
	const char *paths[2] = {"/dev/input/event0", "/dev/input/event1"};

	memset(in, 0, sizeof(*in));
	for (int i = 0; i < 2; i++)
		in->fds[i] = open(paths[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	for (int s = 0; s < 10; s++)
		in->tracking[s] = -1;
}

static void take_event(struct input_seen *in, const struct input_event *ev)
{
	int s = in->slot;

	if (ev->type == EV_SYN && ev->code == SYN_DROPPED) {
		in->dropping = 1;
		return;
	}
	if (ev->type == EV_SYN && ev->code == SYN_REPORT) {
		in->dropping = 0;
		return;
	}
	if (in->dropping)
		return;
	if (ev->type == EV_ABS && ev->code == ABS_MT_SLOT && ev->value >= 0 && ev->value < 10)
		in->slot = ev->value;
	else if (ev->type == EV_ABS && ev->code == ABS_MT_TRACKING_ID)
		in->tracking[s] = ev->value;
	else if (ev->type == EV_ABS && ev->code == ABS_MT_POSITION_X)
		in->x[s] = ev->value;
	else if (ev->type == EV_ABS && ev->code == ABS_MT_POSITION_Y)
		in->y[s] = ev->value;
	else if (ev->type == EV_KEY && ev->value == 1 && ev->code < BTN_MISC)
		in->last_key = ev->code, in->changed = 1;
	if (ev->type == EV_ABS && in->tracking[s] >= 0 &&
	    (in->mark_x != in->x[s] || in->mark_y != in->y[s] || !in->marked)) {
		in->mark_x = in->x[s];
		in->mark_y = in->y[s];
		in->marked = 1;
		in->changed = 1;
	}
}

/* Wait until DEADLINE (CLOCK_MONOTONIC) or input; take what input came. */
static void wait_for(struct input_seen *in, const struct timespec *deadline)
{
	struct pollfd pfd[2];
	struct timespec now, left;
	struct input_event evs[64];

	clock_gettime(CLOCK_MONOTONIC, &now);
	left.tv_sec = deadline->tv_sec - now.tv_sec;
	left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (left.tv_nsec < 0) {
		left.tv_nsec += 1000000000L;
		left.tv_sec--;
	}
	if (left.tv_sec < 0)
		left.tv_sec = left.tv_nsec = 0;
	for (int i = 0; i < 2; i++)
		pfd[i] = (struct pollfd){.fd = in->fds[i], .events = POLLIN};
	if (ppoll(pfd, 2, &left, NULL) <= 0)
		return;
	for (int i = 0; i < 2; i++) {
		ssize_t n;
		if (!(pfd[i].revents & POLLIN))
			continue;
		while ((n = read(in->fds[i], evs, sizeof(evs))) > 0)
			for (size_t e = 0; e < (size_t)n / sizeof(evs[0]); e++)
				take_event(in, &evs[e]);
	}
}

static int parse_count(const char *text, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno || end == text || *end || *out < 1 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *path = "/dev/fb0", *name = NULL;
	char name_buf[NAME_MAX_LEN + 1], host[256];
	long long frames = 0, frame = 0;
	struct fb_var_screeninfo var;
	struct page_state pages[2];
	struct screen s;
	struct scene sc;
	struct sigaction sa;
	struct timespec next;
	struct input_seen input;
	int fd, shown, initial;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--fb") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--frames") && i + 1 < argc) {
			if (parse_count(argv[++i], &frames) < 0)
				return usage();
		} else
			return usage();
	}
	if (!name || !*name)
		name = getenv("CELL_NAME");
	if (!name || !*name) {
		if (gethostname(host, sizeof(host)) == 0 && host[0]) {
			host[sizeof(host) - 1] = '\0';
			name = host;
		} else {
			name = "cell";
		}
	}
	snprintf(name_buf, sizeof(name_buf), "%s", name);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
		fprintf(stderr, "launcher: sigaction: %s\n", strerror(errno));
		return 1;
	}

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "launcher: %s: %s\n", path, strerror(errno));
		return 1;
	}
	memset(&s, 0, sizeof(s));
	if (open_screen(path, fd, &s, &var) < 0)
		return stop_signal ? 0 : 1;

	sc.name = name_buf;
	sc.bg = pixel(&s, name_colour(name_buf));
	sc.fg = pixel(&s, 0xffffff);
	sc.dim = pixel(&s, 0xc8c8c8);
	sc.square = pixel(&s, 0xffffff);
	sc.mark = pixel(&s, MARK_COLOUR);
	open_input(&input);
	sc.input = &input;
	sc.name_scale = fit_scale(&s, name_buf, s.width / 90 > 1 ? s.width / 90 : 1);
	sc.clock_scale = fit_scale(&s, "00:00:00", s.width / 144 > 1 ? s.width / 144 : 1);
	sc.label_scale = s.width / 240 > 1 ? s.width / 240 : 1;
	sc.sq_size = s.width / 15 > 4 ? s.width / 15 : 4;
	if (sc.sq_size > s.height / 3)
		sc.sq_size = s.height / 3 > 1 ? s.height / 3 : 1;
	memset(pages, 0, sizeof(pages));

	/* Single buffered, draw into the page on screen (normally page 0). */
	if (s.pages == 1 || (size_t)var.yoffset + (size_t)s.height > var.yres_virtual)
		var.yoffset = 0;
	if (s.pages == 2 && var.yoffset != 0 && var.yoffset != var.yres)
		var.yoffset = 0;
	shown = initial = var.yoffset ? 1 : 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop_signal && (!frames || frame < frames)) {
		struct timespec mono;
		int target = s.pages == 2 ? !shown : shown;
		uint32_t *page = (uint32_t *)(s.base + (size_t)target * s.page_bytes);

		clock_gettime(CLOCK_MONOTONIC, &mono);
		draw_frame(&s, &sc, &pages[target], page, &mono, time(NULL));
		if (s.pages == 2) {
			var.xoffset = 0;
			var.yoffset = (unsigned)target * var.yres;
			if (xioctl(fd, FBIOPAN_DISPLAY, &var) == 0) {
				shown = target;
			} else if (!stop_signal) {
				fprintf(stderr,
					"launcher: %s: FBIOPAN_DISPLAY: %s; drawing into the page "
					"on screen directly\n",
					path, strerror(errno));
				s.pages = 1;
				shown = initial; /* never panned: still on screen (normally 0) */
				pages[shown].valid = 0;
				continue; /* redraw at once, into the page on screen */
			}
		}
		if (s.vsync) {
			uint32_t crtc = 0;

			if (xioctl(fd, FBIO_WAITFORVSYNC, &crtc) < 0 && !stop_signal) {
				if (errno != ENOTTY && errno != EINVAL)
					fprintf(stderr, "launcher: %s: FBIO_WAITFORVSYNC: %s\n",
						path, strerror(errno));
				s.vsync = 0;
			}
		}
		frame++;
		if (frames && frame >= frames)
			break;

		next.tv_nsec += FRAME_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_gettime(CLOCK_MONOTONIC, &mono);
		if (mono.tv_sec > next.tv_sec + 1) /* fell far behind (stopped, frozen) */
			next = mono;
		input.changed = 0;
		while (!stop_signal && !input.changed) {
			struct timespec now;
			wait_for(&input, &next);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > next.tv_sec ||
			    (now.tv_sec == next.tv_sec && now.tv_nsec >= next.tv_nsec))
				break;
		}
		if (input.changed) { /* show it now, on both pages in turn */
			pages[0].valid = pages[1].valid = 0;
			next = mono;
		}
	}
	for (int i = 0; i < 2; i++)
		if (input.fds[i] >= 0)
			close(input.fds[i]);
	munmap(s.base, s.map_len);
	close(fd);
	return 0;
}
