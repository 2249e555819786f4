/* Unit tests of src/common/proto.c: the line reader and the JSON-per-line protocol, over a
 * unix socketpair, with descriptors passed as SCM_RIGHTS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Descriptors a test looks at for leaks: received ones take the lowest free numbers. */
#define FD_SCAN 1024

struct fixture {
	int sv[2]; /* sv[0]: the reader's end, sv[1]: the peer's */
	struct line_reader *lr;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->lr = malloc(sizeof(*fx->lr));
	if (!fx->lr || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fx->sv) < 0) {
		free(fx->lr);
		free(fx);
		return -1;
	}
	line_reader_init(fx->lr);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	line_reader_release(fx->lr);
	close(fx->sv[0]);
	if (fx->sv[1] >= 0)
		close(fx->sv[1]);
	free(fx->lr);
	free(fx);
	return 0;
}

static void close_peer(struct fixture *fx)
{
	close(fx->sv[1]);
	fx->sv[1] = -1;
}

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void put(struct fixture *fx, const char *text)
{
	write_all(fx->sv[1], text, strlen(text));
}

/* Send one byte of DATA with NFDS descriptors (any number, unlike proto_send). */
static void send_fds(int sock, const char *data, const int *fds, int nfds)
{
	size_t clen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
	char *control = calloc(1, clen);
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = clen};
	struct cmsghdr *c;

	assert_non_null(control);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)strlen(data));
	free(control);
}

static void snapshot_fds(bool open_fds[FD_SCAN])
{
	for (int fd = 0; fd < FD_SCAN; fd++)
		open_fds[fd] = fcntl(fd, F_GETFD) >= 0;
}

/* How many descriptors are open now that were not in BEFORE (and none closed). */
static int count_new_fds(const bool before[FD_SCAN])
{
	bool now[FD_SCAN];
	int n = 0;

	snapshot_fds(now);
	for (int fd = 0; fd < FD_SCAN; fd++) {
		if (before[fd])
			assert_true(now[fd]);
		else if (now[fd])
			n++;
	}
	return n;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* True when every write end of the pipe whose read end is RFD is closed: nothing leaked. */
static bool pipe_has_no_writer(int rfd)
{
	char c;

	return read(rfd, &c, 1) == 0;
}

/* The next line, or NULL; consumes it. */
static char *next_line(struct line_reader *lr, char *copy, size_t size)
{
	size_t consumed = 0;
	int overlong = -1;
	char *line = line_reader_next(lr, &consumed, &overlong);

	assert_int_equal(overlong, 0);
	if (!line)
		return NULL;
	assert_true(strlen(line) < size);
	strcpy(copy, line);
	line_reader_consume(lr, consumed);
	return copy;
}

/* ---- line_reader ---- */

static void reader_returns_several_lines_from_one_read(void **state)
{
	struct fixture *fx = *state;
	char line[64];

	put(fx, "one\ntwo\n\nthree\n");
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 15);
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "one");
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "two");
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "");
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "three");
	assert_null(next_line(fx->lr, line, sizeof(line)));
	assert_int_equal(fx->lr->len, 0);
}

static void reader_joins_a_line_split_over_reads(void **state)
{
	struct fixture *fx = *state;
	char line[64];

	put(fx, "{\"cmd\":");
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 7);
	assert_null(next_line(fx->lr, line, sizeof(line)));
	put(fx, "\"list\"");
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 6);
	assert_null(next_line(fx->lr, line, sizeof(line)));
	put(fx, "}\n");
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 2);
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "{\"cmd\":\"list\"}");
	assert_null(next_line(fx->lr, line, sizeof(line)));
}

static void reader_keeps_partial_line_after_complete_one(void **state)
{
	struct fixture *fx = *state;
	char line[64];

	put(fx, "first\nsec");
	line_reader_fill(fx->lr, fx->sv[0]);
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "first");
	assert_null(next_line(fx->lr, line, sizeof(line)));
	assert_int_equal(fx->lr->len, 3);
	put(fx, "ond\n");
	line_reader_fill(fx->lr, fx->sv[0]);
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "second");
}

