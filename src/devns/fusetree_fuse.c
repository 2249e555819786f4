/* The core's FUSE tree server, its FUSE side: the mount, the session on the event loop
 * and the answer to every request (see fusetree.h; the tree is fusetree.c's).
 *
 * Every request takes the device lock around what it reads of the tree: devices add and
 * remove nodes, push records and hang files up from any thread under the same lock.
 * Replies are written to /dev/fuse under it (they never block). A file handle (fh) is a
 * serial number looked up in the tree's list of opens, never a pointer, so that nothing
 * a request says is dereferenced unchecked. */
#include "devns/fusetree_internal.h"
#include "common/log.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define YEAR	   (86400.0 * 365)
#define BATCH	   64	 /* requests read per wake-up of the loop */
#define DIRBUF_MAX 65536 /* bytes of one readdir answer at most */

static double cache_seconds(const struct fusetree *tree)
{
	return tree->config.cache_seconds > 0 ? tree->config.cache_seconds : YEAR;
}

/* Requests */

static struct fusetree_file *file_of(struct fusetree *tree, const struct fuse_file_info *fi)
{
	for (struct fusetree_file *f = tree->files; f; f = f->next)
		if (f->fh == fi->fh)
			return f;
	return NULL;
}

static void fill_attr(const struct fusetree *tree, const struct fusetree_node *node,
		      struct stat *st)
{
	static const mode_t types[] = {
		[NODE_DIR] = S_IFDIR,
		[NODE_SYMLINK] = S_IFLNK,
		[NODE_ATTR] = S_IFREG,
		[NODE_STREAM] = S_IFREG,
	};

	memset(st, 0, sizeof(*st));
	st->st_ino = node->ino;
	st->st_uid = tree->config.uid;
	st->st_gid = tree->config.gid;
	st->st_mode = types[node->kind] | node->mode;
	st->st_nlink = node->kind == NODE_DIR ? 2 : 1;
	st->st_blksize = 4096;
	if (node->kind == NODE_ATTR)
		st->st_size = FUSETREE_ATTR_MAX;
	else if (node->kind == NODE_SYMLINK)
		st->st_size = (off_t)strlen(node->target);
	st->st_atime = st->st_mtime = st->st_ctime = tree->created;
}

static void on_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fuse_entry_param e = {.attr_timeout = cache_seconds(tree),
				     .entry_timeout = cache_seconds(tree)};
	struct fusetree_node *dir, *node;

	tree_lock(tree);
	dir = ft_node_of(tree, parent);
	if (!dir) {
		fuse_reply_err(req, ENOENT);
	} else if (dir->kind != NODE_DIR) {
		fuse_reply_err(req, ENOTDIR);
	} else if (!(node = fusetree_find(dir, name))) {
		fuse_reply_err(req, ENOENT); /* not cached: a device may add it later */
	} else {
		e.ino = node->ino;
		fill_attr(tree, node, &e.attr);
		/* An attribute is looked up again at every open: a splice read (busybox's cat)
		 * goes through the page cache, whose short read makes the kernel keep the
		 * contents' length as the size, and would cut a longer text read later. */
		if (node->kind == NODE_ATTR)
			e.entry_timeout = e.attr_timeout = 0;
		fuse_reply_entry(req, &e);
	}
	tree_unlock(tree);
}

static void on_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_node *node;
	struct stat st;

	(void)fi;
	tree_lock(tree);
	if (!(node = ft_node_of(tree, ino))) {
		fuse_reply_err(req, ENOENT);
	} else {
		fill_attr(tree, node, &st);
		fuse_reply_attr(req, &st, cache_seconds(tree));
	}
	tree_unlock(tree);
}

/* Truncating an attribute is harmless (sysfs ignores it too), a stream is not a regular
 * file; owner and mode are not the VP's to change, times are ignored. */
