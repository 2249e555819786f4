/* The net device's nftables table as text (net_rules.h).
 *
 * One table, inet cells. A VP's traffic is known by the interface it comes in on (its
 * veth's host end, cv<id>), never by its source address, which the VP's root may change.
 * forward: VP to VP dropped; a VP's packets go to its chain out_<id> through the map
 * fwd_out (its current uplink only, capped, counted), packets to it through in_<id>
 * (answers and published ports only); a cv* interface missing from the maps is dropped.
 * input: from a VP only answers and ICMP errors (and IPv6 neighbour discovery) reach the
 * host, never a new packet to 127/8 (its host end routes loopback addresses, for the
 * published ports the host reaches at 127.0.0.1). prerouting: a VP's DNS to its gateway
 * goes to its uplink's resolver (pre_<id>); published ports go to their VP. postrouting:
 * both pools (IPv4, IPv6) masqueraded on each uplink, the host's loopback on the VPs'
 * host ends. */
#include "devices/net_rules.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *finish(FILE *f, char **buf)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

char *net_rules_drop(void)
{
	return strdup("add table inet " NET_TABLE "\ndelete table inet " NET_TABLE "\n");
}

char *net_rules_base(const struct net_pool *pool, const struct net_rules_uplink *uplinks,
		     unsigned nuplinks)
{
	char *buf = NULL, v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	size_t size;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	inet_ntop(AF_INET, &pool->v4, v4, sizeof(v4));
	inet_ntop(AF_INET6, &pool->v6, v6, sizeof(v6));
	fprintf(f, "add table inet " NET_TABLE "\n"
		   "delete table inet " NET_TABLE "\n"
		   "table inet " NET_TABLE " {\n"
		   "\tmap fwd_out { type ifname : verdict; }\n"
		   "\tmap fwd_in { type ifname : verdict; }\n"
		   "\tmap pre { type ifname : verdict; }\n"
		   "\tset vifs { type ifname; }\n"
		   "\tchain forward {\n"
		   "\t\ttype filter hook forward priority filter; policy accept;\n"
		   "\t\tiifname @vifs oifname @vifs drop\n"
		   "\t\tiifname vmap @fwd_out\n"
		   "\t\toifname vmap @fwd_in\n"
		   "\t\tiifname @vifs drop\n"
		   "\t\toifname @vifs drop\n"
		   "\t}\n"
		   "\tchain input {\n"
		   "\t\ttype filter hook input priority filter; policy accept;\n"
		   "\t\tiifname != @vifs accept\n"
		   "\t\tip daddr 127.0.0.0/8 ct direction original drop\n"
		   "\t\tct state established,related accept\n"
		   "\t\ticmp type { destination-unreachable, time-exceeded, parameter-problem } "
		   "accept\n"
		   "\t\ticmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
		   "parameter-problem, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
		   "\t\tdrop\n"
		   "\t}\n"
		   "\tchain publish {\n"
		   "\t}\n"
		   "\tchain prerouting {\n"
		   "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		   "\t\tiifname vmap @pre\n"
		   "\t\tiifname != @vifs fib daddr type local jump publish\n"
		   "\t}\n"
		   "\tchain output {\n"
		   "\t\ttype nat hook output priority -100; policy accept;\n"
		   "\t\tfib daddr type local jump publish\n"
		   "\t}\n"
		   "\tchain postrouting {\n"
		   "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	/* The host's own connections to a published port at 127.0.0.1, out from the host end's
	 * address (the VP would answer its own loopback). */
	fprintf(f, "\t\toifname @vifs ip saddr 127.0.0.0/8 masquerade\n");
	for (unsigned u = 0; u < nuplinks; u++)
		fprintf(f,
			"\t\toifname \"%s\" ip saddr %s/%u masquerade\n"
			"\t\toifname \"%s\" ip6 saddr %s/%u masquerade\n",
			uplinks[u].iface, v4, pool->len4, uplinks[u].iface, v6, pool->len6);
	fprintf(f, "\t}\n}\n");
	return finish(f, &buf);
}

/* The VP's chains' rules (the chains exist and are empty). */
static void vp_rules(FILE *f, const struct net_rules_vp *vp, const struct net_rules_uplink *uplinks,
		     unsigned nuplinks)
{
	const struct net_rules_uplink *up = &uplinks[vp->uplink];
	char host4[INET_ADDRSTRLEN], vp4[INET_ADDRSTRLEN], dns[INET_ADDRSTRLEN];
	char vp6[INET6_ADDRSTRLEN];
	unsigned id = vp->id;

	inet_ntop(AF_INET, &vp->addrs.host4, host4, sizeof(host4));
	inet_ntop(AF_INET, &vp->addrs.vp4, vp4, sizeof(vp4));
	inet_ntop(AF_INET6, &vp->addrs.vp6, vp6, sizeof(vp6));
	/* Out: only through its own uplink; a connection of the old uplink's (a switch)
	 * reset at once rather than left to time out. */
	fprintf(f,
		"add rule inet " NET_TABLE " out_%u oifname != \"%s\" reject with icmpx "
		"type host-unreachable\n",
		id, up->iface);
	/* Only its own source addresses leave: its root may set any other on eth0, which the
	 * masquerade would not cover. */
	fprintf(f, "add rule inet " NET_TABLE " out_%u ip saddr != %s drop\n", id, vp4);
	fprintf(f, "add rule inet " NET_TABLE " out_%u ip6 saddr != %s drop\n", id, vp6);
	fprintf(f,
		"add rule inet " NET_TABLE " out_%u meta l4proto tcp tcp flags & "
		"(syn | ack | rst) == ack ct state new reject with tcp reset\n",
		id);
	if (vp->limit && vp->limit[vp->uplink])
		fprintf(f, "add rule inet " NET_TABLE " out_%u quota name \"q%u_%u\" drop\n", id,
			id, vp->uplink);
	fprintf(f, "add rule inet " NET_TABLE " out_%u counter name \"c%u_%u_out\" accept\n", id,
		id, vp->uplink);
	/* In: counted per uplink it came from, capped likewise. */
	for (unsigned u = 0; u < nuplinks; u++) {
		if (vp->limit && vp->limit[u])
			fprintf(f,
				"add rule inet " NET_TABLE
				" in_%u iifname \"%s\" quota name \"q%u_%u\" drop\n",
				id, uplinks[u].iface, id, u);
		fprintf(f,
			"add rule inet " NET_TABLE " in_%u iifname \"%s\" counter name "
			"\"c%u_%u_in\"\n",
			id, uplinks[u].iface, id, u);
	}
	fprintf(f,
		"add rule inet " NET_TABLE " in_%u ct state established,related accept\n"
		"add rule inet " NET_TABLE " in_%u ct status dnat accept\n"
		"add rule inet " NET_TABLE " in_%u drop\n",
		id, id, id);
	if (up->dns.s_addr) {
		inet_ntop(AF_INET, &up->dns, dns, sizeof(dns));
		fprintf(f,
			"add rule inet " NET_TABLE " pre_%u ip daddr %s meta l4proto { tcp, udp } "
			"th dport 53 dnat ip to %s\n",
			id, host4, dns);
	}
}

/* The VP's three chains, made ("add") or emptied ("flush") before its rules. */
static void vp_chains(FILE *f, const char *verb, unsigned id)
{
	fprintf(f,
		"%s chain inet " NET_TABLE " out_%u\n"
		"%s chain inet " NET_TABLE " in_%u\n"
		"%s chain inet " NET_TABLE " pre_%u\n",
		verb, id, verb, id, verb, id);
}

char *net_rules_vp_add(const struct net_rules_vp *vp, const struct net_rules_uplink *uplinks,
		       unsigned nuplinks)
{
	char *buf = NULL;
	size_t size;
	FILE *f = open_memstream(&buf, &size);
	unsigned id = vp->id;

	if (!f)
		return NULL;
	vp_chains(f, "add", id);
	for (unsigned u = 0; u < nuplinks; u++) {
		fprintf(f,
			"add counter inet " NET_TABLE " c%u_%u_out\n"
			"add counter inet " NET_TABLE " c%u_%u_in\n",
			id, u, id, u);
		if (vp->limit && vp->limit[u])
			fprintf(f, "add quota inet " NET_TABLE " q%u_%u { over %llu bytes }\n", id,
				u, (unsigned long long)vp->limit[u]);
	}
	vp_rules(f, vp, uplinks, nuplinks);
	fprintf(f,
		"add element inet " NET_TABLE " fwd_out { \"" NET_VETH_PREFIX
		"%u\" : jump out_%u }\n"
		"add element inet " NET_TABLE " fwd_in { \"" NET_VETH_PREFIX "%u\" : jump in_%u }\n"
		"add element inet " NET_TABLE " pre { \"" NET_VETH_PREFIX "%u\" : jump pre_%u }\n"
		"add element inet " NET_TABLE " vifs { \"" NET_VETH_PREFIX "%u\" }\n",
		id, id, id, id, id, id, id);
	return finish(f, &buf);
}

char *net_rules_vp_update(const struct net_rules_vp *vp, const struct net_rules_uplink *uplinks,
			  unsigned nuplinks)
{
	char *buf = NULL;
	size_t size;
	FILE *f = open_memstream(&buf, &size);
	unsigned id = vp->id;

	if (!f)
		return NULL;
	vp_chains(f, "flush", id);
	vp_rules(f, vp, uplinks, nuplinks);
	return finish(f, &buf);
}

char *net_rules_vp_limits(const struct net_rules_vp *vp, const uint64_t *old, const uint64_t *used,
			  const struct net_rules_uplink *uplinks, unsigned nuplinks)
{
	char *buf = NULL;
	size_t size;
	FILE *f = open_memstream(&buf, &size);
	unsigned id = vp->id;

	if (!f)
		return NULL;
	/* Rules first out of the way of the quotas they name, then back after them. */
	fprintf(f,
		"flush chain inet " NET_TABLE " out_%u\n"
		"flush chain inet " NET_TABLE " in_%u\n"
		"flush chain inet " NET_TABLE " pre_%u\n",
		id, id, id);
	for (unsigned u = 0; u < nuplinks; u++) {
		uint64_t now = vp->limit ? vp->limit[u] : 0;
		if (old[u] == now)
			continue;
		if (old[u])
			fprintf(f, "delete quota inet " NET_TABLE " q%u_%u\n", id, u);
		if (now)
			fprintf(f,
				"add quota inet " NET_TABLE
				" q%u_%u { over %llu bytes used %llu bytes }\n",
				id, u, (unsigned long long)now, (unsigned long long)used[u]);
	}
	vp_rules(f, vp, uplinks, nuplinks);
	return finish(f, &buf);
}

char *net_rules_vp_del(const struct net_rules_vp *vp, unsigned nuplinks)
{
	char *buf = NULL;
	size_t size;
	FILE *f = open_memstream(&buf, &size);
	unsigned id = vp->id;

	if (!f)
		return NULL;
	fprintf(f,
		"delete element inet " NET_TABLE " fwd_out { \"" NET_VETH_PREFIX "%u\" }\n"
		"delete element inet " NET_TABLE " fwd_in { \"" NET_VETH_PREFIX "%u\" }\n"
		"delete element inet " NET_TABLE " pre { \"" NET_VETH_PREFIX "%u\" }\n"
		"delete element inet " NET_TABLE " vifs { \"" NET_VETH_PREFIX "%u\" }\n"
		"delete chain inet " NET_TABLE " out_%u\n"
		"delete chain inet " NET_TABLE " in_%u\n"
		"delete chain inet " NET_TABLE " pre_%u\n",
		id, id, id, id, id, id, id);
	for (unsigned u = 0; u < nuplinks; u++)
		fprintf(f,
			"delete counter inet " NET_TABLE " c%u_%u_out\n"
			"delete counter inet " NET_TABLE " c%u_%u_in\n",
			id, u, id, u);
	for (unsigned u = 0; u < nuplinks; u++)
		if (vp->limit && vp->limit[u])
			fprintf(f, "delete quota inet " NET_TABLE " q%u_%u\n", id, u);
	return finish(f, &buf);
}

char *net_rules_publish(const struct net_rules_vp *vps, unsigned nvps)
{
	char *buf = NULL, vp4[INET_ADDRSTRLEN];
	size_t size;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	fprintf(f, "flush chain inet " NET_TABLE " publish\n");
	for (unsigned v = 0; v < nvps; v++) {
		inet_ntop(AF_INET, &vps[v].addrs.vp4, vp4, sizeof(vp4));
		for (unsigned p = 0; p < vps[v].npublish; p++) {
			const struct net_publish *pub = &vps[v].publish[p];
			const char *proto = pub->udp ? "udp" : "tcp";
			fprintf(f,
				"add rule inet " NET_TABLE
				" publish %s dport %u dnat ip to %s:%u\n",
				proto, pub->host_port, vp4, pub->vp_port);
		}
	}
	return finish(f, &buf);
}
