/* The text of the net device's nftables table (table inet cells), the one place its
 * rules are written (SECURITY.md, "Network"). Pure: each function returns a transaction
 * for libnftables (net_nft.c), malloc'd, or NULL when out of memory. */
#ifndef CELLS_NET_RULES_H
#define CELLS_NET_RULES_H

#include "devices/net_parse.h"

#define NET_TABLE	"cells"
#define NET_VETH_PREFIX "cv"

struct net_rules_uplink {
	const char *iface;
	struct in_addr dns; /* 0: none */
};

struct net_rules_vp {
	unsigned id;
	struct net_vp_addrs addrs;
	unsigned uplink; /* an index of the uplinks */
	const struct net_publish *publish;
	unsigned npublish;
	/* Per uplink index: the cap in bytes (0: none). */
	const uint64_t *limit;
};

/* The table as cellsd starts it (any old one, a killed daemon's, replaced). */
char *net_rules_base(const struct net_pool *pool, const struct net_rules_uplink *uplinks,
		     unsigned nuplinks);
/* Add the VP's chains, counters, quotas and map entries. */
char *net_rules_vp_add(const struct net_rules_vp *vp, const struct net_rules_uplink *uplinks,
		       unsigned nuplinks);
/* Its chains rewritten for a new uplink (its counters and quotas kept). */
char *net_rules_vp_update(const struct net_rules_vp *vp, const struct net_rules_uplink *uplinks,
			  unsigned nuplinks);
/* Its caps changed from OLD (per uplink index, 0: none) to VP's: the quotas that changed
 * made again, keeping what USED says each had used, and its chains rewritten. */
char *net_rules_vp_limits(const struct net_rules_vp *vp, const uint64_t *old, const uint64_t *used,
			  const struct net_rules_uplink *uplinks, unsigned nuplinks);
/* Everything of the VP's gone. */
char *net_rules_vp_del(const struct net_rules_vp *vp, unsigned nuplinks);
/* The publish chain rewritten for every running VP in VPS. */
char *net_rules_publish(const struct net_rules_vp *vps, unsigned nvps);
/* The whole table deleted. */
char *net_rules_drop(void);

#endif
