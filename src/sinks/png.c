#include "sinks/png.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* libpng reports errors by longjmp: this function changes no local after setjmp. */
static int encode(png_structp png, png_infop info, FILE *out, const uint32_t *pixels, int width,
		  int height, uint8_t *row)
{
	if (setjmp(png_jmpbuf(png)))
		return -EIO;
	png_init_io(png, out);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* The "up" filter alone: a third of the time of libpng's adaptive choice, on
	 * screens like ours, for a file no larger. */
	png_set_filter(png, 0, PNG_FILTER_UP);
	png_set_compression_level(png, 3);
	png_write_info(png, info);
	for (int y = 0; y < height; y++) {
		const uint32_t *src = pixels + (size_t)y * (size_t)width;
		for (int x = 0; x < width; x++) {
			row[3 * x] = (uint8_t)(src[x] >> 16);
			row[3 * x + 1] = (uint8_t)(src[x] >> 8);
			row[3 * x + 2] = (uint8_t)src[x];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	return 0;
}

int png_write_xrgb(int fd, const uint32_t *pixels, int width, int height, struct error *err)
{
	png_structp png = NULL;
	png_infop info = NULL;
	FILE *out = NULL;
	uint8_t *row = malloc((size_t)width * 3);
	int dupfd = dup(fd), ret = 0;

	if (!row || dupfd < 0 || !(out = fdopen(dupfd, "wb"))) {
		ret = error_set(err, errno ? errno : ENOMEM, "png: open the output");
		if (dupfd >= 0 && !out)
			close(dupfd);
		goto out;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		ret = error_set(err, ENOMEM, "png: create the writer");
		goto out;
	}
	if (encode(png, info, out, pixels, width, height, row) < 0)
		ret = error_set(err, EIO, "png: write failed");
out:
	if (png)
		png_destroy_write_struct(&png, info ? &info : NULL);
	if (out && fclose(out) != 0 && ret == 0)
		ret = error_set(err, errno, "png: close the output");
	free(row);
	return ret;
}
