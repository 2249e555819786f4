/*
 * fbprobe: exercises the fbdev API of a VP's /dev/fb0 for test_display.py.
 *
 * Built static by the tests (x86-64, and i386 where gcc -m32 works) and copied into a VP.
 * Every command prints key=value lines; errors are printed by name (0, EFAULT, ENOTTY...).
 *
 *   info                       the modes (var, fix) as the caller's ABI sees them
 *   fill PAGE RRGGBB           PAGE 0, 1 or both: a solid colour through mmap
 *   pattern PAGE               PAGE 0 or 1: bands of 8 colours (see pattern_pixel)
 *   noise PAGE                 random pixels on PAGE
 *   pan Y                      FBIOPAN_DISPLAY to yoffset Y
 *   put FIELD=VALUE...         FBIOPUT_VSCREENINFO of the current mode with fields changed
 *                              (xres yres xres_virtual yres_virtual bpp xoffset yoffset
 *                              activate)
 *   efault                     GET/PUT/PAN/FSCREENINFO with NULL and 0x10
 *   efault_more                ... with a PROT_NONE page, a read-only page, a pointer whose
 *                              struct runs into an unmapped page, a kernel address; vsync NULL
 *   faulting                   GET/PAN with pointers into memory only the VP could fill: a
 *                              page registered with userfaultfd (the full kind if allowed,
 *                              else user-mode only; uffd_kind says which) and a private
 *                              mapping of /dev/input/event0; then a plain GET
 *   unknown                    ioctls /dev/fb0 does not have
 *   con2fb                     FBIOGET_CON2FBMAP of consoles 1, 63, 0, 64 and with NULL
 *   cmap show                  FBIOGETCMAP of all 256 entries: entries 0, 16, 31, 255
 *   cmap set                   FBIOPUTCMAP of entries 16..31 (r 0x1000+i, g 0x2000+i,
 *                              b 0x3000+i, a transp array)
 *   cmap bad                   GET/PUT with bad ranges and pointers; the map unchanged
 *   blank N                    FBIOBLANK N
 *   vsync N                    N FBIO_WAITFORVSYNC, timed
 *   vsync_loop                 WAITFORVSYNC forever (prints "ready" after the first)
 *   vsync_flood THREADS SECS   threads in WAITFORVSYNC: the most waits one got through
 *   nonfb PATH                 the fb ioctls on another file
 *   fds                        the same file through other descriptors (dup2 over a number,
 *                              /proc/self/fd, O_RDONLY, O_PATH, a fork)
 *   as_user UID                as UID: open fails; what an O_PATH descriptor can do
 *   thread                     ioctls from a second thread, and after the main thread exited
 *   execself                   an ioctl, then exec of this program and another one
 *   bench N                    N FBIOGET_VSCREENINFO: mean microseconds
 *   garbage THREADS SECONDS    threads calling random 'F' ioctls with random arguments
 *   trunc SIZE                 ftruncate /dev/fb0
 *   punch OFFSET LENGTH        fallocate(PUNCH_HOLE | KEEP_SIZE)
 *   chaos SECONDS              truncate, punch, restore, write, mmap in a loop (SIGBUS caught)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"

#define WAITFORVSYNC _IOW('F', 0x20, uint32_t)
#define FB	     "/dev/fb0"
/* An address of the kernel (64-bit), or above a 32-bit task's memory. */
#define KERNEL_ADDR (sizeof(long) == 8 ? (unsigned long)0xffffffff81000000ULL : 0xfffff000UL)

/* The raw system call: the request and argument go as they are (no libc rewriting). */
static int xioctl(int fd, unsigned long req, unsigned long arg)
{
	return syscall(SYS_ioctl, fd, req, arg) < 0 ? errno : 0;
}

static void out(const char *key, int e)
{
	printf("%s=%s\n", key, errname(e));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_fb(int flags)
{
	int fd = open(FB, flags | O_CLOEXEC);

	if (fd < 0) {
		printf("open=%s\n", errname(errno));
		exit(3);
	}
	return fd;
}

static void get_modes(int fd, struct fb_var_screeninfo *v, struct fb_fix_screeninfo *f)
{
	int e;

	if ((e = xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)v)) ||
	    (f && (e = xioctl(fd, FBIOGET_FSCREENINFO, (unsigned long)f)))) {
		printf("get_modes=%s\n", errname(e));
		exit(3);
	}
}

static uint32_t *map_fb(int fd, size_t *len)
{
	struct fb_var_screeninfo v;
	struct fb_fix_screeninfo f;
	void *p;

	get_modes(fd, &v, &f);
	*len = f.smem_len;
	p = mmap(NULL, f.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		printf("mmap=%s\n", errname(errno));
		exit(3);
	}
	return p;
}

