/* The KSM scanner's phases (src/scale/ksm.c): the clock is passed in. */
#include "scale/ksm.h"

#include <errno.h>
#include <limits.h>

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
	assert_int_equal(ksm_phase_at(&p, 0, 5 * S, KSM_HARD_SCANS, 6 * S, &change), KSM_OFF);
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
	assert_int_equal(ksm_phase_at(&p, 1, 10 * S, KSM_HARD_SCANS, 10 * S, &change), KSM_HARD);
	assert_int_equal(change, 80 * S);
	assert_int_equal(ksm_phase_at(&p, 3, 10 * S, KSM_HARD_SCANS, 80 * S - 1, &change),
			 KSM_HARD);
	assert_int_equal(change, 80 * S);
	assert_int_equal(ksm_phase_at(&p, 3, 10 * S, KSM_HARD_SCANS, 80 * S, &change), KSM_GENTLE);
	assert_int_equal(change, 0);
	assert_int_equal(ksm_phase_at(&p, 3, 10 * S, KSM_HARD_SCANS, 5000 * S, &change),
			 KSM_GENTLE);
	/* A later start counts from itself. */
	assert_int_equal(ksm_phase_at(&p, 4, 100 * S, KSM_HARD_SCANS, 120 * S, &change), KSM_HARD);
	assert_int_equal(change, 170 * S);
}

static void test_hard_until_the_scanner_has_passed(void **state)
{
	struct ksm_policy p = KSM_DEFAULT_POLICY;
	uint64_t change;

	(void)state;
	/* Started at 10 s; at 80 s the scanner has made one pass: hard on, looked at 5 s
	 * later; three passes end it; 10 x 70 s after the start it ends whatever they are. */
	assert_int_equal(ksm_phase_at(&p, 50, 10 * S, 0, 60 * S, &change), KSM_HARD);
	assert_int_equal(change, 80 * S);
	assert_int_equal(ksm_phase_at(&p, 50, 10 * S, 1, 80 * S, &change), KSM_HARD);
	assert_int_equal(change, 85 * S);
	assert_int_equal(ksm_phase_at(&p, 50, 10 * S, 2, 85 * S, &change), KSM_HARD);
	assert_int_equal(ksm_phase_at(&p, 50, 10 * S, 3, 90 * S, &change), KSM_GENTLE);
	assert_int_equal(change, 0);
	assert_int_equal(ksm_phase_at(&p, 50, 10 * S, 0, 708 * S, &change), KSM_HARD);
	assert_int_equal(change, 710 * S);
	assert_int_equal(ksm_phase_at(&p, 50, 10 * S, 0, 710 * S, &change), KSM_GENTLE);
}

static void test_disabled(void **state)
{
	struct ksm_policy p = KSM_DEFAULT_POLICY;
	uint64_t change;

	(void)state;
	p.enabled = false;
	assert_int_equal(ksm_phase_at(&p, 5, 10 * S, KSM_HARD_SCANS, 11 * S, &change), KSM_OFF);
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

/* A phone's few VPs get the hard tuning as set; more VPs get more pages per wake-up, in
 * steps of KSM_HARD_VPS, up to KSM_HARD_SCALE_MAX times; the gentle phase never scales. */
static void test_hard_pages_grow_with_vps(void **state)
{
	struct ksm_policy p = KSM_DEFAULT_POLICY;
	const struct {
		unsigned running, pages;
	} rows[] = {{1, 500},	{4, 500},    {20, 500},	  {21, 1000},
		    {40, 1000}, {100, 2500}, {200, 5000}, {1000, 5000}};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ksm_tuning t = ksm_tuning_for(&p, KSM_HARD, rows[i].running);
		assert_int_equal(t.sleep_ms, 100);
		assert_int_equal(t.pages, rows[i].pages);
	}
	assert_int_equal(ksm_tuning_for(&p, KSM_GENTLE, 100).pages, 100);
	assert_int_equal(ksm_tuning_for(&p, KSM_GENTLE, 100).sleep_ms, 1500);
	/* A tuning at the top of the range does not wrap. */
	p.hard.pages = UINT_MAX / 2;
	assert_int_equal(ksm_tuning_for(&p, KSM_HARD, 100).pages, UINT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_without_vps),
		cmocka_unit_test(test_hard_then_gentle),
		cmocka_unit_test(test_hard_until_the_scanner_has_passed),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_hard_pages_grow_with_vps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
