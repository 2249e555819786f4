/* Whether a range of a process's memory may be read or written as the kernel's own
 * copy_from_user/copy_to_user would allow: /proc/TID/mem writes through read-only and
 * PROT_NONE pages (FOLL_FORCE), so the supervisor asks the caller's memory map first. */
#ifndef CELLS_DEVNS_VMA_ACCESS_H
#define CELLS_DEVNS_VMA_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether this kernel answers PROCMAP_QUERY (Linux 6.11). Older ones lack it, and their
 * callers' pointers go unchecked: reading the map's text instead costs 20 us for a small
 * program and over 1 ms for one with 3,000 mappings (an Android app), a call, and the check
 * only keeps a misbehaving caller from writing through its own read-only pages. */
bool vma_access_supported(void);

/* 0 if every byte of [addr, addr + len) lies in mappings that allow the access, -EFAULT if
 * not (or if the map could not be read). MAPS_FD is an open /proc/TID/maps, or -1 where
 * the kernel cannot be asked (every range allowed). */
int vma_access(int maps_fd, uint64_t addr, size_t len, bool write);

/* 0 if every byte of [addr, addr + len) lies in some mapping, whatever its rights;
 * -ENOMEM at a hole, -ESRCH if the caller is gone. MAPS_FD must answer PROCMAP_QUERY. */
int vma_mapped(int maps_fd, uint64_t addr, size_t len);

#endif
