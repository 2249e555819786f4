/* One VP's /dev/input on the core's FUSE tree server: see input_fs.h.
 *
 * Each file is a stream of the tree whose queue is the evdev client's own: an open is an
 * evdev client, a read takes whole events from it, the devices' readable callback wakes
 * the tree's waiting reads and pollers. Every handler runs with the devices' lock held
 * (the tree's rule); events arrive under the same lock from any thread (the VNC sink's,
 * the loop). */
#include "devices/input_fs.h"
#include "devns/devns.h"
#include "devns/fusetree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const file_names[INPUT_FS_FILES] = {"event0", "event1"};

struct handle {
	struct fusetree_file *file;
	struct evdev_client *client;
	bool compat; /* an i386 reader: 16-byte events */
};

struct input_fs {
	struct fusetree *tree;
	struct evdev *devices[INPUT_FS_FILES];
};

ino_t input_fs_ino(unsigned n)
{
	return 1 + n; /* the tree's root, then the files in the order they are added */
}

dev_t input_fs_dev(const struct input_fs *fs)
{
	return fusetree_dev(fs->tree);
}

unsigned input_fs_opens(const struct input_fs *fs)
{
	return fusetree_opens(fs->tree);
}

void input_fs_serve(struct input_fs *fs)
{
	if (fs)
		fusetree_serve(fs->tree);
}

static int ev_open(void *data, struct fusetree_file *file, const struct fusetree_caller *caller,
		   void **state)
{
	struct handle *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return -ENOMEM;
	if ((ret = evdev_open(data, &h->client)) < 0) {
		free(h);
		return ret;
	}
	h->file = file;
	h->compat = caller->i386;
	h->client->data = h;
	*state = h;
	return 0;
}

static void ev_release(void *data, void *state)
{
	struct handle *h = state;

	(void)data;
	evdev_close(h->client);
	free(h);
}

static ssize_t ev_read(void *data, void *state, char *buf, size_t size)
{
	struct handle *h = state;
	ssize_t n;

	(void)data;
	if (size < (h->compat ? 16 : sizeof(struct input_event)))
		return -EINVAL;
	if (h->client->revoked)
		return -ENODEV;
	if (!evdev_readable(h->client))
		return -EAGAIN;
	n = evdev_read(h->client, buf, size, h->compat);
	return n == 0 ? -EAGAIN : n;
}

static bool ev_readable(void *data, void *state)
{
	(void)data;
	return evdev_readable(((struct handle *)state)->client);
}

static ssize_t ev_write(void *data, void *state, const char *buf, size_t size)
{
	struct handle *h = state;
	struct evdev_time now;

	(void)data;
	evdev_time_now(&now);
	return evdev_write(h->client, buf, size, h->compat, &now);
}

static long ev_ioctl(void *data, void *state, unsigned cmd, uint64_t arg, const void *in,
		     size_t in_size, void *out, size_t *out_size, bool compat)
{
	struct handle *h = state;
	uint32_t request = (uint32_t)cmd;
	int value;
	long ret;

	(void)data;
	if (request == CELLS_EVIOCSGRAB || request == EVIOCGRAB) {
		/* EVIOCGRAB is trapped by seccomp, which makes CELLS_EVIOCSGRAB on the
		 * caller's own open file with the value behind a pointer; EVIOCGRAB itself
		 * only comes here with a pointer for its value. */
		*out_size = 0;
		if (request == EVIOCGRAB)
			value = arg != 0;
		else if (in_size < sizeof(value))
			return -EINVAL;
		else
			memcpy(&value, in, sizeof(value));
		return evdev_grab(h->client, value != 0);
	}
	if (request == CELLS_EVIOCREVOKE) {
		/* Its blocked reads end, its poller wakes to POLLHUP. */
		*out_size = 0;
		if ((ret = evdev_revoke(h->client)) == 0)
			fusetree_hangup(h->file);
		return ret;
	}
	return evdev_ioctl(h->client, request, in, in_size, out, out_size, compat);
}

static const struct fusetree_stream_ops ev_ops = {
	.open = ev_open,
	.release = ev_release,
	.read = ev_read,
	.readable = ev_readable,
	.write = ev_write,
	.ioctl = ev_ioctl,
};

/* The devices' callback, with the lock held: a packet is waiting for CLIENT. */
static void on_readable(struct evdev_client *client, void *ctx)
{
	struct handle *h = client->data;

	(void)ctx;
	fusetree_wake(h->file);
}

int input_fs_create(struct input_fs **out, const struct input_fs_config *config, struct error *err)
{
	struct fusetree_config tc = {
		.mountpoint = config->mountpoint,
		.name = "cells-input",
		.uid = config->uid,
		.gid = config->uid,
		.root_mode = 0755,
		.max_opens = config->max_opens,
	};
	devns_fusetree_config(config->core, &tc);
	struct input_fs *fs = calloc(1, sizeof(*fs));
	struct fusetree_node *node;
	int ret;

	if (!fs)
		return error_set(err, ENOMEM, "input");
	if ((ret = fusetree_create(&fs->tree, &tc, err)) < 0) {
		free(fs);
		return ret;
	}
	for (unsigned i = 0; i < INPUT_FS_FILES; i++) {
		fs->devices[i] = config->devices[i];
		if ((ret = fusetree_add_stream(fusetree_root(fs->tree), file_names[i], 0660,
					       &ev_ops, config->devices[i], &node, err)) < 0)
			goto fail;
		if (fusetree_ino(node) != input_fs_ino(i + 1)) {
			ret = error_set(err, EINVAL, "input: event%u is not inode %lu", i,
					(unsigned long)input_fs_ino(i + 1));
			goto fail;
		}
		config->devices[i]->readable = on_readable;
		config->devices[i]->ctx = fs;
	}
	*out = fs;
	return 0;
fail:
	input_fs_destroy(fs);
	return ret;
}

void input_fs_destroy(struct input_fs *fs)
{
	if (!fs)
		return;
	fusetree_destroy(fs->tree); /* releases every open: the clients close */
	for (unsigned i = 0; i < INPUT_FS_FILES; i++)
		if (fs->devices[i])
			fs->devices[i]->readable = NULL;
	free(fs);
}
