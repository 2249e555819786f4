/* The core's FUSE tree server, its tree: nodes, open files and their queues, what devices
 * call (see fusetree.h; the requests are fusetree_fuse.c's).
 *
 * A node's inode number comes from a counter and is never reused, so a request naming a
 * removed node finds nothing (ENOENT) instead of a newer one; libfuse's forget needs no
 * answer. Waiting reads and poll handles belong to the open file: ending it answers them. */
#include "devns/fusetree_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Nodes by inode number */

static size_t bucket(const struct fusetree *tree, fuse_ino_t ino)
{
	return (size_t)(ino * 0x9e3779b97f4a7c15ull >> 32) & (tree->nbuckets - 1);
}

struct fusetree_node *ft_node_of(const struct fusetree *tree, fuse_ino_t ino)
{
	for (struct fusetree_node *n = tree->table[bucket(tree, ino)]; n; n = n->hnext)
		if (n->ino == ino)
			return n;
	return NULL;
}

static int table_grow(struct fusetree *tree)
{
	size_t old = tree->nbuckets;
	struct fusetree_node **table = calloc(old * 2, sizeof(*table)), **prev = tree->table;

	if (!table)
		return -ENOMEM;
	tree->table = table;
	tree->nbuckets = old * 2;
	for (size_t i = 0; i < old; i++)
		for (struct fusetree_node *n = prev[i], *next; n; n = next) {
			size_t b = bucket(tree, n->ino);
			next = n->hnext;
			n->hnext = table[b];
			table[b] = n;
		}
	free(prev);
	return 0;
}

static void table_del(struct fusetree *tree, struct fusetree_node *node)
{
	for (struct fusetree_node **p = &tree->table[bucket(tree, node->ino)]; *p; p = &(*p)->hnext)
		if (*p == node) {
			*p = node->hnext;
			tree->nnodes--;
			return;
		}
}

/* Nodes */

static void node_free(struct fusetree_node *node)
{
	if (node->kind == NODE_SYMLINK)
		free(node->target);
	free(node->name);
	free(node);
}

