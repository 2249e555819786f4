/*
 * fbbench: the in-VP half of bench/display.py (built there with gcc -O2 -static, so it
 * runs in any image). Two jobs, each printing one JSON object on stdout:
 *
 *   fbbench ioctl [--fb PATH] [--ops vget,pan,fionread,tcgets] [--samples 1000]
 *                 [--batch 100] [--cpu N]
 *     Times ioctls with clock_gettime(CLOCK_MONOTONIC) around batches of --batch calls:
 *     --samples batches per op, the ops interleaved (op order rotated every sample), so
 *     that a change in the machine's load hits every op alike. Prints the per-call mean of
 *     each batch, in ns.
 *       vget      FBIOGET_VSCREENINFO on PATH (trapped: answered by cellsd in a VP)
 *       pan       FBIOPAN_DISPLAY on PATH, yoffset 0 and yres in turn (trapped)
 *       fionread  FIONREAD on an empty pipe (not trapped: the kernel answers 0)
 *       tcgets    TCGETS on /dev/null (not trapped: the kernel answers ENOTTY)
 *     --cpu N pins the process to CPU N first (sched_setaffinity).
 *
 *   fbbench draw --target fb:PATH|malloc|file:PATH [--frames 300] [--warmup 20] [--pan]
 *                [--cpu N]
 *     The drawing loop, into a 720x1280x32 mapping of two pages: fb:PATH mmaps a
 *     framebuffer (its mode from FBIOGET_VSCREENINFO/FBIOGET_FSCREENINFO: a VP's is
 *     720x1252, the panel less the status bar), malloc draws into
 *     malloc'd memory, file:PATH into a MAP_SHARED mapping of a file (created, sized,
 *     unlinked at the end). Each frame: fill page 1 with a colour, draw a 256x256
 *     rectangle that moves across it, and copy (memcpy) page 1 to page 0 in full: 7.6 MB
 *     written and 3.7 MB read. --pan also pans to page 0 every frame (one trapped ioctl
 *     per frame, fb only). --warmup frames first, untimed (first-touch page faults).
 *     --cpu N pins the process to CPU N first. --fps N paces the loop at N frames per
 *     second (clock_nanosleep to absolute deadlines; a late frame is not made up for);
 *     --seconds S stops after S seconds of timed frames even if --frames are not done.
 *     --noise fills page 1 with new pseudo-random pixels (xorshift) every frame instead of
 *     one colour: content that no encoder compresses.
 *     Prints frames, seconds and frames per second.
 *
 *   fbbench fill --colour 0xRRGGBB [--fb PATH]
 *     Fills every page of the framebuffer (the whole smem_len) with one colour and exits:
 *     a static screen of a known colour (bench/vnc.py).
 *
 *   fbbench flips --colour 0xRRGGBB --count N --gap-ms MIN-MAX [--fb PATH]
 *     Fills page 1 with the colour, then flips N times (FBIOPAN_DISPLAY to page 1 and
 *     back to page 0 in turn), sleeping a pseudo-random MIN..MAX ms before each flip, and
 *     ends on page 0 (N even). Prints the CLOCK_MONOTONIC ns just before and just after
 *     each flip, and its yoffset: when a new frame was shown (bench/vnc.py).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPS 4

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "fbbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: fbbench ioctl [--fb PATH] [--ops LIST] [--samples N] [--batch N] "
			"[--cpu N]\n"
			"       fbbench draw --target fb:PATH|malloc|file:PATH [--frames N] "
			"[--warmup N] [--pan] [--cpu N] [--fps N] [--seconds S] [--noise]\n"
			"       fbbench fill --colour 0xRRGGBB [--fb PATH]\n"
			"       fbbench flips --colour 0xRRGGBB --count N --gap-ms MIN-MAX "
			"[--fb PATH]\n");
	exit(2);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

/* ------------------------------------------------------------------------ ioctl */

enum op { OP_VGET, OP_PAN, OP_FIONREAD, OP_TCGETS };
static const char *const op_names[] = {"vget", "pan", "fionread", "tcgets"};

