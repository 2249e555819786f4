/* The VPs' shares of the supervisor threads' time (src/devns/budget.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devns/budget.h"

#define MS 1000000LL
#define W  BUDGET_WINDOW_NS

static void spend(struct budget_pool *pool, struct devns_budget *b, long long at, long long ms)
{
	for (long long i = 0; i < ms; i++)
		budget_charge(pool, b, MS, at + i);
}

static void a_vp_alone_may_use_a_whole_window(void **state)
{
	struct budget_pool pool = {0};
	struct devns_budget a = {0};

	(void)state;
	spend(&pool, &a, 10 * W, 90);
	assert_int_equal(budget_wait(&pool, &a, 10 * W + 95 * MS), 0);
	spend(&pool, &a, 10 * W + 95 * MS, 10);
	/* Past the window's worth: wait for the next one. */
	assert_int_equal(budget_wait(&pool, &a, 10 * W + 99 * MS), 1 * MS);
	assert_int_equal(a.throttled, 1);
	assert_int_equal(budget_wait(&pool, &a, 11 * W), 0);
}

static void two_vps_share_a_window(void **state)
{
	struct budget_pool pool = {0};
	struct devns_budget flood = {0}, quiet = {0};
	long long t = 20 * W;

	(void)state;
	spend(&pool, &quiet, t, 1);
	spend(&pool, &flood, t + 1 * MS, 49);
	assert_int_equal(budget_wait(&pool, &flood, t + 50 * MS), 0);
	spend(&pool, &flood, t + 50 * MS, 1);
	/* Half the window each: the flood waits for the rest of it, the other does not. */
	assert_int_equal(budget_wait(&pool, &flood, t + 60 * MS), 40 * MS);
	assert_int_equal(budget_wait(&pool, &quiet, t + 60 * MS), 0);
	assert_int_equal(quiet.throttled, 0);
}

static void the_share_counts_the_vps_of_the_window_before(void **state)
{
	struct budget_pool pool = {0};
	struct devns_budget v[4] = {{0}};
	long long t = 30 * W;

	(void)state;
	for (int i = 0; i < 4; i++)
		spend(&pool, &v[i], t, 1);
	/* In the next window only v[0] has called yet: the four of before still count. */
	spend(&pool, &v[0], t + W, 25);
	assert_true(budget_wait(&pool, &v[0], t + W + 30 * MS) > 0);
	/* A window later with no one else: it has the window to itself. */
	spend(&pool, &v[0], t + 3 * W, 25);
	assert_int_equal(budget_wait(&pool, &v[0], t + 3 * W + 30 * MS), 0);
}

static long long fake_cpu;

static long long read_fake_cpu(void)
{
	return fake_cpu;
}

static void cheap_calls_are_charged_every_few_calls(void **state)
{
	struct budget_pool pool = {0};
	struct devns_budget b = {0};
	struct budget_meter m;
	long long t = 20 * W;

	(void)state;
	fake_cpu = 5 * MS;
	budget_meter_init(&m, read_fake_cpu);
	for (int i = 1; i < BUDGET_SAMPLE_CALLS; i++) {
		fake_cpu += 10000;
		budget_meter_call(&m, &pool, &b, 10000, t + i);
		assert_int_equal(atomic_load(&b.busy_ns), 0);
	}
	fake_cpu += 10000;
	budget_meter_call(&m, &pool, &b, 10000, t + BUDGET_SAMPLE_CALLS);
	assert_int_equal(atomic_load(&b.busy_ns), BUDGET_SAMPLE_CALLS * 10000);
	assert_int_equal(atomic_load(&b.calls), BUDGET_SAMPLE_CALLS);
}

static void a_long_call_is_charged_at_once(void **state)
{
	struct budget_pool pool = {0};
	struct devns_budget b = {0};
	struct budget_meter m;

	(void)state;
	fake_cpu = 0;
	budget_meter_init(&m, read_fake_cpu);
	fake_cpu += 3 * MS;
	budget_meter_call(&m, &pool, &b, 4 * MS, 30 * W);
	assert_int_equal(atomic_load(&b.busy_ns), 3 * MS);
}

static void a_flood_of_cheap_calls_still_waits(void **state)
{
	struct budget_pool pool = {0};
	struct devns_budget flood = {0}, quiet = {0};
	struct budget_meter m;
	long long t = 40 * W, at = t;

	(void)state;
	fake_cpu = 0;
	budget_meter_init(&m, read_fake_cpu);
	budget_charge(&pool, &quiet, 1000, t);
	/* 20 us of CPU a call, charged in bursts: past half the window it must wait, at most
	 * a burst late. */
	while (budget_wait(&pool, &flood, at) == 0) {
		fake_cpu += 20000;
		at += 20000;
		budget_meter_call(&m, &pool, &flood, 20000, at);
	}
	assert_true(at - t >= W / 2);
	assert_true(at - t <= W / 2 + BUDGET_SAMPLE_CALLS * 20000);
	assert_int_equal(budget_wait(&pool, &quiet, at), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_vp_alone_may_use_a_whole_window),
		cmocka_unit_test(two_vps_share_a_window),
		cmocka_unit_test(the_share_counts_the_vps_of_the_window_before),
		cmocka_unit_test(cheap_calls_are_charged_every_few_calls),
		cmocka_unit_test(a_long_call_is_charged_at_once),
		cmocka_unit_test(a_flood_of_cheap_calls_still_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
