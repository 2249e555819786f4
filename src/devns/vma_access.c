/* A caller's pointer checked against its memory map before the supervisor reads or writes
 * through /proc/TID/mem. The answer can go stale if another thread of the caller remaps
 * the range meanwhile: that thread can only spoil its own process's memory. */
#include "devns/vma_access.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* From Linux 6.11's <linux/fs.h>, which older headers lack. */
struct procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
#define PROCMAP_QUERY		   _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_EXEC	   0x04

/* As the fault handler: a read needs any access right (x86 cannot map write- or
 * execute-only), a write needs write. */
static bool allows(uint64_t flags, bool write)
{
	if (write)
		return flags & PROCMAP_QUERY_VMA_WRITABLE;
	return flags &
	       (PROCMAP_QUERY_VMA_READABLE | PROCMAP_QUERY_VMA_WRITABLE | PROCMAP_QUERY_VMA_EXEC);
}

static bool range_end(uint64_t addr, size_t len, uint64_t *end)
{
	return !__builtin_add_overflow(addr, (uint64_t)len, end);
}

int vma_access(int maps_fd, uint64_t addr, size_t len, bool write)
{
	uint64_t end;

	if (!range_end(addr, len, &end))
		return -EFAULT;
	while (addr < end) {
		struct procmap_query q = {.size = sizeof(q), .query_addr = addr};

		/* ENOENT: nothing mapped there; ESRCH: the caller is gone. */
		if (ioctl(maps_fd, PROCMAP_QUERY, &q) < 0)
			return errno == ENOTTY
				       ? vma_access_text(maps_fd, addr, (size_t)(end - addr), write)
				       : -EFAULT;
		if (!allows(q.vma_flags, write))
			return -EFAULT;
		addr = q.vma_end;
	}
	return 0;
}

/* One line of /proc/PID/maps: "start-end rwxp offset dev inode path". */
static bool parse_line(const char *line, uint64_t *start, uint64_t *stop, uint64_t *flags)
{
	char perms[5];

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s", start, stop, perms) != 3)
		return false;
	*flags = (perms[0] == 'r' ? PROCMAP_QUERY_VMA_READABLE : 0) |
		 (perms[1] == 'w' ? PROCMAP_QUERY_VMA_WRITABLE : 0) |
		 (perms[2] == 'x' ? PROCMAP_QUERY_VMA_EXEC : 0);
	return true;
}

int vma_access_text(int maps_fd, uint64_t addr, size_t len, bool write)
{
	uint64_t end, start, stop, flags;
	char *line = NULL;
	size_t cap = 0;
	int dup_fd, ret = -EFAULT;
	FILE *maps;

	if (!range_end(addr, len, &end))
		return -EFAULT;
	if (addr == end)
		return 0;
	/* The duplicate shares the offset: rewind it, the map is read from the start. */
	if ((dup_fd = dup(maps_fd)) < 0)
		return -EFAULT;
	if (lseek(dup_fd, 0, SEEK_SET) < 0 || !(maps = fdopen(dup_fd, "r"))) {
		close(dup_fd);
		return -EFAULT;
	}
	/* The lines come in address order: walk them until the range is covered or a gap
	 * or a refusing mapping is met. */
	while (getline(&line, &cap, maps) > 0) {
		if (!parse_line(line, &start, &stop, &flags) || stop <= addr)
			continue;
		if (start > addr || !allows(flags, write))
			break;
		addr = stop;
		if (addr >= end) {
			ret = 0;
			break;
		}
	}
	free(line);
	fclose(maps);
	return ret;
}
