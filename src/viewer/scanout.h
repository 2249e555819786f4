/* The scanout in shared memory: cellsd composes the output (the foreground VP's page under
 * the status bar) into a memfd that the viewer maps read-only. Two frames: cellsd writes
 * the one not published last, then publishes it; a frame's sequence number is odd while
 * it is written, so the viewer, which may still be reading a frame when cellsd starts to
 * overwrite it (two publications later), sees the change and reads again. */
#ifndef CELLS_VIEWER_SCANOUT_H
#define CELLS_VIEWER_SCANOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SCANOUT_MAGIC  0x43454c53u /* "CELS" */
#define SCANOUT_FRAMES 2
#define SCANOUT_HEADER 4096 /* the frames start page aligned */

struct scanout_header {
	uint32_t magic;
	uint32_t width, height; /* XRGB8888 pixels, stride width */
	uint32_t pad;
	_Atomic uint64_t published; /* count of publications; the frame is published % 2 */
	_Atomic uint64_t seq[SCANOUT_FRAMES];
};

static inline size_t scanout_frame_size(uint32_t width, uint32_t height)
{
	return (size_t)width * height * 4;
}

static inline size_t scanout_size(uint32_t width, uint32_t height)
{
	return SCANOUT_HEADER + SCANOUT_FRAMES * scanout_frame_size(width, height);
}

static inline uint32_t *scanout_frame(void *base, unsigned index)
{
	struct scanout_header *h = base;

	return (uint32_t *)((char *)base + SCANOUT_HEADER +
			    index * scanout_frame_size(h->width, h->height));
}

#endif
