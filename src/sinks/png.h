/* Screenshots: the composed output as a PNG file. */
#ifndef CELLS_SINKS_PNG_H
#define CELLS_SINKS_PNG_H

#include "common/error.h"

#include <stdint.h>

/* Write WIDTH x HEIGHT XRGB8888 pixels (stride WIDTH) to FD as an RGB PNG. */
int png_write_xrgb(int fd, const uint32_t *pixels, int width, int height, struct error *err);

#endif