struct ioctl_ctx {
	int fb, pipe_r, null_fd;
	struct fb_var_screeninfo var;
};

/* One call; returns what a correct answer should be compared with. */
static inline int one_call(struct ioctl_ctx *c, enum op op, unsigned i)
{
	struct fb_var_screeninfo v;
	struct termios t;
	int n;

	switch (op) {
	case OP_VGET:
		return ioctl(c->fb, FBIOGET_VSCREENINFO, &v);
	case OP_PAN:
		c->var.yoffset = (i & 1) ? c->var.yres : 0;
		return ioctl(c->fb, FBIOPAN_DISPLAY, &c->var);
	case OP_FIONREAD:
		return ioctl(c->pipe_r, FIONREAD, &n);
	case OP_TCGETS:
		return ioctl(c->null_fd, TCGETS, &t);
	}
	return -1;
}

static int run_ioctl(int argc, char **argv)
{
	const char *fb_path = "/dev/fb0", *ops_arg = "vget,pan,fionread,tcgets";
	unsigned samples = 1000, batch = 100, nops = 0;
	enum op ops[MAX_OPS];
	int cpu = -1, pipefd[2];
	struct ioctl_ctx c = {.fb = -1};
	double *res[MAX_OPS];
	char *list, *tok, *save;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--fb") && i + 1 < argc)
			fb_path = argv[++i];
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops_arg = argv[++i];
		else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
			samples = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else
			usage();
	}
	if (!samples || !batch)
		usage();
	list = strdup(ops_arg);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned k;
		for (k = 0; k < MAX_OPS && strcmp(tok, op_names[k]); k++)
			;
		if (k == MAX_OPS || nops == MAX_OPS)
			usage();
		ops[nops++] = (enum op)k;
	}
	if (cpu >= 0)
		pin(cpu);
	for (unsigned k = 0; k < nops; k++)
		if (ops[k] == OP_VGET || ops[k] == OP_PAN) {
			if ((c.fb = open(fb_path, O_RDWR | O_CLOEXEC)) < 0)
				die(fb_path);
			if (ioctl(c.fb, FBIOGET_VSCREENINFO, &c.var) < 0)
				die("FBIOGET_VSCREENINFO");
			break;
		}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die("pipe");
	c.pipe_r = pipefd[0];
	if ((c.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		die("/dev/null");
	/* Every op answers as it should before anything is timed; one batch each warms up. */
	for (unsigned k = 0; k < nops; k++) {
		errno = 0;
		int r = one_call(&c, ops[k], 0);
		int want_enotty = ops[k] == OP_TCGETS;
		if (want_enotty ? (r != -1 || errno != ENOTTY) : r != 0) {
			fprintf(stderr, "fbbench: %s answered %d (%s)\n", op_names[ops[k]], r,
				strerror(errno));
			return 1;
		}
		for (unsigned i = 0; i < batch; i++)
			one_call(&c, ops[k], i);
		res[k] = calloc(samples, sizeof(double));
	}
	for (unsigned s = 0; s < samples; s++)
		for (unsigned j = 0; j < nops; j++) {
			unsigned k = (s + j) % nops;
			enum op op = ops[k];
			uint64_t t0 = now_ns();
			for (unsigned i = 0; i < batch; i++)
				one_call(&c, op, i);
			res[k][s] = (double)(now_ns() - t0) / batch;
		}
	printf("{\"cpu_end\": %d, \"pinned\": %d, \"batch\": %u, \"samples\": %u, \"ops\": {",
	       sched_getcpu(), cpu, batch, samples);
	for (unsigned k = 0; k < nops; k++) {
		printf("%s\"%s\": [", k ? ", " : "", op_names[ops[k]]);
		for (unsigned s = 0; s < samples; s++)
			printf("%s%.1f", s ? "," : "", res[k][s]);
		printf("]");
	}
	printf("}}\n");
	return 0;
}

/* ------------------------------------------------------------------------ draw */

#define XRES 720
#define YRES 1280
#define RECT 256

static void fill32(uint32_t *p, size_t n, uint32_t colour)
{
	for (size_t i = 0; i < n; i++)
		p[i] = colour;
}

static int run_draw(int argc, char **argv)
{
	const char *target = NULL;
	unsigned frames = 300, warmup = 20, fps = 0, done = 0;
	double seconds = 0;
	int do_pan = 0, noise = 0, fd = -1;
	uint64_t rng = 0x9e3779b97f4a7c15u;
	size_t stride = XRES, width = XRES, height = YRES, page_px, map_len;
	uint8_t *map;
	struct fb_var_screeninfo var = {0};
	char *unlink_path = NULL;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--target") && i + 1 < argc)
			target = argv[++i];
		else if (!strcmp(argv[i], "--frames") && i + 1 < argc)
			frames = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--pan"))
			do_pan = 1;
		else if (!strcmp(argv[i], "--noise"))
			noise = 1;
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			pin(atoi(argv[++i]));
		else if (!strcmp(argv[i], "--fps") && i + 1 < argc)
			fps = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else
			usage();
	}
	if (!target || !frames)
		usage();
	if (!strncmp(target, "fb:", 3)) {
		struct fb_fix_screeninfo fix;
		if ((fd = open(target + 3, O_RDWR | O_CLOEXEC)) < 0)
			die(target + 3);
		if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 ||
		    ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0)
			die("fbdev ioctl");
		if (var.bits_per_pixel != 32 || var.yres_virtual < 2 * var.yres) {
			fprintf(stderr, "fbbench: needs a 32 bpp mode of two pages\n");
			return 1;
		}
		width = var.xres;
		height = var.yres;
		stride = fix.line_length / 4;
		map_len = fix.smem_len;
		map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die("mmap the framebuffer");
	} else if (!strcmp(target, "malloc")) {
		if (do_pan)
			usage();
		map_len = 2 * stride * height * 4;
		if (!(map = malloc(map_len)))
			die("malloc");
	} else if (!strncmp(target, "file:", 5)) {
		if (do_pan)
			usage();
		map_len = 2 * stride * height * 4;
		fd = open(target + 5, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die(target + 5);
		unlink_path = (char *)target + 5;
		if (ftruncate(fd, (off_t)map_len) < 0)
			die("ftruncate");
		map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die("mmap the file");
	} else {
		usage();
	}
	page_px = stride * height;
	uint32_t *front = (uint32_t *)map, *back = (uint32_t *)map + page_px;
	uint64_t t0 = 0, period = fps ? 1000000000u / fps : 0, next = now_ns();
	for (unsigned f = 0; f < warmup + frames; f++) {
		if (period) {
			uint64_t t = now_ns();
			if (next > t) {
				struct timespec ts = {(time_t)(next / 1000000000u),
						      (long)(next % 1000000000u)};
				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
				       EINTR)
					;
			} else if (t - next > period) {
				next = t; /* late: no burst to catch up */
			}
			next += period;
		}
		if (f == warmup)
			t0 = now_ns();
		else if (f > warmup && seconds > 0 && (double)(now_ns() - t0) / 1e9 >= seconds)
			break;
		if (f >= warmup)
			done++;
		uint32_t colour = 0x00102030u + (f & 0xff) * 0x010101u;
		if (noise) {
			for (size_t i = 0; i + 1 < page_px; i += 2) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				memcpy(back + i, &rng, 8);
			}
		} else {
			fill32(back, page_px, colour);
		}
		/* the rectangle crosses the page diagonally, bouncing at the edges */
		size_t span_x = width - RECT, span_y = height - RECT;
		size_t px = (f * 7) % (2 * span_x), py = (f * 11) % (2 * span_y);
		px = px > span_x ? 2 * span_x - px : px;
		py = py > span_y ? 2 * span_y - py : py;
		for (size_t y = py; y < py + RECT; y++)
			fill32(back + y * stride + px, RECT, ~colour & 0xffffff);
		__asm__ volatile("" ::: "memory");
		memcpy(front, back, page_px * 4);
		__asm__ volatile("" ::: "memory");
		if (do_pan) {
			var.yoffset = 0;
			if (ioctl(fd, FBIOPAN_DISPLAY, &var) < 0)
				die("FBIOPAN_DISPLAY");
		}
	}
	double sec = (double)(now_ns() - t0) / 1e9;
	printf("{\"frames\": %u, \"seconds\": %.6f, \"fps\": %.3f, \"check\": %u}\n", done, sec,
	       done / sec, front[page_px / 2]);
	if (unlink_path)
		unlink(unlink_path);
	return 0;
}

