/* The numbers rules (telephony_number.h). */
#include "devices/telephony_number.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool tel_number_valid(const char *s)
{
	size_t digits = 0;

	if (*s == '+')
		s++;
	for (; *s; s++, digits++)
		if (!((*s >= '0' && *s <= '9') || *s == '*' || *s == '#') || digits >= 20)
			return false;
	return digits > 0;
}

int tel_number_tag(const struct tel_numbers *n, unsigned id, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s%u*", n->prefix, id) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int tel_number_incoming(const struct tel_numbers *n, const char *caller_id, unsigned *vp_id,
			char *caller, size_t size)
{
	size_t plen = strlen(n->prefix);
	const char *p = caller_id;
	unsigned long id = 0;

	if (plen == 0 || strncmp(caller_id, n->prefix, plen) != 0) {
		snprintf(caller, size, "%s", caller_id);
		return 0;
	}
	p += plen;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((id = id * 10 + (unsigned long)(*p - '0')) > 0xffffff)
			return -EINVAL;
	if (*p != '*')
		return -EINVAL;
	*vp_id = (unsigned)id;
	snprintf(caller, size, "%s", p + 1);
	return 1;
}

int tel_number_type(const char *number)
{
	return number[0] == '+' ? 145 : 129;
}

/* A number a VP gives must not reach the service as another VP's request. */
static int check_dest(const struct tel_numbers *n, const char *dest, struct error *err)
{
	size_t plen = strlen(n->prefix), alen = strlen(n->access);

	if (!tel_number_valid(dest))
		return error_set(err, EPERM, "'%s' is not a phone number", dest);
	if (plen && strncmp(dest, n->prefix, plen) == 0)
		return error_set(err, EPERM, "'%s' starts with the forwarding tag", dest);
	if (alen && strncmp(dest, n->access, alen) == 0)
		return error_set(err, EPERM, "'%s' starts with the forwarding access number", dest);
	return 0;
}

int tel_number_dial(const struct tel_numbers *n, bool owner, unsigned id, const char *dest,
		    char *out, size_t size, struct error *err)
{
	char tag[32];
	int ret;

	if ((ret = check_dest(n, dest, err)) < 0)
		return ret;
	if (owner) {
		if ((size_t)snprintf(out, size, "%s", dest) >= size)
			return error_set(err, ENAMETOOLONG, "number too long");
		return 0;
	}
	if (!n->access[0])
		return error_set(err, EPERM,
				 "no forwarding access number (cellsd --forward-access)");
	if (tel_number_tag(n, id, tag, sizeof(tag)) < 0 ||
	    (size_t)snprintf(out, size, "%s%s%s", n->access, tag, dest) >= size)
		return error_set(err, ENAMETOOLONG, "number too long");
	return 0;
}

int tel_number_sms(const struct tel_numbers *n, bool owner, unsigned id, const char *dest,
		   const char *text, char *to, size_t to_size, char *body, size_t body_size,
		   struct error *err)
{
	const char *gateway = n->gateway[0] ? n->gateway : n->access;
	char tag[32];
	int ret;

	if ((ret = check_dest(n, dest, err)) < 0)
		return ret;
	if (owner) {
		if ((size_t)snprintf(to, to_size, "%s", dest) >= to_size)
			return error_set(err, ENAMETOOLONG, "number too long");
		if ((size_t)snprintf(body, body_size, "%s", text) >= body_size)
			return error_set(err, EMSGSIZE, "text too long");
		return 0;
	}
	if (!gateway[0])
		return error_set(err, EPERM, "no forwarding SMS gateway (cellsd --forward-sms)");
	if (tel_number_tag(n, id, tag, sizeof(tag)) < 0 ||
	    (size_t)snprintf(to, to_size, "%s", gateway) >= to_size)
		return error_set(err, ENAMETOOLONG, "number too long");
	if ((size_t)snprintf(body, body_size, "%s%s %s", tag, dest, text) >= body_size)
		return error_set(err, EMSGSIZE, "text too long with the forwarding header");
	return 0;
}
