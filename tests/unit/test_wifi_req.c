/* The wpa_ctrl request parser of the Wi-Fi proxy (src/devices/wifi_req.c): every request
 * of the list in its shape, and what a hostile VP could send instead refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "devices/wifi_req.h"

static int parse(const char *s, struct wifi_req *req)
{
	return wifi_req_parse(s, strlen(s), req);
}

static void the_listed_requests_parse(void **unused)
{
	struct wifi_req r;
	(void)unused;

	assert_int_equal(parse("PING", &r), 0);
	assert_int_equal(r.cmd, WIFI_PING);
	assert_int_equal(parse("STATUS\n", &r), 0);
	assert_int_equal(r.cmd, WIFI_STATUS);
	assert_int_equal(parse("SCAN", &r), 0);
	assert_int_equal(parse("SCAN_RESULTS", &r), 0);
	assert_int_equal(parse("SIGNAL_POLL", &r), 0);
	assert_int_equal(parse("LIST_NETWORKS", &r), 0);
	assert_int_equal(parse("ADD_NETWORK", &r), 0);
	assert_int_equal(r.cmd, WIFI_ADD_NETWORK);
	assert_int_equal(parse("SAVE_CONFIG", &r), 0);
	assert_int_equal(parse("ATTACH", &r), 0);
	assert_int_equal(parse("DETACH", &r), 0);
	assert_int_equal(parse("BSS RANGE=ALL MASK=0x2", &r), 0);
	assert_string_equal(r.arg, "RANGE=ALL MASK=0x2");
	assert_int_equal(parse("BSS 02:00:00:00:01:00", &r), 0);
	assert_int_equal(parse("GET_NETWORK 3 psk", &r), 0);
	assert_int_equal(r.id, 3);
	assert_string_equal(r.var, "psk");
	assert_int_equal(parse("SET_NETWORK 12 ssid \"home net\"", &r), 0);
	assert_int_equal(r.cmd, WIFI_SET_NETWORK);
	assert_int_equal(r.id, 12);
	assert_string_equal(r.value, "\"home net\"");
	assert_int_equal(parse("SET_NETWORK 0 key_mgmt WPA-PSK SAE", &r), 0);
	assert_int_equal(parse("SET_NETWORK 0 psk \"12345678\"", &r), 0);
	assert_int_equal(parse("SET_NETWORK 0 ssid 6869", &r), 0);
	assert_int_equal(parse("SET_NETWORK 0 priority 5", &r), 0);
	assert_int_equal(parse("SET_NETWORK 0 bssid 02:00:00:00:01:0a", &r), 0);
	assert_int_equal(parse("REMOVE_NETWORK all", &r), 0);
	assert_int_equal(r.id, WIFI_ID_ALL);
	assert_int_equal(parse("ENABLE_NETWORK 1", &r), 0);
	assert_int_equal(r.id, 1);
	assert_int_equal(parse("DISABLE_NETWORK all", &r), 0);
	assert_int_equal(parse("SELECT_NETWORK any", &r), 0);
	assert_int_equal(r.id, WIFI_ID_ALL);
}

static void other_commands_and_shapes_are_refused(void **unused)
{
	static const char *const bad[] = {
		"",
		" ",
		"ping",
		"PING ",
		" PING",
		"PING x",
		"PING\n\n",
		"TERMINATE",
		"REASSOCIATE",
		"SET ap_scan 1",
		"DRIVER foo",
		"GET_NETWORK",
		"GET_NETWORK 0",
		"GET_NETWORK x psk",
		"GET_NETWORK -1 psk",
		"GET_NETWORK 00 psk",
		"GET_NETWORK 10000 psk",
		"GET_NETWORK 0 psk extra",
		"GET_NETWORK 0 psk ",
		"GET_NETWORK 0  psk",
		"GET_NETWORK 0 nosuchvar",
		"SET_NETWORK 0 ssid",
		"SET_NETWORK 0 ssid ",
		"SET_NETWORK 0 mode 2",
		"SET_NETWORK 0 frequency 2412",
		"SET_NETWORK 0 ca_cert \"/etc/shadow\"",
		"SET_NETWORK 0 private_key \"/root/k\"",
		"SET_NETWORK 0 ssid x",
		"SET_NETWORK 0 ssid \"\"",
		"SET_NETWORK 0 ssid 686",
		"SET_NETWORK 0 ssid \"123456789012345678901234567890123\"",
		"SET_NETWORK 0 psk \"short\"",
		"SET_NETWORK 0 psk 1234",
		"SET_NETWORK 0 key_mgmt WPA-PSK  SAE",
		"SET_NETWORK 0 key_mgmt WPA-PSK ",
		"SET_NETWORK 0 key_mgmt FOO",
		"SET_NETWORK 0 priority 1001",
		"SET_NETWORK 0 priority -1",
		"SET_NETWORK 0 bssid 02:00:00:00:01",
		"REMOVE_NETWORK",
		"REMOVE_NETWORK any",
		"REMOVE_NETWORK 1 2",
		"SELECT_NETWORK all",
		"BSS",
		"BSS ",
		"BSS ../../x",
		"BSS a;b",
		"SCAN TYPE=ONLY freq=2412",
		"ATTACH x",
		"LEVEL 0",
	};
	struct wifi_req r;
	(void)unused;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) == 0)
			fail_msg("accepted: \"%s\"", bad[i]);
}

/* A quote or a newline in a value would be a line of the real supplicant's config. */
static void injection_into_the_config_is_refused(void **unused)
{
	static const char *const bad[] = {
		"SET_NETWORK 0 ssid \"a\"\nnetwork={\"",
		"SET_NETWORK 0 ssid \"a\nb\"",
		"SET_NETWORK 0 ssid \"a\"b\"",
		"SET_NETWORK 0 psk \"12345678\"\nssid=\"x\"",
		"SET_NETWORK 0 identity \"a\\\"b\"",
		"SET_NETWORK 0 id_str \"a\rb\"",
		"SET_NETWORK 0 password \"a\tb\"",
		"SET_NETWORK 0 identity \"abc",
		"SET_NETWORK 0 identity abc\"",
	};
	struct wifi_req r;
	(void)unused;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) == 0)
			fail_msg("accepted: \"%s\"", bad[i]);
}

