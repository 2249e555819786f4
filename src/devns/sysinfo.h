/* sysinfo(2) for a VP's processes: its memory limit and usage, its process count and its
 * uptime instead of the host's (busybox's free and uptime, and others, ask sysinfo, not
 * /proc/meminfo, which lxcfs serves). Found from the caller's own cgroup and its pid
 * namespace's init; a call the daemon cannot place is the kernel's. Not a security check:
 * a caller that races only fools itself. */
#ifndef CELLS_DEVNS_SYSINFO_H
#define CELLS_DEVNS_SYSINFO_H

#include <stdint.h>
#include <sys/sysinfo.h>
#include <sys/types.h>

struct vp_memory_view {
	uint64_t limit; /* the least limit of its group and their ancestors, bytes */
	uint64_t usage; /* bytes */
	long uptime_s;	/* since its init started; -1: unknown (the host's stays) */
	unsigned procs; /* 0: unknown */
};

/* Turn the host's answer S into the VP's. */
void sysinfo_vp_view(struct sysinfo *s, const struct vp_memory_view *v);

struct sysinfo_call {
	uint64_t buf; /* the caller's struct sysinfo */
	pid_t tid;
	int mem_fd, maps_fd; /* the caller's */
};

/* 1 when answered (*ERROR 0 or an errno), 0 when the kernel should make the call. */
int sysinfo_answer(const struct sysinfo_call *call, int *error);

#endif
