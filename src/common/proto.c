#include "common/proto.h"
#include "common/cleanup.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

void line_reader_init(struct line_reader *lr)
{
	lr->len = 0;
	lr->nfds = 0;
}

void line_reader_release(struct line_reader *lr)
{
	for (int i = 0; i < lr->nfds; i++)
		close(lr->fds[i]);
	lr->nfds = 0;
}

static void keep_fds(struct line_reader *lr, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *fds = (int *)CMSG_DATA(c);
		for (int i = 0; i < n; i++) {
			/* More than we take are closed at once: a peer cannot pile them up. */
			if (lr->nfds < PROTO_MAX_FDS)
				lr->fds[lr->nfds++] = fds[i];
			else
				close(fds[i]);
		}
	}
}

int line_reader_fill(struct line_reader *lr, int sock)
{
	char control[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS * 2)];
	struct iovec iov = {lr->buf + lr->len, sizeof(lr->buf) - lr->len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control,
			    .msg_controllen = sizeof(control)};
	ssize_t n;

	if (iov.iov_len == 0)
		return -ENOBUFS;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	keep_fds(lr, &mh);
	lr->len += (size_t)n;
	return (int)n;
}

char *line_reader_next(struct line_reader *lr, size_t *consumed, int *overlong)
{
	char *nl = memchr(lr->buf, '\n', lr->len);

	*overlong = 0;
	if (!nl) {
		if (lr->len == sizeof(lr->buf)) {
			*overlong = 1;
			lr->len = 0;
		}
		return NULL;
	}
	*nl = '\0';
	*consumed = (size_t)(nl - lr->buf) + 1;
	return lr->buf;
}

void line_reader_consume(struct line_reader *lr, size_t consumed)
{
	memmove(lr->buf, lr->buf + consumed, lr->len - consumed);
	lr->len -= consumed;
}

int proto_send(int sock, json_t *msg, const int *fds, int nfds, int flags)
{
	_cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(9));
	char control[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
	struct msghdr mh = {0};
	struct iovec iov[2];
	size_t len, sent = 0;

	if (!text)
		return -ENOMEM;
	if (nfds < 0 || nfds > PROTO_MAX_FDS)
		return -EINVAL;
	len = strlen(text);
	while (sent < len + 1) {
		ssize_t n;
		int niov = 0;
		if (sent < len) {
			iov[niov++] = (struct iovec){text + sent, len - sent};
			iov[niov++] = (struct iovec){"\n", 1};
		} else {
			iov[niov++] = (struct iovec){"\n", 1};
		}
		mh = (struct msghdr){.msg_iov = iov, .msg_iovlen = (size_t)niov};
		if (sent == 0 && nfds > 0) {
			mh.msg_control = control;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		sent += (size_t)n;
	}
	return 0;
}

int proto_recv(int sock, struct line_reader *lr, json_t **msg)
{
	for (;;) {
		size_t consumed;
		int overlong;
		char *line = line_reader_next(lr, &consumed, &overlong);
		if (overlong)
			return -EMSGSIZE;
		if (line) {
			json_error_t err;
			*msg = json_loads(line, 0, &err);
			line_reader_consume(lr, consumed);
			return *msg ? 0 : -EBADMSG;
		}
		int n = line_reader_fill(lr, sock);
		if (n < 0)
			return n;
		if (n == 0)
			return -ECONNRESET;
	}
}
