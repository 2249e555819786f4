/* One VP's /dev/input over FUSE: see input_fs.h.
 *
 * Locking: every handler takes the devices' lock around what it does to an evdev
 * client; events arrive under the same lock from any thread (the VNC sink's, the loop),
 * and the readable callback answers waiting reads and polls from there. A waiting read
 * is interrupted (a signal to its reader) through libfuse's interrupt callback, which
 * finds it by its request, not by a pointer that may be gone. */
#define FUSE_USE_VERSION 312
#include "devices/input_fs.h"
#include "common/log.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ROOT_INO      FUSE_ROOT_ID
#define CACHE_SECONDS (86400.0 * 365) /* nothing here ever changes */
#define READ_MAX      4096	      /* bytes of events one read returns at most */
#define IOCTL_MAX     16384	      /* _IOC_SIZEMASK + 1 */
#define BATCH	      64	      /* requests read per wake-up of the loop */

static const char *const file_names[INPUT_FS_FILES] = {"event0", "event1"};

struct pending_read {
	fuse_req_t req;
	size_t size;
	struct pending_read *next;
};

struct handle {
	struct input_fs *fs;
	struct evdev_client *client;
	bool compat; /* an i386 reader: 16-byte events */
	struct fuse_pollhandle *poll;
	struct pending_read *reads; /* oldest first */
	struct handle *next;
};

struct input_fs {
	struct input_fs_config config;
	char mountpoint[256];
	struct fuse_session *se;
	struct fuse_buf buf;
	struct loop_watch watch;
	bool watching, mounted;
	dev_t dev;
	time_t created;
	unsigned opens;
	struct handle *handles;
};

ino_t input_fs_ino(unsigned n)
{
	return ROOT_INO + n;
}

dev_t input_fs_dev(const struct input_fs *fs)
{
	return fs->dev;
}

unsigned input_fs_opens(const struct input_fs *fs)
{
	return fs->opens;
}

static int file_of(fuse_ino_t ino)
{
	return ino > ROOT_INO && ino <= ROOT_INO + INPUT_FS_FILES ? (int)(ino - ROOT_INO - 1) : -1;
}

static void fill_attr(const struct input_fs *fs, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = fs->config.uid;
	st->st_gid = fs->config.uid;
	st->st_mode = ino == ROOT_INO ? S_IFDIR | 0755 : S_IFREG | 0660;
	st->st_nlink = ino == ROOT_INO ? 2 : 1;
	st->st_atime = st->st_mtime = st->st_ctime = fs->created;
}

static void on_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct input_fs *fs = fuse_req_userdata(req);
	struct fuse_entry_param e = {.attr_timeout = CACHE_SECONDS, .entry_timeout = CACHE_SECONDS};

	if (parent == ROOT_INO)
		for (unsigned i = 0; i < INPUT_FS_FILES; i++)
			if (strcmp(name, file_names[i]) == 0) {
				e.ino = input_fs_ino(i + 1);
				fill_attr(fs, e.ino, &e.attr);
				fuse_reply_entry(req, &e);
				return;
			}
	fuse_reply_err(req, ENOENT);
}

static void on_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct input_fs *fs = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	if (ino != ROOT_INO && file_of(ino) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(fs, ino, &st);
	fuse_reply_attr(req, &st, CACHE_SECONDS);
}

