/* Links, addresses, routes, rules and conntrack entries through netlink (net_link.h). */
#include "devices/net_link.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#define VP_IFACE "eth0"

/* libnl's codes are its own: its message, and EIO for the caller. */
static int nl_fail(struct error *err, int nlerr, const char *what, const char *name)
{
	return error_set(err, EIO, "%s %s: %s", what, name, nl_geterror(nlerr));
}

struct nl_sock *net_link_socket(struct error *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk) {
		error_set(err, ENOMEM, "netlink socket");
		return NULL;
	}
	if ((ret = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		nl_fail(err, ret, "connect", "rtnetlink");
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

void net_link_socket_free(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

static struct nl_addr *addr4(struct in_addr a, unsigned len)
{
	struct nl_addr *addr = nl_addr_build(AF_INET, &a, sizeof(a));

	if (addr)
		nl_addr_set_prefixlen(addr, (int)len);
	return addr;
}

static struct nl_addr *addr6(const struct in6_addr *a, unsigned len)
{
	struct nl_addr *addr = nl_addr_build(AF_INET6, a, sizeof(*a));

	if (addr)
		nl_addr_set_prefixlen(addr, (int)len);
	return addr;
}

static int set_up(struct nl_sock *sk, const char *name, struct error *err)
{
	struct rtnl_link *link = NULL, *change = NULL;
	int ret;

	if ((ret = rtnl_link_get_kernel(sk, 0, name, &link)) < 0)
		return nl_fail(err, ret, "find link", name);
	if (!(change = rtnl_link_alloc())) {
		rtnl_link_put(link);
		return error_set(err, ENOMEM, "bring %s up", name);
	}
	rtnl_link_set_flags(change, IFF_UP);
	ret = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return ret < 0 ? nl_fail(err, ret, "bring up", name) : 0;
}

/* LOCAL/LEN on IFINDEX, without duplicate address detection: usable at once. */
static int add_addr(struct nl_sock *sk, int ifindex, struct nl_addr *local, const char *name,
		    struct error *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	int ret;

	if (!a || !local) {
		if (a)
			rtnl_addr_put(a);
		if (local)
			nl_addr_put(local);
		return error_set(err, ENOMEM, "address on %s", name);
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_flags(a, IFA_F_NODAD);
	ret = rtnl_addr_add(sk, a, 0);
	rtnl_addr_put(a);
	nl_addr_put(local);
	return ret < 0 ? nl_fail(err, ret, "add an address on", name) : 0;
}

/* A default route of FAMILY in TABLE: TYPE unicast through IFINDEX (via GW if not NULL),
 * or unreachable; METRIC orders them. */
static int add_default(struct nl_sock *sk, int family, unsigned table, unsigned char type,
		       int ifindex, struct nl_addr *gw, bool onlink, unsigned metric,
		       struct error *err)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct nl_addr *dst = nl_addr_alloc(16);
	struct rtnl_nexthop *nh = NULL;
	int ret;

	if (!r || !dst) {
		ret = error_set(err, ENOMEM, "default route");
		goto out;
	}
	nl_addr_set_family(dst, family);
	nl_addr_set_prefixlen(dst, 0);
	rtnl_route_set_family(r, (uint8_t)family);
	rtnl_route_set_table(r, table);
	rtnl_route_set_type(r, type);
	rtnl_route_set_dst(r, dst);
	rtnl_route_set_priority(r, metric);
	if (type == RTN_UNICAST) {
		rtnl_route_set_scope(r, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
		if (!(nh = rtnl_route_nh_alloc())) {
			ret = error_set(err, ENOMEM, "default route");
			goto out;
		}
		rtnl_route_nh_set_ifindex(nh, ifindex);
		if (gw)
			rtnl_route_nh_set_gateway(nh, gw);
		if (onlink)
			rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
		rtnl_route_add_nexthop(r, nh); /* the route owns it now */
	}
	ret = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE);
	if (ret < 0)
		ret = nl_fail(err, ret, "add a default route in table", "");
out:
	if (dst)
		nl_addr_put(dst);
	if (r)
		rtnl_route_put(r);
	return ret;
}

/* The VP's side, run on a thread of its own that joins the VP's network namespace (the
 * daemon's other threads stay in the host's). */
struct vp_side {
	int netns_fd;
	const struct net_vp_addrs *addrs;
	struct error err;
	int ret;
};

static int vp_side_setup(struct vp_side *vs)
{
	struct nl_sock *sk = NULL;
	struct nl_addr *gw4 = NULL, *gw6 = NULL;
	int ifindex, ret;

	if (setns(vs->netns_fd, CLONE_NEWNET) < 0)
		return error_set(&vs->err, errno, "join the VP's network namespace");
	if (!(sk = net_link_socket(&vs->err)))
		return -EIO;
	if ((ret = set_up(sk, VP_IFACE, &vs->err)) < 0)
		goto out;
	ifindex = (int)if_nametoindex(VP_IFACE);
	if (!ifindex) {
		ret = error_set(&vs->err, errno, "find %s", VP_IFACE);
		goto out;
	}
	if ((ret = add_addr(sk, ifindex, addr4(vs->addrs->vp4, NET_VP_LEN4), VP_IFACE, &vs->err)) <
		    0 ||
	    (ret = add_addr(sk, ifindex, addr6(&vs->addrs->vp6, NET_VP_LEN6), VP_IFACE, &vs->err)) <
		    0)
		goto out;
	gw4 = addr4(vs->addrs->host4, 32);
	gw6 = addr6(&vs->addrs->host6, 128);
	if (!gw4 || !gw6) {
		ret = error_set(&vs->err, ENOMEM, "gateway");
		goto out;
	}
	if ((ret = add_default(sk, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, ifindex, gw4, false, 0,
			       &vs->err)) < 0 ||
	    (ret = add_default(sk, AF_INET6, RT_TABLE_MAIN, RTN_UNICAST, ifindex, gw6, false, 1024,
			       &vs->err)) < 0)
		goto out;
out:
	if (gw4)
		nl_addr_put(gw4);
	if (gw6)
		nl_addr_put(gw6);
	net_link_socket_free(sk);
	return ret;
}

static void *vp_side_thread(void *arg)
{
	struct vp_side *vs = arg;

	vs->ret = vp_side_setup(vs);
	return NULL;
}

int net_link_vp_create(struct nl_sock *sk, const char *host, int netns_fd,
		       const struct net_vp_addrs *addrs, struct error *err)
{
	struct rtnl_link *veth = rtnl_link_veth_alloc(), *peer;
	struct vp_side vs = {.netns_fd = netns_fd, .addrs = addrs};
	pthread_t thread;
	int ret, ifindex;

	if (!veth)
		return error_set(err, ENOMEM, "veth %s", host);
	rtnl_link_set_name(veth, host);
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(peer, VP_IFACE);
	/* Born in the VP's namespace: its name there cannot clash with the host's eth0. */
	rtnl_link_set_ns_fd(peer, netns_fd);
	rtnl_link_put(peer);
	ret = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_veth_release(veth);
	if (ret < 0)
		return nl_fail(err, ret, "create veth", host);
	if ((ret = set_up(sk, host, err)) < 0)
		goto fail;
	if (!(ifindex = (int)if_nametoindex(host))) {
		ret = error_set(err, errno, "find %s", host);
		goto fail;
	}
	if ((ret = add_addr(sk, ifindex, addr4(addrs->host4, NET_VP_LEN4), host, err)) < 0 ||
	    (ret = add_addr(sk, ifindex, addr6(&addrs->host6, NET_VP_LEN6), host, err)) < 0)
		goto fail;
	if ((ret = pthread_create(&thread, NULL, vp_side_thread, &vs)) != 0) {
		ret = error_set(err, ret, "start a thread for the VP's side");
		goto fail;
	}
	pthread_join(thread, NULL);
	if ((ret = vs.ret) < 0) {
		*err = vs.err;
		goto fail;
	}
	return 0;
fail:;
	struct error ignored;
	net_link_delete(sk, host, &ignored);
	return ret;
}

int net_link_delete(struct nl_sock *sk, const char *name, struct error *err)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int ret;

	if (!link)
		return error_set(err, ENOMEM, "delete %s", name);
	rtnl_link_set_name(link, name);
	ret = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	if (ret < 0 && ret != -NLE_NODEV && ret != -NLE_OBJ_NOTFOUND)
		return nl_fail(err, ret, "delete link", name);
	return 0;
}

static bool prefixed(const char *name, const char *prefix)
{
	size_t len = strlen(prefix);

	if (!name || strncmp(name, prefix, len) != 0 || !name[len])
		return false;
	for (const char *c = name + len; *c; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return true;
}

int net_link_delete_prefixed(struct nl_sock *sk, const char *prefix, struct error *err)
{
	struct nl_cache *cache = NULL;
	int ret;

	if ((ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache)) < 0)
		return nl_fail(err, ret, "list links", "");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		const char *name = rtnl_link_get_name((struct rtnl_link *)o);
		if (prefixed(name, prefix) && (ret = net_link_delete(sk, name, err)) < 0)
			break;
	}
	nl_cache_free(cache);
	return ret < 0 ? ret : 0;
}

bool net_link_is_up(struct nl_sock *sk, const char *iface)
{
	struct rtnl_link *link = NULL;
	unsigned flags;

	if (rtnl_link_get_kernel(sk, 0, iface, &link) < 0)
		return false;
	flags = rtnl_link_get_flags(link);
	rtnl_link_put(link);
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

/* The gateway of the main table's FAMILY default route through IFACE into OUT (SIZE
 * bytes): whether there is one. */
static bool main_gateway(struct nl_sock *sk, int family, const char *iface, void *out, size_t size)
{
	struct nl_cache *cache = NULL;
	int ifindex = (int)if_nametoindex(iface);
	bool found = false;

	if (!ifindex || rtnl_route_alloc_cache(sk, family, 0, &cache) < 0)
		return false;
	for (struct nl_object *o = nl_cache_get_first(cache); o && !found;
	     o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh;
		struct nl_addr *via;
		if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
		    nl_addr_get_prefixlen(rtnl_route_get_dst(r)) != 0 ||
		    rtnl_route_get_nnexthops(r) != 1)
			continue;
		nh = rtnl_route_nexthop_n(r, 0);
		via = rtnl_route_nh_get_gateway(nh);
		if (rtnl_route_nh_get_ifindex(nh) == ifindex && via &&
		    nl_addr_get_len(via) == size) {
			memcpy(out, nl_addr_get_binary_addr(via), size);
			found = true;
		}
	}
	nl_cache_free(cache);
	return found;
}

struct in_addr net_link_main_gateway(struct nl_sock *sk, const char *iface)
{
	struct in_addr gw = {0};

	main_gateway(sk, AF_INET, iface, &gw, sizeof(gw));
	return gw;
}

bool net_link_main_gateway6(struct nl_sock *sk, const char *iface, struct in6_addr *gw)
{
	return main_gateway(sk, AF_INET6, iface, gw, sizeof(*gw));
}

int net_link_uplink_table(struct nl_sock *sk, unsigned table, const char *iface, struct in_addr gw,
			  const struct in6_addr *gw6, struct error *err)
{
	struct nl_addr *via = NULL;
	int ifindex, ret;

	/* Last resort of the table, whatever happens to the uplink. */
	if ((ret = add_default(sk, AF_INET, table, RTN_UNREACHABLE, 0, NULL, false, 0xffffffffu,
			       err)) < 0 ||
	    (ret = add_default(sk, AF_INET6, table, RTN_UNREACHABLE, 0, NULL, false, 0xffffffffu,
			       err)) < 0)
		return ret;
	if (!net_link_is_up(sk, iface) || !(ifindex = (int)if_nametoindex(iface)))
		return 0;
	if (gw.s_addr && !(via = addr4(gw, 32)))
		return error_set(err, ENOMEM, "gateway");
	ret = add_default(sk, AF_INET, table, RTN_UNICAST, ifindex, via, via != NULL, 0, err);
	if (via)
		nl_addr_put(via);
	if (ret < 0 || !gw6)
		return ret;
	/* IPv6 only through a gateway: without one the table stays unreachable. */
	if (!(via = addr6(gw6, 128)))
		return error_set(err, ENOMEM, "gateway");
	ret = add_default(sk, AF_INET6, table, RTN_UNICAST, ifindex, via, true, 0, err);
	nl_addr_put(via);
	return ret;
}

int net_link_flush_tables(struct nl_sock *sk, unsigned first, unsigned n, struct error *err)
{
	struct nl_cache *cache = NULL;
	int ret = 0;

	for (int family = AF_INET; family;) {
		if ((ret = rtnl_route_alloc_cache(sk, family, 0, &cache)) < 0)
			return nl_fail(err, ret, "list routes", "");
		for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			struct rtnl_route *r = (struct rtnl_route *)o;
			uint32_t t = rtnl_route_get_table(r);
			if (t >= first && t < first + n)
				rtnl_route_delete(sk, r, 0);
		}
		nl_cache_free(cache);
		family = family == AF_INET ? AF_INET6 : 0;
	}
	return 0;
}