static void binary_and_long_requests_are_refused(void **unused)
{
	char buf[WIFI_REQ_MAX + 2];
	struct wifi_req r;
	(void)unused;

	assert_int_equal(wifi_req_parse("PING\0", 5, &r), -EINVAL);
	assert_int_equal(wifi_req_parse("SET_NETWORK 0 ssid \"a\0b\"", 24, &r), -EINVAL);
	assert_int_equal(wifi_req_parse("SET_NETWORK 0 ssid \"a\x7f\"", 23, &r), -EINVAL);
	memset(buf, 'A', sizeof(buf));
	assert_int_equal(wifi_req_parse(buf, sizeof(buf), &r), -E2BIG);
	/* A value of 128 bytes is the most. */
	memcpy(buf, "SET_NETWORK 0 identity \"", 24);
	memset(buf + 24, 'x', 128);
	buf[152] = '"';
	assert_int_equal(wifi_req_parse(buf, 153, &r), 0);
	buf[153] = 'x';
	buf[152] = 'x';
	buf[154] = '"';
	assert_int_equal(wifi_req_parse(buf, 155, &r), -EINVAL);
}

static void secrets_are_named(void **unused)
{
	(void)unused;
	assert_true(wifi_var_secret("psk"));
	assert_true(wifi_var_secret("password"));
	assert_true(wifi_var_secret("wep_key2"));
	assert_true(wifi_var_secret("sae_password"));
	assert_false(wifi_var_secret("ssid"));
	assert_false(wifi_var_secret("nosuch"));
	assert_true(wifi_var_check("wep_key0", "\"abcde\""));
	assert_true(wifi_var_check("wep_key0", "0102030405"));
	assert_false(wifi_var_check("wep_key0", "\"abcdef\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_listed_requests_parse),
		cmocka_unit_test(other_commands_and_shapes_are_refused),
		cmocka_unit_test(injection_into_the_config_is_refused),
		cmocka_unit_test(binary_and_long_requests_are_refused),
		cmocka_unit_test(secrets_are_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