static void on_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct input_fs *fs = fuse_req_userdata(req);
	const char *names[] = {".", "..", file_names[0], file_names[1]};
	const fuse_ino_t inos[] = {ROOT_INO, ROOT_INO, input_fs_ino(1), input_fs_ino(2)};
	char buf[512];
	size_t used = 0;

	(void)fi;
	if (ino != ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	/* Each entry's offset is its index + 1: where the next read starts. */
	for (size_t i = (size_t)off; i < sizeof(names) / sizeof(names[0]); i++) {
		struct stat st;
		size_t need;
		fill_attr(fs, inos[i], &st);
		need = fuse_add_direntry(req, buf + used, sizeof(buf) - used, names[i], &st,
					 (off_t)i + 1);
		if (used + need > size || need > sizeof(buf) - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
}

/* Is the thread that opens an i386 program? Its events are 16 bytes (FUSE tells a
 * 32-bit caller only for ioctls). x32 programs have 64-bit time: 24 bytes, as here. */
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

/* The file is gone or revoked: every read blocked on it ends with ENODEV. */
static void end_reads(struct handle *h)
{
	while (h->reads) {
		struct pending_read *r = h->reads;
		h->reads = r->next;
		fuse_reply_err(r->req, ENODEV);
		free(r);
	}
}

/* Tell the poller of H that the file's state changed; it polls again for the new one. */
static void wake_poller(struct handle *h)
{
	fuse_lowlevel_notify_poll(h->poll);
	fuse_pollhandle_destroy(h->poll);
	h->poll = NULL;
}

static void handle_free(struct handle *h)
{
	struct input_fs *fs = h->fs;

	for (struct handle **p = &fs->handles; *p; p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			break;
		}
	end_reads(h);
	if (h->poll)
		fuse_pollhandle_destroy(h->poll);
	evdev_close(h->client);
	fs->opens--;
	free(h);
}

static void on_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct input_fs *fs = fuse_req_userdata(req);
	int file = file_of(ino);
	bool compat = caller_is_i386(fuse_req_ctx(req)->pid);
	struct handle *h;
	int ret;

	if (file < 0) {
		fuse_reply_err(req, ino == ROOT_INO ? EISDIR : ENOENT);
		return;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(fs->config.lock);
	if (fs->opens >= fs->config.max_opens) {
		pthread_mutex_unlock(fs->config.lock);
		free(h);
		fuse_reply_err(req, EMFILE);
		return;
	}
	if ((ret = evdev_open(fs->config.devices[file], &h->client)) < 0) {
		pthread_mutex_unlock(fs->config.lock);
		free(h);
		fuse_reply_err(req, -ret);
		return;
	}
	h->fs = fs;
	h->compat = compat;
	h->client->data = h;
	h->next = fs->handles;
	fs->handles = h;
	fs->opens++;
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;   /* every read reaches us: no page cache */
	fi->nonseekable = 1; /* a stream of events */
	fi->noflush = 1;     /* a close is not a request: the supervisor's closes stay local */
	/* If the opener is gone already, no release will come: drop the handle here. */
	if (fuse_reply_open(req, fi) == -ENOENT)
		handle_free(h);
	pthread_mutex_unlock(fs->config.lock);
}

static void on_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct input_fs *fs = fuse_req_userdata(req);

	(void)ino;
	pthread_mutex_lock(fs->config.lock);
	handle_free((struct handle *)(uintptr_t)fi->fh);
	pthread_mutex_unlock(fs->config.lock);
	fuse_reply_err(req, 0);
}

static size_t record_size(const struct handle *h)
{
	return h->compat ? 16 : sizeof(struct input_event);
}

/* Answer READ from H's queue: called with the lock held and a packet waiting. */
static void answer_read(struct handle *h, fuse_req_t req, size_t size)
{
	char buf[READ_MAX];
	ssize_t n = evdev_read(h->client, buf, size < sizeof(buf) ? size : sizeof(buf), h->compat);

	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

/* A reader waiting in read() got a signal: its read ends with EINTR. DATA is the file
 * system; the read is looked up by its request, which libfuse keeps alive here. */
static void on_interrupt(fuse_req_t req, void *data)
{
	struct input_fs *fs = data;

	pthread_mutex_lock(fs->config.lock);
	for (struct handle *h = fs->handles; h; h = h->next)
		for (struct pending_read **p = &h->reads; *p; p = &(*p)->next)
			if ((*p)->req == req) {
				struct pending_read *r = *p;
				*p = r->next;
				free(r);
				fuse_reply_err(req, EINTR);
				pthread_mutex_unlock(fs->config.lock);
				return;
			}
	pthread_mutex_unlock(fs->config.lock);
}

/* A read made by a thread of this daemon: a supervisor thread touching a VP's memory
 * that maps the VP's own device file (a trapped call's argument may point anywhere). It
 * must never wait for events, which could come only from the daemon itself. */
static bool read_by_daemon(fuse_req_t req)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)fuse_req_ctx(req)->pid);
	return fuse_req_ctx(req)->pid > 0 && access(path, F_OK) == 0;
}

