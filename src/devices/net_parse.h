/* The net device's words: its daemon options (--net-pool, --uplink) and a VP's settings
 * (uplink, publish, data-limit), parsed into plain values, and the addresses a VP gets
 * from the pool. No system calls: unit-tested and fuzzed. */
#ifndef CELLS_NET_PARSE_H
#define CELLS_NET_PARSE_H

#include "common/error.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define NET_UPLINK_NAME_MAX 15 /* as an interface name */
#define NET_UPLINKS_MAX	    8
#define NET_PUBLISH_MAX	    8

/* The pools every VP's addresses come from: an IPv4 and an IPv6 prefix. Each VP id has a
 * /30 of the first (the host end .1, the VP .2) and a /120 of the second (::1, ::2). */
struct net_pool {
	struct in_addr v4;
	unsigned len4;
	struct in6_addr v6;
	unsigned len6;
};
#define NET_POOL_DEFAULT "10.213.0.0/16,fd00:ce11:5::/64"

struct net_vp_addrs {
	struct in_addr host4, vp4;  /* prefix length 30 */
	struct in6_addr host6, vp6; /* prefix length 120 */
};
#define NET_VP_LEN4 30
#define NET_VP_LEN6 120

/* "V4/LEN,V6/LEN" (either order). */
int net_pool_parse(const char *text, struct net_pool *pool, struct error *err);
/* VP ID's addresses; an error when the pool has no room for that id. */
int net_pool_addrs(const struct net_pool *pool, unsigned id, struct net_vp_addrs *out,
		   struct error *err);

/* `--uplink NAME=IFACE[,gw=ADDR][,gw6=ADDR6][,dns=ADDR]`: no gw, the main table's default
 * route through IFACE (or none: a route on the link); no gw6, the main table's IPv6 one
 * (or none: no IPv6 by that uplink); no dns, the gateway. */
struct net_uplink_spec {
	char name[NET_UPLINK_NAME_MAX + 1];
	char iface[16];
	struct in_addr gw, dns; /* 0: not given */
	struct in6_addr gw6;
	bool has_gw6;
};
int net_uplink_parse(const char *text, struct net_uplink_spec *out, struct error *err);
/* An uplink's name: letters, digits, '-' and '_', at most 15, not "default". */
bool net_uplink_name_ok(const char *name);

/* A VP's `publish`: "HOSTPORT:VPPORT[/udp],..." ("" none). */
struct net_publish {
	uint16_t host_port, vp_port;
	bool udp;
};
int net_publish_parse(const char *text, struct net_publish *out, unsigned *n, struct error *err);

/* A VP's `data-limit`: "UPLINK=SIZE,..." ("" none); SIZE bytes with K, M, G, T (powers
 * of 1024). */
struct net_limit {
	char uplink[NET_UPLINK_NAME_MAX + 1];
	uint64_t bytes;
};
int net_limit_parse(const char *text, struct net_limit *out, unsigned *n, struct error *err);

#endif
