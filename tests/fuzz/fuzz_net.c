/* The net device's settings and options as a user or a stored config gives them (VP
 * settings publish, data-limit, uplink; daemon options --uplink, --net-pool), each parsed
 * by all of net_parse.c's parsers: each must say yes only to what its contract allows,
 * since its values become nftables text. */
#include "copy.h"
#include "devices/net_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_publish(const char *s)
{
	struct net_publish p[NET_PUBLISH_MAX];
	struct error err;
	unsigned n = 0;

	if (net_publish_parse(s, p, &n, &err) < 0)
		return;
	if (n > NET_PUBLISH_MAX || (n == 0 && s[0]))
		abort();
	for (unsigned i = 0; i < n; i++)
		if (!p[i].host_port || !p[i].vp_port)
			abort();
}

static void check_limit(const char *s)
{
	struct net_limit l[NET_UPLINKS_MAX];
	struct error err;
	unsigned n = 0;

	if (net_limit_parse(s, l, &n, &err) < 0)
		return;
	if (n > NET_UPLINKS_MAX || (n == 0 && s[0]))
		abort();
	for (unsigned i = 0; i < n; i++)
		if (!l[i].bytes || !net_uplink_name_ok(l[i].uplink))
			abort();
}

/* A name or interface goes into the rules between quotes. */
static void check_uplink(const char *s)
{
	struct net_uplink_spec u;
	struct error err;

	if (net_uplink_name_ok(s) && strpbrk(s, "\"\\ \n;{}"))
		abort();
	if (net_uplink_parse(s, &u, &err) < 0)
		return;
	if (!net_uplink_name_ok(u.name) || !u.iface[0] || strpbrk(u.iface, "\"\\ \n;{}/"))
		abort();
}

static void check_pool(const char *s)
{
	struct net_pool pool;
	struct net_vp_addrs a, b;
	struct error err;

	if (net_pool_parse(s, &pool, &err) < 0)
		return;
	/* Every id has its own addresses. */
	if (net_pool_addrs(&pool, 0, &a, &err) < 0 || net_pool_addrs(&pool, 4095, &b, &err) < 0 ||
	    a.vp4.s_addr == b.vp4.s_addr || memcmp(&a.vp6, &b.vp6, sizeof(a.vp6)) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);

	if (!s)
		return 0;
	check_publish(s);
	check_limit(s);
	check_uplink(s);
	check_pool(s);
	free(s);
	return 0;
}
