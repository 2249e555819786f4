/* The panel: the daemon's screen (`cellsd --display WxH`), what VNC, the web page and
 * `cell screenshot` show. Its top rows are the root's status bar (the foreground VP's name
 * and colour, drawn by the display); a VP's screen is the rest, below it: its
 * framebuffer's mode and its touchscreen's range, so the bar hides none of its pixels and
 * no VP can draw into the bar. */
#ifndef CELLS_COMMON_PANEL_H
#define CELLS_COMMON_PANEL_H

#define PANEL_BAR_HEIGHT 28

/* The height of a VP's screen on a panel PANEL_HEIGHT rows high. */
static inline int panel_vp_height(int panel_height)
{
	return panel_height - PANEL_BAR_HEIGHT;
}

#endif
