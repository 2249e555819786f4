/* Each VP's share of the daemon's time for its trapped calls: what its supervisor threads
 * spend on its calls is counted per window, and once a VP has had its share the threads
 * serving it sleep out the window. A VP flooding its devices (a thousand threads in
 * FBIO_WAITFORVSYNC) then slows only itself: other VPs' threads, the loop and the control
 * socket keep the rest of the CPU. */
#ifndef CELLS_DEVNS_BUDGET_H
#define CELLS_DEVNS_BUDGET_H

#include <stdatomic.h>
#include <stdint.h>

#define BUDGET_WINDOW_NS (100 * 1000000LL)
/* A fifth of a CPU: a VP that draws at 60 frames a second uses a few hundredths of it. */
#define BUDGET_SHARE_NS (20 * 1000000LL)

struct devns_budget {
	atomic_llong window_start; /* ns, CLOCK_MONOTONIC */
	atomic_llong used;	   /* ns spent in this window */
	atomic_ullong calls, busy_ns, throttled;
};

long long budget_now(void);
/* Count a call that took the daemon from START to END. */
void budget_charge(struct devns_budget *b, long long start, long long end);
/* How long the VP's next call must wait for its share to come back (0: none). */
long long budget_wait(struct devns_budget *b, long long now);

#endif
