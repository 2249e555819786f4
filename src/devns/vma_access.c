/* A caller's pointer checked against its memory map before the supervisor reads or writes
 * through /proc/TID/mem. The answer can go stale if another thread of the caller remaps
 * the range meanwhile: that thread can only spoil its own process's memory. */
#include "devns/vma_access.h"

#include <errno.h>
#include <fcntl.h>
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

bool vma_access_supported(void)
{
	struct procmap_query q = {.size = sizeof(q), .query_addr = (uintptr_t)&q};
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && ioctl(fd, PROCMAP_QUERY, &q) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

int vma_access(int maps_fd, uint64_t addr, size_t len, bool write)
{
	uint64_t end;

	if (maps_fd < 0)
		return 0;
	if (__builtin_add_overflow(addr, (uint64_t)len, &end))
		return -EFAULT;
	while (addr < end) {
		struct procmap_query q = {.size = sizeof(q), .query_addr = addr};

		/* ENOENT: nothing mapped there; ESRCH: the caller is gone. */
		if (ioctl(maps_fd, PROCMAP_QUERY, &q) < 0)
			return -EFAULT;
		if (!allows(q.vma_flags, write))
			return -EFAULT;
		addr = q.vma_end;
	}
	return 0;
}

int vma_mapped(int maps_fd, uint64_t addr, size_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(addr, (uint64_t)len, &end))
		return -ENOMEM;
	while (addr < end) {
		struct procmap_query q = {.size = sizeof(q), .query_addr = addr};

		if (ioctl(maps_fd, PROCMAP_QUERY, &q) < 0)
			return errno == ESRCH ? -ESRCH : -ENOMEM;
		addr = q.vma_end;
	}
	return 0;
}
