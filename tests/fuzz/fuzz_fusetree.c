/* The FUSE tree server's request handling (src/devns/fusetree_fuse.c, over fusetree.c's
 * tree): what a VP's programs make the kernel send to a tree (lookups, opens, reads and
 * writes at any offset and size, truncation, poll, ioctls, interrupts, file handles and
 * inodes that are wrong or gone, creating and removing), interleaved with what devices
 * do to it (push records, wake, hang up, notify, remove nodes). The FUSE side's file is
 * included (its handlers are static) and its libfuse session given an I/O of the
 * harness's (fuse_session_custom_io): no kernel, no mount. Requests are built as the
 * kernel builds them: the lengths libfuse trusts (a write's size, an ioctl's in_size, the
 * header's len) match what follows; the rest (node ids, file handles, offsets, sizes,
 * flags, names) comes from the input.
 *
 * Input: a sequence of operations, each one byte picking the operation and the bytes its
 * fields need (see run_one); reading past the end gives zeros.
 *
 * Checked: every reply's header says its true length, an error is an errno, a read's
 * answer is no longer than asked, every request that wants an answer gets exactly one
 * (by the end: the tree's destruction ends waiting reads), and nothing leaks. */
#include "devns/fusetree_fuse.c"

#include <linux/fuse.h>
#include <sys/uio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQS  256
#define MAX_FILES 16
#define BODY_MAX  (16384 + 256)

struct input {
	const uint8_t *p;
	size_t left;
};

static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fusetree *tree;
static struct fusetree_file *files[MAX_FILES];
static unsigned nfiles, own_pending;
static struct {
	bool waiting; /* sent, not answered yet */
	bool is_read;
	uint32_t read_size;
} reqs[MAX_REQS + 2];
static uint64_t next_unique;
static char value[64];

static uint64_t take(struct input *in, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t b = in->left ? (in->left--, *in->p++) : 0;
		v |= b << (8 * i);
	}
	return v;
}

/* The device's side */

static ssize_t show(void *d, char *buf, size_t size)
{
	(void)d;
	return snprintf(buf, size, "%s\n", value);
}

static ssize_t store(void *d, const char *buf, size_t len)
{
	(void)d;
	if (len == 0 || len > FUSETREE_ATTR_MAX)
		abort(); /* the tree passes 1 to a page */
	if (buf[0] == '!')
		return -EINVAL;
	snprintf(value, sizeof(value), "%.*s", (int)(len < 60 ? len : 60), buf);
	return (ssize_t)len;
}

static const struct fusetree_attr_ops rw_ops = {.show = show, .store = store};
static const struct fusetree_attr_ops ro_ops = {.show = show};

static int s_open(void *d, struct fusetree_file *file, const struct fusetree_caller *c,
		  void **state)
{
	(void)d, (void)c;
	if (nfiles == MAX_FILES)
		return -EMFILE;
	files[nfiles++] = file;
	*state = file;
	return 0;
}

static void s_release(void *d, void *state)
{
	(void)d;
	for (unsigned i = 0; i < nfiles; i++)
		if (files[i] == state) {
			files[i] = files[--nfiles];
			return;
		}
	abort(); /* released twice, or never opened */
}

static ssize_t s_read(void *d, void *state, char *buf, size_t size)
{
	size_t n = 0;
	(void)d, (void)state;
	if (!own_pending)
		return -EAGAIN;
	if (size < 24)
		return -EINVAL;
	while (own_pending && size - n >= 24) {
		memset(buf + n, 'e', 24);
		n += 24;
		own_pending--;
	}
	return (ssize_t)n;
}

static bool s_readable(void *d, void *state)
{
	(void)d, (void)state;
	return own_pending > 0;
}

static ssize_t s_write(void *d, void *state, const char *buf, size_t size)
{
	(void)d, (void)state, (void)buf;
	return size % 24 ? -EINVAL : (ssize_t)size;
}

static long s_ioctl(void *d, void *state, unsigned cmd, uint64_t arg, const void *in,
		    size_t in_size, void *out, size_t *out_size, bool compat)
{
	(void)d, (void)state, (void)in, (void)compat, (void)arg;
	if (*out_size > FUSETREE_IOCTL_MAX)
		abort();
	if (cmd & 1)
		return -ENOTTY;
	memset(out, 'i', *out_size);
	return (long)in_size;
}

static const struct fusetree_stream_ops queue_ops = {
	.open = s_open, .release = s_release, .queue_bytes = 256};