static void reader_fill_returns_zero_at_end_of_stream(void **state)
{
	struct fixture *fx = *state;

	close_peer(fx);
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 0);
}

static void reader_fill_returns_eagain_when_nothing_to_read(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fcntl(fx->sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), -EAGAIN);
}

/* Fill LR with LEN bytes of 'x' (no newline), pushing them in pieces. */
static void fill_with_x(struct fixture *fx, size_t len)
{
	static char chunk[8192];
	size_t sent = 0;

	memset(chunk, 'x', sizeof(chunk));
	while (sent < len) {
		size_t n = len - sent < sizeof(chunk) ? len - sent : sizeof(chunk);
		write_all(fx->sv[1], chunk, n);
		sent += n;
		while (fx->lr->len < sent)
			assert_true(line_reader_fill(fx->lr, fx->sv[0]) > 0);
	}
	assert_int_equal(fx->lr->len, len);
}

static void reader_accepts_line_of_max_minus_one(void **state)
{
	struct fixture *fx = *state;
	size_t consumed = 0;
	int overlong = -1;
	char *line;

	fill_with_x(fx, PROTO_MAX_LINE - 1);
	put(fx, "\n");
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 1);
	line = line_reader_next(fx->lr, &consumed, &overlong);
	assert_non_null(line);
	assert_int_equal(overlong, 0);
	assert_int_equal(strlen(line), PROTO_MAX_LINE - 1);
	assert_int_equal(consumed, PROTO_MAX_LINE);
	line_reader_consume(fx->lr, consumed);
	assert_int_equal(fx->lr->len, 0);
}

static void reader_flags_overlong_line_and_discards_it(void **state)
{
	struct fixture *fx = *state;
	size_t consumed = 0;
	int overlong = 0;

	fill_with_x(fx, PROTO_MAX_LINE);
	put(fx, "more");
	/* The buffer is full: no room to read more. */
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), -ENOBUFS);
	assert_null(line_reader_next(fx->lr, &consumed, &overlong));
	assert_int_equal(overlong, 1);
	assert_int_equal(fx->lr->len, 0);
	/* And the reader can go on. */
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 4);
}

static void reader_keeps_fds_passed_with_scm_rights(void **state)
{
	struct fixture *fx = *state;
	int p1[2], p2[2];
	char line[64], c;

	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	send_fds(fx->sv[1], "fds\n", (int[]){p1[1], p2[1]}, 2);
	close(p1[1]);
	close(p2[1]);

	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 4);
	assert_string_equal(next_line(fx->lr, line, sizeof(line)), "fds");
	assert_int_equal(fx->lr->nfds, 2);
	/* In order, usable, and close-on-exec. */
	assert_int_equal(write(fx->lr->fds[0], "1", 1), 1);
	assert_int_equal(write(fx->lr->fds[1], "2", 1), 1);
	assert_int_equal(read(p1[0], &c, 1), 1);
	assert_int_equal(c, '1');
	assert_int_equal(read(p2[0], &c, 1), 1);
	assert_int_equal(c, '2');
	assert_true(fcntl(fx->lr->fds[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fx->lr->fds[1], F_GETFD) & FD_CLOEXEC);

	line_reader_release(fx->lr);
	assert_int_equal(fx->lr->nfds, 0);
	assert_true(pipe_has_no_writer(p1[0]));
	assert_true(pipe_has_no_writer(p2[0]));
	close(p1[0]);
	close(p2[0]);
}

/* Send NSENT copies of a pipe's write end; the reader must keep PROTO_MAX_FDS of them and
 * leave no other copy open anywhere. */
