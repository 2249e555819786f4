/* Per-VP views of /proc (DESIGN.md §3): lxcfs, started and supervised by cellsd, computes
 * meminfo, cpuinfo, stat, uptime, loadavg, diskstats and swaps from the cgroup of the
 * process that reads them; the runtime binds its files over the VP's /proc. One instance
 * per daemon, mounted under the run directory; restarted when it dies, at once if it had
 * run a while, else after a delay that doubles with each quick death. Without lxcfs VPs
 * start with the kernel's files, and the daemon says so once. */
#ifndef CELLS_SCALE_VIEWS_H
#define CELLS_SCALE_VIEWS_H

#include "common/error.h"
#include "common/loop.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What the daemon does when lxcfs comes and goes. */
struct views_host {
	/* Instance PID died; the next one starts in DELAY_MS. */
	void (*exited)(void *ctx, pid_t pid, unsigned delay_ms);
	/* A new instance (not the first) answers at DIR ("RUN/lxcfs/proc"): the running
	 * VPs still hold the dead one's files. */
	void (*restarted)(void *ctx, pid_t pid, const char *dir);
	void *ctx;
};

struct views {
	struct loop *loop;
	struct views_host host;
	char exe[PATH_MAX];   /* lxcfs */
	char mount[PATH_MAX]; /* RUN/lxcfs */
	char pidfile[PATH_MAX];
	char log[PATH_MAX]; /* its stderr, of its last start */
	pid_t pid;
	pid_t parent;		      /* the daemon, for the child's check that it is still there */
	struct loop_watch exit_watch; /* its pidfd */
	struct loop_watch restart;    /* a timer: the next try */
	unsigned starts;
	uint64_t started_ns; /* of the current instance, CLOCK_MONOTONIC */
	unsigned backoff_ms; /* the delay after its last quick death; 0: none */
	bool ready;	     /* mounted and answering */
	bool stopping;
};

/* Start lxcfs at RUN_DIR/lxcfs, if EXE (NULL: found on PATH) exists and ENABLED. */
void views_start(struct views *v, struct loop *loop, const struct views_host *host,
		 const char *run_dir, const char *exe, bool enabled);
/* The directory whose files the VPs' /proc get ("RUN/lxcfs/proc"), or NULL while there
 * is none. */
const char *views_proc_dir(struct views *v, char *buf, size_t len);
void views_stop(struct views *v);

#endif