static void on_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_node *node;
	struct stat st;

	(void)attr;
	(void)fi;
	tree_lock(tree);
	if (!(node = ft_node_of(tree, ino)))
		fuse_reply_err(req, ENOENT);
	else if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		fuse_reply_err(req, EPERM);
	else if ((to_set & FUSE_SET_ATTR_SIZE) && node->kind == NODE_DIR)
		fuse_reply_err(req, EISDIR);
	else if ((to_set & FUSE_SET_ATTR_SIZE) && node->kind != NODE_ATTR)
		fuse_reply_err(req, EINVAL); /* as a character device's */
	else {
		fill_attr(tree, node, &st);
		fuse_reply_attr(req, &st, cache_seconds(tree));
	}
	tree_unlock(tree);
}

static void on_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_node *node;

	tree_lock(tree);
	if (!(node = ft_node_of(tree, ino)))
		fuse_reply_err(req, ENOENT);
	else if (node->kind != NODE_SYMLINK)
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_readlink(req, node->target);
	tree_unlock(tree);
}

/* Offsets: 1 after ".", 2 after "..", a child's ino + 2 after it. Children are kept by
 * ino, so a listing goes on where it stopped whatever was added or removed meanwhile. */
static void on_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_node *dir;
	size_t used = 0, cap = size < DIRBUF_MAX ? size : DIRBUF_MAX;
	char *buf;
	struct stat st;

	(void)fi;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!(buf = malloc(cap ? cap : 1))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	tree_lock(tree);
	if (!(dir = ft_node_of(tree, ino))) {
		fuse_reply_err(req, ENOENT);
		goto out;
	}
	if (dir->kind != NODE_DIR) {
		fuse_reply_err(req, ENOTDIR);
		goto out;
	}
	for (off_t dot = off; dot < 2; dot++) {
		const struct fusetree_node *n = dot == 0 || !dir->parent ? dir : dir->parent;
		size_t need;
		fill_attr(tree, n, &st);
		need = fuse_add_direntry(req, buf + used, cap - used, dot ? ".." : ".", &st,
					 dot + 1);
		if (need > cap - used)
			goto reply;
		used += need;
	}
	for (struct fusetree_node *n = dir->children; n; n = n->next) {
		size_t need;
		if ((off_t)(n->ino + 2) <= off)
			continue;
		fill_attr(tree, n, &st);
		need = fuse_add_direntry(req, buf + used, cap - used, n->name, &st,
					 (off_t)(n->ino + 2));
		if (need > cap - used)
			break;
		used += need;
	}
reply:
	fuse_reply_buf(req, buf, used);
out:
	tree_unlock(tree);
	free(buf);
}

/* Is thread TID running an i386 program? */
static bool caller_is_i386(pid_t tid)
{
	char path[64];
	unsigned char hdr[EI_NIDENT + 4];
	int fd;
	bool i386 = false;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr))
		i386 = hdr[EI_CLASS] == ELFCLASS32 && (hdr[18] | hdr[19] << 8) == EM_386;
	close(fd);
	return i386;
}

