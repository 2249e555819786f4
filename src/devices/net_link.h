/* The net device's kernel objects through netlink (libnl-route, libnl-nf): a VP's veth
 * and its addresses on both ends, the uplinks' routing tables and the rules into them,
 * and a VP's conntrack entries. Never `ip`. */
#ifndef CELLS_NET_LINK_H
#define CELLS_NET_LINK_H

#include "common/error.h"
#include "devices/net_parse.h"

#include <stdbool.h>

struct nl_sock;

/* A connected NETLINK_ROUTE socket, or NULL (ERR set). */
struct nl_sock *net_link_socket(struct error *err);
void net_link_socket_free(struct nl_sock *sk);

/* The VP's veth: HOST (cv<id>) here, eth0 in the network namespace NETNS_FD, both up, with
 * ADDRS, and the VP's default routes through the host end. */
int net_link_vp_create(struct nl_sock *sk, const char *host, int netns_fd,
		       const struct net_vp_addrs *addrs, struct error *err);
/* Delete link NAME if it is there. */
int net_link_delete(struct nl_sock *sk, const char *name, struct error *err);
/* Delete every link named PREFIX followed by digits only (a killed daemon's veths). */
int net_link_delete_prefixed(struct nl_sock *sk, const char *prefix, struct error *err);

/* The uplink's table TABLE: unreachable defaults (so that traffic never leaks out of
 * another uplink) and, if IFACE is up, a default route through it (via GW, or on the link
 * if GW is 0), and an IPv6 one via GW6 (NULL: none). */
int net_link_uplink_table(struct nl_sock *sk, unsigned table, const char *iface, struct in_addr gw,
			  const struct in6_addr *gw6, struct error *err);
/* Whether IFACE is up with a carrier (false if there is none). */
bool net_link_is_up(struct nl_sock *sk, const char *iface);
/* The gateway of the main table's IPv4 default route through IFACE, or 0. */
struct in_addr net_link_main_gateway(struct nl_sock *sk, const char *iface);
/* The main table's IPv6 default route's gateway through IFACE into GW: whether there is
 * one. */
bool net_link_main_gateway6(struct nl_sock *sk, const char *iface, struct in6_addr *gw);
/* Every route of tables FIRST..FIRST+N-1 removed. */
int net_link_flush_tables(struct nl_sock *sk, unsigned first, unsigned n, struct error *err);

/* The rule: packets in from IIF look up TABLE (priority PRIO). */
int net_link_rule(struct nl_sock *sk, bool add, const char *iif, unsigned table, unsigned prio,
		  struct error *err);
/* Every rule of priority PRIO removed. */
int net_link_flush_rules(struct nl_sock *sk, unsigned prio, struct error *err);

/* Every conntrack entry whose original source is the VP's IPv4 or IPv6 address removed:
 * the VP's old connections end with it. */
int net_link_conntrack_flush(const struct net_vp_addrs *addrs, struct error *err);

/* A socket told of link changes (its fd for the event loop), and draining it. */
struct nl_sock *net_link_monitor(struct error *err);
void net_link_monitor_drain(struct nl_sock *sk);
int net_link_fd(struct nl_sock *sk);

#endif
