/* The low-memory killer (DESIGN.md §6). Memory pressure (PSI triggers; on cgroup v1 also
 * the VPs' parent group's memory.pressure_level and OOM notifications) makes it kill, one
 * process at a time, in Cells' order: the processes of background VPs before any of the
 * foreground VP, the VP that left the foreground longest ago first, and within a VP the
 * highest oom_score_adj first (then the biggest; its init last). Each kill is reported. */
#ifndef CELLS_SCALE_LMK_H
#define CELLS_SCALE_LMK_H

#include "common/error.h"
#include "common/loop.h"
#include "vp/cgroup.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What the daemon tells of one running VP. */
struct lmk_vp {
	char name[64];
	char procs[PATH_MAX]; /* its cgroup.procs */
	pid_t init;	      /* its cell-init */
	int init_pidfd;	      /* and its pidfd */
	bool foreground;
	uint64_t left_foreground_ns; /* when it last left the foreground; 0: never in it */
};

/* One process that may be killed. */
struct lmk_proc {
	unsigned vp; /* index in the VPs' array */
	pid_t pid;
	int oom_score_adj;
	uint64_t rss_kb;
	bool init;
};

/* The process of PROCS to kill first, by the order above, or -1 when none may be killed
 * (an oom_score_adj of -1000 is never killed, as by the kernel). */
long lmk_choose(const struct lmk_vp *vps, size_t nvps, const struct lmk_proc *procs, size_t nprocs);

struct lmk_kill {
	const char *vp;
	pid_t pid;
	const char *comm;
	int oom_score_adj;
	uint64_t rss_kb;
	const char *reason; /* what triggered it: "psi", "pressure_level", "oom" */
	bool foreground;
};

struct lmk_host {
	/* The running VPs, at most MAX, into OUT; returns how many. */
	size_t (*list)(void *ctx, struct lmk_vp *out, size_t max);
	void (*killed)(void *ctx, const struct lmk_kill *kill);
	void *ctx;
};

struct lmk {
	struct lmk_host host;
	struct loop *loop;
	struct loop_watch psi;	 /* a PSI trigger */
	struct loop_watch level; /* v1: memory.pressure_level's eventfd */
	struct loop_watch oom;	 /* v1: memory.oom_control's eventfd */
	struct loop_watch retry; /* a timer: still under OOM after a kill? */
	struct loop_watch poll;	 /* a timer: PSI's averages where triggers are refused */
	char oom_control[PATH_MAX];
	char memory_high[PATH_MAX]; /* v2: the parent's, set below its memory.max */
	char psi_path[PATH_MAX];
	uint64_t last_kill_ns;
	uint64_t kills, triggers;
	/* What a kill looks at, made once: under memory pressure the killer allocates
	 * nothing. */
	struct lmk_vp *vps;
	struct lmk_proc *procs;
};

/* Watch the system's memory pressure, or with PARENT (the VPs' parent group, which has a
 * memory limit: cellsd --memory-total) that group's. On v1 the kernel's OOM killer is
 * turned off in PARENT, so that this one, not the kernel's, picks what dies there; v2 has
 * no such switch, and PARENT gets a memory.high below its memory.max instead, where the
 * kernel throttles the allocating tasks (a stall that PSI counts) before its OOM killer
 * would act. */
int lmk_init(struct lmk *l, struct loop *loop, const struct lmk_host *host,
	     const struct cgroup_host *cgroups, const char *parent, struct error *err);
void lmk_fini(struct lmk *l);

#endif