static const struct fusetree_stream_ops own_ops = {.open = s_open,
						   .release = s_release,
						   .read = s_read,
						   .readable = s_readable,
						   .write = s_write,
						   .ioctl = s_ioctl};

/* The kernel's side */

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct fuse_out_header h;
	size_t total = 0;

	(void)fd, (void)userdata;
	for (int i = 0; i < count; i++)
		total += iov[i].iov_len;
	if (count < 1 || iov[0].iov_len < sizeof(h))
		abort();
	memcpy(&h, iov[0].iov_base, sizeof(h));
	if (h.len != total)
		abort();
	if (h.unique == 0) /* a notification: a poll's */
		return (ssize_t)total;
	if (h.unique >= next_unique || h.unique > MAX_REQS + 1 || !reqs[h.unique].waiting)
		abort(); /* an answer to nothing, or a second one */
	if (h.error > 0 || h.error < -4095)
		abort();
	if (reqs[h.unique].is_read && h.error == 0 && total - sizeof(h) > reqs[h.unique].read_size)
		abort();
	reqs[h.unique].waiting = false;
	return (ssize_t)total;
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)fd, (void)buf, (void)len, (void)userdata;
	errno = EAGAIN;
	return -1;
}

static const struct fuse_custom_io io = {.writev = io_writev, .read = io_read};

static void send(uint32_t opcode, uint64_t nodeid, const void *body, size_t len, bool answered,
		 uint32_t read_size)
{
	static char buf[sizeof(struct fuse_in_header) + BODY_MAX + 64];
	struct fuse_in_header h = {.len = (uint32_t)(sizeof(h) + len),
				   .opcode = opcode,
				   .unique = next_unique,
				   .nodeid = nodeid,
				   .uid = 1000,
				   .gid = 1000,
				   .pid = 0};
	struct fuse_buf fbuf = {.mem = buf, .size = sizeof(h) + len};

	if (next_unique > MAX_REQS + 1 || len > BODY_MAX)
		return;
	reqs[next_unique].waiting = answered;
	reqs[next_unique].is_read = opcode == FUSE_READ || opcode == FUSE_READDIR;
	reqs[next_unique].read_size = read_size;
	next_unique++;
	memset(buf, 0, sizeof(buf)); /* names end in NUL, short bodies read as zeros */
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	fuse_session_process_buf(tree->se, &fbuf);
}

/* A name: one of the tree's, or one of the input's. */
static size_t name(struct input *in, char *out, size_t max)
{
	static const char *const names[] = {"class", "input", "value", "name", "event0", "queue",
					    "dev",   "many",  "a1",    ".",    "..",	 ""};
	unsigned pick = (unsigned)take(in, 1);
	size_t len;

	if (pick < sizeof(names) / sizeof(names[0])) {
		len = strlen(names[pick]);
		memcpy(out, names[pick], len);
	} else {
		len = (size_t)take(in, 1) % (max - 1);
		for (size_t i = 0; i < len; i++)
			out[i] = (char)take(in, 1);
	}
	out[len] = '\0';
	return len + 1;
}

static uint64_t node(struct input *in)
{
	return take(in, 1) % 64;
}

