#include "devns/budget.h"

#include <time.h>

long long budget_thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The first thread to see a new window clears its count (and the one before it, if no
 * call came in that one). Threads may race here: a count is off by a VP at worst, for a
 * window. */
static long long roll(struct budget_pool *pool, long long now)
{
	long long w = now / BUDGET_WINDOW_NS, seen = atomic_load(&pool->window);

	if (w > seen && atomic_compare_exchange_strong(&pool->window, &seen, w)) {
		if (w > seen + 1)
			atomic_store(&pool->active[(w - 1) % 2], 0);
		atomic_store(&pool->active[w % 2], 0);
	}
	return w;
}

void budget_charge(struct budget_pool *pool, struct devns_budget *b, long long cost, long long now)
{
	long long w = roll(pool, now), mine = atomic_load(&b->window);

	if (mine != w && atomic_compare_exchange_strong(&b->window, &mine, w)) {
		atomic_store(&b->used, 0);
		atomic_fetch_add(&pool->active[w % 2], 1);
	}
	atomic_fetch_add(&b->used, cost);
	atomic_fetch_add(&b->calls, 1);
	atomic_fetch_add(&b->busy_ns, (unsigned long long)cost);
}

long long budget_wait(struct budget_pool *pool, struct devns_budget *b, long long now)
{
	long long w = roll(pool, now);
	unsigned now_active = atomic_load(&pool->active[w % 2]);
	unsigned before = atomic_load(&pool->active[(w + 1) % 2]);
	unsigned n = now_active > before ? now_active : before;
	long long share = BUDGET_WINDOW_NS / (n ? n : 1);

	if (atomic_load(&b->window) != w || atomic_load(&b->used) < share)
		return 0;
	atomic_fetch_add(&b->throttled, 1);
	return (w + 1) * BUDGET_WINDOW_NS - now;
}

void budget_meter_init(struct budget_meter *m, long long (*thread_cpu)(void))
{
	*m = (struct budget_meter){.thread_cpu = thread_cpu};
	m->cpu = thread_cpu();
}

void budget_meter_call(struct budget_meter *m, struct budget_pool *pool, struct devns_budget *b,
		       long long busy, long long now)
{
	long long cost = 0, cpu;

	m->busy_since += busy;
	if (++m->calls_since >= BUDGET_SAMPLE_CALLS || m->busy_since >= BUDGET_SAMPLE_NS) {
		cpu = m->thread_cpu();
		cost = cpu - m->cpu;
		m->cpu = cpu;
		m->calls_since = 0;
		m->busy_since = 0;
	}
	budget_charge(pool, b, cost, now);
}