static int cmd_info(void)
{
	int fd = open_fb(O_RDWR);
	struct fb_var_screeninfo v;
	/* The fix struct with room after it: how much did the answer write? */
	union {
		struct fb_fix_screeninfo f;
		unsigned char raw[sizeof(struct fb_fix_screeninfo) + 32];
	} fx;
	int e, over = 0;

	memset(&v, 0xaa, sizeof(v));
	memset(&fx, 0xaa, sizeof(fx));
	out("vget", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v));
	e = xioctl(fd, FBIOGET_FSCREENINFO, (unsigned long)&fx.f);
	out("fget", e);
	for (size_t i = sizeof(fx.f); i < sizeof(fx.raw); i++)
		over += fx.raw[i] != 0xaa;
	printf("abi_bits=%zu\n", sizeof(long) * 8);
	printf("xres=%u\nyres=%u\nxres_virtual=%u\nyres_virtual=%u\nxoffset=%u\nyoffset=%u\n",
	       v.xres, v.yres, v.xres_virtual, v.yres_virtual, v.xoffset, v.yoffset);
	printf("bits_per_pixel=%u\ngrayscale=%u\nnonstd=%u\n", v.bits_per_pixel, v.grayscale,
	       v.nonstd);
	printf("red=%u/%u\ngreen=%u/%u\nblue=%u/%u\ntransp=%u/%u\n", v.red.offset, v.red.length,
	       v.green.offset, v.green.length, v.blue.offset, v.blue.length, v.transp.offset,
	       v.transp.length);
	printf("id=%.16s\nsmem_len=%u\nline_length=%u\ntype=%u\nvisual=%u\n", fx.f.id,
	       fx.f.smem_len, fx.f.line_length, fx.f.type, fx.f.visual);
	printf("xpanstep=%u\nypanstep=%u\nywrapstep=%u\nmmio_len=%u\naccel=%u\n", fx.f.xpanstep,
	       fx.f.ypanstep, fx.f.ywrapstep, fx.f.mmio_len, fx.f.accel);
	printf("fix_size=%zu\nfix_overrun=%d\n", sizeof(fx.f), over);
	/* The request with the upper 32 bits set, as bionic's sign extension sends it: the
	 * kernel takes an unsigned int, so natively it is the same request. */
	if (sizeof(long) == 8) {
		struct fb_var_screeninfo w;
		memset(&w, 0, sizeof(w));
		e = xioctl(fd, (unsigned long)(0xffffffff00000000ULL | FBIOGET_VSCREENINFO),
			   (unsigned long)&w);
		out("vget_high_bits", e);
		printf("high_bits_xres=%u\n", w.xres);
	}
	return 0;
}

/* Bands 90 pixels wide and 160 high, 8 colours, shifted by 3 on page 1. */
static const uint32_t pattern_colours[8] = {0xff0000, 0x00ff00, 0x0000ff, 0xffff00,
					    0x00ffff, 0xff00ff, 0x808080, 0xffffff};

static uint32_t pattern_pixel(unsigned page, unsigned x, unsigned y)
{
	return pattern_colours[(x / 90 + y / 160 + page * 3) % 8];
}

static int cmd_draw(int argc, char **argv, int pattern)
{
	int fd = open_fb(O_RDWR);
	struct fb_var_screeninfo v;
	size_t len;
	uint32_t *fb = map_fb(fd, &len);
	uint32_t colour = 0;
	unsigned first = 0, last = 1;

	if (argc < 1 || (!pattern && argc < 2))
		return 2;
	get_modes(fd, &v, NULL);
	if (strcmp(argv[0], "both") != 0)
		first = last = (unsigned)atoi(argv[0]);
	if (!pattern)
		colour = (uint32_t)strtoul(argv[1], NULL, 16);
	for (unsigned page = first; page <= last; page++)
		for (unsigned y = 0; y < v.yres; y++) {
			uint32_t *row = fb + (size_t)(page * v.yres + y) * v.xres_virtual;
			for (unsigned x = 0; x < v.xres; x++)
				row[x] = pattern ? pattern_pixel(page, x, y) : colour;
		}
	munmap(fb, len);
	printf("drawn=0\n");
	return 0;
}

/* Random pixels on PAGE: a picture that does not compress. */
static int cmd_noise(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);
	struct fb_var_screeninfo v;
	size_t len;
	uint32_t *fb = map_fb(fd, &len);
	uint64_t s = 88172645463325252ULL;
	unsigned page = argc > 0 ? (unsigned)atoi(argv[0]) : 0;

	get_modes(fd, &v, NULL);
	for (size_t i = 0; i < (size_t)v.xres_virtual * v.yres; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		fb[(size_t)page * v.xres_virtual * v.yres + i] = (uint32_t)s & 0xffffff;
	}
	printf("drawn=0\n");
	return 0;
}