static void on_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fusetree *tree = fuse_req_userdata(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fusetree_caller caller = {
		.pid = ctx->pid, .uid = ctx->uid, .gid = ctx->gid, .flags = fi->flags};
	bool reading = (fi->flags & O_ACCMODE) != O_WRONLY;
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct fusetree_node *node;
	struct fusetree_file *file = NULL;
	int ret;

	/* A stream's opener is looked at before the lock: a file read. */
	tree_lock(tree);
	node = ft_node_of(tree, ino);
	caller.i386 = node && node->kind == NODE_STREAM;
	tree_unlock(tree);
	if (caller.i386)
		caller.i386 = caller_is_i386(ctx->pid);
	tree_lock(tree);
	if (!(node = ft_node_of(tree, ino))) {
		ret = ENOENT;
	} else if (node->kind == NODE_DIR) {
		ret = EISDIR;
	} else if (node->kind == NODE_SYMLINK) {
		ret = ELOOP;
	} else if (node->kind == NODE_ATTR &&
		   ((reading && !node->attr.ops->show) || (writing && !node->attr.ops->store))) {
		ret = EACCES;
	} else if (node->kind == NODE_STREAM && writing && !node->stream->write) {
		ret = EACCES;
	} else if (tree->opens >= tree->config.max_opens) {
		ret = EMFILE;
	} else if (!(file = calloc(1, sizeof(*file)))) {
		ret = ENOMEM;
	} else {
		ret = 0;
	}
	if (ret) {
		tree_unlock(tree);
		fuse_reply_err(req, ret);
		return;
	}
	file->tree = tree;
	file->node = node;
	file->event = node->kind == NODE_ATTR ? node->attr.event : 0;
	if (node->kind == NODE_STREAM &&
	    (ret = node->stream->open(node->data, file, &caller, &file->state)) < 0) {
		tree_unlock(tree);
		free(file);
		fuse_reply_err(req, -ret);
		return;
	}
	node->opens++;
	tree->opens++;
	file->fh = ++tree->next_fh;
	file->next = tree->files;
	tree->files = file;
	fi->fh = file->fh;
	fi->direct_io = 1; /* every read reaches us: no page cache */
	fi->keep_cache = 0;
	fi->noflush = 1; /* a close is not a request: the supervisor's closes stay local */
	if (node->kind == NODE_STREAM)
		fi->nonseekable = 1;
	/* If the opener is gone already, no release will come: drop the file here. */
	if (fuse_reply_open(req, fi) == -ENOENT)
		ft_file_free(file);
	tree_unlock(tree);
}

static void on_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_file *file;

	(void)ino;
	tree_lock(tree);
	if ((file = file_of(tree, fi)))
		ft_file_free(file);
	tree_unlock(tree);
	fuse_reply_err(req, 0);
}

static void attr_read(fuse_req_t req, struct fusetree_file *file, size_t size, off_t off)
{
	struct fusetree_node *node = file->node;
	ssize_t n;

	if (!file->copy && !(file->copy = malloc(FUSETREE_ATTR_MAX))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off == 0 || !file->copied) {
		n = node->attr.ops->show(node->data, file->copy, FUSETREE_ATTR_MAX);
		if (n < 0) {
			fuse_reply_err(req, (int)-n);
			return;
		}
		file->copy_len = (size_t)n < FUSETREE_ATTR_MAX ? (size_t)n : FUSETREE_ATTR_MAX;
		file->copied = true;
		file->event = node->attr.event;
	}
	if ((uint64_t)off >= file->copy_len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > file->copy_len - (size_t)off)
		size = file->copy_len - (size_t)off;
	fuse_reply_buf(req, file->copy + off, size);
}

/* A read made by a thread of this daemon: see fusetree.h. */
static bool read_by_daemon(fuse_req_t req)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)fuse_req_ctx(req)->pid);
	return fuse_req_ctx(req)->pid > 0 && access(path, F_OK) == 0;
}

/* A reader waiting in read() got a signal: its read ends with EINTR. DATA is the tree;
 * the read is looked up by its request, which libfuse keeps alive here. */
static void on_interrupt(fuse_req_t req, void *data)
{
	struct fusetree *tree = data;

	tree_lock(tree);
	for (struct fusetree_file *f = tree->files; f; f = f->next)
		for (struct pending_read **p = &f->reads; *p; p = &(*p)->next)
			if ((*p)->req == req) {
				struct pending_read *r = *p;
				*p = r->next;
				free(r);
				fuse_reply_err(req, EINTR);
				tree_unlock(tree);
				return;
			}
	tree_unlock(tree);
}

/* Answer a read of FILE now, or make it wait; DAEMON: the reader is a thread of this
 * process (false: not known yet, *ASK set when it must be). */
static void stream_read_req(fuse_req_t req, struct fusetree_file *file, size_t size,
			    const struct fuse_file_info *fi, bool daemon, bool *ask)
{
	struct pending_read *r, **tail;

	if (file->hung_up) {
		fuse_reply_err(req, ENODEV);
	} else if (!file->reads && ft_try_read(file, req, size)) {
		return;
	} else if (fi->flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN);
	} else if (ask && !daemon) {
		*ask = true;
	} else if (daemon) {
		fuse_reply_err(req, EIO);
	} else if (!(r = calloc(1, sizeof(*r)))) {
		fuse_reply_err(req, ENOMEM);
	} else {
		r->req = req;
		r->size = size;
		for (tail = &file->reads; *tail; tail = &(*tail)->next)
			;
		*tail = r;
		/* Not interrupted yet: its interrupt is read after this handler returns. */
		fuse_req_interrupt_func(req, on_interrupt, file->tree);
	}
}

