/* Validation and parsing of the names and sizes users give on the command line. */
#ifndef CELLS_NAMES_H
#define CELLS_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#define NAME_MAX_LEN 32

/* A VP or image name: 1..32 of [A-Za-z0-9_.-], starting with a letter or digit.
 * It becomes a hostname, a cgroup and a directory, so nothing else is allowed. */
bool name_is_valid(const char *name);

/* "512M", "1G", "65536", "4k" -> bytes. Returns -EINVAL on junk, -ERANGE on overflow. */
int parse_size(const char *text, uint64_t *bytes);

/* A display mode "720x1280" -> width, height, each 64..4096. -EINVAL otherwise. */
int parse_mode(const char *text, unsigned *width, unsigned *height);

#endif
