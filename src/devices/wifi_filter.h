/* What of the real wpa_supplicant's answers and events a VP sees (pure, no I/O): events
 * of a fixed list only, and a network id is the VP's own (the real one mapped back) or
 * -1, with its id_str emptied, so that no VP learns another's networks through them. */
#ifndef CELLS_WIFI_FILTER_H
#define CELLS_WIFI_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* The VP's id of the supplicant's network REAL, or -1 (not the VP's). */
typedef int (*wifi_map_id)(void *ctx, int real);

/* Whether LINE ("<N>CTRL-EVENT-…") is an event the VPs get. */
bool wifi_event_forwarded(const char *line, size_t len);
/* LINE with every "id=N" mapped through MAP (and "id_str=…" emptied unless N maps) into
 * OUT (NUL-ended): its length. STATUS's lines go through it too. */
size_t wifi_filter_ids(const char *line, size_t len, wifi_map_id map, void *ctx, char *out,
		       size_t size);
/* The real network id an event or a STATUS answer names ("id=N"), or -1. */
int wifi_real_id(const char *line, size_t len);

#endif
