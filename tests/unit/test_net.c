/* The net device's pure parts: the pool's addresses per VP id, its options' and settings'
 * parsers (net_parse.c), and the nftables text it writes (net_rules.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>

#include "devices/net_parse.h"
#include "devices/net_rules.h"

static const char *ntop4(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *ntop6(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static void test_pool_addresses(void **unused)
{
	struct net_pool pool;
	struct net_vp_addrs a;
	struct error err;
	char b4[INET_ADDRSTRLEN], b6[INET6_ADDRSTRLEN];

	(void)unused;
	assert_int_equal(net_pool_parse(NET_POOL_DEFAULT, &pool, &err), 0);
	assert_int_equal(net_pool_addrs(&pool, 1, &a, &err), 0);
	assert_string_equal(ntop4(a.host4, b4), "10.213.0.5");
	assert_string_equal(ntop4(a.vp4, b4), "10.213.0.6");
	assert_string_equal(ntop6(&a.host6, b6), "fd00:ce11:5::101");
	assert_string_equal(ntop6(&a.vp6, b6), "fd00:ce11:5::102");
	/* The last id: still inside the /16 and the /64, and apart from every other. */
	assert_int_equal(net_pool_addrs(&pool, 4095, &a, &err), 0);
	assert_string_equal(ntop4(a.vp4, b4), "10.213.63.254");
	assert_string_equal(ntop6(&a.vp6, b6), "fd00:ce11:5::f:ff02");
	assert_int_not_equal(net_pool_addrs(&pool, 4096, &a, &err), 0);
	/* Host bits given in the pool are ignored; either order. */
	assert_int_equal(net_pool_parse("fd01::77/100,192.168.77.9/18", &pool, &err), 0);
	assert_int_equal(net_pool_addrs(&pool, 2, &a, &err), 0);
	assert_string_equal(ntop4(a.vp4, b4), "192.168.64.10");
	assert_string_equal(ntop6(&a.host6, b6), "fd01::201");
}

static void test_pool_refused(void **unused)
{
	static const char *const bad[] = {
		"",
		"10.0.0.0/16",
		"fd00::/64",
		"10.0.0.0/19,fd00::/64",
		"10.0.0.0/16,fd00::/109",
		"10.0.0.0/16,fd00::/64,",
		"10.0.0.0/33,fd00::/64",
		"10.0.0.0/,fd00::/64",
		"x/16,fd00::/64",
		"10.0.0.0/16,10.1.0.0/16",
	};
	struct net_pool pool;
	struct error err;

	(void)unused;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(net_pool_parse(bad[i], &pool, &err), 0);
}