static bool name_ok(const char *name)
{
	size_t len = strnlen(name, FUSETREE_NAME_MAX + 1);
	return len > 0 && len <= FUSETREE_NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

struct fusetree_node *fusetree_find(struct fusetree_node *parent, const char *name)
{
	if (!parent || parent->kind != NODE_DIR || parent->removed)
		return NULL;
	for (struct fusetree_node *n = parent->children; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

int ft_node_add(struct fusetree *tree, struct fusetree_node *parent, const char *name,
		enum node_kind kind, mode_t mode, struct fusetree_node **out, struct error *err)
{
	struct fusetree_node *node, **tail;

	if (parent && (parent->kind != NODE_DIR || parent->removed))
		return error_set(err, ENOTDIR, "fusetree %s: add %s", tree->name, name);
	if (parent && !name_ok(name))
		return error_set(err, EINVAL, "fusetree %s: bad name", tree->name);
	if (parent && fusetree_find(parent, name))
		return error_set(err, EEXIST, "fusetree %s: add %s", tree->name, name);
	if (tree->nnodes >= tree->nbuckets && table_grow(tree) < 0)
		return error_set(err, ENOMEM, "fusetree %s: add %s", tree->name, name);
	if (!(node = calloc(1, sizeof(*node))) || !(node->name = strdup(name))) {
		free(node);
		return error_set(err, ENOMEM, "fusetree %s: add %s", tree->name, name);
	}
	node->tree = tree;
	node->kind = kind;
	node->mode = mode & 07777;
	node->ino = tree->next_ino++;
	node->parent = parent;
	if (parent) {
		for (tail = &parent->children; *tail; tail = &(*tail)->next)
			;
		*tail = node;
	}
	node->hnext = tree->table[bucket(tree, node->ino)];
	tree->table[bucket(tree, node->ino)] = node;
	tree->nnodes++;
	*out = node;
	return 0;
}

int fusetree_add_dir(struct fusetree_node *parent, const char *name, mode_t mode,
		     struct fusetree_node **out, struct error *err)
{
	struct fusetree_node *node = NULL;
	int ret;

	if (!parent)
		return error_set(err, EINVAL, "fusetree: no parent for %s", name);
	ret = ft_node_add(parent->tree, parent, name, NODE_DIR, mode, &node, err);
	if (ret == 0 && out)
		*out = node;
	return ret;
}

int fusetree_add_dirs(struct fusetree_node *parent, const char *path, mode_t mode,
		      struct fusetree_node **out, struct error *err)
{
	char name[FUSETREE_NAME_MAX + 1];
	struct fusetree_node *dir = parent, *next;
	int ret;

	while (*path) {
		size_t len = strcspn(path, "/");
		if (len == 0) {
			path++;
			continue;
		}
		if (len > FUSETREE_NAME_MAX)
			return error_set(err, ENAMETOOLONG, "fusetree %s: add %s",
					 parent->tree->name, path);
		memcpy(name, path, len);
		name[len] = '\0';
		path += len;
		if ((next = fusetree_find(dir, name))) {
			if (next->kind != NODE_DIR)
				return error_set(err, ENOTDIR, "fusetree %s: add %s",
						 parent->tree->name, name);
		} else if ((ret = fusetree_add_dir(dir, name, mode, &next, err)) < 0) {
			return ret;
		}
		dir = next;
	}
	if (out)
		*out = dir;
	return 0;
}

int fusetree_add_symlink(struct fusetree_node *parent, const char *name, const char *target,
			 struct fusetree_node **out, struct error *err)
{
	struct fusetree_node *node;
	char *copy;
	int ret;

	if (!*target || strlen(target) >= 4096)
		return error_set(err, EINVAL, "fusetree %s: symlink %s", parent->tree->name, name);
	if (!(copy = strdup(target)))
		return error_set(err, ENOMEM, "fusetree %s: symlink %s", parent->tree->name, name);
	if ((ret = ft_node_add(parent->tree, parent, name, NODE_SYMLINK, 0777, &node, err)) < 0) {
		free(copy);
		return ret;
	}
	node->target = copy;
	if (out)
		*out = node;
	return 0;
}

int fusetree_add_attr(struct fusetree_node *parent, const char *name, mode_t mode,
		      const struct fusetree_attr_ops *ops, void *data, struct fusetree_node **out,
		      struct error *err)
{
	struct fusetree_node *node = NULL;
	int ret = ft_node_add(parent->tree, parent, name, NODE_ATTR, mode, &node, err);

	if (ret < 0 || !node)
		return ret < 0 ? ret : -EINVAL;
	node->attr.ops = ops;
	node->data = data;
	if (out)
		*out = node;
	return 0;
}

int fusetree_add_stream(struct fusetree_node *parent, const char *name, mode_t mode,
			const struct fusetree_stream_ops *ops, void *data,
			struct fusetree_node **out, struct error *err)
{
	struct fusetree_node *node = NULL;
	int ret;

	if (!ops->open || !ops->release || (ops->read && !ops->readable))
		return error_set(err, EINVAL, "fusetree %s: stream %s lacks a handler",
				 parent->tree->name, name);
	if ((ret = ft_node_add(parent->tree, parent, name, NODE_STREAM, mode, &node, err)) < 0 ||
	    !node)
		return ret < 0 ? ret : -EINVAL;
	node->stream = ops;
	node->data = data;
	if (out)
		*out = node;
	return 0;
}

struct fusetree_node *fusetree_root(struct fusetree *tree)
{
	return tree->root;
}

ino_t fusetree_ino(const struct fusetree_node *node)
{
	return (ino_t)node->ino;
}

dev_t fusetree_dev(const struct fusetree *tree)
{
	return tree->dev;
}

unsigned fusetree_opens(const struct fusetree *tree)
{
	return tree->opens;
}

/* Open files */

static void end_reads(struct fusetree_file *file, int error)
{
	while (file->reads) {
		struct pending_read *r = file->reads;
		file->reads = r->next;
		fuse_reply_err(r->req, error);
		free(r);
	}
}

/* Tell FILE's poller that its state changed: it polls again for the new one. */
static void wake_poller(struct fusetree_file *file)
{
	if (!file->poll)
		return;
	fuse_lowlevel_notify_poll(file->poll);
	fuse_pollhandle_destroy(file->poll);
	file->poll = NULL;
}

static void queue_clear(struct fusetree_file *file)
{
	while (file->head) {
		struct record *r = file->head;
		file->head = r->next;
		free(r);
	}
	file->tail = NULL;
	file->queued = 0;
}

/* The device is done with FILE: its reads end, its poller wakes, its state goes. */
static void file_detach(struct fusetree_file *file)
{
	struct fusetree_node *node = file->node;

	file->hung_up = true;
	end_reads(file, ENODEV);
	wake_poller(file);
	queue_clear(file);
	if (node->kind == NODE_STREAM && !file->released) {
		file->released = true;
		node->stream->release(node->data, file->state);
		file->state = NULL;
	}
}

static void node_put(struct fusetree_node *node)
{
	if (--node->opens == 0 && node->removed)
		node_free(node);
}

void ft_file_free(struct fusetree_file *file)
{
	struct fusetree *tree = file->tree;

	for (struct fusetree_file **p = &tree->files; *p; p = &(*p)->next)
		if (*p == file) {
			*p = file->next;
			break;
		}
	file_detach(file);
	if (file->poll)
		fuse_pollhandle_destroy(file->poll);
	free(file->copy);
	tree->opens--;
	node_put(file->node);
	free(file);
}

/* Removal */

static void node_unlink(struct fusetree_node *node)
{
	struct fusetree *tree = node->tree;

	while (node->children) {
		struct fusetree_node *child = node->children;
		node->children = child->next;
		node_unlink(child);
	}
	for (struct fusetree_file *f = tree->files; f; f = f->next)
		if (f->node == node)
			file_detach(f);
	table_del(tree, node);
	node->removed = true;
	node->parent = NULL;
	if (node->opens == 0)
		node_free(node);
}

void fusetree_remove(struct fusetree_node *node)
{
	struct fusetree_node *parent = node->parent;

	if (!parent || node->removed)
		return;
	for (struct fusetree_node **p = &parent->children; *p; p = &(*p)->next)
		if (*p == node) {
			*p = node->next;
			break;
		}
	node_unlink(node);
}

/* What the device tells the tree */

void fusetree_notify(struct fusetree_node *attr)
{
	if (attr->kind != NODE_ATTR || attr->removed)
		return;
	attr->attr.event++;
	for (struct fusetree_file *f = attr->tree->files; f; f = f->next)
		if (f->node == attr)
			wake_poller(f);
}

bool ft_stream_readable(struct fusetree_file *file)
{
	const struct fusetree_stream_ops *ops = file->node->stream;
	return ops->read ? ops->readable(file->node->data, file->state) : file->head != NULL;
}

/* Whole records of the tree's queue into BUF; -EAGAIN when empty, -EINVAL when the first
 * does not fit. */
static ssize_t queue_read(struct fusetree_file *file, char *buf, size_t size)
{
	size_t used = 0;

	if (!file->head)
		return -EAGAIN;
	if (file->head->len > size)
		return -EINVAL;
	while (file->head && file->head->len <= size - used) {
		struct record *r = file->head;
		memcpy(buf + used, r->data, r->len);
		used += r->len;
		file->queued -= r->len;
		if (!(file->head = r->next))
			file->tail = NULL;
		free(r);
	}
	return (ssize_t)used;
}

static ssize_t stream_read(struct fusetree_file *file, size_t size)
{
	const struct fusetree_stream_ops *ops = file->node->stream;
	char *buf = file->tree->scratch;

	if (size > FUSETREE_READ_MAX)
		size = FUSETREE_READ_MAX;
	if (ops->read) {
		ssize_t n = ops->read(file->node->data, file->state, buf, size);
		return n > (ssize_t)size ? -EIO : n;
	}
	return queue_read(file, buf, size);
}

/* Answer REQ from FILE now if something is there: false when it must wait. */
bool ft_try_read(struct fusetree_file *file, fuse_req_t req, size_t size)
{
	ssize_t n = stream_read(file, size);

	if (n == -EAGAIN)
		return false;
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, file->tree->scratch, (size_t)n);
	return true;
}

void fusetree_wake(struct fusetree_file *file)
{
	if (file->hung_up)
		return;
	while (file->reads) {
		struct pending_read *r = file->reads;
		if (!ft_try_read(file, r->req, r->size))
			break;
		file->reads = r->next;
		free(r);
	}
	if (file->poll && ft_stream_readable(file))
		wake_poller(file);
}

int fusetree_push(struct fusetree_file *file, const void *record, size_t len)
{
	const struct fusetree_stream_ops *ops = file->node->stream;
	struct record *r;

	if (file->hung_up)
		return -ENODEV;
	if (len == 0 || len > FUSETREE_READ_MAX)
		return -EINVAL;
	if (file->queued + len > ops->queue_bytes)
		return -ENOBUFS;
	if (!(r = malloc(sizeof(*r) + len)))
		return -ENOMEM;
	r->next = NULL;
	r->len = len;
	memcpy(r->data, record, len);
	if (file->tail)
		file->tail->next = r;
	else
		file->head = r;
	file->tail = r;
	file->queued += len;
	fusetree_wake(file);
	return 0;
}

void fusetree_hangup(struct fusetree_file *file)
{
	file->hung_up = true;
	end_reads(file, ENODEV);
	wake_poller(file);
}

void ft_nodes_free(struct fusetree_node *node)
{
	while (node->children) {
		struct fusetree_node *child = node->children;
		node->children = child->next;
		ft_nodes_free(child);
	}
	node_free(node);
}
