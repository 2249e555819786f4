/* The VP's own network namespace (only lo for now). */
#include "vp/runtime.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int net_enter(struct vp_runtime *rt, struct error *err)
{
	struct ifreq ifr = {0};
	int sock, ret = 0;

	(void)rt;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return error_set(err, errno, "socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
		ret = error_set(err, errno, "get flags of lo");
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		ret = error_set(err, errno, "bring lo up");
out:
	close(sock);
	return ret;
}

const struct vp_module vp_module_net = {
	.name = "net",
	.enter = net_enter,
};