static int cmd_pan(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);
	struct fb_var_screeninfo v;

	if (argc < 1)
		return 2;
	get_modes(fd, &v, NULL);
	v.xoffset = 0;
	v.yoffset = (uint32_t)strtoul(argv[0], NULL, 0);
	out("pan", xioctl(fd, FBIOPAN_DISPLAY, (unsigned long)&v));
	/* On stderr, beside the answers: CLOCK_MONOTONIC, the host's clock too. */
	fprintf(stderr, "panned_at=%.6f\n", now());
	get_modes(fd, &v, NULL);
	printf("yoffset=%u\n", v.yoffset);
	return 0;
}

static int cmd_put(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);
	struct fb_var_screeninfo v;

	get_modes(fd, &v, NULL);
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		unsigned long val;
		if (!eq)
			return 2;
		*eq = 0;
		val = strtoul(eq + 1, NULL, 0);
		if (!strcmp(argv[i], "xres"))
			v.xres = (uint32_t)val;
		else if (!strcmp(argv[i], "yres"))
			v.yres = (uint32_t)val;
		else if (!strcmp(argv[i], "xres_virtual"))
			v.xres_virtual = (uint32_t)val;
		else if (!strcmp(argv[i], "yres_virtual"))
			v.yres_virtual = (uint32_t)val;
		else if (!strcmp(argv[i], "bpp"))
			v.bits_per_pixel = (uint32_t)val;
		else if (!strcmp(argv[i], "xoffset"))
			v.xoffset = (uint32_t)val;
		else if (!strcmp(argv[i], "yoffset"))
			v.yoffset = (uint32_t)val;
		else if (!strcmp(argv[i], "activate"))
			v.activate = (uint32_t)val;
		else
			return 2;
	}
	out("put", xioctl(fd, FBIOPUT_VSCREENINFO, (unsigned long)&v));
	get_modes(fd, &v, NULL);
	printf("xres=%u\nyres=%u\nyres_virtual=%u\nbits_per_pixel=%u\nyoffset=%u\n", v.xres, v.yres,
	       v.yres_virtual, v.bits_per_pixel, v.yoffset);
	return 0;
}

static int cmd_efault(void)
{
	int fd = open_fb(O_RDWR);
	const struct {
		const char *name;
		unsigned long req;
	} reqs[] = {{"vget", FBIOGET_VSCREENINFO},
		    {"put", FBIOPUT_VSCREENINFO},
		    {"pan", FBIOPAN_DISPLAY},
		    {"fget", FBIOGET_FSCREENINFO}};
	const struct {
		const char *name;
		unsigned long ptr;
	} ptrs[] = {{"null", 0}, {"0x10", 0x10}};
	struct fb_var_screeninfo v;
	char key[64];

	for (size_t r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++)
		for (size_t p = 0; p < sizeof(ptrs) / sizeof(ptrs[0]); p++) {
			snprintf(key, sizeof(key), "%s_%s", reqs[r].name, ptrs[p].name);
			out(key, xioctl(fd, reqs[r].req, ptrs[p].ptr));
		}
	get_modes(fd, &v, NULL);
	printf("xres=%u\nyoffset=%u\n", v.xres, v.yoffset);
	return 0;
}

static int cmd_efault_more(void)
{
	int fd = open_fb(O_RDWR);
	long pg = sysconf(_SC_PAGESIZE);
	struct fb_var_screeninfo v;
	char *none, *ro, *edge;
	uint32_t zero = 0;

	get_modes(fd, &v, NULL);
	none = mmap(NULL, (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* A read-only page holding a valid mode (so a PUT would be accepted if read). */
	ro = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(ro, &v, sizeof(v));
	mprotect(ro, (size_t)pg, PROT_READ);
	/* A struct that starts on a readable page and runs into an inaccessible one. */
	edge = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	mprotect(edge + pg, (size_t)pg, PROT_NONE);
	memcpy(edge + pg - 64, &v, 64);
	out("vget_protnone", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)none));
	out("fget_protnone", xioctl(fd, FBIOGET_FSCREENINFO, (unsigned long)none));
	out("pan_protnone", xioctl(fd, FBIOPAN_DISPLAY, (unsigned long)none));
	out("put_protnone", xioctl(fd, FBIOPUT_VSCREENINFO, (unsigned long)none));
	out("vget_readonly", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)ro));
	out("fget_readonly", xioctl(fd, FBIOGET_FSCREENINFO, (unsigned long)ro));
	out("vget_straddle", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)(edge + pg - 64)));
	out("pan_straddle", xioctl(fd, FBIOPAN_DISPLAY, (unsigned long)(edge + pg - 64)));
	out("vget_kernel", xioctl(fd, FBIOGET_VSCREENINFO, KERNEL_ADDR));
	out("pan_kernel", xioctl(fd, FBIOPAN_DISPLAY, KERNEL_ADDR));
	out("vsync_null", xioctl(fd, WAITFORVSYNC, 0));
	out("vsync_ok", xioctl(fd, WAITFORVSYNC, (unsigned long)&zero));
	return 0;
}

