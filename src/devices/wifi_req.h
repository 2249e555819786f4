/* The wpa_ctrl requests a VP may make of its Wi-Fi control socket, parsed and validated
 * with no I/O: what is not on the list, or not in its exact shape, is refused, so that
 * nothing a VP writes reaches the real wpa_supplicant but the values checked here. */
#ifndef CELLS_WIFI_REQ_H
#define CELLS_WIFI_REQ_H

#include <stdbool.h>
#include <stddef.h>

/* Longer requests are refused whole (the longest good one, a SET_NETWORK of a 128-byte
 * quoted identity, is under 200 bytes). */
#define WIFI_REQ_MAX	512
#define WIFI_VALUE_MAX	130 /* a quoted value: 128 bytes and its quotes */
#define WIFI_VAR_MAX	24
#define WIFI_ARG_MAX	64
#define WIFI_ID_NONE	(-1)
#define WIFI_ID_ALL	(-2) /* "all" (REMOVE/ENABLE/DISABLE), "any" (SELECT) */
#define WIFI_NET_ID_MAX 9999

enum wifi_cmd {
	WIFI_PING,
	WIFI_STATUS,
	WIFI_SCAN,
	WIFI_SCAN_RESULTS,
	WIFI_BSS,
	WIFI_SIGNAL_POLL,
	WIFI_LIST_NETWORKS,
	WIFI_GET_NETWORK,
	WIFI_ADD_NETWORK,
	WIFI_SET_NETWORK,
	WIFI_REMOVE_NETWORK,
	WIFI_ENABLE_NETWORK,
	WIFI_DISABLE_NETWORK,
	WIFI_SELECT_NETWORK,
	WIFI_SAVE_CONFIG,
	WIFI_ATTACH,
	WIFI_DETACH,
};

struct wifi_req {
	enum wifi_cmd cmd;
	int id;				/* a network id, WIFI_ID_ALL, or WIFI_ID_NONE */
	char var[WIFI_VAR_MAX];		/* GET/SET_NETWORK */
	char value[WIFI_VALUE_MAX + 1]; /* SET_NETWORK, exactly as checked */
	char arg[WIFI_ARG_MAX + 1];	/* BSS: its argument words, as checked */
};

/* BUF[0..LEN) (a datagram, not NUL-terminated) into REQ: 0, or -EINVAL for anything not
 * a request of the list in its exact shape (-E2BIG past WIFI_REQ_MAX). */
int wifi_req_parse(const char *buf, size_t len, struct wifi_req *req);

/* Whether VALUE is a good value of the network variable NAME (also for what is read back
 * from a VP's stored networks). */
bool wifi_var_check(const char *name, const char *value);
/* Whether NAME is a secret: it reads back as "*". */
bool wifi_var_secret(const char *name);
/* How many variables a network may have set (the list's length). */
unsigned wifi_var_count(void);

#endif
