/* Small file-system helpers. All return 0 or a negative errno. */
#ifndef CELLS_FSUTIL_H
#define CELLS_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

int mkdir_p(const char *path, mode_t mode);

/* Replace PATH with DATA so that a crash or a full disk leaves either the old or the new
 * content, never a mix: write a temporary file beside it, fsync, rename, fsync the dir. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Create PATH, empty, if it is missing: a flag whose existence is all it says. Visible
 * to any process at once; durable across a power loss only after sync_parent_dir(PATH),
 * which the caller may do later (with no data to protect, write_file_atomic's temporary
 * file, its fsync and the rename are one journal commit too many). */
int create_flag_file(const char *path, mode_t mode);

/* fsync the directory that holds PATH: its entries (a new or removed name) are durable. */
int sync_parent_dir(const char *path);

/* Read a whole file of at most MAX bytes into a NUL-terminated buffer. */
int read_file(const char *path, size_t max, char **out, size_t *out_len);

/* Write a short string to a control file (cgroup, /proc), as one write. */
int write_string(const char *path, const char *text);

/* Remove a tree without crossing mount points. */
int rm_rf(const char *path);

/* WHAT failed with ERRNUM on the fs context FSFD (fsopen): the error set, with the reason
 * the kernel wrote into the context if it wrote one; returns -ERRNUM. */
struct error;
int fsconfig_error(int fsfd, struct error *err, int errnum, const char *what);

#endif
