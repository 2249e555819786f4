/* The net device's options and settings as values (net_parse.h). */
#include "devices/net_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 64

/* The next comma-separated field of *TEXT into OUT; false at the end or on one too long
 * (*TOO_LONG set). */
static bool next_field(const char **text, char *out, size_t size, bool *too_long)
{
	const char *end;
	size_t len;

	if (!**text)
		return false;
	end = strchr(*text, ',');
	len = end ? (size_t)(end - *text) : strlen(*text);
	if (len >= size) {
		*too_long = true;
		return false;
	}
	memcpy(out, *text, len);
	out[len] = '\0';
	*text += len + (end ? 1 : 0);
	if (end && !**text) { /* a trailing comma: an empty last field */
		*too_long = true;
		return false;
	}
	return true;
}

static int parse_prefix(const char *text, int family, void *addr, unsigned *len)
{
	char buf[FIELD_MAX];
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long l;

	if (!slash || (size_t)(slash - text) >= sizeof(buf) || !isdigit((unsigned char)slash[1]))
		return -EINVAL;
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (inet_pton(family, buf, addr) != 1)
		return -EINVAL;
	errno = 0;
	l = strtoul(slash + 1, &end, 10);
	if (errno || *end || l > (family == AF_INET ? 32u : 128u))
		return -EINVAL;
	*len = (unsigned)l;
	return 0;
}

int net_pool_parse(const char *text, struct net_pool *pool, struct error *err)
{
	char field[FIELD_MAX];
	bool bad = false, have4 = false, have6 = false;
	const char *p = text;

	memset(pool, 0, sizeof(*pool));
	while (next_field(&p, field, sizeof(field), &bad)) {
		if (!have4 && parse_prefix(field, AF_INET, &pool->v4, &pool->len4) == 0)
			have4 = true;
		else if (!have6 && parse_prefix(field, AF_INET6, &pool->v6, &pool->len6) == 0)
			have6 = true;
		else
			return error_set(err, 0, "net pool: '%s' is not an IPv4 or IPv6 prefix",
					 field);
	}
	if (bad || !have4 || !have6)
		return error_set(err, 0, "net pool '%s': expected V4/LEN,V6/LEN", text);
	/* Room for every VP id: a /30 and a /120 each. */
	if (pool->len4 > 32 - 2 - 12 || pool->len6 > 128 - 8 - 12)
		return error_set(err, 0, "net pool '%s': at most /18 and /108, for 4096 VPs", text);
	return 0;
}

int net_pool_addrs(const struct net_pool *pool, unsigned id, struct net_vp_addrs *out,
		   struct error *err)
{
	uint32_t base = ntohl(pool->v4.s_addr), mask;

	if (id > 4095)
		return error_set(err, 0, "VP id %u has no addresses in the pool", id);
	mask = pool->len4 ? ~0u << (32 - pool->len4) : 0;
	base = (base & mask) + (id << 2);
	out->host4.s_addr = htonl(base + 1);
	out->vp4.s_addr = htonl(base + 2);
	/* The id goes in bits 8..19 from the end: below a /108 at most. */
	out->host6 = pool->v6;
	for (unsigned bit = pool->len6; bit < 128; bit++)
		out->host6.s6_addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	out->host6.s6_addr[13] |= (uint8_t)(id >> 8);
	out->host6.s6_addr[14] = (uint8_t)(id & 0xff);
	out->vp6 = out->host6;
	out->host6.s6_addr[15] = 1;
	out->vp6.s6_addr[15] = 2;
	return 0;
}

bool net_uplink_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > NET_UPLINK_NAME_MAX || strcmp(name, "default") == 0)
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

/* What the kernel allows and more than enough for real ones: nothing that needs quoting
 * in the rules' text. */
static bool iface_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return false;
	return true;
}