static void run_one(struct input *in)
{
	static char body[BODY_MAX];
	unsigned op = (unsigned)take(in, 1) % 20;
	uint64_t nodeid = node(in);
	size_t len;

	memset(body, 0, 64);
	switch (op) {
	case 0:
		len = name(in, body, 300);
		send(FUSE_LOOKUP, nodeid, body, len, true, 0);
		break;
	case 1: {
		struct fuse_getattr_in a = {.getattr_flags = (uint32_t)take(in, 1),
					    .fh = take(in, 1)};
		send(FUSE_GETATTR, nodeid, &a, sizeof(a), true, 0);
		break;
	}
	case 2: {
		struct fuse_setattr_in a = {.valid = (uint32_t)take(in, 2),
					    .fh = take(in, 1),
					    .size = take(in, 8),
					    .mode = (uint32_t)take(in, 4)};
		send(FUSE_SETATTR, nodeid, &a, sizeof(a), true, 0);
		break;
	}
	case 3:
		send(FUSE_READLINK, nodeid, NULL, 0, true, 0);
		break;
	case 4: {
		struct fuse_open_in a = {.flags = (uint32_t)take(in, 4)};
		send(FUSE_OPEN, nodeid, &a, sizeof(a), true, 0);
		break;
	}
	case 5:
	case 8: {
		struct fuse_read_in a = {.fh = take(in, 1),
					 .offset = take(in, 8),
					 .size = (uint32_t)take(in, 4),
					 .flags = (uint32_t)take(in, 4)};
		send(op == 5 ? FUSE_READ : FUSE_READDIR, nodeid, &a, sizeof(a), true, a.size);
		break;
	}
	case 6: {
		struct fuse_write_in a = {.fh = take(in, 1), .offset = take(in, 8)};
		a.size = (uint32_t)(take(in, 2) % (BODY_MAX - sizeof(a)));
		memcpy(body, &a, sizeof(a));
		for (size_t i = 0; i < a.size; i++)
			body[sizeof(a) + i] = (char)take(in, 1);
		send(FUSE_WRITE, nodeid, body, sizeof(a) + a.size, true, 0);
		break;
	}
	case 7: {
		struct fuse_release_in a = {.fh = take(in, 1)};
		send(FUSE_RELEASE, nodeid, &a, sizeof(a), true, 0);
		break;
	}
	case 9: {
		struct fuse_poll_in a = {.fh = take(in, 1),
					 .kh = take(in, 1),
					 .flags = (uint32_t)take(in, 1),
					 .events = (uint32_t)take(in, 2)};
		send(FUSE_POLL, nodeid, &a, sizeof(a), true, 0);
		break;
	}
	case 10: {
		struct fuse_ioctl_in a = {.fh = take(in, 1),
					  .flags = (uint32_t)take(in, 1) & ~FUSE_IOCTL_RETRY,
					  .cmd = (uint32_t)take(in, 4),
					  .out_size = (uint32_t)take(in, 3)};
		a.in_size = (uint32_t)(take(in, 2) % 64);
		memcpy(body, &a, sizeof(a));
		for (size_t i = 0; i < a.in_size; i++)
			body[sizeof(a) + i] = (char)take(in, 1);
		send(FUSE_IOCTL, nodeid, body, sizeof(a) + a.in_size, true, 0);
		break;
	}
	case 11: {
		/* Only of a request still waiting, as the kernel sends them. */
		unsigned want = (unsigned)take(in, 1);
		for (uint64_t u = 2; u < next_unique; u++)
			if (reqs[u].waiting && want-- == 0) {
				struct fuse_interrupt_in a = {.unique = u};
				send(FUSE_INTERRUPT, 0, &a, sizeof(a), false, 0);
				break;
			}
		break;
	}
	case 12: {
		struct fuse_forget_in a = {.nlookup = take(in, 2)};
		send(FUSE_FORGET, nodeid, &a, sizeof(a), false, 0);
		break;
	}
	case 13: {
		/* What a VP may not do: make, link, rename, remove. */
		static const uint32_t ops[] = {FUSE_MKNOD,   FUSE_MKDIR,  FUSE_CREATE,
					       FUSE_SYMLINK, FUSE_LINK,	  FUSE_UNLINK,
					       FUSE_RMDIR,   FUSE_RENAME, FUSE_RENAME2};
		static const size_t heads[] = {sizeof(struct fuse_mknod_in),
					       sizeof(struct fuse_mkdir_in),
					       sizeof(struct fuse_create_in),
					       0,
					       sizeof(struct fuse_link_in),
					       0,
					       0,
					       sizeof(struct fuse_rename_in),
					       sizeof(struct fuse_rename2_in)};
		unsigned k = (unsigned)take(in, 1) % 9;
		len = heads[k];
		len += name(in, body + len, 300);
		if (k == 3 || k >= 7)
			len += name(in, body + len, 300);
		send(ops[k], nodeid, body, len, true, 0);
		break;
	}
	case 14: {
		char rec[300];
		size_t n = (size_t)take(in, 2) % sizeof(rec);
		unsigned f = (unsigned)take(in, 1);
		for (size_t i = 0; i < n; i++)
			rec[i] = (char)take(in, 1);
		pthread_mutex_lock(&device_lock);
		if (nfiles && !files[f % nfiles]->node->stream->read) {
			int ret = fusetree_push(files[f % nfiles], rec, n);
			if (ret != 0 && ret != -ENOBUFS && ret != -ENODEV &&
			    !(n == 0 && ret == -EINVAL))
				abort();
		}
		pthread_mutex_unlock(&device_lock);
		break;
	}
	case 15:
		pthread_mutex_lock(&device_lock);
		own_pending = (unsigned)take(in, 1) % 8;
		for (unsigned i = 0; i < nfiles; i++)
			if (files[i]->node->stream->read)
				fusetree_wake(files[i]);
		pthread_mutex_unlock(&device_lock);
		break;
	case 16: {
		unsigned f = (unsigned)take(in, 1);
		pthread_mutex_lock(&device_lock);
		if (nfiles)
			fusetree_hangup(files[f % nfiles]);
		pthread_mutex_unlock(&device_lock);
		break;
	}
	case 17:
	case 18: {
		struct fusetree_node *n;
		pthread_mutex_lock(&device_lock);
		if ((n = ft_node_of(tree, nodeid)) && op == 17)
			fusetree_notify(n);
		else if (n)
			fusetree_remove(n);
		pthread_mutex_unlock(&device_lock);
		break;
	}
	default: {
		/* Any other opcode, with a body of the input's. */
		uint32_t opcode = (uint32_t)take(in, 1);
		len = (size_t)take(in, 1);
		memset(body, 0, len + 64);
		for (size_t i = 0; i < len; i++)
			body[i] = (char)take(in, 1);
		/* Those whose lengths libfuse trusts are built above; INIT and DESTROY are the
		 * session's own; BATCH_FORGET and NOTIFY_REPLY carry counts it trusts too. */
		if (opcode == FUSE_WRITE || opcode == FUSE_IOCTL || opcode == FUSE_SETXATTR ||
		    opcode == FUSE_INIT || opcode == FUSE_DESTROY || opcode == FUSE_BATCH_FORGET ||
		    opcode == FUSE_NOTIFY_REPLY || opcode == FUSE_INTERRUPT ||
		    opcode == FUSE_FORGET || opcode == FUSE_GETXATTR || opcode == FUSE_LISTXATTR ||
		    opcode == FUSE_READ || opcode == FUSE_READDIR)
			break;
		send(opcode, nodeid, body, len + 64, true, 0);
		break;
	}
	}
}

