/* statfs(2) and fstatfs(2) for a VP's processes, on its composed /sys. The VP's /sys shows
 * its devices as files the daemon wrote (DESIGN.md §4), on a tmpfs of their own; libudev
 * (systemd 251 and later) takes a device only if fstatfs of its directory says
 * SYSFS_MAGIC. The daemon answers for that tmpfs alone, with the kernel's answer for it
 * and sysfs's type; every other call is the kernel's (continued). Not a security check:
 * a racing thread only fools itself. */
#ifndef CELLS_DEVNS_STATFS_H
#define CELLS_DEVNS_STATFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sysfs_statfs_call {
	bool by_path;  /* statfs(PATH, BUF), else fstatfs(FD, BUF) */
	uint64_t path; /* the caller's address of its path */
	int fd;
	uint64_t buf;
	pid_t tid;
	int pidfd, mem_fd, maps_fd; /* the caller's */
	dev_t sys_dev;		    /* the composed /sys's file system */
};

/* 1 when answered (*ERROR 0 or an errno), 0 when the kernel should make the call. */
int sysfs_statfs_answer(const struct sysfs_statfs_call *call, int *error);

#endif