/* A page registered with userfaultfd (missing mode), or NULL with its error printed. */
static char *uffd_page(long pg)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {.mode = UFFDIO_REGISTER_MODE_MISSING};
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	char *p;

	printf("uffd_kind=%s\n", uffd >= 0 ? "full" : "user");
	if (uffd < 0)
		uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (uffd < 0) {
		out("uffd", errno);
		return NULL;
	}
	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (unsigned long)p;
	reg.range.len = (unsigned long)pg;
	if (p == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api) < 0 ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		out("uffd_register", errno);
		return NULL;
	}
	return p; /* the descriptor stays open: nobody will ever answer its faults */
}

/* Memory whose fault only the VP itself could resolve: cellsd reaches a caller's memory
 * from outside, where such a fault must fail at once, never wait for the VP (its
 * supervisor holds the device lock, which the FUSE server of /dev/input needs too). */
static int cmd_faulting(void)
{
	int fd = open_fb(O_RDWR), ev;
	long pg = sysconf(_SC_PAGESIZE);
	struct fb_var_screeninfo v;
	char *p;

	if ((p = uffd_page(pg))) {
		out("vget_uffd", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)p));
		out("pan_uffd", xioctl(fd, FBIOPAN_DISPLAY, (unsigned long)p));
	}
	if ((ev = open("/dev/input/event0", O_RDONLY | O_CLOEXEC)) < 0) {
		out("input_open", errno);
	} else if ((p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, ev, 0)) ==
		   MAP_FAILED) {
		out("input_mmap", errno);
	} else {
		out("vget_input_map", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)p));
		out("pan_input_map", xioctl(fd, FBIOPAN_DISPLAY, (unsigned long)p));
	}
	out("vget_after", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v));
	return 0;
}

static int cmd_unknown(void)
{
	int fd = open_fb(O_RDWR);
	uint16_t red[256], green[256], blue[256];
	struct fb_cmap cmap = {0, 256, red, green, blue, NULL};
	struct fb_var_screeninfo v;

	out("x4699", xioctl(fd, 0x4699, (unsigned long)&cmap));
	out("tcgets", xioctl(fd, 0x5401, (unsigned long)&cmap));
	out("vget_after", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v));
	return 0;
}

/* The framebuffer of a VT, as fbi asks it: console and framebuffer as the kernel left
 * them (0xff: not written). */
static int cmd_con2fb(void)
{
	int fd = open_fb(O_RDWR);
	static const uint32_t consoles[] = {1, 63, 0, 64};
	char key[32];

	for (unsigned i = 0; i < sizeof(consoles) / sizeof(consoles[0]); i++) {
		struct fb_con2fbmap map = {consoles[i], 0xff};
		snprintf(key, sizeof(key), "con%u", consoles[i]);
		out(key, xioctl(fd, FBIOGET_CON2FBMAP, (unsigned long)&map));
		printf("con%u_fb=%u\ncon%u_console=%u\n", consoles[i], map.framebuffer, consoles[i],
		       map.console);
	}
	out("null", xioctl(fd, FBIOGET_CON2FBMAP, 0));
	return 0;
}

/* ---- colour map --------------------------------------------------------------------- */

static uint16_t cmap_r[256], cmap_g[256], cmap_b[256], cmap_t[256];

static int getcmap(int fd, uint32_t start, uint32_t len, uint16_t *r, uint16_t *g, uint16_t *b,
		   uint16_t *t)
{
	struct fb_cmap c = {start, len, r, g, b, t};
	return xioctl(fd, FBIOGETCMAP, (unsigned long)&c);
}

static int putcmap(int fd, uint32_t start, uint32_t len, uint16_t *r, uint16_t *g, uint16_t *b,
		   uint16_t *t)
{
	struct fb_cmap c = {start, len, r, g, b, t};
	return xioctl(fd, FBIOPUTCMAP, (unsigned long)&c);
}

static void print_entry(unsigned i)
{
	printf("cmap%u=%04x,%04x,%04x\n", i, cmap_r[i], cmap_g[i], cmap_b[i]);
}

