/* The FUSE tree server's parts: fusetree.c keeps the tree (nodes, open files, queues:
 * what devices call), fusetree_fuse.c answers FUSE's requests with it. Everything here is
 * used with the device lock held. */
#ifndef CELLS_DEVNS_FUSETREE_INTERNAL_H
#define CELLS_DEVNS_FUSETREE_INTERNAL_H

#define FUSE_USE_VERSION 312
#include "devns/fusetree.h"

#include <fuse_lowlevel.h>

#define FUSETREE_NAME_MAX 255

enum node_kind { NODE_DIR, NODE_SYMLINK, NODE_ATTR, NODE_STREAM };

struct fusetree_node {
	struct fusetree *tree;
	enum node_kind kind;
	fuse_ino_t ino;
	mode_t mode;
	char *name;
	struct fusetree_node *parent;
	struct fusetree_node *children, *next; /* children in the order added: by ino */
	struct fusetree_node *hnext;	       /* in the tree's table by ino */
	unsigned opens;			       /* files that point here */
	bool removed;
	union {
		char *target;
		struct {
			const struct fusetree_attr_ops *ops;
			uint64_t event; /* fusetree_notify's count */
		} attr;
		const struct fusetree_stream_ops *stream;
	};
	void *data;
};

struct pending_read {
	fuse_req_t req;
	size_t size;
	struct pending_read *next;
};

struct record {
	struct record *next;
	size_t len;
	char data[];
};

struct fusetree_file {
	struct fusetree *tree;
	struct fusetree_node *node;
	uint64_t fh;
	struct fusetree_file *next;
	struct fuse_pollhandle *poll;
	bool hung_up;  /* revoked, or its node removed */
	bool released; /* the stream's release was called */
	/* A stream's */
	void *state;
	struct pending_read *reads; /* oldest first */
	struct record *head, *tail; /* the tree's queue */
	size_t queued;
	/* An attribute's: the contents the last read at offset 0 took. */
	char *copy;
	size_t copy_len;
	bool copied;
	uint64_t event; /* the node's event count when it was last read */
};

struct fusetree {
	struct fusetree_config config;
	char mountpoint[256];
	char name[64];
	struct fusetree_node *root;
	struct fusetree_node **table; /* by ino */
	size_t nbuckets, nnodes;
	fuse_ino_t next_ino;
	struct fusetree_file *files;
	uint64_t next_fh;
	unsigned opens;
	char *scratch;	 /* a read's answer: used under the lock */
	char *ioctl_out; /* an ioctl's */
	struct fuse_session *se;
	struct fuse_buf buf;
	struct loop_watch watch;
	bool watching, mounted;
	dev_t dev;
	time_t created;
};

static inline void tree_lock(struct fusetree *tree)
{
	pthread_mutex_lock(tree->config.lock);
}

static inline void tree_unlock(struct fusetree *tree)
{
	pthread_mutex_unlock(tree->config.lock);
}

/* The node numbered INO, or NULL (unknown or removed). */
struct fusetree_node *ft_node_of(const struct fusetree *tree, fuse_ino_t ino);
/* A node of KIND in PARENT (NULL: the root). */
int ft_node_add(struct fusetree *tree, struct fusetree_node *parent, const char *name,
		enum node_kind kind, mode_t mode, struct fusetree_node **out, struct error *err);
/* Free NODE and everything under it, opens or not (the tree's end). */
void ft_nodes_free(struct fusetree_node *node);
/* An open ends: released, unlinked, freed. */
void ft_file_free(struct fusetree_file *file);
bool ft_stream_readable(struct fusetree_file *file);
/* Answer REQ from FILE now if something is there: false when it must wait. */
bool ft_try_read(struct fusetree_file *file, fuse_req_t req, size_t size);

#endif
