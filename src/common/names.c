#include "common/names.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool name_is_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	if (!isascii((unsigned char)name[0]) || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isascii(c) || !(isalnum(c) || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int parse_size(const char *text, uint64_t *bytes)
{
	unsigned long long value;
	unsigned shift = 0;
	char *end;

	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] != '\0' && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0)
		return -EINVAL;
	if (shift && value > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = (uint64_t)value << shift;
	return 0;
}

static const char *parse_side(const char *text, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return NULL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || v < 64 || v > 4096)
		return NULL;
	*out = (unsigned)v;
	return end;
}

int parse_mode(const char *text, unsigned *width, unsigned *height)
{
	const char *rest = parse_side(text, width);

	if (!rest || *rest != 'x')
		return -EINVAL;
	rest = parse_side(rest + 1, height);
	return rest && *rest == '\0' ? 0 : -EINVAL;
}