/* ------------------------------------------------------------------------ fill */

static int run_fill(int argc, char **argv)
{
	const char *fb_path = "/dev/fb0";
	struct fb_fix_screeninfo fix;
	long colour = -1;
	int fd;
	uint32_t *map;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--colour") && i + 1 < argc)
			colour = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--fb") && i + 1 < argc)
			fb_path = argv[++i];
		else
			usage();
	}
	if (colour < 0 || colour > 0xffffff)
		usage();
	if ((fd = open(fb_path, O_RDWR | O_CLOEXEC)) < 0)
		die(fb_path);
	if (ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0)
		die("FBIOGET_FSCREENINFO");
	map = mmap(NULL, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap the framebuffer");
	fill32(map, fix.smem_len / 4, (uint32_t)colour);
	printf("{\"colour\": %ld, \"bytes\": %u}\n", colour, fix.smem_len);
	return 0;
}

/* ------------------------------------------------------------------------ flips */

static int run_flips(int argc, char **argv)
{
	const char *fb_path = "/dev/fb0";
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	long colour = -1, count = -1;
	unsigned gap_min = 0, gap_max = 0, seed = 11;
	int fd;
	uint32_t *map;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--colour") && i + 1 < argc)
			colour = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--gap-ms") && i + 1 < argc) {
			if (sscanf(argv[++i], "%u-%u", &gap_min, &gap_max) != 2)
				usage();
		} else if (!strcmp(argv[i], "--fb") && i + 1 < argc)
			fb_path = argv[++i];
		else
			usage();
	}
	if (colour < 0 || colour > 0xffffff || count < 2 || count % 2 || gap_max < gap_min)
		usage();
	if ((fd = open(fb_path, O_RDWR | O_CLOEXEC)) < 0)
		die(fb_path);
	if (ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0)
		die("FBIOGET_FSCREENINFO");
	if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0)
		die("FBIOGET_VSCREENINFO");
	map = mmap(NULL, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap the framebuffer");
	fill32(map + (size_t)var.yres * fix.line_length / 4, (size_t)var.yres * fix.line_length / 4,
	       (uint32_t)colour);
	printf("{\"flips\": [");
	for (long n = 0; n < count; n++) {
		unsigned ms = gap_min + (unsigned)rand_r(&seed) % (gap_max - gap_min + 1);
		struct timespec gap = {ms / 1000, (long)(ms % 1000) * 1000000L};
		uint64_t before, after;

		nanosleep(&gap, NULL);
		var.xoffset = 0;
		var.yoffset = n % 2 == 0 ? var.yres : 0;
		before = now_ns();
		if (ioctl(fd, FBIOPAN_DISPLAY, &var) < 0)
			die("FBIOPAN_DISPLAY");
		after = now_ns();
		printf("%s[%llu, %llu, %u]", n ? ", " : "", (unsigned long long)before,
		       (unsigned long long)after, var.yoffset);
	}
	printf("]}\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "ioctl"))
		return run_ioctl(argc, argv);
	if (!strcmp(argv[1], "draw"))
		return run_draw(argc, argv);
	if (!strcmp(argv[1], "fill"))
		return run_fill(argc, argv);
	if (!strcmp(argv[1], "flips"))
		return run_flips(argc, argv);
	usage();
	return 2;
}
