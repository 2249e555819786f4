#include "devns/sysinfo.h"

#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

void sysinfo_vp_view(struct sysinfo *s, const struct vp_memory_view *v)
{
	uint64_t unit = s->mem_unit ? s->mem_unit : 1;
	uint64_t total = (uint64_t)s->totalram * unit;

	if (v->limit && v->limit < total) {
		uint64_t used = v->usage < v->limit ? v->usage : v->limit;
		s->totalram = (unsigned long)(v->limit / unit);
		s->freeram = (unsigned long)((v->limit - used) / unit);
		s->sharedram = 0;
		s->bufferram = 0;
		/* A VP with a limit gets no swap (memory.swap.max 0 on v2). */
		s->totalswap = 0;
		s->freeswap = 0;
		s->totalhigh = 0;
		s->freehigh = 0;
	}
	if (v->uptime_s >= 0)
		s->uptime = v->uptime_s;
	if (v->procs)
		s->procs = (unsigned short)(v->procs > 0xffff ? 0xffff : v->procs);
}

/* PATH's content, without malloc (a supervisor thread may not take libc's locks). */
static ssize_t read_small(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

static bool read_u64(const char *path, uint64_t *out)
{
	char text[64];

	if (read_small(AT_FDCWD, path, text, sizeof(text)) <= 0)
		return false;
	if (strncmp(text, "max", 3) == 0) {
		*out = UINT64_MAX;
		return true;
	}
	*out = strtoull(text, NULL, 10);
	return true;
}

/* The caller's group in CONTROLLER's hierarchy ("" for v2's), from /proc/TID/cgroup. */
static bool group_of(const char *table, const char *controller, char *out, size_t size)
{
	size_t clen = strlen(controller);

	for (const char *line = table; *line;) {
		const char *end = strchr(line, '\n'), *c, *p;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		/* Both colons within this line: a later line's must not count. */
		c = memchr(line, ':', len);
		if (c && (p = memchr(c + 1, ':', len - (size_t)(c + 1 - line)))) {
			bool match = clen == 0 ? p == c + 1 : false;
			for (const char *w = c + 1; clen && w < p;) {
				const char *comma = memchr(w, ',', (size_t)(p - w));
				size_t wlen = comma ? (size_t)(comma - w) : (size_t)(p - w);
				match |= wlen == clen && strncmp(w, controller, clen) == 0;
				w += wlen + 1;
			}
			if (match) {
				size_t plen = len - (size_t)(p + 1 - line);
				if (plen >= size)
					return false;
				memcpy(out, p + 1, plen);
				out[plen] = '\0';
				return true;
			}
		}
		line += len + (end != NULL);
	}
	return false;
}

/* The memory limit (the least up the tree) and usage of the group at DIR. */
static bool memory_of(char *dir, bool v2, uint64_t *limit, uint64_t *usage)
{
	size_t root_len = strlen(CGROUP_ROOT) + (v2 ? 0 : strlen("/memory"));
	size_t len = strlen(dir);
	char path[PATH_MAX];
	uint64_t value;

	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "memory.current" : "memory.usage_in_bytes");
	if (!read_u64(path, usage))
		return false;
	*limit = UINT64_MAX;
	for (;;) {
		snprintf(path, sizeof(path), "%s/%s", dir,
			 v2 ? "memory.max" : "memory.limit_in_bytes");
		if (read_u64(path, &value) && value < *limit)
			*limit = value;
		while (len > root_len && dir[len - 1] != '/')
			len--;
		if (len <= root_len + 1)
			break;
		dir[--len] = '\0';
	}
	return true;
}

/* Seconds since the caller's pid namespace's init started, from that namespace's own
 * /proc (a procfs, looked up inside the caller's root), or -1. */
static long vp_uptime(pid_t tid)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	char root[64], text[1024], *p;
	unsigned long long start;
	struct timespec now;
	struct statfs fs;
	int dir, fd;
	ssize_t n;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)tid);
	dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dir, "/proc/1/stat", &how, sizeof(how));
	close(dir);
	if (fd < 0)
		return -1;
	if (fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	/* After the command's ")": state is field 3, starttime field 22. */
	if (!(p = strrchr(text, ')')))
		return -1;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	clock_gettime(CLOCK_BOOTTIME, &now);
	long since = (long)now.tv_sec - (long)(start / (unsigned long long)sysconf(_SC_CLK_TCK));
	return since < 0 ? 0 : since;
}

int sysinfo_answer(const struct sysinfo_call *call, int *error)
{
	char path[64], group[PATH_MAX - 64], dir[PATH_MAX];
	char table[4096] = ""; /* zeroed whole: the analyzer cannot see what read() fills */
	struct vp_memory_view view = {.uptime_s = -1};
	struct sysinfo s;
	uint64_t pids;
	bool v2;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)call->tid);
	if (read_small(AT_FDCWD, path, table, sizeof(table)) <= 0)
		return 0;
	v2 = !group_of(table, "memory", group, sizeof(group));
	if (v2 && !group_of(table, "", group, sizeof(group)))
		return 0;
	/* The root group (a host process, or no VP's): the kernel's answer. */
	if (strcmp(group, "/") == 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s%s%s", CGROUP_ROOT, v2 ? "" : "/memory", group);
	if (!memory_of(dir, v2, &view.limit, &view.usage))
		return 0;
	if (v2 || group_of(table, "pids", group, sizeof(group))) {
		snprintf(dir, sizeof(dir), "%s%s%s/pids.current", CGROUP_ROOT, v2 ? "" : "/pids",
			 group);
		if (read_u64(dir, &pids))
			view.procs = (unsigned)pids;
	}
	view.uptime_s = vp_uptime(call->tid);
	if (sysinfo(&s) < 0)
		return 0;
	sysinfo_vp_view(&s, &view);
	*error = 0;
	if (vma_access(call->maps_fd, call->buf, sizeof(s), true) < 0 ||
	    pwrite(call->mem_fd, &s, sizeof(s), (off_t)call->buf) != (ssize_t)sizeof(s))
		*error = EFAULT;
	return 1;
}
