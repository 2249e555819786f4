/* Each VP's share of the daemon's time for its trapped calls. The CPU time the supervisor
 * threads spend on a VP's calls is counted per window; a VP that has had its share sleeps out the
 * window, and then only its own calls wait. The share is fair, not fixed: one window's
 * worth of one CPU split between the VPs that made calls lately, so a VP alone may use a
 * CPU, and a VP flooding its devices (a thousand threads in FBIO_WAITFORVSYNC) while others
 * make calls gets no more than they may. NOW is always the monotonic clock in ns
 * (common/clock.h's monotonic_ns), as a signed count. */
#ifndef CELLS_DEVNS_BUDGET_H
#define CELLS_DEVNS_BUDGET_H

#include <stdatomic.h>
#include <stdint.h>

#define BUDGET_WINDOW_NS (100 * 1000000LL)

/* The daemon's: which window it is and how many VPs made calls in it and the one before. */
struct budget_pool {
	atomic_llong window;
	atomic_uint active[2];
};

/* A VP's. */
struct devns_budget {
	atomic_llong window; /* the last window it made a call in */
	atomic_llong used;   /* ns spent in that window */
	atomic_ullong calls, busy_ns, throttled;
};

/* The calling thread's CPU time, ns. */
long long budget_thread_cpu(void);
/* Count a call of B's VP that cost the daemon COST ns of CPU, ending at NOW. */
void budget_charge(struct budget_pool *pool, struct devns_budget *b, long long cost, long long now);
/* One supervisor thread's reading of its own CPU time. The thread CPU clock is a real
 * system call (1.3 us here, against 26 ns for the monotonic clock), as much as the rest
 * of a trapped call's handling: it is read once every BUDGET_SAMPLE_CALLS calls, or
 * sooner once the calls since the last reading took BUDGET_SAMPLE_NS of wall time (CPU
 * time cannot exceed it), and what it read is charged to the call that read it. A VP
 * thus runs at most that much ahead of its charges. */
#define BUDGET_SAMPLE_CALLS 32
#define BUDGET_SAMPLE_NS    (500 * 1000LL)

struct budget_meter {
	long long cpu;	      /* the thread's CPU time at the last reading */
	long long busy_since; /* wall time of the calls since then */
	unsigned calls_since;
	long long (*thread_cpu)(void); /* budget_thread_cpu; a test's clock */
};

void budget_meter_init(struct budget_meter *m, long long (*thread_cpu)(void));
/* Count a call that kept the thread busy BUSY ns of wall time, ending at NOW; charge B
 * with the CPU time read, if this call reads it. */
void budget_meter_call(struct budget_meter *m, struct budget_pool *pool, struct devns_budget *b,
		       long long busy, long long now);
/* How long the VP's next call must wait for its share to come back (0: none). */
long long budget_wait(struct budget_pool *pool, struct devns_budget *b, long long now);

#endif
