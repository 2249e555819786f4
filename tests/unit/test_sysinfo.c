/* sysinfo(2) as a VP sees it (src/devns/sysinfo.c). */
#include "devns/sysinfo.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define MIB (1024ull * 1024)

static struct sysinfo host(void)
{
	return (struct sysinfo){.uptime = 5000,
				.totalram = 24000 * MIB,
				.freeram = 20000 * MIB,
				.sharedram = 13 * MIB,
				.bufferram = 70 * MIB,
				.totalswap = 1024 * MIB,
				.freeswap = 1024 * MIB,
				.procs = 300,
				.mem_unit = 1};
}

static void test_limit_and_usage(void **state)
{
	struct sysinfo s = host();
	struct vp_memory_view v = {
		.limit = 256 * MIB, .usage = 56 * MIB, .uptime_s = 12, .procs = 4};

	(void)state;
	sysinfo_vp_view(&s, &v);
	assert_int_equal(s.totalram, 256 * MIB);
	assert_int_equal(s.freeram, 200 * MIB);
	assert_int_equal(s.totalswap, 0);
	assert_int_equal(s.sharedram, 0);
	assert_int_equal(s.uptime, 12);
	assert_int_equal(s.procs, 4);
}

static void test_no_limit_keeps_the_hosts_memory(void **state)
{
	struct sysinfo s = host();
	struct vp_memory_view v = {.limit = UINT64_MAX, .usage = 56 * MIB, .uptime_s = -1};

	(void)state;
	sysinfo_vp_view(&s, &v);
	assert_int_equal(s.totalram, 24000 * MIB);
	assert_int_equal(s.freeram, 20000 * MIB);
	assert_int_equal(s.uptime, 5000);
	assert_int_equal(s.procs, 300);
}

static void test_units_and_overuse(void **state)
{
	struct sysinfo s = host();
	struct vp_memory_view v = {.limit = 64 * MIB, .usage = 65 * MIB, .uptime_s = 0};

	(void)state;
	s.mem_unit = 4096;
	s.totalram /= 4096;
	sysinfo_vp_view(&s, &v);
	assert_int_equal(s.totalram, 64 * MIB / 4096);
	assert_int_equal(s.freeram, 0); /* usage above the limit: nothing free, no wrap */
	assert_int_equal(s.uptime, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_and_usage),
		cmocka_unit_test(test_no_limit_keeps_the_hosts_memory),
		cmocka_unit_test(test_units_and_overuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
