/* The low-memory killer's order (src/scale/lmk.c). */
#include "scale/lmk.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Kill in turn, as the daemon would under lasting pressure: the pids in the order killed. */
static size_t order(const struct lmk_vp *vps, size_t nvps, struct lmk_proc *procs, size_t n,
		    pid_t *out)
{
	size_t k = 0;
	long i;

	while ((i = lmk_choose(vps, nvps, procs, n)) >= 0) {
		out[k++] = procs[i].pid;
		procs[i] = procs[--n];
	}
	return k;
}

static void test_background_first_least_recent_first(void **state)
{
	/* fg is in front; b1 left it at 200, b2 at 100, b3 never was. */
	struct lmk_vp vps[] = {
		{.name = "fg", .foreground = true, .left_foreground_ns = 50},
		{.name = "b1", .left_foreground_ns = 200},
		{.name = "b2", .left_foreground_ns = 100},
		{.name = "b3", .left_foreground_ns = 0},
	};
	struct lmk_proc procs[] = {
		{.vp = 0, .pid = 10, .oom_score_adj = 900, .rss_kb = 900000},
		{.vp = 1, .pid = 20, .rss_kb = 10},
		{.vp = 2, .pid = 30, .rss_kb = 10},
		{.vp = 3, .pid = 40, .rss_kb = 10},
		{.vp = 0, .pid = 11, .rss_kb = 10, .init = true},
	};
	pid_t got[8];
	const pid_t want[] = {40, 30, 20, 10, 11};

	(void)state;
	assert_int_equal(order(vps, N(vps), procs, N(procs), got), N(want));
	assert_memory_equal(got, want, sizeof(want));
}

static void test_within_a_vp_by_adj_then_size_init_last(void **state)
{
	struct lmk_vp vps[] = {{.name = "fg", .foreground = true}, {.name = "bg"}};
	struct lmk_proc procs[] = {
		{.vp = 1, .pid = 2, .oom_score_adj = 0, .rss_kb = 100, .init = true},
		{.vp = 1, .pid = 3, .oom_score_adj = 0, .rss_kb = 5000},
		{.vp = 1, .pid = 4, .oom_score_adj = 500, .rss_kb = 10},
		{.vp = 1, .pid = 5, .oom_score_adj = -500, .rss_kb = 90000},
		{.vp = 1, .pid = 6, .oom_score_adj = 0, .rss_kb = 6000},
		{.vp = 1, .pid = 7, .oom_score_adj = -1000, .rss_kb = 99999},
		{.vp = 0, .pid = 8, .oom_score_adj = 1000, .rss_kb = 99999},
	};
	pid_t got[8];
	/* The unkillable 7 never; the init of the background VP before the foreground's. */
	const pid_t want[] = {4, 6, 3, 5, 2, 8};

	(void)state;
	assert_int_equal(order(vps, N(vps), procs, N(procs), got), N(want));
	assert_memory_equal(got, want, sizeof(want));
}

static void test_nothing_to_kill(void **state)
{
	struct lmk_vp vps[] = {{.name = "a"}};
	struct lmk_proc procs[] = {{.vp = 0, .pid = 2, .oom_score_adj = -1000},
				   {.vp = 5, .pid = 3, .oom_score_adj = 0}};

	(void)state;
	assert_int_equal(lmk_choose(vps, N(vps), procs, 0), -1);
	/* Unkillable, or of a VP that is not listed. */
	assert_int_equal(lmk_choose(vps, N(vps), procs, N(procs)), -1);
}

static void test_never_foreground_while_background_left(void **state)
{
	/* Whatever the sizes and scores, a background process goes first. */
	struct lmk_vp vps[] = {{.name = "fg", .foreground = true, .left_foreground_ns = 0},
			       {.name = "bg", .left_foreground_ns = 999}};
	struct lmk_proc procs[] = {
		{.vp = 0, .pid = 2, .oom_score_adj = 1000, .rss_kb = 1 << 30},
		{.vp = 1, .pid = 3, .oom_score_adj = -999, .rss_kb = 1, .init = true},
	};

	(void)state;
	assert_int_equal(lmk_choose(vps, N(vps), procs, N(procs)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_background_first_least_recent_first),
		cmocka_unit_test(test_within_a_vp_by_adj_then_size_init_last),
		cmocka_unit_test(test_nothing_to_kill),
		cmocka_unit_test(test_never_foreground_while_background_left),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
