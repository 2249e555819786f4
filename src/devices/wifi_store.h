/* A VP's saved Wi-Fi networks: what its ADD/SET/REMOVE/ENABLE/DISABLE/SELECT_NETWORK
 * requests change and LIST/GET_NETWORK read, kept in the VP's persistent device
 * directory. Pure but for load and save; every value in it passed wifi_var_check. */
#ifndef CELLS_WIFI_STORE_H
#define CELLS_WIFI_STORE_H

#include "common/error.h"
#include "devices/wifi_req.h"

#include <stdbool.h>
#include <stddef.h>

#define WIFI_MAX_NETWORKS 16
#define WIFI_MAX_VARS	  24 /* at least wifi_var_count() */

struct wifi_var {
	char name[WIFI_VAR_MAX];
	char value[WIFI_VALUE_MAX + 1];
};

struct wifi_net {
	int id;
	bool disabled;
	unsigned nvars;
	struct wifi_var vars[WIFI_MAX_VARS];
};

struct wifi_store {
	unsigned n;
	int next_id;
	struct wifi_net nets[WIFI_MAX_NETWORKS];
};

void wifi_store_init(struct wifi_store *st);
/* A new network, disabled, with nothing set (as wpa_supplicant's ADD_NETWORK): its id, or
 * -ENOSPC. */
int wifi_store_add(struct wifi_store *st);
struct wifi_net *wifi_store_find(struct wifi_store *st, int id);
/* VAR of network ID set to VALUE (checked again here): 0, -ENOENT (no such network), or
 * -EINVAL. */
int wifi_store_set(struct wifi_store *st, int id, const char *var, const char *value);
/* What GET_NETWORK answers (a secret reads "*") into OUT: its length, or -ENOENT for a
 * network or a variable not set. */
int wifi_store_get(const struct wifi_store *st, int id, const char *var, char *out, size_t size);
/* ID or WIFI_ID_ALL: 0 or -ENOENT. */
int wifi_store_remove(struct wifi_store *st, int id);
int wifi_store_enable(struct wifi_store *st, int id, bool enable);
/* ID enabled and every other network disabled; WIFI_ID_ALL ("any") enables them all. */
int wifi_store_select(struct wifi_store *st, int id);
/* LIST_NETWORKS' answer into OUT (truncated to SIZE, NUL-ended); CURRENT is the network
 * the real supplicant uses now, or WIFI_ID_NONE. Returns its length. */
size_t wifi_store_list(const struct wifi_store *st, int current, char *out, size_t size);
/* The value of VAR in NET, or NULL. */
const char *wifi_net_get(const struct wifi_net *net, const char *var);

/* Kept as JSON at PATH (written whole to PATH.tmp, then renamed). A file that does not
 * exist loads as no networks; one that is not good is refused whole. */
int wifi_store_save(const struct wifi_store *st, const char *path, struct error *err);
int wifi_store_load(struct wifi_store *st, const char *path, struct error *err);

#endif