static void on_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_file *file;
	bool ask = false, daemon;

	(void)ino;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	tree_lock(tree);
	if (!(file = file_of(tree, fi)))
		fuse_reply_err(req, EBADF);
	else if (file->node->kind == NODE_ATTR && file->hung_up)
		fuse_reply_err(req, ENODEV);
	else if (file->node->kind == NODE_ATTR)
		attr_read(req, file, size, off);
	else
		stream_read_req(req, file, size, fi, false, &ask);
	tree_unlock(tree);
	if (!ask)
		return;
	/* It would wait: who reads is asked only now (a system call, outside the lock),
	 * and the read tried again, since the file may have changed meanwhile. */
	daemon = read_by_daemon(req);
	tree_lock(tree);
	if (!(file = file_of(tree, fi)))
		fuse_reply_err(req, EBADF);
	else
		stream_read_req(req, file, size, fi, daemon, NULL);
	tree_unlock(tree);
}

static void on_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_file *file;
	struct fusetree_node *node;
	ssize_t n;

	(void)ino;
	(void)off; /* sysfs ignores it; a stream has none */
	tree_lock(tree);
	if (!(file = file_of(tree, fi))) {
		n = -EBADF;
	} else if (file->hung_up) {
		n = -ENODEV;
	} else if ((node = file->node)->kind == NODE_ATTR) {
		if (size == 0)
			n = 0;
		else if (size > FUSETREE_ATTR_MAX)
			n = -EINVAL;
		else if (!node->attr.ops->store)
			n = -EACCES;
		else if ((n = node->attr.ops->store(node->data, buf, size)) > (ssize_t)size)
			n = (ssize_t)size;
	} else if (!node->stream->write) {
		n = -EACCES;
	} else if ((n = node->stream->write(node->data, file->state, buf, size)) > (ssize_t)size) {
		n = (ssize_t)size;
	}
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
	tree_unlock(tree);
}

static void on_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct fusetree *tree = fuse_req_userdata(req);
	struct fusetree_file *file;
	unsigned events = 0;

	(void)ino;
	tree_lock(tree);
	if (!(file = file_of(tree, fi))) {
		tree_unlock(tree);
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_err(req, EBADF);
		return;
	}
	if (file->hung_up) {
		events = POLLHUP | POLLERR;
	} else if (file->node->kind == NODE_ATTR) {
		/* As kernfs: always ready, and "changed" until read again. */
		events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
		if (file->event != file->node->attr.event)
			events |= POLLERR | POLLPRI;
	} else {
		if (ft_stream_readable(file))
			events |= POLLIN | POLLRDNORM;
		if (file->node->stream->write)
			events |= POLLOUT | POLLWRNORM;
	}
	if (ph) {
		if (file->poll)
			fuse_pollhandle_destroy(file->poll);
		file->poll = ph;
	}
	fuse_reply_poll(req, events);
	tree_unlock(tree);
}

static void on_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
		     size_t out_bufsz)
{
	struct fusetree *tree = fuse_req_userdata(req);
	size_t out_size = out_bufsz < FUSETREE_IOCTL_MAX ? out_bufsz : FUSETREE_IOCTL_MAX;
	struct fusetree_file *file;
	long ret;

	(void)ino;
	if (flags & FUSE_IOCTL_DIR) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	tree_lock(tree);
	if (!(file = file_of(tree, fi)))
		ret = -EBADF;
	else if (file->node->kind != NODE_STREAM || !file->node->stream->ioctl)
		ret = -ENOTTY;
	else if (file->hung_up)
		ret = -ENODEV;
	else
		ret = file->node->stream->ioctl(
			file->node->data, file->state, cmd, (uint64_t)(uintptr_t)arg, in_buf,
			in_bufsz, tree->ioctl_out, &out_size, flags & FUSE_IOCTL_COMPAT);
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else
		fuse_reply_ioctl(req, (int)ret, tree->ioctl_out,
				 out_size < FUSETREE_IOCTL_MAX ? out_size : FUSETREE_IOCTL_MAX);
	tree_unlock(tree);
}