static int cmd_cmap(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);
	long pg = sysconf(_SC_PAGESIZE);
	uint16_t *ro;

	if (argc >= 1 && !strcmp(argv[0], "show")) {
		out("get", getcmap(fd, 0, 256, cmap_r, cmap_g, cmap_b, NULL));
		print_entry(0), print_entry(16), print_entry(31), print_entry(255);
		return 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "set")) {
		for (unsigned i = 0; i < 16; i++) {
			cmap_r[i] = (uint16_t)(0x1000 + 16 + i);
			cmap_g[i] = (uint16_t)(0x2000 + 16 + i);
			cmap_b[i] = (uint16_t)(0x3000 + 16 + i);
			cmap_t[i] = 0xffff;
		}
		out("put", putcmap(fd, 16, 16, cmap_r, cmap_g, cmap_b, cmap_t));
		return 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "bad")) {
		ro = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		out("get_len0", getcmap(fd, 0, 0, cmap_r, cmap_g, cmap_b, NULL));
		out("get_past_end", getcmap(fd, 250, 10, cmap_r, cmap_g, cmap_b, NULL));
		out("get_start_256", getcmap(fd, 256, 1, cmap_r, cmap_g, cmap_b, NULL));
		out("get_wrap", getcmap(fd, 0xffffffffu, 2, cmap_r, cmap_g, cmap_b, NULL));
		out("get_null_green", getcmap(fd, 0, 4, cmap_r, NULL, cmap_b, NULL));
		out("get_readonly_blue", getcmap(fd, 0, 4, cmap_r, cmap_g, ro, NULL));
		out("get_struct_null", xioctl(fd, FBIOGETCMAP, 0));
		out("put_null_red", putcmap(fd, 16, 4, NULL, cmap_g, cmap_b, NULL));
		out("put_bad_transp", putcmap(fd, 16, 4, cmap_r, cmap_g, cmap_b, (uint16_t *)0x10));
		out("put_past_end", putcmap(fd, 255, 2, cmap_r, cmap_g, cmap_b, NULL));
		out("put_struct_kernel", xioctl(fd, FBIOPUTCMAP, KERNEL_ADDR));
		/* A get leaves the caller's transparency alone: the device has none. */
		cmap_t[0] = 0xabcd;
		out("get_with_transp", getcmap(fd, 16, 1, cmap_r, cmap_g, cmap_b, cmap_t));
		printf("transp=%04x\n", cmap_t[0]);
		out("get", getcmap(fd, 0, 256, cmap_r, cmap_g, cmap_b, NULL));
		print_entry(16), print_entry(31);
		return 0;
	}
	fprintf(stderr, "usage: fbprobe cmap show|set|bad\n");
	return 2;
}

static int cmd_blank(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);

	if (argc < 1)
		return 2;
	out("blank", xioctl(fd, FBIOBLANK, strtoul(argv[0], NULL, 0)));
	return 0;
}

static int cmd_vsync(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);
	int n = argc > 0 ? atoi(argv[0]) : 60, e = 0;
	uint32_t crtc = 0;
	double t0 = now();

	for (int i = 0; i < n && !e; i++)
		e = xioctl(fd, WAITFORVSYNC, (unsigned long)&crtc);
	out("vsync", e);
	printf("seconds=%.4f\n", now() - t0);
	return 0;
}

static int cmd_vsync_loop(void)
{
	int fd = open_fb(O_RDWR);
	uint32_t crtc = 0;
	int e = xioctl(fd, WAITFORVSYNC, (unsigned long)&crtc);

	out("ready", e);
	fflush(stdout);
	for (;;)
		if ((e = xioctl(fd, WAITFORVSYNC, (unsigned long)&crtc))) {
			out("vsync", e);
			return 1;
		}
}

static int flood_fd;
static double flood_end;

static void *flood_thread(void *arg)
{
	uint32_t crtc = 0;
	unsigned long n = 0;

	while (now() < flood_end && xioctl(flood_fd, WAITFORVSYNC, (unsigned long)&crtc) == 0)
		n++;
	*(unsigned long *)arg = n;
	return NULL;
}

/* THREADS threads in WAITFORVSYNC for SECONDS: how many waits each got through. */
static int cmd_vsync_flood(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 300;
	double seconds = argc > 1 ? atof(argv[1]) : 1;
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	unsigned long *count = calloc((size_t)n, sizeof(*count)), max = 0, total = 0;
	pthread_attr_t attr;
	int started = 0;

	flood_fd = open_fb(O_RDWR);
	flood_end = now() + seconds;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], &attr, flood_thread, &count[i]) == 0)
			started++;
		else
			t[i] = 0;
	for (int i = 0; i < n; i++)
		if (t[i]) {
			pthread_join(t[i], NULL);
			total += count[i];
			max = count[i] > max ? count[i] : max;
		}
	printf("threads=%d\ntotal=%lu\nmax_per_thread=%lu\n", started, total, max);
	free(count);
	free(t);
	return 0;
}

static int cmd_nonfb(int argc, char **argv)
{
	int fd;
	struct fb_var_screeninfo v;
	struct fb_fix_screeninfo f;
	uint32_t crtc = 0;
	double t0;

	if (argc < 1)
		return 2;
	fd = open(argv[0], O_RDWR);
	if (fd < 0)
		fd = open(argv[0], O_RDONLY);
	if (fd < 0) {
		out("open", errno);
		return 3;
	}
	memset(&v, 0, sizeof(v));
	v.xres = 720;
	v.yres = 1252; /* the default mode: a 720x1280 panel less the status bar */
	out("vget", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v));
	out("fget", xioctl(fd, FBIOGET_FSCREENINFO, (unsigned long)&f));
	out("put", xioctl(fd, FBIOPUT_VSCREENINFO, (unsigned long)&v));
	out("pan", xioctl(fd, FBIOPAN_DISPLAY, (unsigned long)&v));
	out("blank", xioctl(fd, FBIOBLANK, 4));
	t0 = now();
	out("vsync", xioctl(fd, WAITFORVSYNC, (unsigned long)&crtc));
	printf("vsync_ms=%.3f\n", (now() - t0) * 1e3);
	return 0;
}

