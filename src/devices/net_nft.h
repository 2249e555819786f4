/* The net device's nftables table through libnftables: transactions of net_rules.c's
 * text, and its counters and quotas read back. */
#ifndef CELLS_NET_NFT_H
#define CELLS_NET_NFT_H

#include "common/error.h"

#include <jansson.h>

struct nft_ctx;

struct nft_ctx *net_nft_new(struct error *err);
void net_nft_free(struct nft_ctx *nft);
/* Run TEXT (taken, may be NULL: out of memory) as one transaction. */
int net_nft_run(struct nft_ctx *nft, char *text, struct error *err);
/* The table's named counters and quotas: {NAME: {"bytes": N, "packets": N}} for counters,
 * {NAME: {"used": N, "limit": N}} for quotas; NULL on failure. */
json_t *net_nft_objects(struct nft_ctx *nft, struct error *err);

#endif
