/* One cgroup per VP, on cgroup v2 or on v1 (memory, cpu, cpuacct, pids, freezer) behind one
 * interface. A group is named by a path relative to each hierarchy's root, e.g.
 * "cells-1a2b3c4d/work". */
#ifndef CELLS_VP_CGROUP_H
#define CELLS_VP_CGROUP_H

#include "common/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup_limits {
	uint64_t memory;      /* bytes, 0: none */
	unsigned pids;	      /* 0: none */
	unsigned cpu_percent; /* 0: none */
};

struct cgroup_stats {
	uint64_t memory_bytes;
	uint64_t memory_max_bytes; /* the peak usage the kernel recorded */
	uint64_t oom_kills;
	uint64_t pids;
	uint64_t cpu_usec;
};

#define CGROUP_V1_CONTROLLERS 5

/* Where the host keeps its controllers, found once at start-up, and where the daemon
 * itself lives in each (it steps into a VP's group around clone and back). */
struct cgroup_host {
	bool v2;
	char root[64]; /* /sys/fs/cgroup */
	char self[CGROUP_V1_CONTROLLERS][256];
};

int cgroup_host_detect(struct cgroup_host *host, struct error *err);
/* The path of GROUP's FILE (NULL: its directory), in CONTROLLER's hierarchy on v1. */
int cgroup_path(const struct cgroup_host *host, const char *controller, const char *group,
		const char *file, char *buf, size_t len);
/* The parent of every VP's group, with a memory limit for them all (0: none); on v1 its
 * children count towards it (use_hierarchy). */
int cgroup_create_parent(const struct cgroup_host *host, const char *group, uint64_t memory,
			 struct error *err);
int cgroup_create(const struct cgroup_host *host, const char *group,
		  const struct cgroup_limits *limits, struct error *err);
/* Set every limit of a running VP's GROUP to LIMITS (0: none). */
int cgroup_set_limits(const struct cgroup_host *host, const char *group,
		      const struct cgroup_limits *limits, struct error *err);
/* v2: an O_DIRECTORY descriptor of the group, for clone3's CLONE_INTO_CGROUP. */
int cgroup_open(const struct cgroup_host *host, const char *group, struct error *err);
/* Move the calling process, which must be single-threaded, into GROUP; cgroup_leave moves
 * it back where it was at cgroup_host_detect. On v1 a single-threaded task moving itself
 * through "tasks" skips the RCU grace period that a move through "cgroup.procs" waits for
 * (milliseconds on a small VM), so a child forked in between is born in GROUP cheaply. */
int cgroup_enter(const struct cgroup_host *host, const char *group, struct error *err);
int cgroup_leave(const struct cgroup_host *host, struct error *err);
/* SIGKILL every task and wait (bounded) until none is left. */
int cgroup_kill(const struct cgroup_host *host, const char *group);
/* Kill what is left, then remove the group. */
int cgroup_destroy(const struct cgroup_host *host, const char *group);
/* Freeze (FROZEN true) or thaw every task of GROUP: v2 cgroup.freeze, v1 the freezer. */
int cgroup_freeze(const struct cgroup_host *host, const char *group, bool frozen,
		  struct error *err);
/* Whether the kernel says GROUP is frozen now (v2 cgroup.events "frozen 1", v1
 * freezer.state FROZEN): 1, 0, or -errno. */
int cgroup_frozen(const struct cgroup_host *host, const char *group);
int cgroup_read_stats(const struct cgroup_host *host, const char *group,
		      struct cgroup_stats *stats);
/* Remove every group under PARENT (left by a daemon that was killed), then PARENT. */
int cgroup_destroy_tree(const struct cgroup_host *host, const char *parent);

#endif
