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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_vp_alone_may_use_a_whole_window),
		cmocka_unit_test(two_vps_share_a_window),
		cmocka_unit_test(the_share_counts_the_vps_of_the_window_before),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