static void on_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct input_fs *fs = fuse_req_userdata(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct pending_read *r, **tail;

	(void)ino;
	(void)off;
	if (size < record_size(h)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (read_by_daemon(req)) {
		fuse_reply_err(req, EIO);
		return;
	}
	pthread_mutex_lock(fs->config.lock);
	if (h->client->revoked) {
		fuse_reply_err(req, ENODEV);
	} else if (!h->reads && evdev_readable(h->client)) {
		answer_read(h, req, size);
	} else if (fi->flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN);
	} else if (!(r = calloc(1, sizeof(*r)))) {
		fuse_reply_err(req, ENOMEM);
	} else {
		r->req = req;
		r->size = size;
		for (tail = &h->reads; *tail; tail = &(*tail)->next)
			;
		*tail = r;
		/* Not interrupted yet: its interrupt is read after this handler returns. */
		fuse_req_interrupt_func(req, on_interrupt, fs);
	}
	pthread_mutex_unlock(fs->config.lock);
}

/* The devices' callback, with the lock held: a packet is waiting for CLIENT. */
static void on_readable(struct evdev_client *client, void *ctx)
{
	struct handle *h = client->data;

	(void)ctx;
	while (h->reads && evdev_readable(client)) {
		struct pending_read *r = h->reads;
		h->reads = r->next;
		answer_read(h, r->req, r->size);
		free(r);
	}
	if (h->poll && evdev_readable(client))
		wake_poller(h);
}

static void on_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct input_fs *fs = fuse_req_userdata(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	unsigned events = POLLOUT | POLLWRNORM;

	(void)ino;
	pthread_mutex_lock(fs->config.lock);
	if (evdev_readable(h->client))
		events |= POLLIN | POLLRDNORM;
	if (h->client->revoked)
		events = POLLHUP | POLLERR;
	if (ph) {
		if (h->poll)
			fuse_pollhandle_destroy(h->poll);
		h->poll = ph;
	}
	pthread_mutex_unlock(fs->config.lock);
	fuse_reply_poll(req, events);
}

