/* In a VP: make tun interface NAME through /dev/net/tun, persistent (it stays in the
 * VP's network namespace after we exit), bring it up and say its index. */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct ifreq ifr = {0};
	int fd, sock;

	if (argc != 2)
		return 2;
	if ((fd = open("/dev/net/tun", O_RDWR)) < 0) {
		perror("open /dev/net/tun");
		return 1;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF");
		return 1;
	}
	if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
		perror("TUNSETPERSIST");
		return 1;
	}
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	ifr.ifr_flags = IFF_UP;
	if (sock < 0 || ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
		perror("up");
		return 1;
	}
	printf("index %u\n", if_nametoindex(argv[1]));
	return 0;
}