static void check_excess_fds_are_closed(struct fixture *fx, int nsent)
{
	bool before[FD_SCAN];
	int p[2], fds[64];

	assert_true(nsent <= 64);
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < nsent; i++)
		fds[i] = p[1];
	send_fds(fx->sv[1], "x\n", fds, nsent);
	close(p[1]);

	snapshot_fds(before);
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 2);
	assert_int_equal(fx->lr->nfds, PROTO_MAX_FDS);
	assert_int_equal(count_new_fds(before), PROTO_MAX_FDS);
	for (int i = 0; i < PROTO_MAX_FDS; i++) {
		assert_true(fx->lr->fds[i] < FD_SCAN && !before[fx->lr->fds[i]]);
		assert_true(same_file(fx->lr->fds[i], p[0])); /* both ends share an inode */
	}

	line_reader_release(fx->lr);
	assert_int_equal(count_new_fds(before), 0);
	assert_true(pipe_has_no_writer(p[0]));
	close(p[0]);
}

static void reader_closes_fds_beyond_max(void **state)
{
	check_excess_fds_are_closed(*state, PROTO_MAX_FDS + 2);
}

static void reader_closes_fds_beyond_its_control_buffer(void **state)
{
	check_excess_fds_are_closed(*state, PROTO_MAX_FDS * 5);
}

static void reader_closes_fds_arriving_when_already_full(void **state)
{
	struct fixture *fx = *state;
	bool before[FD_SCAN];
	int p[2];

	assert_int_equal(pipe(p), 0);
	send_fds(fx->sv[1], "a\n", (int[]){p[1], p[1]}, 2);
	snapshot_fds(before);
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 2);
	assert_int_equal(fx->lr->nfds, 2);
	send_fds(fx->sv[1], "b\n", (int[]){p[1], p[1]}, 2);
	assert_int_equal(line_reader_fill(fx->lr, fx->sv[0]), 2);
	assert_int_equal(fx->lr->nfds, PROTO_MAX_FDS);
	assert_int_equal(count_new_fds(before), PROTO_MAX_FDS);

	line_reader_release(fx->lr);
	assert_int_equal(count_new_fds(before), 0);
	close(p[1]);
	assert_true(pipe_has_no_writer(p[0]));
	close(p[0]);
}

/* ---- proto_send / proto_recv ---- */

static void send_recv_round_trips_a_message(void **state)
{
	struct fixture *fx = *state;
	json_t *sent = json_pack("{s:s, s:i, s:b, s:[s,s], s:{s:s}}", "cmd", "create", "id", 42,
				 "autostart", 1, "devices", "display=none", "audio=shared",
				 "options", "memory", "512M");
	json_t *got = NULL;

	assert_non_null(sent);
	assert_int_equal(proto_send(fx->sv[1], sent, NULL, 0, 0), 0);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), 0);
	assert_non_null(got);
	assert_true(json_equal(sent, got));
	assert_int_equal(fx->lr->nfds, 0);
	assert_int_equal(fx->lr->len, 0);
	json_decref(sent);
	json_decref(got);
}

static void send_recv_round_trips_a_large_message(void **state)
{
	struct fixture *fx = *state;
	char *big = malloc(60000);
	json_t *sent, *got = NULL;

	assert_non_null(big);
	memset(big, 'q', 59999);
	big[59999] = '\0';
	sent = json_pack("{s:s}", "text", big);
	assert_int_equal(proto_send(fx->sv[1], sent, NULL, 0, 0), 0);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), 0);
	assert_true(json_equal(sent, got));
	json_decref(sent);
	json_decref(got);
	free(big);
}

static void send_recv_passes_fds(void **state)
{
	struct fixture *fx = *state;
	json_t *sent = json_pack("{s:s}", "cmd", "console");
	json_t *got = NULL;
	int p1[2], p2[2];

	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(proto_send(fx->sv[1], sent, (int[]){p1[1], p2[0]}, 2, 0), 0);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), 0);
	assert_true(json_equal(sent, got));
	assert_int_equal(fx->lr->nfds, 2);
	assert_true(same_file(fx->lr->fds[0], p1[1]));
	assert_true(same_file(fx->lr->fds[1], p2[0]));
	json_decref(sent);
	json_decref(got);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

