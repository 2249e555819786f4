/* The monotonic clock: the one time base of timers, backoffs and ages. Callers that keep
 * signed times (deadlines, -1 or 0 sentinels, differences that go negative) convert the
 * value: it stays far below INT64_MAX. */
#ifndef CELLS_CLOCK_H
#define CELLS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The same clock in whole milliseconds, for poll() timeouts and human-scale delays. */
static inline uint64_t monotonic_ms(void)
{
	return monotonic_ns() / 1000000u;
}

#endif
