/* KSM driven by cellsd (DESIGN.md §6): every VP's processes are mergeable (the runtime
 * sets PR_SET_MEMORY_MERGE on cell-init); the daemon tunes the kernel's one scanner. It
 * scans hard for a while after a VP starts, when there is most to merge, gently after,
 * and gives the host back its own settings when no VP runs and when the daemon exits. */
#ifndef CELLS_SCALE_KSM_H
#define CELLS_SCALE_KSM_H

#include "common/error.h"
#include "common/loop.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ksm_tuning {
	unsigned sleep_ms; /* sleep_millisecs */
	unsigned pages;	   /* pages_to_scan */
};

struct ksm_policy {
	bool enabled;
	struct ksm_tuning hard, gentle;
	unsigned hard_s; /* how long the hard phase lasts after a VP starts */
};

/* The host's (OFF: its own settings), right after a start, and after that. */
enum ksm_phase { KSM_OFF, KSM_HARD, KSM_GENTLE };

#define KSM_DEFAULT_POLICY                                                                         \
	((struct ksm_policy){.enabled = true,                                                      \
			     .hard = {.sleep_ms = 100, .pages = 500},                              \
			     .gentle = {.sleep_ms = 1500, .pages = 100},                           \
			     .hard_s = 70})

/* The hard phase lasts hard_s, and longer (up to KSM_HARD_LIMIT times) until the scanner
 * has made KSM_HARD_SCANS full passes since the last start, looked at every
 * KSM_SCANS_POLL_S: two to merge a page (seen unchanged twice), one for the pass that was
 * under way at the start. */
#define KSM_HARD_SCANS	 3
#define KSM_HARD_LIMIT	 10
#define KSM_SCANS_POLL_S 5

/* The hard phase's pages per wake-up are for this many running VPs, and as many times more
 * for as many times more VPs (at most KSM_HARD_SCALE_MAX times): a pass then takes about
 * the same time however many VPs run, and a phone's few VPs get the tuning as set. */
#define KSM_HARD_VPS	   20
#define KSM_HARD_SCALE_MAX 10

/* The phase at NOW_NS with RUNNING VPs, the last of them started at LAST_START_NS, the
 * scanner having made SCANS full passes since; in *CHANGE_NS when to look again (the hard
 * phase may end), or 0 if it cannot change by itself. */
enum ksm_phase ksm_phase_at(const struct ksm_policy *p, unsigned running, uint64_t last_start_ns,
			    unsigned scans, uint64_t now_ns, uint64_t *change_ns);
const char *ksm_phase_name(enum ksm_phase phase);
/* The scanner's tuning in PHASE (not KSM_OFF) with RUNNING VPs. */
struct ksm_tuning ksm_tuning_for(const struct ksm_policy *p, enum ksm_phase phase,
				 unsigned running);

/* "--ksm on|off", "--ksm-hard MS,PAGES,SECONDS", "--ksm-gentle MS,PAGES". */
int ksm_parse_option(struct ksm_policy *p, const char *name, const char *value, struct error *err);

struct ksm {
	struct ksm_policy policy;
	struct loop *loop;
	struct loop_watch timer; /* the end of the hard phase */
	char dir[64];		 /* /sys/kernel/mm/ksm */
	char record[PATH_MAX];	 /* the host's settings while ours are in force */
	bool available;
	bool saved; /* the host's settings are in saved_* and ours are in force */
	char saved_run[16], saved_sleep[16], saved_pages[16];
	enum ksm_phase phase;
	struct ksm_tuning written; /* what is in force while phase is not KSM_OFF */
	unsigned running;
	uint64_t last_start_ns;
	unsigned scans_at_start; /* full_scans at the last start */
};

/* Nothing is written until a VP starts. A kernel without KSM leaves it unavailable. The
 * host's settings are kept in RECORD (a file in the run directory) while cellsd's are in
 * force, so that the next daemon gives them back after one that was killed. */
int ksm_init(struct ksm *k, struct loop *loop, const struct ksm_policy *policy, const char *record,
	     struct error *err);
/* RUNNING VPs now; STARTED: one of them has just started. */
void ksm_vps_changed(struct ksm *k, unsigned running, bool started);
/* Give the host back its settings. */
void ksm_fini(struct ksm *k);

/* The pages of the processes listed in the cgroup.procs file PROCS that KSM has merged
 * (the sum of their /proc/PID/ksm_merging_pages). */
uint64_t ksm_merging_pages(const char *procs);

#endif
