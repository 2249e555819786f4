/* A tree of files described in memory: directories, files with their text, symbolic
 * links. It is what a VP's /sys and /run/udev hold for its devices (sysfs_layout.h
 * fills it); whoever serves it (the core's FUSE tree server, or plain files on a tmpfs:
 * sysfs_tree_write) walks the nodes in order, parents first.
 *
 * Paths are relative to the VP's root, without a leading slash ("sys/class/input").
 * Plain memory, no global state; not thread-safe: the caller serialises. */
#ifndef CELLS_DEVNS_SYSFS_TREE_H
#define CELLS_DEVNS_SYSFS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* A path of the tree is shorter than this: sysfs's are, and the buffers stay small enough
 * for any thread's stack. */
#define SYSFS_PATH_MAX 256

enum sysfs_kind {
	SYSFS_DIR,
	SYSFS_FILE,
	SYSFS_LINK,
};

struct sysfs_node {
	enum sysfs_kind kind;
	char *path;
	/* A file's text; a link's target, relative to the link's directory as sysfs writes
	 * its links ("../../devices/..."); NULL for a directory. */
	char *text;
	/* What a 32-bit reader gets instead, where the kernel prints it otherwise to one
	 * (input capability bitmaps: in_compat_syscall); NULL when it is TEXT. */
	char *compat_text;
	/* A file's permission bits as the kernel shows them (0444, or 0644 where the kernel
	 * lets its root write); a directory's 0755, a link's 0777. */
	unsigned mode;
	/* The text follows the device's state (the framebuffer's pan offset, its mode):
	 * render it again on each read with the formatter the layout names for it. */
	bool live;
};

struct sysfs_tree {
	struct sysfs_node *nodes;
	size_t n, size;
	/* Paths to nodes: open addressing, 1 + a node's index (0: free); a power of two
	 * at least twice N, so that a VP's tree (some 140 nodes) builds in linear time. */
	size_t *index, index_size;
};

void sysfs_tree_init(struct sysfs_tree *t);
void sysfs_tree_free(struct sysfs_tree *t);

/* A directory and every missing parent. Adding what is there already as a directory is
 * not an error. */
int sysfs_tree_dir(struct sysfs_tree *t, const char *path, struct error *err);
/* A file (its parents made as directories) with a copy of TEXT. -EEXIST if the path is
 * taken. */
int sysfs_tree_file(struct sysfs_tree *t, const char *path, unsigned mode, const char *text,
		    struct error *err);
/* Give the file at PATH a different text for 32-bit readers (see compat_text). -ENOENT
 * if PATH is no file. */
int sysfs_tree_set_compat(struct sysfs_tree *t, const char *path, const char *text,
			  struct error *err);
/* sysfs_tree_file with the text formatted. */
int sysfs_tree_printf(struct sysfs_tree *t, const char *path, unsigned mode, struct error *err,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A symbolic link at PATH to TARGET, both relative to the root; stored relative to the
 * link's directory. -EEXIST if PATH is taken by anything but the same link. */
int sysfs_tree_link(struct sysfs_tree *t, const char *path, const char *target, struct error *err);

/* The node at PATH, or NULL. The pointer is good until the next node is added. */
struct sysfs_node *sysfs_tree_find(const struct sysfs_tree *t, const char *path);

/* Where a link leads, as a path relative to the root (its "../" resolved against the
 * link's directory), into OUT (SIZE bytes). -EINVAL if it is not a link or climbs out. */
int sysfs_tree_resolve(const struct sysfs_node *link, char *out, size_t size);

/* Write the tree under DIR (which exists) as plain directories, files (their 64-bit
 * text) and links. For tests and for a runtime directory bound into a VP (/run/udev). */
int sysfs_tree_write(const struct sysfs_tree *t, const char *dir, struct error *err);

/* Whether PATH is TOP ("sys") or under it. */
bool sysfs_path_under(const char *path, const char *top);
/* sysfs_tree_write of the nodes under TOP only (INSIDE) or of all the others. */
int sysfs_tree_write_part(const struct sysfs_tree *t, const char *dir, const char *top, bool inside,
			  struct error *err);
/* A digest (FNV-1a, 64 bits) of what sysfs_tree_write writes of the nodes under TOP:
 * equal digests, equal files, for telling a tree written before from a new one. */
uint64_t sysfs_tree_digest(const struct sysfs_tree *t, const char *top);

#endif
