/* The multiplexed framebuffer (mux_fb): what the display sinks (VNC, screenshots) read. */
#ifndef CELLS_DEVICES_DISPLAY_H
#define CELLS_DEVICES_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

struct display;

/* The panel (the output: `--display WxH`) is the root's status bar, then a VP's screen:
 * a VP's mode is the panel's width by its height less the bar, so the bar hides none of
 * its pixels and it cannot draw into the bar. */
#define STATUS_BAR_HEIGHT 28

static inline int display_vp_height(int panel_height)
{
	return panel_height - STATUS_BAR_HEIGHT;
}

/* The output's size in pixels: the panel's. */
void display_size(const struct display *d, int *width, int *height);

/* Compose what the output shows now into OUT (width*height XRGB8888 pixels, stride
 * width): the root's status bar, then below it the foreground VP's visible page, whole
 * (or black). Returns a counter that changes whenever the picture may have (a flip, a
 * switch). */
uint64_t display_compose(struct display *d, uint32_t *out);

/* CHANGED(ARG) is told whenever the picture may have changed: a flip of the page shown, a
 * blank, a switch. It runs with the device lock held, in the thread that serves the VP's
 * call, so it may only signal (an atomic, an eventfd). CHANGED NULL: nobody is told; once
 * this returns, the old one is not running and will not be called. */
void display_watch(struct display *d, void (*changed)(void *arg), void *arg);

/* The foreground VP changed (NAME NULL: none): its name and colour go on the status bar. */
void display_set_foreground(struct display *d, const char *name, unsigned id);

#endif
