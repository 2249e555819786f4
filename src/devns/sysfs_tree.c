/* A tree of files in memory: see sysfs_tree.h. */
#include "devns/sysfs_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sysfs_tree_init(struct sysfs_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void sysfs_tree_free(struct sysfs_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->nodes[i].path);
		free(t->nodes[i].text);
		free(t->nodes[i].compat_text);
	}
	free(t->nodes);
	free(t->index);
	sysfs_tree_init(t);
}

/* Relative, no empty, "." or ".." component, shorter than SYSFS_PATH_MAX. */
static bool path_ok(const char *path)
{
	size_t len = strlen(path);
	const char *p = path;

	if (len == 0 || len >= SYSFS_PATH_MAX || path[0] == '/' || path[len - 1] == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* FNV-1a. */
static size_t hash(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return (size_t)h;
}

/* The slot of PATH in the index: where it is, or the free one where it would go. */
static size_t *slot(const struct sysfs_tree *t, const char *path)
{
	size_t mask = t->index_size - 1;

	for (size_t i = hash(path) & mask;; i = (i + 1) & mask)
		if (!t->index[i] || strcmp(t->nodes[t->index[i] - 1].path, path) == 0)
			return &t->index[i];
}

struct sysfs_node *sysfs_tree_find(const struct sysfs_tree *t, const char *path)
{
	size_t *s;

	if (!t->index_size)
		return NULL;
	s = slot(t, path);
	return *s ? &t->nodes[*s - 1] : NULL;
}

/* Room in the index for one node more. */
static int index_grow(struct sysfs_tree *t)
{
	size_t *old = t->index, old_size = t->index_size, size = old_size ? old_size : 256;

	if (2 * (t->n + 1) <= old_size)
		return 0;
	while (2 * (t->n + 1) > size)
		size *= 2;
	if (!(t->index = calloc(size, sizeof(*t->index)))) {
		t->index = old;
		return -ENOMEM;
	}
	t->index_size = size;
	for (size_t i = 0; i < t->n; i++)
		*slot(t, t->nodes[i].path) = i + 1;
	free(old);
	return 0;
}

static int add(struct sysfs_tree *t, enum sysfs_kind kind, const char *path, const char *text,
	       unsigned mode, struct error *err)
{
	struct sysfs_node *node;

	if (index_grow(t) < 0)
		return error_set(err, ENOMEM, "sysfs tree: %s", path);
	if (t->n == t->size) {
		size_t size = t->size ? 2 * t->size : 64;
		struct sysfs_node *nodes = realloc(t->nodes, size * sizeof(*nodes));
		if (!nodes)
			return error_set(err, ENOMEM, "sysfs tree: %s", path);
		t->nodes = nodes;
		t->size = size;
	}
	node = &t->nodes[t->n];
	*node = (struct sysfs_node){.kind = kind, .mode = mode};
	node->path = strdup(path);
	node->text = text ? strdup(text) : NULL;
	if (!node->path || (text && !node->text)) {
		free(node->path);
		free(node->text);
		return error_set(err, ENOMEM, "sysfs tree: %s", path);
	}
	*slot(t, node->path) = ++t->n;
	return 0;
}

/* Make every parent of PATH a directory. */
static int parents(struct sysfs_tree *t, const char *path, struct error *err)
{
	char dir[SYSFS_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return sysfs_tree_dir(t, dir, err);
}

int sysfs_tree_dir(struct sysfs_tree *t, const char *path, struct error *err)
{
	struct sysfs_node *old;
	int ret;

	if (!path_ok(path))
		return error_set(err, EINVAL, "sysfs tree: bad path '%s'", path);
	old = sysfs_tree_find(t, path);
	if (old)
		return old->kind == SYSFS_DIR
			       ? 0
			       : error_set(err, EEXIST, "sysfs tree: %s is taken", path);
	if ((ret = parents(t, path, err)) < 0)
		return ret;
	return add(t, SYSFS_DIR, path, NULL, 0755, err);
}

int sysfs_tree_file(struct sysfs_tree *t, const char *path, unsigned mode, const char *text,
		    struct error *err)
{
	int ret;

	if (!path_ok(path))
		return error_set(err, EINVAL, "sysfs tree: bad path '%s'", path);
	if (sysfs_tree_find(t, path))
		return error_set(err, EEXIST, "sysfs tree: %s is taken", path);
	if ((ret = parents(t, path, err)) < 0)
		return ret;
	return add(t, SYSFS_FILE, path, text, mode & 07777, err);
}

int sysfs_tree_set_compat(struct sysfs_tree *t, const char *path, const char *text,
			  struct error *err)
{
	struct sysfs_node *node = sysfs_tree_find(t, path);
	char *copy;

	if (!node || node->kind != SYSFS_FILE)
		return error_set(err, ENOENT, "sysfs tree: no file %s", path);
	if (!(copy = strdup(text)))
		return error_set(err, ENOMEM, "sysfs tree: %s", path);
	free(node->compat_text);
	node->compat_text = copy;
	return 0;
}

int sysfs_tree_printf(struct sysfs_tree *t, const char *path, unsigned mode, struct error *err,
		      const char *fmt, ...)
{
	char *text;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return error_set(err, ENOMEM, "sysfs tree: %s", path);
	ret = sysfs_tree_file(t, path, mode, text, err);
	free(text);
	return ret;
}

/* TARGET relative to the directory of PATH, into OUT. */
static int relative(const char *path, const char *target, char *out, size_t size)
{
	size_t common = 0, used = 0;
	const char *rest;

	/* The longest run of whole leading components both share, not counting PATH's last
	 * component (the link itself). */
	for (size_t i = 0; path[i] && path[i] == target[i]; i++)
		if (path[i] == '/')
			common = i + 1;
	rest = path + common;
	out[0] = '\0';
	for (const char *p = rest; (p = strchr(p, '/')); p++) {
		if (used + 3 >= size)
			return -ENAMETOOLONG;
		memcpy(out + used, "../", 4);
		used += 3;
	}
	if (used + strlen(target + common) >= size)
		return -ENAMETOOLONG;
	strcpy(out + used, target + common);
	return 0;
}

int sysfs_tree_link(struct sysfs_tree *t, const char *path, const char *target, struct error *err)
{
	char rel[SYSFS_PATH_MAX];
	struct sysfs_node *old;
	int ret;

	if (!path_ok(path) || !path_ok(target))
		return error_set(err, EINVAL, "sysfs tree: bad link '%s' -> '%s'", path, target);
	if (relative(path, target, rel, sizeof(rel)) < 0)
		return error_set(err, ENAMETOOLONG, "sysfs tree: link %s", path);
	old = sysfs_tree_find(t, path);
	if (old) {
		if (old->kind == SYSFS_LINK && strcmp(old->text, rel) == 0)
			return 0;
		return error_set(err, EEXIST, "sysfs tree: %s is taken", path);
	}
	if ((ret = parents(t, path, err)) < 0)
		return ret;
	return add(t, SYSFS_LINK, path, rel, 0777, err);
}

int sysfs_tree_resolve(const struct sysfs_node *link, char *out, size_t size)
{
	char buf[SYSFS_PATH_MAX];
	const char *p;
	char *slash;
	int n;

	if (link->kind != SYSFS_LINK)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", link->path);
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	else
		buf[0] = '\0';
	for (p = link->text; strncmp(p, "../", 3) == 0; p += 3) {
		if (!buf[0])
			return -EINVAL;
		slash = strrchr(buf, '/');
		if (slash)
			*slash = '\0';
		else
			buf[0] = '\0';
	}
	n = snprintf(out, size, "%s%s%s", buf, buf[0] ? "/" : "", p);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int write_file(int dirfd, const struct sysfs_node *node, struct error *err)
{
	size_t len = strlen(node->text), done = 0;
	int fd = openat(dirfd, node->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			node->mode);
	int ret = 0;

	if (fd < 0)
		return error_set(err, errno, "create %s", node->path);
	while (done < len) {
		ssize_t n = write(fd, node->text + done, len - done);
		if (n < 0) {
			ret = error_set(err, errno, "write %s", node->path);
			break;
		}
		done += (size_t)n;
	}
	/* The umask must not change what the kernel would show. */
	if (ret == 0 && fchmod(fd, node->mode) < 0)
		ret = error_set(err, errno, "chmod %s", node->path);
	close(fd);
	return ret;
}

bool sysfs_path_under(const char *path, const char *top)
{
	size_t len = strlen(top);

	return strncmp(path, top, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

int sysfs_tree_write(const struct sysfs_tree *t, const char *dir, struct error *err)
{
	return sysfs_tree_write_part(t, dir, NULL, false, err);
}

int sysfs_tree_write_part(const struct sysfs_tree *t, const char *dir, const char *top, bool inside,
			  struct error *err)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (dirfd < 0)
		return error_set(err, errno, "open %s", dir);
	for (size_t i = 0; i < t->n && ret == 0; i++) {
		const struct sysfs_node *node = &t->nodes[i];
		if (top && sysfs_path_under(node->path, top) != inside)
			continue;
		switch (node->kind) {
		case SYSFS_DIR:
			if (mkdirat(dirfd, node->path, node->mode) < 0 && errno != EEXIST)
				ret = error_set(err, errno, "create %s/%s", dir, node->path);
			break;
		case SYSFS_FILE:
			ret = write_file(dirfd, node, err);
			break;
		case SYSFS_LINK:
			if (symlinkat(node->text, dirfd, node->path) < 0)
				ret = error_set(err, errno, "link %s/%s", dir, node->path);
			break;
		}
	}
	close(dirfd);
	return ret;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t sysfs_tree_digest(const struct sysfs_tree *t, const char *top)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < t->n; i++) {
		const struct sysfs_node *node = &t->nodes[i];
		unsigned char kind = (unsigned char)node->kind;
		if (!sysfs_path_under(node->path, top))
			continue;
		h = fnv1a(h, &kind, 1);
		h = fnv1a(h, &node->mode, sizeof(node->mode));
		h = fnv1a(h, node->path, strlen(node->path) + 1);
		if (node->text)
			h = fnv1a(h, node->text, strlen(node->text) + 1);
	}
	return h;
}
