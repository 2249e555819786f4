/* The wpa_ctrl request parser (wifi_req.h). Every byte of a request is checked: a value
 * the real wpa_supplicant takes is a quoted string of printable characters with no quote
 * or backslash in it, hex, a number, or words of a fixed list, so no request can carry a
 * newline or a quote into its configuration, name a file of the root's (certificates),
 * or set a mode the VP has no business with (an access point). */
#include "devices/wifi_req.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum kind {
	K_SSID,	  /* quoted 1..32, or hex 2..64 */
	K_PSK,	  /* quoted 8..63, or 64 hex */
	K_WEP,	  /* quoted 5 or 13, or hex 10 or 26 */
	K_QUOTED, /* quoted 1..128 */
	K_WORDS,  /* words of the variable's list, space-separated */
	K_NUMBER, /* 0..max */
	K_BSSID,  /* aa:bb:cc:dd:ee:ff */
};

struct var {
	const char *name;
	enum kind kind;
	bool secret;
	long max;		  /* K_NUMBER */
	const char *const *words; /* K_WORDS, NULL-ended */
};

static const char *const key_mgmt_words[] = {
	"NONE",		  "WPA-PSK", "WPA-EAP", "IEEE8021X",	  "SAE",
	"WPA-PSK-SHA256", "OWE",     "FT-PSK",	"WPA-EAP-SHA256", NULL};
static const char *const proto_words[] = {"WPA", "RSN", "WPA2", NULL};
static const char *const cipher_words[] = {"CCMP",     "TKIP", "GCMP", "GCMP-256",
					   "CCMP-256", "NONE", NULL};
static const char *const auth_alg_words[] = {"OPEN", "SHARED", "LEAP", NULL};
static const char *const eap_words[] = {"PEAP", "TTLS", "TLS",	    "PWD",
					"SIM",	"AKA",	"MSCHAPV2", NULL};

/* The variables a VP may set. Left out on purpose: anything naming a file (ca_cert,
 * client_cert, private_key, pac_file), mode and frequency (an access point, a mesh). */
