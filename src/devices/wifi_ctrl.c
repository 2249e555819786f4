/* A VP's Wi-Fi control socket and its clients (wifi_ctrl.h). */
#include "devices/wifi_ctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int wifi_ctrl_open(struct wifi_ctrl *c, const char *path, uid_t uid, struct error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	c->sock = c->root = -1;
	if (strlen(path) >= sizeof(addr.sun_path))
		return error_set(err, ENAMETOOLONG, "wifi: socket path %s", path);
	strcpy(addr.sun_path, path);
	c->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->sock < 0)
		return error_set(err, errno, "wifi: socket");
	unlink(path);
	struct stat sb;
	if (bind(c->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chown(path, uid, uid) < 0 || chmod(path, 0660) < 0 || stat(path, &sb) < 0) {
		int ret = error_set(err, errno, "wifi: bind %s", path);
		close(c->sock);
		c->sock = -1;
		return ret;
	}
	c->self_dev = sb.st_dev;
	c->self_ino = sb.st_ino;
	return 0;
}

int wifi_ctrl_reopen(struct wifi_ctrl *c, const char *path, uid_t uid, struct error *err)
{
	uint64_t sent = c->events_sent, dropped = c->events_dropped, resets = c->resets;
	int root = c->root, ret;

	c->root = -1;
	wifi_ctrl_close(c);
	ret = wifi_ctrl_open(c, path, uid, err);
	c->root = root;
	c->events_sent = sent;
	c->events_dropped = dropped;
	c->resets = resets + 1;
	return ret;
}

int wifi_ctrl_set_root(struct wifi_ctrl *c, pid_t pid, struct error *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	c->root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->root < 0)
		return error_set(err, errno, "wifi: open %s", path);
	return 0;
}

void wifi_ctrl_close(struct wifi_ctrl *c)
{
	for (unsigned i = 0; i < c->nclients; i++)
		close(c->clients[i].fd);
	c->nclients = 0;
	if (c->sock >= 0)
		close(c->sock);
	if (c->root >= 0)
		close(c->root);
	c->sock = c->root = -1;
}

ssize_t wifi_ctrl_recv(struct wifi_ctrl *c, char *buf, size_t size, struct wifi_peer *peer)
{
	struct sockaddr_un addr;
	socklen_t alen = sizeof(addr);
	ssize_t n;
	size_t plen;

	memset(&addr, 0, sizeof(addr));
	n = recvfrom(c->sock, buf, size, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&addr, &alen);
	if (n < 0)
		return -errno;
	if (alen <= offsetof(struct sockaddr_un, sun_path) || addr.sun_path[0] != '/')
		return -EADDRNOTAVAIL;
	plen = strnlen(addr.sun_path, alen - offsetof(struct sockaddr_un, sun_path));
	memcpy(peer->path, addr.sun_path, plen);
	peer->path[plen] = '\0';
	return n;
}

/* PEER's socket under the VP's root: beneath it, no symlink, a socket. */
static int open_peer(const struct wifi_ctrl *c, const struct wifi_peer *peer)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS};
	const char *rel = peer->path;
	struct stat sb;
	int fd;

	if (c->root < 0)
		return -ENOTCONN;
	while (*rel == '/')
		rel++;
	if (!*rel)
		return -EINVAL;
	fd = (int)syscall(SYS_openat2, c->root, rel, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode)) {
		close(fd);
		return -ENOTSOCK;
	}
	if (sb.st_dev == c->self_dev && sb.st_ino == c->self_ino) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

/* Whether our own send buffer is what is full (not the one receiver's queue). */
static bool buffer_full(const struct wifi_ctrl *c)
{
	int queued = 0, sndbuf = 0;
	socklen_t len = sizeof(sndbuf);

	if (ioctl(c->sock, SIOCOUTQ, &queued) < 0 ||
	    getsockopt(c->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) < 0)
		return false;
	return queued >= sndbuf / 2;
}

static int send_fd(struct wifi_ctrl *c, int fd, const char *buf, size_t len)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d", fd);
	if (sendto(c->sock, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr,
		   sizeof(addr)) < 0) {
		int ret = -errno;
		if (ret == -EAGAIN && buffer_full(c))
			c->stuck = true;
		return ret;
	}
	return 0;
}

int wifi_ctrl_reply(struct wifi_ctrl *c, const struct wifi_peer *peer, const char *buf, size_t len)
{
	int fd = open_peer(c, peer), ret;

	if (fd < 0)
		return fd;
	ret = send_fd(c, fd, buf, len);
	close(fd);
	return ret;
}

static int find_client(const struct wifi_ctrl *c, const struct wifi_peer *peer)
{
	for (unsigned i = 0; i < c->nclients; i++)
		if (strcmp(c->clients[i].peer.path, peer->path) == 0)
			return (int)i;
	return -1;
}

static void drop_client(struct wifi_ctrl *c, unsigned i)
{
	close(c->clients[i].fd);
	c->clients[i] = c->clients[--c->nclients];
}

int wifi_ctrl_attach(struct wifi_ctrl *c, const struct wifi_peer *peer)
{
	int i = find_client(c, peer), fd;

	if (i >= 0) /* the same name again: its socket may be a new one */
		drop_client(c, (unsigned)i);
	if (c->nclients >= WIFI_MAX_ATTACHED)
		return -ENOSPC;
	if ((fd = open_peer(c, peer)) < 0)
		return fd;
	c->clients[c->nclients++] = (struct wifi_client){.peer = *peer, .fd = fd};
	return 0;
}

int wifi_ctrl_detach(struct wifi_ctrl *c, const struct wifi_peer *peer)
{
	int i = find_client(c, peer);

	if (i < 0)
		return -ENOENT;
	drop_client(c, (unsigned)i);
	return 0;
}

bool wifi_ctrl_attached(const struct wifi_ctrl *c)
{
	return c->nclients > 0;
}

void wifi_ctrl_broadcast(struct wifi_ctrl *c, const char *line, size_t len)
{
	for (unsigned i = 0; i < c->nclients;) {
		int ret = send_fd(c, c->clients[i].fd, line, len);
		if (ret == 0) {
			c->events_sent++;
			c->clients[i++].failures = 0;
			continue;
		}
		c->events_dropped++;
		/* Gone (its socket closed), or not reading for too long: detached. */
		if (ret != -EAGAIN || ++c->clients[i].failures >= WIFI_MAX_FAILURES)
			drop_client(c, i);
		else
			i++;
	}
}
