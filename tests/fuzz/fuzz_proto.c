/* The control protocol's reading side, as cellsd's control.c drives it: the input is what
 * a client writes to the control socket, arriving in pieces (some with descriptors beside
 * them), cut into lines by the line reader and parsed as JSON. Each object is sent back
 * through proto_send and read with proto_recv: it must come back equal (reals to 9 digits). No
 * descriptor may leak, whatever the peer passes. */
#include "common/proto.h"

#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct line_reader lr, back;

/* The lowest free descriptor: the same after each input, or something leaked. */
static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

/* Write PIECE to SOCK with NFDS descriptors (of /dev/null) beside it. */
static void send_piece(int sock, const uint8_t *piece, size_t len, int nfds)
{
	char control[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = {(void *)piece, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[8];

	for (int i = 0; i < nfds; i++)
		if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			abort();
	if (nfds > 0) {
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(sock, &mh, 0) != (ssize_t)len)
		abort();
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* Equal, but for reals: proto_send writes them with 9 significant digits. */
static bool json_close(json_t *a, json_t *b)
{
	const char *key;
	json_t *value;
	size_t i;

	if (json_is_real(a) && json_is_real(b)) {
		double x = json_real_value(a), y = json_real_value(b);
		return fabs(x - y) <= 1e-8 * fmax(fabs(x), fabs(y));
	}
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach(a, key, value)
		{
			json_t *other = json_object_get(b, key);
			if (!other || !json_close(value, other))
				return false;
		}
		return true;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		json_array_foreach(
			a, i, value) if (!json_close(value, json_array_get(b, i))) return false;
		return true;
	}
	return json_equal(a, b);
}

/* A request as the daemon would answer it: encoded by proto_send, read by proto_recv. */
static void round_trip(const int sv[2], json_t *req)
{
	json_t *again = NULL;

	line_reader_init(&back);
	if (proto_send(sv[0], req, NULL, 0, 0) < 0)
		abort();
	if (proto_recv(sv[1], &back, &again) < 0 || !json_close(req, again))
		abort();
	if (back.len != 0 || back.nfds != 0)
		abort();
	json_decref(again);
}

/* Complete lines, as control.c's process_lines takes them. */
static bool take_lines(const int sv[2])
{
	for (;;) {
		size_t consumed;
		int overlong;
		char *line = line_reader_next(&lr, &consumed, &overlong);
		json_error_t jerr;
		json_t *req;

		if (overlong)
			return false;
		if (!line)
			return true;
		req = json_loads(line, 0, &jerr);
		line_reader_consume(&lr, consumed);
		if (json_is_object(req))
			round_trip(sv, req);
		json_decref(req);
		/* The daemon takes the descriptors with the line they came with. */
		line_reader_release(&lr);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int first_free = -1;
	size_t off = 0;
	unsigned piece = 0;
	int in[2], sv[2];

	if (first_free < 0)
		first_free = lowest_free_fd();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	line_reader_init(&lr);
	/* Pieces of 1..61 bytes (from the input's own bytes, so a corpus of plain request
	 * lines still cuts them in varied places); every fourth piece carries 0..8
	 * descriptors: more than the reader keeps (3), and more than its control buffer
	 * holds (6), which the kernel must then close. */
	while (off < size) {
		size_t len = 1 + data[off] % 61;
		if (len > size - off)
			len = size - off;
		send_piece(in[0], data + off, len, piece % 4 == 1 ? (int)(piece / 4 % 9) : 0);
		off += len;
		piece++;
		/* A stream socket may give a piece in two reads or two in one: read until
		 * nothing is left or the buffer is full. */
		do {
			if (lr.len == sizeof(lr.buf))
				break;
			if (line_reader_fill(&lr, in[1]) <= 0)
				abort();
		} while (recv(in[1], &(char){0}, 1, MSG_PEEK | MSG_DONTWAIT) > 0);
		if (!take_lines(sv))
			break; /* the daemon hangs up on an overlong line */
	}
	line_reader_release(&lr);
	close(in[0]);
	close(in[1]);
	close(sv[0]);
	close(sv[1]);
	if (lowest_free_fd() != first_free)
		abort(); /* a descriptor leaked */
	return 0;
}