/* The VP makes nothing here: sysfs refuses a new file with EACCES. */
static void on_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EACCES);
}

static void on_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EACCES);
}

static void on_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, EACCES);
}

static void on_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EACCES);
}

static void on_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	(void)ino, (void)parent, (void)name;
	fuse_reply_err(req, EACCES);
}

static void on_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void on_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EPERM);
}

/* An open with O_TRUNC (a shell's `>`) is a setattr, whose answer keeps an attribute's
 * size at 4096: with the kernel truncating by itself on open (atomic_o_trunc), the size
 * it keeps would be the write's, and a later read would be cut to it. */
static void on_init(void *data, struct fuse_conn_info *conn)
{
	(void)data;
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
}

static const struct fuse_lowlevel_ops ops = {
	.init = on_init,
	.lookup = on_lookup,
	.getattr = on_getattr,
	.setattr = on_setattr,
	.readlink = on_readlink,
	.readdir = on_readdir,
	.open = on_open,
	.release = on_release,
	.read = on_read,
	.write = on_write,
	.poll = on_poll,
	.ioctl = on_ioctl,
	.mknod = on_mknod,
	.mkdir = on_mkdir,
	.create = on_create,
	.symlink = on_symlink,
	.link = on_link,
	.unlink = on_unlink,
	.rmdir = on_unlink,
	.rename = on_rename,
};

/* Serving */

static void serve(struct fusetree *tree)
{
	for (int i = 0; i < BATCH; i++) {
		int res = fuse_session_receive_buf(tree->se, &tree->buf);
		if (res == -EINTR)
			continue;
		if (res == -EAGAIN)
			return;
		if (fuse_session_exited(tree->se)) {
			/* The connection is gone (aborted through /sys/fs/fuse, or the last
			 * mount of it went): nothing more will come. */
			if (tree->watching) {
				loop_del(tree->config.loop, &tree->watch);
				tree->watching = false;
			}
			return;
		}
		if (res <= 0) {
			log_warn_errno(-res, "fusetree: read a request from %s", tree->mountpoint);
			return;
		}
		fuse_session_process_buf(tree->se, &tree->buf);
	}
}

static void on_fuse(struct loop_watch *w, uint32_t events)
{
	(void)events;
	serve(container_of(w, struct fusetree, watch));
}

void fusetree_serve(struct fusetree *tree)
{
	if (tree && tree->watching)
		serve(tree);
}