int net_link_rule(struct nl_sock *sk, bool add, const char *iif, unsigned table, unsigned prio,
		  struct error *err)
{
	int ret = 0;

	for (int family = AF_INET; family;) {
		struct rtnl_rule *rule = rtnl_rule_alloc();
		if (!rule)
			return error_set(err, ENOMEM, "rule");
		rtnl_rule_set_family(rule, family);
		rtnl_rule_set_iif(rule, iif);
		rtnl_rule_set_table(rule, table);
		rtnl_rule_set_prio(rule, prio);
		rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
		ret = add ? rtnl_rule_add(sk, rule, NLM_F_CREATE) : rtnl_rule_delete(sk, rule, 0);
		rtnl_rule_put(rule);
		if (ret < 0 && (add || ret != -NLE_OBJ_NOTFOUND))
			return nl_fail(err, ret, add ? "add the rule of" : "delete the rule of",
				       iif);
		family = family == AF_INET ? AF_INET6 : 0;
	}
	return 0;
}

int net_link_flush_rules(struct nl_sock *sk, unsigned prio, struct error *err)
{
	struct nl_cache *cache = NULL;
	int ret;

	if ((ret = rtnl_rule_alloc_cache(sk, AF_UNSPEC, &cache)) < 0)
		return nl_fail(err, ret, "list rules", "");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_rule *rule = (struct rtnl_rule *)o;
		if (rtnl_rule_get_prio(rule) == prio)
			rtnl_rule_delete(sk, rule, 0);
	}
	nl_cache_free(cache);
	return 0;
}

