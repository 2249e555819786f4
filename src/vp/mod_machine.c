/* What makes a VP look like a machine of its own: its hostname (the VP's name), and
 * /etc/hostname and /etc/hosts that agree with it, so `hostname -f` and programs that
 * resolve their own name work in any image (an image copied from a host says "vm").
 *
 * Runs in the child after the mounts are sealed, as the VP's root with the VP's "/" as
 * root: every path resolves inside the VP, and what is written lands in its upper layer,
 * the VP's own to change. A clone3 child of a threaded daemon may not allocate: plain
 * system calls and buffers on the stack only. A file that cannot be written (a read-only
 * /etc, a full disk) leaves the VP as the image made it; it still starts. */
#include "vp/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTS_MAX	   16384
#define LOOPBACK_NAME_ADDR "127.0.1.1"

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)total < size && (n = read(fd, buf + total, size - (size_t)total)) > 0)
		total += n;
	close(fd);
	return total;
}

/* Replace PATH by DATA through a file beside it, so a reader never sees half of it. */
static int replace(const char *path, const char *data, size_t len)
{
	char tmp[64];
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.cells-new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		ret = -EIO;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

static int write_hostname(const char *name)
{
	char want[NAME_MAX_LEN + 2], have[NAME_MAX_LEN + 3];
	int len = snprintf(want, sizeof(want), "%s\n", name);
	ssize_t n = read_small("/etc/hostname", have, sizeof(have));

	if (n == len && memcmp(have, want, (size_t)len) == 0)
		return 0;
	return replace("/etc/hostname", want, (size_t)len);
}

/* Whether the line [LINE, END) names NAME among its host names (after the address). */
static bool line_names(const char *line, const char *end, const char *name, size_t name_len)
{
	const char *p = line, *word;
	bool first = true;

	while (p < end && *p != '#') {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		word = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '#')
			p++;
		if (p > word && !first && (size_t)(p - word) == name_len &&
		    memcmp(word, name, name_len) == 0)
			return true;
		if (p > word)
			first = false;
	}
	return false;
}

static bool starts_with_word(const char *line, const char *end, const char *word)
{
	size_t len = strlen(word);

	return (size_t)(end - line) > len && memcmp(line, word, len) == 0 &&
	       (line[len] == ' ' || line[len] == '\t');
}

/* /etc/hosts resolves NAME: a file that already names it is left alone; otherwise its
 * 127.0.1.1 line (Debian's place for the machine's own name) is replaced, and localhost
 * lines are added if it has none. */
static int fix_hosts(const char *name)
{
	/* Zeroed for clang's analyzer, which takes -errno for a count of bytes read. */
	char old[HOSTS_MAX] = {0}, new[HOSTS_MAX + 256];
	size_t name_len = strlen(name), out = 0;
	bool has_localhost = false;
	ssize_t n = read_small("/etc/hosts", old, sizeof(old));

	if (n == -ENOENT)
		n = 0;
	if (n < 0)
		return (int)n;
	if ((size_t)n == sizeof(old))
		return -EFBIG; /* someone else's large file: not ours to rewrite */
	for (const char *line = old, *end; line < old + n; line = end + 1) {
		end = memchr(line, '\n', (size_t)(old + n - line));
		if (!end)
			end = old + n;
		if (line_names(line, end, name, name_len))
			return 0;
		has_localhost |= line_names(line, end, "localhost", strlen("localhost"));
		if (starts_with_word(line, end, LOOPBACK_NAME_ADDR))
			continue;
		memcpy(new + out, line, (size_t)(end - line));
		out += (size_t)(end - line);
		new[out++] = '\n';
	}
	if (!has_localhost)
		out += (size_t)snprintf(new + out, sizeof(new) - out,
					"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
					"ip6-loopback\n");
	out += (size_t)snprintf(new + out, sizeof(new) - out, LOOPBACK_NAME_ADDR "\t%s\n", name);
	return replace("/etc/hosts", new, out);
}

static int machine_enter(struct vp_runtime *rt, struct error *err)
{
	const char *name = rt->config->name;

	if (sethostname(name, strlen(name)) < 0)
		return error_set(err, errno, "sethostname");
	if (mkdir("/etc", 0755) < 0 && errno != EEXIST)
		return 0;
	write_hostname(name);
	fix_hosts(name);
	return 0;
}

const struct vp_module vp_module_machine = {
	.name = "machine",
	.enter = machine_enter,
};
