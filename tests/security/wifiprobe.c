/* A hostile client of a VP's Wi-Fi control socket (/run/wpa_supplicant/wlan0), run in
 * the VP by tests/security/test_wifi_attacks.py:
 *   wifiprobe send HEX...     each payload (hex) from one client socket, each answer
 *                             printed in hex on a line ("-" for none in 5 s); N*HEX
 *                             sends it N times
 *   wifiprobe deaf SECONDS    ATTACH, then read nothing for SECONDS
 *   wifiprobe symlink TARGET  send PING, its own socket replaced first by a symlink to
 *                             TARGET (a path of the host's): where does the answer go?
 *   wifiprobe flood N HEX     send the payload N times without reading, then count the
 *                             answers that come within a second
 *   wifiprobe loop PATH       bind the VP's control socket over its own name, and over
 *                             PATH (the daemon's name of it, made in the VP), then PING:
 *                             would the daemon answer itself for ever? */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char self[108];

static int open_client(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(self, sizeof(self), "/tmp/wpa_ctrl_probe-%d", getpid());
	unlink(self);
	strcpy(addr.sun_path, self);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("bind");
		exit(1);
	}
	strcpy(addr.sun_path, "/run/wpa_supplicant/wlan0");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static int unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = strlen(s) / 2;

	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return (int)n;
}

static ssize_t answer(int fd, unsigned char *buf, size_t size, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, size, 0);
}

int main(int argc, char **argv)
{
	static unsigned char buf[16384];
	int fd;

	if (argc < 3)
		return 2;
	fd = open_client();
	if (strcmp(argv[1], "send") == 0) {
		for (int i = 2; i < argc; i++) {
			const char *hex = strchr(argv[i], '*');
			int times = hex ? atoi(argv[i]) : 1;
			for (int t = 0; t < times; t++) {
				int n = unhex(hex ? hex + 1 : argv[i], buf, sizeof(buf));
				ssize_t r;
				if (n < 0 || send(fd, buf, (size_t)n, 0) < 0) {
					printf("!\n");
					continue;
				}
				r = answer(fd, buf, sizeof(buf), 5000);
				if (r < 0)
					printf("-");
				for (ssize_t j = 0; j < r; j++)
					printf("%02x", buf[j]);
				printf("\n");
			}
		}
	} else if (strcmp(argv[1], "deaf") == 0) {
		send(fd, "ATTACH", 6, 0);
		if (answer(fd, buf, sizeof(buf), 5000) != 3 || memcmp(buf, "OK\n", 3) != 0)
			return 1;
		printf("attached\n");
		fflush(stdout);
		sleep((unsigned)atoi(argv[2]));
	} else if (strcmp(argv[1], "flood") == 0 && argc == 4) {
		int n = unhex(argv[3], buf, sizeof(buf)), times = atoi(argv[2]), got = 0;
		for (int t = 0; n >= 0 && t < times; t++)
			send(fd, buf, (size_t)n, 0);
		while (answer(fd, buf, sizeof(buf), 1000) >= 0)
			got++;
		printf("%d\n", got);
	} else if (strcmp(argv[1], "loop") == 0) {
		char dir[256];
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
		close(open(argv[2], O_CREAT | O_WRONLY, 0600));
		if (mount("/run/wpa_supplicant/wlan0", self, NULL, MS_BIND, NULL) < 0 ||
		    mount("/run/wpa_supplicant/wlan0", argv[2], NULL, MS_BIND, NULL) < 0) {
			perror("mount");
			return 1;
		}
		send(fd, "PING", 4, 0);
		printf("sent\n");
		return 0;
	} else if (strcmp(argv[1], "symlink") == 0) {
		unlink(self);
		if (symlink(argv[2], self) < 0) {
			perror("symlink");
			return 1;
		}
		send(fd, "PING", 4, 0);
		printf("%s\n", answer(fd, buf, sizeof(buf), 1000) < 0 ? "no-answer" : "answered");
	}
	unlink(self);
	return 0;
}