int net_link_conntrack_flush(const struct net_vp_addrs *addrs, struct error *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int ret;

	if (!sk)
		return error_set(err, ENOMEM, "netfilter socket");
	if ((ret = nfnl_connect(sk)) < 0 || (ret = nfnl_ct_alloc_cache(sk, &cache)) < 0) {
		nl_socket_free(sk);
		return nl_fail(err, ret, "list", "conntrack entries");
	}
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct nfnl_ct *ct = (struct nfnl_ct *)o;
		struct nl_addr *src = nfnl_ct_get_src(ct, 0);
		const void *a = src ? nl_addr_get_binary_addr(src) : NULL;
		unsigned len = src ? nl_addr_get_len(src) : 0;
		if ((nfnl_ct_get_family(ct) == AF_INET && len == sizeof(addrs->vp4) &&
		     memcmp(a, &addrs->vp4, len) == 0) ||
		    (nfnl_ct_get_family(ct) == AF_INET6 && len == sizeof(addrs->vp6) &&
		     memcmp(a, &addrs->vp6, len) == 0))
			nfnl_ct_del(sk, ct, 0);
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return 0;
}

static int ignore_msg(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

struct nl_sock *net_link_monitor(struct error *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk) {
		error_set(err, ENOMEM, "netlink socket");
		return NULL;
	}
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, ignore_msg, NULL);
	if ((ret = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
	    (ret = nl_socket_add_membership(sk, RTNLGRP_LINK)) < 0 ||
	    (ret = nl_socket_set_nonblocking(sk)) < 0) {
		nl_fail(err, ret, "watch", "links");
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

void net_link_monitor_drain(struct nl_sock *sk)
{
	/* What changed is looked up afresh: the messages only say when. */
	while (nl_recvmsgs_default(sk) > 0)
		;
}

int net_link_fd(struct nl_sock *sk)
{
	return nl_socket_get_fd(sk);
}
