#include "devns/mincore.h"

#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The kernel's TASK_SIZE_MAX and a 32-bit task's TASK_SIZE on x86. */
#define TASK_END_64 0x7ffffffff000ULL
#define TASK_END_32 0xffffe000ULL
/* A map's text with 100,000 mappings stays below this. */
#define MAPS_TEXT_MAX (32u << 20)

bool maps_text_covers(const char *text, size_t len, uint64_t addr, uint64_t end)
{
	const char *p = text, *stop = text + len;

	while (addr < end && p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		const char *line_end = nl ? nl : stop;
		char field[40];
		size_t n = (size_t)(line_end - p);
		uint64_t start, finish;

		if (n >= sizeof(field))
			n = sizeof(field) - 1;
		memcpy(field, p, n);
		field[n] = '\0';
		p = nl ? nl + 1 : stop;
		if (sscanf(field, "%" SCNx64 "-%" SCNx64, &start, &finish) != 2 || finish <= start)
			return false;
		if (finish <= addr)
			continue;
		if (start > addr)
			return false; /* a hole before this mapping; the lines are in order */
		addr = finish;
	}
	return addr >= end;
}

static int covered_by_text(pid_t tid, uint64_t addr, uint64_t end)
{
	char path[64], *text = NULL;
	size_t size = 0, cap = 0;
	ssize_t n;
	int fd, ret = -ENOMEM;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -ESRCH;
	for (;;) {
		if (size == cap) {
			char *bigger =
				cap < MAPS_TEXT_MAX ? realloc(text, cap ? cap * 2 : 65536) : NULL;
			if (!bigger)
				goto out;
			text = bigger;
			cap = cap ? cap * 2 : 65536;
		}
		if ((n = read(fd, text + size, cap - size)) < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	ret = maps_text_covers(text, size, addr, end) ? 0 : -ENOMEM;
out:
	free(text);
	close(fd);
	return ret;
}

static int fill_vector(int mem_fd, uint64_t vec, uint64_t pages)
{
	unsigned char ones[4096];

	memset(ones, 1, sizeof(ones));
	while (pages > 0) {
		size_t n = pages < sizeof(ones) ? (size_t)pages : sizeof(ones);
		ssize_t done = pwrite(mem_fd, ones, n, (off_t)vec);
		if (done <= 0)
			return -EFAULT;
		vec += (uint64_t)done;
		pages -= (uint64_t)done;
	}
	return 0;
}

int mincore_answer(const struct mincore_call *call)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE),
		 limit = call->compat ? TASK_END_32 : TASK_END_64;
	uint64_t end, pages;
	int ret;

	/* The kernel's order: alignment, the range, the vector, then the mappings. */
	if (call->addr & (page - 1))
		return -EINVAL;
	if (__builtin_add_overflow(call->addr, call->len, &end) || end > limit)
		return -ENOMEM;
	pages = call->len / page + (call->len % page != 0);
	if (pages == 0)
		return 0;
	if (call->vec > limit || pages > limit - call->vec)
		return -EFAULT;
	end = call->addr + pages * page;
	if (call->maps_fd >= 0)
		ret = vma_mapped(call->maps_fd, call->addr, end - call->addr);
	else
		ret = covered_by_text(call->tid, call->addr, end);
	if (ret < 0)
		return ret == -ESRCH ? -ESRCH : -ENOMEM;
	if (vma_access(call->maps_fd, call->vec, (size_t)pages, true) < 0)
		return -EFAULT;
	return fill_vector(call->mem_fd, call->vec, pages);
}
