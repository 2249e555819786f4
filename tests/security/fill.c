/* A VP's attack on the host's disk: fill a file with bytes, or a directory with empty files,
 * until the kernel refuses. Prints "<what> <count> <errno name>": bytes written, or files
 * made, and why it stopped. Built static: it runs in any image. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char block[1 << 16];
	unsigned long long count = 0;
	int err = 0;

	if (argc != 3)
		return 2;
	if (strcmp(argv[1], "bytes") == 0) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return 3;
		memset(block, 0xa5, sizeof(block));
		for (;;) {
			ssize_t n = write(fd, block, sizeof(block));
			if (n <= 0) {
				err = n < 0 ? errno : ENOSPC;
				break;
			}
			count += (unsigned long long)n;
		}
		if (fsync(fd) < 0 && !err)
			err = errno;
		close(fd);
	} else {
		char name[64];
		if (chdir(argv[2]) < 0)
			return 3;
		for (;; count++) {
			int fd;
			snprintf(name, sizeof(name), "f%llu", count);
			fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (fd < 0) {
				err = errno;
				break;
			}
			close(fd);
		}
	}
	const char *why = strerrorname_np(err);

	printf("%s %llu %s\n", argv[1], count, why ? why : "?");
	return 0;
}