static int cmd_fds(void)
{
	int fb = open_fb(O_RDWR), null = open("/dev/null", O_RDWR), rdonly, path, via_proc;
	struct fb_var_screeninfo v;
	char name[64];
	pid_t child;
	int status;

	/* One number, three files in turn: what answers is the file, not the number. */
	dup2(null, 50);
	out("null_at_50", xioctl(50, FBIOGET_VSCREENINFO, (unsigned long)&v));
	dup2(fb, 50);
	out("fb_at_50", xioctl(50, FBIOGET_VSCREENINFO, (unsigned long)&v));
	dup2(null, 50);
	out("null_again_at_50", xioctl(50, FBIOGET_VSCREENINFO, (unsigned long)&v));
	close(50);
	out("closed_50", xioctl(50, FBIOGET_VSCREENINFO, (unsigned long)&v));
	dup2(fb, 50);
	out("fb_again_at_50", xioctl(50, FBIOGET_VSCREENINFO, (unsigned long)&v));
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fb);
	via_proc = open(name, O_RDWR);
	out("via_proc",
	    via_proc < 0 ? errno : xioctl(via_proc, FBIOGET_VSCREENINFO, (unsigned long)&v));
	rdonly = open(FB, O_RDONLY);
	out("rdonly", xioctl(rdonly, FBIOGET_VSCREENINFO, (unsigned long)&v));
	/* An O_PATH descriptor is not open for I/O: natively, ioctl says EBADF. */
	path = open(FB, O_PATH);
	out("opath_vget", xioctl(path, FBIOGET_VSCREENINFO, (unsigned long)&v));
	out("opath_blank", xioctl(path, FBIOBLANK, 0));
	fflush(stdout);
	child = fork();
	if (child == 0) {
		out("child_vget", xioctl(fb, FBIOGET_VSCREENINFO, (unsigned long)&v));
		_exit(0);
	}
	waitpid(child, &status, 0);
	return 0;
}

static int cmd_as_user(int argc, char **argv)
{
	uid_t uid = argc > 0 ? (uid_t)atoi(argv[0]) : 1000;
	struct fb_var_screeninfo v;
	int fd;

	if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
		out("setuid", errno);
		return 3;
	}
	fd = open(FB, O_RDWR);
	out("open_rdwr", fd < 0 ? errno : 0);
	fd = open(FB, O_PATH);
	out("open_path", fd < 0 ? errno : 0);
	if (fd < 0)
		return 0;
	memset(&v, 0, sizeof(v));
	out("opath_vget", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v));
	out("opath_blank", xioctl(fd, FBIOBLANK, 4));
	/* A pan the default mode serves (720x1252, two pages), were the descriptor usable. */
	v.xres = 720, v.yres = 1252, v.xres_virtual = 720, v.yres_virtual = 2504;
	v.bits_per_pixel = 32, v.yoffset = 1252;
	out("opath_pan", xioctl(fd, FBIOPAN_DISPLAY, (unsigned long)&v));
	return 0;
}

struct thread_result {
	int fd, vget, pan;
	uint32_t xres;
};

static void *thread_main(void *arg)
{
	struct thread_result *r = arg;
	struct fb_var_screeninfo v;

	memset(&v, 0, sizeof(v));
	r->vget = xioctl(r->fd, FBIOGET_VSCREENINFO, (unsigned long)&v);
	r->xres = v.xres;
	v.yoffset = 0;
	r->pan = xioctl(r->fd, FBIOPAN_DISPLAY, (unsigned long)&v);
	return NULL;
}

static void *orphan_thread(void *arg)
{
	struct thread_result r = {.fd = (int)(long)arg};

	usleep(100000); /* the main thread has exited by now */
	thread_main(&r);
	printf("orphan_vget=%s\norphan_xres=%u\norphan_pan=%s\n", errname(r.vget), r.xres,
	       errname(r.pan));
	fflush(stdout);
	exit(0);
}

static int cmd_thread(void)
{
	struct thread_result r = {.fd = open_fb(O_RDWR)};
	pthread_t t;

	pthread_create(&t, NULL, thread_main, &r);
	pthread_join(t, NULL);
	printf("thread_vget=%s\nthread_xres=%u\nthread_pan=%s\n", errname(r.vget), r.xres,
	       errname(r.pan));
	fflush(stdout);
	pthread_create(&t, NULL, orphan_thread, (void *)(long)r.fd);
	pthread_exit(NULL);
}

