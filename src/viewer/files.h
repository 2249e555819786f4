/* noVNC's files, in memory (see files.c). */
#ifndef CELLS_VIEWER_FILES_H
#define CELLS_VIEWER_FILES_H

#include "common/error.h"

#include <stddef.h>

struct file_entry {
	char path[256]; /* relative to the directory, "core/rfb.js" */
	char *data;
	size_t size;
};

struct files {
	struct file_entry *entries;
	unsigned count;
	size_t bytes;
};

/* Read every regular file under DIR (no link followed). */
int files_load(struct files *f, const char *dir, struct error *err);
/* The file at REL, or NULL. */
const struct file_entry *files_find(const struct files *f, const char *rel);

#endif
