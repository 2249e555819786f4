#include "devns/budget.h"

#include <time.h>

long long budget_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A new window starts at the first call after the old one ended. Threads of one VP may
 * race here: one of them starts the window, the others' charges land in it. */
static void roll_window(struct devns_budget *b, long long now)
{
	long long start = atomic_load(&b->window_start);

	if (now - start < BUDGET_WINDOW_NS)
		return;
	if (atomic_compare_exchange_strong(&b->window_start, &start, now))
		atomic_store(&b->used, 0);
}

void budget_charge(struct devns_budget *b, long long start, long long end)
{
	roll_window(b, end);
	atomic_fetch_add(&b->used, end - start);
	atomic_fetch_add(&b->calls, 1);
	atomic_fetch_add(&b->busy_ns, (unsigned long long)(end - start));
}

long long budget_wait(struct devns_budget *b, long long now)
{
	roll_window(b, now);
	if (atomic_load(&b->used) < BUDGET_SHARE_NS)
		return 0;
	atomic_fetch_add(&b->throttled, 1);
	return atomic_load(&b->window_start) + BUDGET_WINDOW_NS - now;
}