static int cmd_execself(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);
	struct fb_var_screeninfo v;

	out("before_exec", xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v));
	fflush(stdout);
	if (argc > 0 && !strcmp(argv[0], "again"))
		return 0;
	/* The same task, another program: its memory is not the one seen before. */
	execl("/proc/self/exe", "fbprobe", "execself", "again", (char *)NULL);
	out("exec", errno);
	return 1;
}

static int cmd_bench(int argc, char **argv)
{
	int fd = open_fb(O_RDWR), n = argc > 0 ? atoi(argv[0]) : 10000, e = 0;
	struct fb_var_screeninfo v;
	double t0;

	/* Warm the daemon's caches first. */
	for (int i = 0; i < 100; i++)
		xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v);
	t0 = now();
	for (int i = 0; i < n && !e; i++)
		e = xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&v);
	out("bench", e);
	printf("mean_us=%.3f\n", (now() - t0) * 1e6 / n);
	return 0;
}

/* ---- garbage ---------------------------------------------------------------------- */

static int garbage_fd;
static char *garbage_none; /* 1 MiB PROT_NONE */
static double garbage_end;
static volatile unsigned long garbage_calls, garbage_ok;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *garbage_thread(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	static const uint32_t known[] = {
		FBIOGET_VSCREENINFO, FBIOPUT_VSCREENINFO, FBIOGET_FSCREENINFO, FBIOPAN_DISPLAY,
		FBIOBLANK,	     FBIOGETCMAP,	  FBIOPUTCMAP};
	union {
		struct fb_var_screeninfo v;
		unsigned char raw[512];
	} buf;
	unsigned long calls = 0, ok = 0;
	int own = -1;

	while (now() < garbage_end) {
		for (int k = 0; k < 16; k++) {
			uint64_t r = rnd(&s), req, arg;
			int fd = garbage_fd;
			if (r % 3)
				/* WAITFORVSYNC sleeps a frame: rarely, so the rest comes fast. */
				req = (r >> 8) % 64 ? known[(r >> 14) % 7] : WAITFORVSYNC;
			else
				req = ((r >> 8) & 3) << 30 | ((r >> 10) & 0x3fff) << 16 | 'F' << 8 |
				      ((r >> 24) & 0xff);
			if ((r >> 32) % 4 == 0)
				req |= 0xffffffff00000000ULL; /* the bits the kernel ignores */
			switch ((r >> 40) % 10) {
			case 0:
				arg = 0;
				break;
			case 1:
				arg = (r >> 44) & 0xffff; /* under mmap_min_addr */
				break;
			case 2:
				arg = rnd(&s) | 0x8000000000000000ULL; /* kernel half */
				break;
			case 3:
				arg = (uint64_t)(uintptr_t)(garbage_none + (rnd(&s) % (1 << 20)));
				break;
			case 4:
				arg = (r >> 44) & 7; /* FBIOBLANK-like values */
				break;
			case 5:
				arg = rnd(&s) ^ 0x0000800000000000ULL; /* non-canonical often */
				arg |= 0x0000800000000000ULL;
				arg &= 0x7fffffffffffffffULL;
				break;
			case 6:
				/* a valid mode with a random offset */
				xioctl(fd, FBIOGET_VSCREENINFO, (unsigned long)&buf.v);
				buf.v.yoffset = (uint32_t)(rnd(&s) % 2600);
				arg = (uint64_t)(uintptr_t)&buf;
				break;
			default:
				for (size_t i = 0; i < sizeof(buf.raw); i += 8) {
					uint64_t x = rnd(&s);
					memcpy(buf.raw + i, &x, 8);
				}
				arg = (uint64_t)(uintptr_t)&buf;
				break;
			}
			if ((r >> 56) % 16 == 0) {
				/* Descriptor churn: this thread's own descriptor of the fb,
				 * reopened. */
				if (own >= 0)
					close(own);
				own = open(FB, O_RDWR | O_CLOEXEC);
				if (own >= 0)
					fd = own;
			} else if ((r >> 56) % 16 == 1) {
				fd = (int)(r >> 60); /* any small number */
			}
			ok += syscall(SYS_ioctl, fd, req, arg) == 0;
			calls++;
		}
	}
	__atomic_add_fetch(&garbage_calls, calls, __ATOMIC_RELAXED);
	__atomic_add_fetch(&garbage_ok, ok, __ATOMIC_RELAXED);
	if (own >= 0)
		close(own);
	return NULL;
}

static void *short_lived(void *arg)
{
	struct fb_var_screeninfo v;

	(void)arg;
	xioctl(garbage_fd, FBIOGET_VSCREENINFO, (unsigned long)&v);
	return NULL;
}