static void build(void)
{
	struct fusetree_config config = {.lock = &device_lock,
					 .name = "fuzz",
					 .uid = 1000,
					 .gid = 1000,
					 .root_mode = 0755,
					 .max_opens = 8};
	struct fusetree_node *root, *input, *many;
	struct fuse_init_in init = {.major = 7, .minor = 31, .max_readahead = 65536};
	struct error err;
	char n[16];
	int fd;

	if (tree_new(&tree, &config, &err) < 0)
		abort();
	root = fusetree_root(tree);
	if (fusetree_add_dirs(root, "class/input", 0755, &input, &err) < 0 ||
	    fusetree_add_attr(input, "value", 0644, &rw_ops, NULL, NULL, &err) < 0 ||
	    fusetree_add_attr(input, "name", 0444, &ro_ops, NULL, NULL, &err) < 0 ||
	    fusetree_add_symlink(input->parent, "event0", "input/value", NULL, &err) < 0 ||
	    fusetree_add_stream(root, "queue", 0600, &queue_ops, NULL, NULL, &err) < 0 ||
	    fusetree_add_stream(root, "dev", 0660, &own_ops, NULL, NULL, &err) < 0 ||
	    fusetree_add_dir(root, "many", 0755, &many, &err) < 0)
		abort();
	for (int i = 0; i < 40; i++) {
		snprintf(n, sizeof(n), "a%d", i);
		if (fusetree_add_attr(many, n, 0444, &ro_ops, NULL, NULL, &err) < 0)
			abort();
	}
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
	    fuse_session_custom_io(tree->se, &io, fd) < 0)
		abort();
	next_unique = 1;
	send(FUSE_INIT, 0, &init, sizeof(init), true, 0);
	if (reqs[1].waiting)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};

	memset(reqs, 0, sizeof(reqs));
	nfiles = own_pending = 0;
	snprintf(value, sizeof(value), "42");
	build();
	while (in.left && next_unique <= MAX_REQS + 1)
		run_one(&in);
	pthread_mutex_lock(&device_lock);
	fusetree_destroy(tree);
	pthread_mutex_unlock(&device_lock);
	tree = NULL;
	if (nfiles)
		abort(); /* an open never released */
	for (uint64_t u = 1; u < next_unique; u++)
		if (reqs[u].waiting)
			abort(); /* a request never answered */
	return 0;
}
