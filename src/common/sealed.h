/* A program as a sealed in-memory copy, to run in a VP without its host path. */
#ifndef CELLS_SEALED_H
#define CELLS_SEALED_H

#include "common/error.h"

/* A memfd named NAME holding PATH's content, sealed against any change: exec'd through
 * it, a process's /proc/PID/exe and maps read "/memfd:NAME (deleted)", not PATH. */
int sealed_copy(const char *path, const char *name, struct error *err);

#endif