static int cmd_garbage(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 100;
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	pthread_attr_t attr;
	unsigned long spawned = 0;

	garbage_fd = open_fb(O_RDWR);
	garbage_none = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	garbage_end = now() + seconds;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], &attr, garbage_thread, (void *)(uintptr_t)(i + 1)))
			t[i] = 0;
	/* Meanwhile, threads that live for one call: thread ids come and go. */
	while (now() < garbage_end) {
		pthread_t s;
		if (pthread_create(&s, &attr, short_lived, NULL) == 0) {
			pthread_join(s, NULL);
			spawned++;
		}
	}
	for (int i = 0; i < n; i++)
		if (t[i])
			pthread_join(t[i], NULL);
	printf("garbage=0\ncalls=%lu\nok=%lu\nshort_lived=%lu\n", garbage_calls, garbage_ok,
	       spawned);
	free(t);
	return 0;
}

/* ---- truncation ------------------------------------------------------------------- */

static int cmd_trunc(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);

	if (argc < 1)
		return 2;
	out("trunc", ftruncate(fd, (off_t)strtoull(argv[0], NULL, 0)) < 0 ? errno : 0);
	return 0;
}

static int cmd_punch(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);

	if (argc < 2)
		return 2;
	out("punch",
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)strtoull(argv[0], NULL, 0), (off_t)strtoull(argv[1], NULL, 0)) < 0
		    ? errno
		    : 0);
	return 0;
}

static sigjmp_buf bus_jump;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jump, 1);
}

static int cmd_chaos(int argc, char **argv)
{
	int fd = open_fb(O_RDWR);
	double end = now() + (argc > 0 ? atof(argv[0]) : 2);
	size_t len;
	uint32_t *fb = map_fb(fd, &len);
	volatile unsigned long rounds = 0, faults = 0;
	uint64_t s = 12345;
	struct sigaction sa = {.sa_handler = on_sigbus, .sa_flags = SA_NODEFER};

	sigaction(SIGBUS, &sa, NULL);
	while (now() < end) {
		uint64_t r = rnd(&s);
		switch (r % 6) {
		case 0:
			ftruncate(fd, 0);
			break;
		case 1:
			ftruncate(fd, 1);
			break;
		case 2:
			fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  (off_t)((r >> 8) % len), (off_t)((r >> 32) % len));
			break;
		case 3:
			ftruncate(fd, (off_t)len);
			break;
		case 4:
			ftruncate(fd, (off_t)((r >> 8) % (2 * len)));
			break;
		default:
			/* Draw through the mapping: may fault where the file is now short. */
			if (sigsetjmp(bus_jump, 1) == 0) {
				for (size_t i = 0; i < len / 4; i += 1024)
					fb[i] = (uint32_t)r;
			} else {
				faults++;
			}
		}
		rounds++;
	}
	printf("chaos=0\nrounds=%lu\nfaults=%lu\n", rounds, faults);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		goto usage;
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "info"))
		return cmd_info();
	if (!strcmp(cmd, "fill"))
		return cmd_draw(argc, argv, 0);
	if (!strcmp(cmd, "pattern"))
		return cmd_draw(argc, argv, 1);
	if (!strcmp(cmd, "pan"))
		return cmd_pan(argc, argv);
	if (!strcmp(cmd, "noise"))
		return cmd_noise(argc, argv);
	if (!strcmp(cmd, "put"))
		return cmd_put(argc, argv);
	if (!strcmp(cmd, "efault"))
		return cmd_efault();
	if (!strcmp(cmd, "efault_more"))
		return cmd_efault_more();
	if (!strcmp(cmd, "faulting"))
		return cmd_faulting();
	if (!strcmp(cmd, "unknown"))
		return cmd_unknown();
	if (!strcmp(cmd, "cmap"))
		return cmd_cmap(argc, argv);
	if (!strcmp(cmd, "con2fb"))
		return cmd_con2fb();
	if (!strcmp(cmd, "blank"))
		return cmd_blank(argc, argv);
	if (!strcmp(cmd, "vsync"))
		return cmd_vsync(argc, argv);
	if (!strcmp(cmd, "vsync_loop"))
		return cmd_vsync_loop();
	if (!strcmp(cmd, "vsync_flood"))
		return cmd_vsync_flood(argc, argv);
	if (!strcmp(cmd, "nonfb"))
		return cmd_nonfb(argc, argv);
	if (!strcmp(cmd, "fds"))
		return cmd_fds();
	if (!strcmp(cmd, "as_user"))
		return cmd_as_user(argc, argv);
	if (!strcmp(cmd, "thread"))
		return cmd_thread();
	if (!strcmp(cmd, "execself"))
		return cmd_execself(argc, argv);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc, argv);
	if (!strcmp(cmd, "garbage"))
		return cmd_garbage(argc, argv);
	if (!strcmp(cmd, "trunc"))
		return cmd_trunc(argc, argv);
	if (!strcmp(cmd, "punch"))
		return cmd_punch(argc, argv);
	if (!strcmp(cmd, "chaos"))
		return cmd_chaos(argc, argv);
usage:
	fprintf(stderr, "usage: fbprobe COMMAND [ARG]... (see the source)\n");
	return 2;
}
