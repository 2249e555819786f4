/* Each VP's share of the daemon's time for its trapped calls. The CPU time the supervisor
 * threads spend on a VP's calls is counted per window; a VP that has had its share sleeps out the
 * window, and then only its own calls wait. The share is fair, not fixed: one window's
 * worth of one CPU split between the VPs that made calls lately, so a VP alone may use a
 * CPU, and a VP flooding its devices (a thousand threads in FBIO_WAITFORVSYNC) while others
 * make calls gets no more than they may. */
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

long long budget_now(void);
/* The calling thread's CPU time, ns. */
long long budget_thread_cpu(void);
/* Count a call of B's VP that cost the daemon COST ns of CPU, ending at NOW. */
void budget_charge(struct budget_pool *pool, struct devns_budget *b, long long cost, long long now);
/* How long the VP's next call must wait for its share to come back (0: none). */
long long budget_wait(struct budget_pool *pool, struct devns_budget *b, long long now);

#endif