static void send_rejects_too_many_or_negative_fds(void **state)
{
	struct fixture *fx = *state;
	json_t *msg = json_pack("{s:s}", "cmd", "list");
	int fds[PROTO_MAX_FDS + 1] = {0};

	assert_int_equal(proto_send(fx->sv[1], msg, fds, PROTO_MAX_FDS + 1, 0), -EINVAL);
	assert_int_equal(proto_send(fx->sv[1], msg, fds, -1, 0), -EINVAL);
	json_decref(msg);
}

static void send_to_closed_peer_gives_epipe(void **state)
{
	struct fixture *fx = *state;
	json_t *msg = json_pack("{s:s}", "cmd", "list");

	/* Write from the reader's end to the closed one: no SIGPIPE, an error. */
	close_peer(fx);
	assert_int_equal(proto_send(fx->sv[0], msg, NULL, 0, 0), -EPIPE);
	json_decref(msg);
}

static void recv_returns_buffered_messages_in_order(void **state)
{
	struct fixture *fx = *state;
	json_t *got = NULL;

	put(fx, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), 0);
		assert_int_equal(json_integer_value(json_object_get(got, "n")), i);
		json_decref(got);
	}
	assert_int_equal(fx->lr->len, 0);
}

static void recv_on_closed_peer_gives_econnreset(void **state)
{
	struct fixture *fx = *state;
	json_t *got = NULL;

	close_peer(fx);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), -ECONNRESET);
}

static void recv_on_half_line_then_close_gives_econnreset(void **state)
{
	struct fixture *fx = *state;
	json_t *got = NULL;

	put(fx, "{\"cmd\":\"li");
	close_peer(fx);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), -ECONNRESET);
}

static void recv_malformed_json_gives_ebadmsg_and_skips_it(void **state)
{
	struct fixture *fx = *state;
	json_t *got = NULL;

	put(fx, "{not json\n[1,\n{\"ok\":true}\n");
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), -EBADMSG);
	assert_null(got);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), -EBADMSG);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), 0);
	assert_true(json_is_true(json_object_get(got, "ok")));
	json_decref(got);
}

static void recv_overlong_line_gives_emsgsize(void **state)
{
	struct fixture *fx = *state;
	json_t *got = NULL;
	int sndbuf = 4 * PROTO_MAX_LINE;
	char *big = malloc(PROTO_MAX_LINE + 10);

	assert_non_null(big);
	assert_int_equal(setsockopt(fx->sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	memset(big, 'x', PROTO_MAX_LINE + 10);
	big[PROTO_MAX_LINE + 9] = '\n';
	write_all(fx->sv[1], big, PROTO_MAX_LINE + 10);
	assert_int_equal(proto_recv(fx->sv[0], fx->lr, &got), -EMSGSIZE);
	free(big);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reader_returns_several_lines_from_one_read),
		T(reader_joins_a_line_split_over_reads),
		T(reader_keeps_partial_line_after_complete_one),
		T(reader_fill_returns_zero_at_end_of_stream),
		T(reader_fill_returns_eagain_when_nothing_to_read),
		T(reader_accepts_line_of_max_minus_one),
		T(reader_flags_overlong_line_and_discards_it),
		T(reader_keeps_fds_passed_with_scm_rights),
		T(reader_closes_fds_beyond_max),
		T(reader_closes_fds_beyond_its_control_buffer),
		T(reader_closes_fds_arriving_when_already_full),
		T(send_recv_round_trips_a_message),
		T(send_recv_round_trips_a_large_message),
		T(send_recv_passes_fds),
		T(send_rejects_too_many_or_negative_fds),
		T(send_to_closed_peer_gives_epipe),
		T(recv_returns_buffered_messages_in_order),
		T(recv_on_closed_peer_gives_econnreset),
		T(recv_on_half_line_then_close_gives_econnreset),
		T(recv_malformed_json_gives_ebadmsg_and_skips_it),
		T(recv_overlong_line_gives_emsgsize),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