static void on_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct input_fs *fs = fuse_req_userdata(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct evdev_time now;
	ssize_t n;

	(void)ino;
	(void)off;
	evdev_time_now(&now);
	pthread_mutex_lock(fs->config.lock);
	n = evdev_write(h->client, buf, size, h->compat, &now);
	pthread_mutex_unlock(fs->config.lock);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void on_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
		     size_t out_bufsz)
{
	struct input_fs *fs = fuse_req_userdata(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	uint32_t request = (uint32_t)cmd;
	static __thread char out[IOCTL_MAX];
	size_t out_size = out_bufsz < sizeof(out) ? out_bufsz : sizeof(out);
	long ret;
	int value;

	if (ino == ROOT_INO || (flags & FUSE_IOCTL_DIR)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	pthread_mutex_lock(fs->config.lock);
	if (request == CELLS_EVIOCSGRAB || request == EVIOCGRAB) {
		/* EVIOCGRAB itself only comes here with a pointer for its value. */
		if (request == CELLS_EVIOCSGRAB && in_bufsz >= sizeof(value))
			memcpy(&value, in_buf, sizeof(value));
		else
			value = arg != NULL;
		ret = request == CELLS_EVIOCSGRAB && in_bufsz < sizeof(value)
			      ? -EINVAL
			      : evdev_grab(h->client, value != 0);
		out_size = 0;
	} else if (request == CELLS_EVIOCREVOKE) {
		/* Its blocked reads end, its poller wakes to POLLHUP. */
		if ((ret = evdev_revoke(h->client)) == 0) {
			end_reads(h);
			if (h->poll)
				wake_poller(h);
		}
		out_size = 0;
	} else {
		ret = evdev_ioctl(h->client, request, in_buf, in_bufsz, out, &out_size,
				  flags & FUSE_IOCTL_COMPAT);
	}
	pthread_mutex_unlock(fs->config.lock);
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else
		fuse_reply_ioctl(req, (int)ret, out, out_size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = on_lookup,
	.getattr = on_getattr,
	.readdir = on_readdir,
	.open = on_open,
	.release = on_release,
	.read = on_read,
	.write = on_write,
	.poll = on_poll,
	.ioctl = on_ioctl,
};

static void serve(struct input_fs *fs)
{
	for (int i = 0; i < BATCH; i++) {
		int res = fuse_session_receive_buf(fs->se, &fs->buf);
		if (res == -EINTR)
			continue;
		if (res == -EAGAIN)
			return;
		if (fuse_session_exited(fs->se)) {
			/* The connection is gone (aborted through /sys/fs/fuse, or the last
			 * mount of it went): nothing more will come. */
			if (fs->watching) {
				loop_del(fs->config.loop, &fs->watch);
				fs->watching = false;
			}
			return;
		}
		if (res <= 0) {
			log_warn_errno(-res, "input: read a FUSE request from %s", fs->mountpoint);
			return;
		}
		fuse_session_process_buf(fs->se, &fs->buf);
	}
}

static void on_fuse(struct loop_watch *w, uint32_t events)
{
	(void)events;
	serve(container_of(w, struct input_fs, watch));
}

void input_fs_serve(struct input_fs *fs)
{
	if (fs && fs->watching)
		serve(fs);
}

int input_fs_create(struct input_fs **out, const struct input_fs_config *config, struct error *err)
{
	char *argv[] = {"cellsd", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct input_fs *fs = calloc(1, sizeof(*fs));
	char opts[256], fd_path[32];
	struct statx stx;
	int fd = -1, ret, res;

	if (!fs)
		return error_set(err, ENOMEM, "input");
	fs->config = *config;
	fs->created = time(NULL);
	fs->watch.fd = -1;
	snprintf(fs->mountpoint, sizeof(fs->mountpoint), "%s", config->mountpoint);
	for (unsigned i = 0; i < INPUT_FS_FILES; i++) {
		config->devices[i]->readable = on_readable;
		config->devices[i]->ctx = fs;
	}
	if (mkdir(fs->mountpoint, 0755) < 0 && errno != EEXIST) {
		ret = error_set(err, errno, "input: create %s", fs->mountpoint);
		goto fail;
	}
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
		ret = error_set(err, errno, "input: open /dev/fuse");
		goto fail;
	}
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40755,user_id=0,group_id=0,allow_other,default_permissions", fd);
	if (mount("cells-input", fs->mountpoint, "fuse.cells-input",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
		ret = error_set(err, errno, "input: mount FUSE on %s", fs->mountpoint);
		goto fail;
	}
	fs->mounted = true;
	if (!(fs->se = fuse_session_new(&args, &ops, sizeof(ops), fs))) {
		ret = error_set(err, 0, "input: fuse_session_new failed");
		goto fail;
	}
	/* libfuse takes an open /dev/fuse as "/dev/fd/N"; the session owns it from here. */
	snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", fd);
	if (fuse_session_mount(fs->se, fd_path) < 0) {
		ret = error_set(err, 0, "input: libfuse refused the mounted /dev/fuse");
		goto fail;
	}
	fd = -1;
	/* The kernel's INIT is waiting: answer it now, so that nothing that touches the
	 * mount before the loop runs (the VP being set up) waits for us. */
	res = fuse_session_receive_buf(fs->se, &fs->buf);
	if (res <= 0) {
		ret = error_set(err, -res, "input: read FUSE INIT");
		goto fail;
	}
	fuse_session_process_buf(fs->se, &fs->buf);
	/* The cached attributes only: a request would wait for this very thread. */
	if (statx(AT_FDCWD, fs->mountpoint, AT_STATX_DONT_SYNC, 0, &stx) < 0) {
		ret = error_set(err, errno, "input: statx %s", fs->mountpoint);
		goto fail;
	}
	fs->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	fs->watch.fd = fuse_session_fd(fs->se);
	fs->watch.handle = on_fuse;
	if (fcntl(fs->watch.fd, F_SETFL, O_NONBLOCK) < 0 ||
	    loop_add(config->loop, &fs->watch, EPOLLIN) < 0) {
		ret = error_set(err, errno, "input: watch /dev/fuse");
		goto fail;
	}
	fs->watching = true;
	*out = fs;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	input_fs_destroy(fs);
	return ret;
}

void input_fs_destroy(struct input_fs *fs)
{
	if (!fs)
		return;
	/* Detach first: nothing new can start on it, and the daemon never waits on it. */
	if (fs->mounted && umount2(fs->mountpoint, MNT_DETACH) < 0)
		log_warn_errno(errno, "input: unmount %s", fs->mountpoint);
	if (fs->watching)
		loop_del(fs->config.loop, &fs->watch);
	for (struct handle *h = fs->handles, *next; h; h = next) {
		next = h->next;
		handle_free(h);
	}
	for (unsigned i = 0; i < INPUT_FS_FILES; i++)
		fs->config.devices[i]->readable = NULL;
	if (fs->se)
		fuse_session_destroy(fs->se); /* closes /dev/fuse: the connection ends */
	free(fs->buf.mem);
	rmdir(fs->mountpoint);
	free(fs);
}
