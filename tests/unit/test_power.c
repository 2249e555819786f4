/* The power device's pure parts: Android's wake lock interface (src/devices/power_locks.c)
 * and the root's suspend decision and recorder (src/devices/power_policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "devices/power_locks.h"
#include "devices/power_policy.h"

#define S 1000000000ull

static int take(struct power_locks *l, const char *text, uint64_t now)
{
	return power_locks_take(l, text, strlen(text), now);
}

static int drop(struct power_locks *l, const char *text, uint64_t now)
{
	return power_locks_release(l, text, strlen(text), now);
}

static const char *show(const struct power_locks *l, bool active)
{
	static char buf[4096];

	power_locks_show(l, active, buf, sizeof(buf));
	return buf;
}

static void names_and_timeouts_parse_as_the_kernel_does(void **unused)
{
	char name[POWER_LOCK_NAME_MAX + 1];
	uint64_t t;

	(void)unused;
	assert_int_equal(power_lock_parse("foo\n", 4, true, name, &t), 0);
	assert_string_equal(name, "foo");
	assert_int_equal(t, 0);
	assert_int_equal(power_lock_parse("foo 5000000\n", 12, true, name, &t), 0);
	assert_int_equal(t, 5000000);
	/* No name, a bad timeout, a timeout where none is taken, control characters. */
	assert_int_equal(power_lock_parse("\n", 1, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse(" foo", 4, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse("foo 12x", 7, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse("foo -1", 6, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse("foo 0", 5, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse("foo 99999999999999999999", 24, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse("foo 5", 5, false, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse("fo\x01o", 4, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse("fo\0o", 4, true, name, &t), -EINVAL);
	char big[POWER_LOCK_NAME_MAX + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(power_lock_parse(big, sizeof(big), true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse(big, POWER_LOCK_NAME_MAX + 1, true, name, &t), -EINVAL);
	assert_int_equal(power_lock_parse(big, POWER_LOCK_NAME_MAX, true, name, &t), 0);
}

static void locks_are_taken_listed_and_released(void **unused)
{
	struct power_locks l = {0};

	(void)unused;
	assert_string_equal(show(&l, true), "\n");
	assert_int_equal(take(&l, "a\n", 1), 0);
	assert_int_equal(take(&l, "b", 2), 0);
	assert_int_equal(take(&l, "a", 3), 0); /* again: one lock */
	assert_int_equal(power_locks_active(&l), 2);
	assert_string_equal(show(&l, true), "a b\n");
	assert_int_equal(drop(&l, "a\n", 4), 0);
	assert_string_equal(show(&l, true), "b\n");
	assert_string_equal(show(&l, false), "a\n");
	assert_int_equal(drop(&l, "nosuch", 5), -EINVAL);
	assert_int_equal(drop(&l, "b 10", 5), -EINVAL);
	assert_int_equal(power_locks_active(&l), 1);
}

static void timeouts_expire(void **unused)
{
	struct power_locks l = {0};

	(void)unused;
	assert_int_equal(take(&l, "short 1000000000", 10 * S), 0);
	assert_int_equal(take(&l, "long 5000000000", 10 * S), 0);
	assert_int_equal(take(&l, "forever", 10 * S), 0);
	assert_int_equal(power_locks_next_expiry(&l), 11 * S);
	assert_int_equal(power_locks_expire(&l, 11 * S - 1), 0);
	assert_int_equal(power_locks_expire(&l, 11 * S), 1);
	assert_int_equal(power_locks_next_expiry(&l), 15 * S);
	assert_string_equal(show(&l, true), "long forever\n");
	/* Taken again without a timeout: it no longer expires. */
	assert_int_equal(take(&l, "long", 12 * S), 0);
	assert_int_equal(power_locks_expire(&l, 100 * S), 0);
	assert_int_equal(power_locks_next_expiry(&l), 0);
	/* A huge timeout saturates. */
	assert_int_equal(take(&l, "huge 18446744073709551615", 100 * S), 0);
	assert_int_equal(power_locks_next_expiry(&l), UINT64_MAX);
}

static void thousands_of_locks_are_capped(void **unused)
{
	struct power_locks l = {0};
	char name[32];
	int refused = 0;

	(void)unused;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "lock%d", i);
		refused += take(&l, name, (uint64_t)i) == -ENOSPC;
	}
	assert_int_equal(power_locks_active(&l), POWER_LOCKS_MAX);
	assert_int_equal(refused, 5000 - POWER_LOCKS_MAX);
	/* A released one makes room; the oldest inactive one is forgotten for a new one. */
	assert_int_equal(drop(&l, "lock7", 6000), 0);
	assert_int_equal(take(&l, "new", 6001), 0);
	assert_int_equal(drop(&l, "lock7", 6002), -EINVAL);
	assert_int_equal(l.n, POWER_LOCKS_MAX);
	/* The listing never overflows its page. */
	char small[16];
	size_t n = power_locks_show(&l, true, small, sizeof(small));
	assert_true(n < sizeof(small));
	assert_int_equal(small[n - 1], '\n');
}

static void the_foreground_and_root_locks_alone_count(void **unused)
{
	(void)unused;
	assert_int_equal(power_decide(false, 0, 0), POWER_IGNORED);
	assert_int_equal(power_decide(false, 3, 0), POWER_IGNORED);
	assert_int_equal(power_decide(true, 0, 0), POWER_SUSPEND);
	assert_int_equal(power_decide(true, 1, 0), POWER_BLOCKED);
	assert_int_equal(power_decide(true, 0, 1), POWER_BLOCKED);
}

static void a_blocked_request_waits_for_the_locks(void **unused)
{
	struct power_recorder r = {0};
	enum power_verdict v;

	(void)unused;
	/* A background VP never suspends the device, whatever it holds. */
	assert_int_equal(power_rec_request(&r, "bg", false, 0, 0, POWER_REQ_SUSPEND, &v),
			 POWER_NO_CHANGE);
	assert_int_equal(v, POWER_IGNORED);
	assert_false(r.suspended);
	assert_false(r.pending);
	/* The foreground holds one: blocked, then suspended when it goes. */
	assert_int_equal(power_rec_request(&r, "fg", true, 1, 0, POWER_REQ_SUSPEND, &v),
			 POWER_NO_CHANGE);
	assert_int_equal(v, POWER_BLOCKED);
	assert_true(r.pending);
	assert_int_equal(power_rec_locks(&r, false, 1), POWER_NO_CHANGE);
	assert_int_equal(power_rec_locks(&r, false, 0), POWER_SUSPENDED);
	assert_true(r.suspended);
	/* A lock taken wakes it; "on" on an awake device changes nothing. */
	assert_int_equal(power_rec_locks(&r, true, 1), POWER_RESUMED);
	assert_int_equal(power_rec_request(&r, "fg", true, 1, 0, POWER_REQ_ON, &v),
			 POWER_NO_CHANGE);
	assert_int_equal(r.suspends, 1);
	assert_int_equal(r.resumes, 1);
	assert_int_equal(r.blocked, 1);
	assert_int_equal(r.ignored, 1);
}

static void a_switch_cancels_and_resumes(void **unused)
{
	struct power_recorder r = {0};
	enum power_verdict v;

	(void)unused;
	power_rec_request(&r, "a", true, 0, 1, POWER_REQ_SUSPEND, &v);
	assert_true(r.pending);
	power_rec_leave(&r, "b");
	assert_true(r.pending);
	power_rec_leave(&r, "a");
	assert_false(r.pending);
	assert_int_equal(power_rec_locks(&r, false, 0), POWER_NO_CHANGE);
	assert_int_equal(power_rec_request(&r, "a", true, 0, 0, POWER_REQ_SUSPEND, &v),
			 POWER_SUSPENDED);
	assert_int_equal(power_rec_switch(&r), POWER_RESUMED);
	assert_int_equal(power_rec_switch(&r), POWER_NO_CHANGE);
	/* "on" from the background does not wake it. */
	power_rec_request(&r, "a", true, 0, 0, POWER_REQ_SUSPEND, &v);
	assert_int_equal(power_rec_request(&r, "b", false, 0, 0, POWER_REQ_ON, &v),
			 POWER_NO_CHANGE);
	assert_true(r.suspended);
	assert_int_equal(power_rec_request(&r, "a", true, 0, 0, POWER_REQ_ON, &v), POWER_RESUMED);
}

static void values_parse_strictly(void **unused)
{
	enum power_request req;
	enum power_background bg;
	unsigned n;

	(void)unused;
	assert_int_equal(power_parse_state("mem\n", 4, &req), 0);
	assert_int_equal(req, POWER_REQ_SUSPEND);
	assert_int_equal(power_parse_state("on", 2, &req), 0);
	assert_int_equal(req, POWER_REQ_ON);
	assert_int_equal(power_parse_state("disk", 4, &req), -EINVAL);
	assert_int_equal(power_parse_state("mem\n\n", 5, &req), -EINVAL);
	assert_int_equal(power_parse_level("128\n", 4, 255, &n), 0);
	assert_int_equal(n, 128);
	assert_int_equal(power_parse_level("256", 3, 255, &n), -EINVAL);
	assert_int_equal(power_parse_level("-1", 2, 255, &n), -EINVAL);
	assert_int_equal(power_parse_level("", 0, 255, &n), -EINVAL);
	assert_int_equal(power_parse_level("99999999999", 11, 255, &n), -EINVAL);
	assert_int_equal(power_background_parse("freeze", &bg), 0);
	assert_int_equal(bg, POWER_BG_FREEZE);
	assert_int_equal(power_background_parse("sleep", &bg), -EINVAL);
	assert_int_equal(power_parse_percent("25", &n), 0);
	assert_int_equal(power_parse_percent("0", &n), -EINVAL);
	assert_int_equal(power_parse_percent("101", &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_and_timeouts_parse_as_the_kernel_does),
		cmocka_unit_test(locks_are_taken_listed_and_released),
		cmocka_unit_test(timeouts_expire),
		cmocka_unit_test(thousands_of_locks_are_capped),
		cmocka_unit_test(the_foreground_and_root_locks_alone_count),
		cmocka_unit_test(a_blocked_request_waits_for_the_locks),
		cmocka_unit_test(a_switch_cancels_and_resumes),
		cmocka_unit_test(values_parse_strictly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