int net_uplink_parse(const char *text, struct net_uplink_spec *out, struct error *err)
{
	char field[FIELD_MAX];
	const char *p = text, *eq;
	bool bad = false, first = true;

	memset(out, 0, sizeof(*out));
	while (next_field(&p, field, sizeof(field), &bad)) {
		struct in_addr *slot = NULL;
		if (!(eq = strchr(field, '=')))
			return error_set(err, 0, "uplink '%s': '%s' has no '='", text, field);
		if (first) {
			if ((size_t)(eq - field) > NET_UPLINK_NAME_MAX)
				return error_set(err, 0, "uplink '%s': name too long", text);
			memcpy(out->name, field, (size_t)(eq - field));
			out->name[eq - field] = '\0';
			if (!net_uplink_name_ok(out->name))
				return error_set(err, 0, "uplink '%s': bad name", text);
			if (!iface_ok(eq + 1))
				return error_set(err, 0, "uplink '%s': bad interface name", text);
			snprintf(out->iface, sizeof(out->iface), "%s", eq + 1);
			first = false;
			continue;
		}
		if (strncmp(field, "gw6=", 4) == 0 && !out->has_gw6) {
			if (inet_pton(AF_INET6, eq + 1, &out->gw6) != 1 ||
			    IN6_IS_ADDR_UNSPECIFIED(&out->gw6) || IN6_IS_ADDR_MULTICAST(&out->gw6))
				return error_set(err, 0, "uplink '%s': bad '%s'", text, field);
			out->has_gw6 = true;
			continue;
		}
		if (strncmp(field, "gw=", 3) == 0 && !out->gw.s_addr)
			slot = &out->gw;
		else if (strncmp(field, "dns=", 4) == 0 && !out->dns.s_addr)
			slot = &out->dns;
		if (!slot || inet_pton(AF_INET, eq + 1, slot) != 1 || !slot->s_addr)
			return error_set(err, 0,
					 "uplink '%s': bad '%s' (gw=ADDR, gw6=ADDR6, dns=ADDR)",
					 text, field);
	}
	if (bad || first)
		return error_set(
			err, 0, "uplink '%s': expected NAME=IFACE[,gw=ADDR][,gw6=ADDR6][,dns=ADDR]",
			text);
	return 0;
}

static int parse_port(const char *text, const char *end, uint16_t *port)
{
	unsigned long v = 0;

	if (text == end || end - text > 5)
		return -EINVAL;
	for (const char *c = text; c < end; c++) {
		if (!isdigit((unsigned char)*c))
			return -EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int net_publish_parse(const char *text, struct net_publish *out, unsigned *n, struct error *err)
{
	char field[FIELD_MAX];
	const char *p = text;
	bool bad = false;

	*n = 0;
	while (next_field(&p, field, sizeof(field), &bad)) {
		struct net_publish pub = {0};
		char *colon = strchr(field, ':'), *slash, *end;
		if (*n == NET_PUBLISH_MAX)
			return error_set(err, 0, "publish: at most %d ports", NET_PUBLISH_MAX);
		slash = strchr(field, '/');
		end = slash ? slash : field + strlen(field);
		if (slash && strcmp(slash, "/udp") == 0)
			pub.udp = true;
		else if (slash && strcmp(slash, "/tcp") != 0)
			colon = NULL;
		if (!colon || colon > end || parse_port(field, colon, &pub.host_port) < 0 ||
		    parse_port(colon + 1, end, &pub.vp_port) < 0)
			return error_set(err, 0,
					 "publish '%s': expected HOSTPORT:VPPORT[/udp] "
					 "(ports 1 to 65535)",
					 field);
		for (unsigned i = 0; i < *n; i++)
			if (out[i].host_port == pub.host_port && out[i].udp == pub.udp)
				return error_set(err, 0, "publish: host port %u given twice",
						 pub.host_port);
		out[(*n)++] = pub;
	}
	if (bad)
		return error_set(err, 0, "publish '%s': bad list", text);
	return 0;
}

static int parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case 'T':
		shift += 10; /* fall through */
	case 'G':
		shift += 10; /* fall through */
	case 'M':
		shift += 10; /* fall through */
	case 'K':
		shift += 10;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end || v == 0 || v > (UINT64_MAX >> 1) >> shift)
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int net_limit_parse(const char *text, struct net_limit *out, unsigned *n, struct error *err)
{
	char field[FIELD_MAX];
	const char *p = text;
	bool bad = false;

	*n = 0;
	while (next_field(&p, field, sizeof(field), &bad)) {
		struct net_limit lim = {0};
		char *eq = strchr(field, '=');
		if (*n == NET_UPLINKS_MAX)
			return error_set(err, 0, "data-limit: at most %d uplinks", NET_UPLINKS_MAX);
		if (!eq || (size_t)(eq - field) > NET_UPLINK_NAME_MAX)
			return error_set(err, 0, "data-limit '%s': expected UPLINK=SIZE", field);
		memcpy(lim.uplink, field, (size_t)(eq - field));
		lim.uplink[eq - field] = '\0';
		if (!net_uplink_name_ok(lim.uplink) || parse_size(eq + 1, &lim.bytes) < 0)
			return error_set(err, 0,
					 "data-limit '%s': expected UPLINK=SIZE (bytes, or with "
					 "K, M, G, T)",
					 field);
		for (unsigned i = 0; i < *n; i++)
			if (strcmp(out[i].uplink, lim.uplink) == 0)
				return error_set(err, 0, "data-limit: uplink %s given twice",
						 lim.uplink);
		out[(*n)++] = lim;
	}
	if (bad)
		return error_set(err, 0, "data-limit '%s': bad list", text);
	return 0;
}
