/* mincore(2) for a VP's processes, answered by the daemon: every page of a mapped range
 * reads as resident. The kernel shows a file's cached pages to whoever could write the
 * file, and a VP's root owns the shared image through its idmapped mount, so the real
 * answer would tell one VP which pages of the image another VP has read (a page-cache
 * side channel). As gVisor does, the answer keeps the call's contract (EINVAL, ENOMEM
 * for a hole, EFAULT for the vector) and says nothing about the cache. */
#ifndef CELLS_DEVNS_MINCORE_H
#define CELLS_DEVNS_MINCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mincore_call {
	uint64_t addr, len, vec;
	bool compat; /* a 32-bit caller: its address space ends at 4 GiB */
	int mem_fd;  /* the caller's /proc/TID/mem */
	int maps_fd; /* its /proc/TID/maps where the kernel has PROCMAP_QUERY, or -1 */
	pid_t tid;   /* to read its map as text where not */
};

/* 0 once the caller's vector says every page is resident, or -errno as mincore fails. */
int mincore_answer(const struct mincore_call *call);

/* Whether the text of a /proc/PID/maps covers [addr, end) without a hole. */
bool maps_text_covers(const char *text, size_t len, uint64_t addr, uint64_t end);

#endif