/* The tree and its session, not mounted yet (the fuzz harness gives it its own I/O). */
static int tree_new(struct fusetree **out, const struct fusetree_config *config, struct error *err)
{
	char *argv[] = {"cellsd", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fusetree *tree = calloc(1, sizeof(*tree));
	struct fusetree_node *root;

	if (!tree)
		return error_set(err, ENOMEM, "fusetree");
	tree->config = *config;
	tree->created = time(NULL);
	tree->watch.fd = -1;
	tree->next_ino = FUSE_ROOT_ID;
	tree->nbuckets = 64;
	snprintf(tree->mountpoint, sizeof(tree->mountpoint), "%s",
		 config->mountpoint ? config->mountpoint : "");
	snprintf(tree->name, sizeof(tree->name), "%s", config->name);
	if (!(tree->table = calloc(tree->nbuckets, sizeof(*tree->table))) ||
	    !(tree->scratch = malloc(FUSETREE_READ_MAX)) ||
	    !(tree->ioctl_out = calloc(1, FUSETREE_IOCTL_MAX))) {
		free(tree->scratch);
		free(tree->table);
		free(tree);
		return error_set(err, ENOMEM, "fusetree %s", config->name);
	}
	*out = tree;
	if (ft_node_add(tree, NULL, "", NODE_DIR, config->root_mode, &root, err) < 0)
		return -ENOMEM;
	tree->root = root;
	tree->se = fuse_session_new(&args, &ops, sizeof(ops), tree);
	fuse_opt_free_args(&args);
	if (!tree->se)
		return error_set(err, 0, "fusetree %s: fuse_session_new failed", tree->name);
	return 0;
}

int fusetree_create(struct fusetree **out, const struct fusetree_config *config, struct error *err)
{
	struct fusetree *tree = NULL;
	char opts[256], fd_path[32], type[80];
	struct statx stx;
	int fd = -1, ret, res;

	if ((ret = tree_new(&tree, config, err)) < 0 || !tree) {
		ret = ret < 0 ? ret : -ENOMEM;
		goto fail;
	}
	if (mkdir(tree->mountpoint, 0755) < 0 && errno != EEXIST) {
		ret = error_set(err, errno, "fusetree: create %s", tree->mountpoint);
		goto fail;
	}
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
		ret = error_set(err, errno, "fusetree: open /dev/fuse");
		goto fail;
	}
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=%o,user_id=0,group_id=0,allow_other,default_permissions", fd,
		 S_IFDIR | (config->root_mode & 07777));
	snprintf(type, sizeof(type), "fuse.%s", tree->name);
	if (mount(tree->name, tree->mountpoint, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
		ret = error_set(err, errno, "fusetree: mount FUSE on %s", tree->mountpoint);
		goto fail;
	}
	tree->mounted = true;
	/* libfuse takes an open /dev/fuse as "/dev/fd/N"; the session owns it from here. */
	snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", fd);
	if (fuse_session_mount(tree->se, fd_path) < 0) {
		ret = error_set(err, 0, "fusetree: libfuse refused the mounted /dev/fuse");
		goto fail;
	}
	fd = -1;
	/* The kernel's INIT is waiting: answer it now, so that nothing that touches the
	 * mount before the loop runs (the VP being set up) waits for us. */
	res = fuse_session_receive_buf(tree->se, &tree->buf);
	if (res <= 0) {
		ret = error_set(err, -res, "fusetree: read FUSE INIT");
		goto fail;
	}
	fuse_session_process_buf(tree->se, &tree->buf);
	/* The cached attributes only: a request would wait for this very thread. */
	if (statx(AT_FDCWD, tree->mountpoint, AT_STATX_DONT_SYNC, 0, &stx) < 0) {
		ret = error_set(err, errno, "fusetree: statx %s", tree->mountpoint);
		goto fail;
	}
	tree->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	tree->watch.fd = fuse_session_fd(tree->se);
	tree->watch.handle = on_fuse;
	if (fcntl(tree->watch.fd, F_SETFL, O_NONBLOCK) < 0 ||
	    loop_add(config->loop, &tree->watch, EPOLLIN) < 0) {
		ret = error_set(err, errno, "fusetree: watch /dev/fuse");
		goto fail;
	}
	tree->watching = true;
	*out = tree;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	fusetree_destroy(tree);
	return ret;
}

void fusetree_destroy(struct fusetree *tree)
{
	if (!tree)
		return;
	/* Detach first: nothing new can start on it, and the daemon never waits on it. */
	if (tree->mounted && umount2(tree->mountpoint, MNT_DETACH) < 0)
		log_warn_errno(errno, "fusetree: unmount %s", tree->mountpoint);
	if (tree->watching)
		loop_del(tree->config.loop, &tree->watch);
	while (tree->files) {
		ft_file_free(tree->files);
	}
	if (tree->root)
		ft_nodes_free(tree->root);
	if (tree->se)
		fuse_session_destroy(tree->se); /* closes /dev/fuse: the connection ends */
	free(tree->buf.mem);
	if (tree->mounted)
		rmdir(tree->mountpoint);
	free(tree->scratch);
	free(tree->ioctl_out);
	free(tree->table);
	free(tree);
}
