/* What a VP sees of the real supplicant's events and STATUS (src/devices/wifi_filter.c):
 * the events of the list only, and network ids mapped to the VP's own or -1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/wifi_filter.h"

/* The VP owns the supplicant's network 7 as its 2. */
static int map_seven(void *ctx, int real)
{
	(void)ctx;
	return real == 7 ? 2 : -1;
}

static const char *filter(const char *line, char *out, size_t size)
{
	wifi_filter_ids(line, strlen(line), map_seven, NULL, out, size);
	return out;
}

static void events_of_the_list_only(void **unused)
{
	static const char *const yes[] = {
		"<3>CTRL-EVENT-CONNECTED - Connection to 01:80:c2:00:00:03 completed [id=0 "
		"id_str=]",
		"<3>CTRL-EVENT-DISCONNECTED bssid=01:80:c2:00:00:03 reason=3",
		"<3>CTRL-EVENT-SCAN-RESULTS",
		"<2>CTRL-EVENT-STATE-CHANGE id=0 state=9",
	};
	static const char *const no[] = {
		"<3>CTRL-EVENT-NETWORK-ADDED 0",
		"<3>CTRL-EVENT-TERMINATING",
		"CTRL-EVENT-CONNECTED x",
		"<3>CTRL-EVENT-CONNECTEDX",
		"<>CTRL-EVENT-SCAN-RESULTS",
		"<3",
		"",
		"<3>WPS-AP-AVAILABLE",
		"<12345>CTRL-EVENT-SCAN-RESULTS",
	};
	(void)unused;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(wifi_event_forwarded(yes[i], strlen(yes[i])));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (wifi_event_forwarded(no[i], strlen(no[i])))
			fail_msg("forwarded: %s", no[i]);
}

static void ids_are_mapped(void **unused)
{
	char out[256];
	(void)unused;

	assert_string_equal(
		filter("<3>CTRL-EVENT-CONNECTED - Connection to x completed "
		       "[id=7 id_str=home]",
		       out, sizeof(out)),
		"<3>CTRL-EVENT-CONNECTED - Connection to x completed [id=2 id_str=home]");
	assert_string_equal(filter("<3>CTRL-EVENT-CONNECTED - Connection to x completed "
				   "[id=3 id_str=work]",
				   out, sizeof(out)),
			    "<3>CTRL-EVENT-CONNECTED - Connection to x completed [id=-1 id_str=]");
	assert_string_equal(filter("bssid=02:00:00:00:01:00\nssid=x\nid=3\nmode=station\n"
				   "id_str=secret\nwpa_state=COMPLETED\n",
				   out, sizeof(out)),
			    "bssid=02:00:00:00:01:00\nssid=x\nid=-1\nmode=station\nid_str=\n"
			    "wpa_state=COMPLETED\n");
	/* "bssid=" and "ssid=" are not "id=". */
	assert_string_equal(filter("ssid=a bssid=b", out, sizeof(out)), "ssid=a bssid=b");
	/* A short buffer is cut, still a string. */
	filter("<3>CTRL-EVENT-STATE-CHANGE id=7 state=9", out, 12);
	assert_int_equal(strlen(out), 11);
	assert_int_equal(wifi_real_id("<3>x [id=12 id_str=]", 20), 12);
	assert_int_equal(wifi_real_id("ssid=x", 6), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(events_of_the_list_only),
		cmocka_unit_test(ids_are_mapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
