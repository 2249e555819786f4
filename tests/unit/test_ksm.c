/* The KSM scanner's phases (src/scale/ksm.c): the clock is passed in. */
#include "scale/ksm.h"

#include <errno.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define S 1000000000ull

static void test_off_without_vps(void **state)
{
	struct ksm_policy p = KSM_DEFAULT_POLICY;
	uint64_t change = 1;

	(void)state;
	assert_int_equal(ksm_phase_at(&p, 0, 5 * S, 6 * S, &change), KSM_OFF);
	assert_int_equal(change, 0);
}

static void test_hard_then_gentle(void **state)
{
	struct ksm_policy p = KSM_DEFAULT_POLICY;
	uint64_t change;

	(void)state;
	assert_int_equal(p.hard.sleep_ms, 100);
	assert_int_equal(p.hard.pages, 500);
	assert_int_equal(p.gentle.sleep_ms, 1500);
	assert_int_equal(p.gentle.pages, 100);
	/* Started at 10 s: hard until 80 s, then gentle for good. */
	assert_int_equal(ksm_phase_at(&p, 1, 10 * S, 10 * S, &change), KSM_HARD);
	assert_int_equal(change, 80 * S);
	assert_int_equal(ksm_phase_at(&p, 3, 10 * S, 80 * S - 1, &change), KSM_HARD);
	assert_int_equal(change, 80 * S);
	assert_int_equal(ksm_phase_at(&p, 3, 10 * S, 80 * S, &change), KSM_GENTLE);
	assert_int_equal(change, 0);
	assert_int_equal(ksm_phase_at(&p, 3, 10 * S, 5000 * S, &change), KSM_GENTLE);
	/* A later start counts from itself. */
	assert_int_equal(ksm_phase_at(&p, 4, 100 * S, 120 * S, &change), KSM_HARD);
	assert_int_equal(change, 170 * S);
}

static void test_disabled(void **state)
{
	struct ksm_policy p = KSM_DEFAULT_POLICY;
	uint64_t change;

	(void)state;
	p.enabled = false;
	assert_int_equal(ksm_phase_at(&p, 5, 10 * S, 11 * S, &change), KSM_OFF);
}

static void test_options(void **state)
{
	struct ksm_policy p = KSM_DEFAULT_POLICY;
	struct error err = {{0}};

	(void)state;
	assert_int_equal(ksm_parse_option(&p, "ksm-hard", "20,4000,5", &err), 0);
	assert_int_equal(p.hard.sleep_ms, 20);
	assert_int_equal(p.hard.pages, 4000);
	assert_int_equal(p.hard_s, 5);
	assert_int_equal(ksm_parse_option(&p, "ksm-gentle", "2000,50", &err), 0);
	assert_int_equal(p.gentle.sleep_ms, 2000);
	assert_int_equal(p.gentle.pages, 50);
	assert_int_equal(ksm_parse_option(&p, "ksm", "off", &err), 0);
	assert_false(p.enabled);
	const char *bad[][2] = {{"ksm", "yes"},		  {"ksm-hard", "1,2"},
				{"ksm-hard", "1,2,3,4"},  {"ksm-hard", "0,500,70"},
				{"ksm-gentle", "-1,100"}, {"ksm-gentle", "100,"},
				{"ksm-gentle", "100x,1"}, {"ksm-gentle", ""}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ksm_parse_option(&p, bad[i][0], bad[i][1], &err), -EINVAL);
	/* A refused value changes nothing. */
	assert_int_equal(p.gentle.sleep_ms, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_without_vps),
		cmocka_unit_test(test_hard_then_gentle),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