static void test_uplink_option(void **unused)
{
	struct net_uplink_spec s;
	struct error err;
	char b[INET_ADDRSTRLEN];

	(void)unused;
	assert_int_equal(net_uplink_parse("wlan=wlan0", &s, &err), 0);
	assert_string_equal(s.name, "wlan");
	assert_string_equal(s.iface, "wlan0");
	assert_int_equal(s.gw.s_addr, 0);
	assert_int_equal(net_uplink_parse("cell=rmnet0,gw=10.0.0.1,dns=9.9.9.9", &s, &err), 0);
	assert_string_equal(ntop4(s.gw, b), "10.0.0.1");
	assert_string_equal(ntop4(s.dns, b), "9.9.9.9");
	assert_false(s.has_gw6);
	assert_int_equal(net_uplink_parse("wired=eth0,gw6=fe80::1,gw=10.0.0.1", &s, &err), 0);
	assert_true(s.has_gw6);
	assert_int_equal(s.gw6.s6_addr[0], 0xfe);
	assert_int_equal(s.gw6.s6_addr[15], 1);
	static const char *const bad[] = {
		"wlan=eth0,gw6=10.0.0.1",
		"wlan=eth0,gw6=::",
		"wlan=eth0,gw6=ff02::1",
		"wlan=eth0,gw6=fe80::1,gw6=fe80::2",
		"wlan",
		"=wlan0",
		"wlan=",
		"default=eth0",
		"w lan=eth0",
		"wlan=eth0,gw=x",
		"wlan=eth0,gw=1.2.3.4,gw=1.2.3.5",
		"wlan=a/b",
		"wlan=eth0,foo=1",
		"wlan=eth0,",
		"wlan=0123456789abcdef",
		"0123456789abcdef=eth0",
		"wlan=eth0,dns=0.0.0.0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(net_uplink_parse(bad[i], &s, &err), 0);
}

static void test_publish_setting(void **unused)
{
	struct net_publish p[NET_PUBLISH_MAX];
	struct error err;
	unsigned n;

	(void)unused;
	assert_int_equal(net_publish_parse("", p, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(net_publish_parse("8080:80,5353:53/udp,443:443/tcp", p, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].host_port, 8080);
	assert_int_equal(p[0].vp_port, 80);
	assert_false(p[0].udp);
	assert_true(p[1].udp);
	assert_false(p[2].udp);
	/* The same host port for tcp and udp is two ports. */
	assert_int_equal(net_publish_parse("53:53,53:53/udp", p, &n, &err), 0);
	static const char *const bad[] = {
		"80",
		"0:80",
		"80:0",
		"65536:80",
		"80:80/sctp",
		"80:80,80:81",
		"80:80,",
		",80:80",
		"-1:80",
		"8a:80",
		"80:80/udp/udp",
		"1:2:3",
		"080000:1",
		"1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16,17:18",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(net_publish_parse(bad[i], p, &n, &err), 0);
}

static void test_limit_setting(void **unused)
{
	struct net_limit l[NET_UPLINKS_MAX];
	struct error err;
	unsigned n;

	(void)unused;
	assert_int_equal(net_limit_parse("cell=1G,wlan=300K,wired=12345", l, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].uplink, "cell");
	assert_int_equal(l[0].bytes, 1ull << 30);
	assert_int_equal(l[1].bytes, 300 * 1024);
	assert_int_equal(l[2].bytes, 12345);
	static const char *const bad[] = {
		"cell",
		"cell=",
		"cell=0",
		"cell=1X",
		"cell=1G,cell=2G",
		"=1G",
		"cell=-1",
		"cell=99999999999T",
		"cell=1G,",
		"default=1G",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(net_limit_parse(bad[i], l, &n, &err), 0);
}

static const struct net_rules_uplink uplinks[2] = {{"wlan0", {0}}, {"rmnet0", {0}}};

static struct net_rules_vp vp3(struct net_publish *pub, unsigned npub, const uint64_t *limit)
{
	struct net_pool pool;
	struct error err;
	struct net_rules_vp vp = {
		.id = 3, .uplink = 1, .publish = pub, .npublish = npub, .limit = limit};

	assert_int_equal(net_pool_parse(NET_POOL_DEFAULT, &pool, &err), 0);
	assert_int_equal(net_pool_addrs(&pool, 3, &vp.addrs, &err), 0);
	return vp;
}

static void test_base_rules(void **unused)
{
	struct net_pool pool;
	struct error err;
	char *text;

	(void)unused;
	assert_int_equal(net_pool_parse(NET_POOL_DEFAULT, &pool, &err), 0);
	text = net_rules_base(&pool, uplinks, 2);
	assert_non_null(text);
	/* Replaces a killed daemon's table; VP to VP dropped; only answers reach the host. */
	assert_non_null(strstr(text, "add table inet cells\ndelete table inet cells\n"));
	assert_non_null(strstr(text, "iifname @vifs oifname @vifs drop\n"));
	assert_non_null(strstr(text, "drop\n\t\tct state established,related accept\n"));
	/* Published ports at 127.0.0.1: out from the host end, never in from a VP. */
	assert_non_null(strstr(text, "oifname @vifs ip saddr 127.0.0.0/8 masquerade\n"));
	assert_non_null(strstr(text, "iifname != @vifs accept\n\t\tip daddr 127.0.0.0/8 ct "
				     "direction original drop\n"));
	assert_non_null(strstr(text, "oifname \"wlan0\" ip saddr 10.213.0.0/16 masquerade\n"));
	assert_non_null(strstr(text, "oifname \"rmnet0\" ip saddr 10.213.0.0/16 masquerade\n"));
	assert_non_null(strstr(text, "oifname \"rmnet0\" ip6 saddr fd00:ce11:5::/64 masquerade\n"));
	free(text);
}

static void test_vp_rules(void **unused)
{
	uint64_t limit[2] = {0, 1000};
	struct net_rules_uplink with_dns[2] = {uplinks[0], uplinks[1]};
	struct net_rules_vp vp = vp3(NULL, 0, limit);
	char *text;

	(void)unused;
	inet_pton(AF_INET, "192.0.2.53", &with_dns[1].dns);
	text = net_rules_vp_add(&vp, with_dns, 2);
	assert_non_null(text);
	assert_non_null(strstr(text, "add counter inet cells c3_0_out\n"));
	assert_non_null(strstr(text, "add counter inet cells c3_1_in\n"));
	assert_non_null(strstr(text, "add quota inet cells q3_1 { over 1000 bytes }\n"));
	assert_null(strstr(text, "q3_0"));
	/* Out only by its uplink, capped there, counted. */
	assert_non_null(strstr(text, "out_3 oifname != \"rmnet0\" reject"));
	assert_non_null(strstr(text, "out_3 ip saddr != 10.213.0.14 drop\n"));
	assert_non_null(strstr(text, "out_3 ip6 saddr != fd00:ce11:5::302 drop\n"));
	assert_non_null(strstr(text, "out_3 quota name \"q3_1\" drop\n"));
	assert_non_null(strstr(text, "out_3 counter name \"c3_1_out\" accept\n"));
	assert_non_null(strstr(text, "in_3 iifname \"rmnet0\" quota name \"q3_1\" drop\n"));
	assert_non_null(strstr(text, "pre_3 ip daddr 10.213.0.13 meta l4proto { tcp, udp } th "
				     "dport 53 dnat ip to 192.0.2.53\n"));
	assert_non_null(strstr(text, "fwd_out { \"cv3\" : jump out_3 }\n"));
	assert_non_null(strstr(text, "vifs { \"cv3\" }\n"));
	free(text);
	/* An uplink without a resolver: no DNAT at all. */
	text = net_rules_vp_update(&vp, uplinks, 2);
	assert_non_null(strstr(text, "flush chain inet cells out_3\n"));
	assert_null(strstr(text, "dnat ip to"));
	assert_null(strstr(text, "add counter"));
	free(text);
	text = net_rules_vp_del(&vp, 2);
	assert_non_null(strstr(text, "delete element inet cells vifs { \"cv3\" }\n"));
	assert_non_null(strstr(text, "delete chain inet cells out_3\n"));
	assert_non_null(strstr(text, "delete quota inet cells q3_1\n"));
	free(text);
}

static void test_limit_change_rules(void **unused)
{
	uint64_t old[2] = {1000, 2000}, now[2] = {0, 5000}, used[2] = {10, 1500};
	struct net_rules_vp vp = vp3(NULL, 0, now);
	char *text = net_rules_vp_limits(&vp, old, used, uplinks, 2);

	(void)unused;
	assert_non_null(text);
	/* Chains flushed before the quotas they name go; the changed one keeps its count. */
	assert_true(strstr(text, "flush chain inet cells out_3\n") <
		    strstr(text, "delete quota inet cells q3_0\n"));
	assert_non_null(strstr(text, "delete quota inet cells q3_1\nadd quota inet cells q3_1 "
				     "{ over 5000 bytes used 1500 bytes }\n"));
	assert_null(strstr(text, "add quota inet cells q3_0"));
	assert_true(strstr(text, "add quota inet cells q3_1") <
		    strstr(text, "quota name \"q3_1\" drop"));
	free(text);
}

static void test_publish_rules(void **unused)
{
	struct net_publish pub[2] = {{8080, 80, false}, {5353, 53, true}};
	struct net_rules_vp vps[2] = {vp3(pub, 2, NULL), vp3(NULL, 0, NULL)};
	char *text;

	(void)unused;
	text = net_rules_publish(vps, 2);
	assert_string_equal(text, "flush chain inet cells publish\n"
				  "add rule inet cells publish tcp dport 8080 dnat ip to "
				  "10.213.0.14:80\n"
				  "add rule inet cells publish udp dport 5353 dnat ip to "
				  "10.213.0.14:53\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_addresses),	   cmocka_unit_test(test_pool_refused),
		cmocka_unit_test(test_uplink_option),	   cmocka_unit_test(test_publish_setting),
		cmocka_unit_test(test_limit_setting),	   cmocka_unit_test(test_base_rules),
		cmocka_unit_test(test_vp_rules),	   cmocka_unit_test(test_publish_rules),
		cmocka_unit_test(test_limit_change_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