static const struct var vars[] = {
	{"ssid", K_SSID, false, 0, NULL},
	{"psk", K_PSK, true, 0, NULL},
	{"key_mgmt", K_WORDS, false, 0, key_mgmt_words},
	{"proto", K_WORDS, false, 0, proto_words},
	{"pairwise", K_WORDS, false, 0, cipher_words},
	{"group", K_WORDS, false, 0, cipher_words},
	{"auth_alg", K_WORDS, false, 0, auth_alg_words},
	{"eap", K_WORDS, false, 0, eap_words},
	{"scan_ssid", K_NUMBER, false, 1, NULL},
	{"priority", K_NUMBER, false, 1000, NULL},
	{"ieee80211w", K_NUMBER, false, 2, NULL},
	{"wep_tx_keyidx", K_NUMBER, false, 3, NULL},
	{"bssid", K_BSSID, false, 0, NULL},
	{"identity", K_QUOTED, false, 0, NULL},
	{"anonymous_identity", K_QUOTED, false, 0, NULL},
	{"phase2", K_QUOTED, false, 0, NULL},
	{"id_str", K_QUOTED, false, 0, NULL},
	{"password", K_QUOTED, true, 0, NULL},
	{"sae_password", K_QUOTED, true, 0, NULL},
	{"wep_key0", K_WEP, true, 0, NULL},
	{"wep_key1", K_WEP, true, 0, NULL},
	{"wep_key2", K_WEP, true, 0, NULL},
	{"wep_key3", K_WEP, true, 0, NULL},
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

unsigned wifi_var_count(void)
{
	return NVARS;
}

static const struct var *find_var(const char *name)
{
	for (size_t i = 0; i < NVARS; i++)
		if (strcmp(vars[i].name, name) == 0)
			return &vars[i];
	return NULL;
}

bool wifi_var_secret(const char *name)
{
	const struct var *v = find_var(name);

	return v && v->secret;
}

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* "TEXT" with 1..MAX bytes of TEXT (MIN..MAX), none a control character, a quote or a
 * backslash; bytes past ASCII (UTF-8 names) are taken as they are. */
static bool quoted(const char *s, size_t len, size_t min, size_t max)
{
	if (len < 2 || s[0] != '"' || s[len - 1] != '"' || len - 2 < min || len - 2 > max)
		return false;
	for (size_t i = 1; i < len - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static bool number(const char *s, size_t len, long max)
{
	long v = 0;

	if (len == 0 || len > 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max;
}

static bool words(const char *s, size_t len, const char *const *list)
{
	size_t i = 0;

	if (len == 0)
		return false;
	while (i < len) {
		size_t w = i;
		bool found = false;
		while (w < len && s[w] != ' ')
			w++;
		for (const char *const *l = list; *l && !found; l++)
			found = strlen(*l) == w - i && memcmp(*l, s + i, w - i) == 0;
		if (!found)
			return false;
		if (w == len)
			break;
		i = w + 1;
		if (i == len) /* a trailing space */
			return false;
	}
	return true;
}

static bool bssid(const char *s, size_t len)
{
	if (len != 17)
		return false;
	for (size_t i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !is_hex(s + i, 1))
			return false;
	return true;
}

bool wifi_var_check(const char *name, const char *value)
{
	const struct var *v = find_var(name);
	size_t len = strnlen(value, WIFI_VALUE_MAX + 1);

	if (!v || len > WIFI_VALUE_MAX)
		return false;
	switch (v->kind) {
	case K_SSID:
		return quoted(value, len, 1, 32) ||
		       (len >= 2 && len <= 64 && len % 2 == 0 && is_hex(value, len));
	case K_PSK:
		return quoted(value, len, 8, 63) || (len == 64 && is_hex(value, len));
	case K_WEP:
		return quoted(value, len, 5, 5) || quoted(value, len, 13, 13) ||
		       ((len == 10 || len == 26) && is_hex(value, len));
	case K_QUOTED:
		return quoted(value, len, 1, 128);
	case K_WORDS:
		return words(value, len, v->words);
	case K_NUMBER:
		return number(value, len, v->max);
	case K_BSSID:
		return bssid(value, len);
	}
	return false;
}

static const struct {
	const char *name;
	enum wifi_cmd cmd;
	enum { A_NONE, A_ID_ALL, A_ID_VAR, A_ID_VAR_VALUE, A_BSS } args;
} cmds[] = {
	{"PING", WIFI_PING, A_NONE},
	{"STATUS", WIFI_STATUS, A_NONE},
	{"SCAN", WIFI_SCAN, A_NONE},
	{"SCAN_RESULTS", WIFI_SCAN_RESULTS, A_NONE},
	{"BSS", WIFI_BSS, A_BSS},
	{"SIGNAL_POLL", WIFI_SIGNAL_POLL, A_NONE},
	{"LIST_NETWORKS", WIFI_LIST_NETWORKS, A_NONE},
	{"GET_NETWORK", WIFI_GET_NETWORK, A_ID_VAR},
	{"ADD_NETWORK", WIFI_ADD_NETWORK, A_NONE},
	{"SET_NETWORK", WIFI_SET_NETWORK, A_ID_VAR_VALUE},
	{"REMOVE_NETWORK", WIFI_REMOVE_NETWORK, A_ID_ALL},
	{"ENABLE_NETWORK", WIFI_ENABLE_NETWORK, A_ID_ALL},
	{"DISABLE_NETWORK", WIFI_DISABLE_NETWORK, A_ID_ALL},
	{"SELECT_NETWORK", WIFI_SELECT_NETWORK, A_ID_ALL},
	{"SAVE_CONFIG", WIFI_SAVE_CONFIG, A_NONE},
	{"ATTACH", WIFI_ATTACH, A_NONE},
	{"DETACH", WIFI_DETACH, A_NONE},
};

/* The next space-separated word of S[*POS..LEN) (one space between words, none at the
 * ends): its start and length, or false at the end. */
static bool next_word(const char *s, size_t len, size_t *pos, const char **word, size_t *wlen)
{
	size_t i = *pos;

	if (i >= len)
		return false;
	*word = s + i;
	while (i < len && s[i] != ' ')
		i++;
	*wlen = (size_t)(s + i - *word);
	*pos = i < len ? i + 1 : i;
	return true;
}

static int parse_id(const char *w, size_t len, bool all_ok, const char *all_word, int *id)
{
	int v = 0;

	if (all_ok && len == strlen(all_word) && memcmp(w, all_word, len) == 0) {
		*id = WIFI_ID_ALL;
		return 0;
	}
	if (!number(w, len, WIFI_NET_ID_MAX) || (len > 1 && w[0] == '0'))
		return -EINVAL;
	/* Digits only, at most four; the datagram has no NUL after them (no atoi). */
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (w[i] - '0');
	*id = v;
	return 0;
}

/* BSS's argument: an index, a BSSID, FIRST, LAST, NEXT-N, PREV-N, or RANGE=…, MASK=… words
 * (what wpa_cli's completion asks); letters, digits and ":=-x" only. */
static bool bss_arg(const char *s, size_t len)
{
	if (len == 0 || len > WIFI_ARG_MAX || s[0] == ' ' || s[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == ':' || c == '=' || c == '-' || c == '_' ||
		      (c == ' ' && s[i - 1] != ' ')))
			return false;
	}
	return true;
}

int wifi_req_parse(const char *buf, size_t len, struct wifi_req *req)
{
	const char *w;
	size_t pos = 0, wlen, i;

	memset(req, 0, sizeof(*req));
	req->id = WIFI_ID_NONE;
	if (len > WIFI_REQ_MAX)
		return -E2BIG;
	/* A trailing newline is what some clients send (and wpa_supplicant drops). */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return -EINVAL; /* binary, a NUL, a newline inside */
	if (!next_word(buf, len, &pos, &w, &wlen))
		return -EINVAL;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strlen(cmds[i].name) == wlen && memcmp(cmds[i].name, w, wlen) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return -EINVAL;
	req->cmd = cmds[i].cmd;
	switch (cmds[i].args) {
	case A_NONE:
		return pos == len && buf[len ? len - 1 : 0] != ' ' ? 0 : -EINVAL;
	case A_BSS:
		if (pos >= len || !bss_arg(buf + pos, len - pos))
			return -EINVAL;
		memcpy(req->arg, buf + pos, len - pos);
		return 0;
	case A_ID_ALL:
		if (!next_word(buf, len, &pos, &w, &wlen) ||
		    parse_id(w, wlen, true, req->cmd == WIFI_SELECT_NETWORK ? "any" : "all",
			     &req->id) < 0)
			return -EINVAL;
		return pos == len && buf[len - 1] != ' ' ? 0 : -EINVAL;
	case A_ID_VAR:
	case A_ID_VAR_VALUE:
		if (!next_word(buf, len, &pos, &w, &wlen) ||
		    parse_id(w, wlen, false, "", &req->id) < 0)
			return -EINVAL;
		if (!next_word(buf, len, &pos, &w, &wlen) || wlen >= WIFI_VAR_MAX)
			return -EINVAL;
		memcpy(req->var, w, wlen);
		if (!find_var(req->var))
			return -EINVAL;
		if (cmds[i].args == A_ID_VAR)
			return pos == len && buf[len - 1] != ' ' ? 0 : -EINVAL;
		/* The value is the rest of the line, spaces and all (key_mgmt's words). */
		if (pos >= len || len - pos > WIFI_VALUE_MAX)
			return -EINVAL;
		memcpy(req->value, buf + pos, len - pos);
		return wifi_var_check(req->var, req->value) ? 0 : -EINVAL;
	}
	return -EINVAL;
}
