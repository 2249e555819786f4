/* UTF-8 and the UCS2 TE character set (ucs2.h). */
#include "common/ucs2.h"
#include "common/hex.h"

#include <errno.h>
#include <string.h>

int utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0];
	int n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
	} else {
		return -1;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

int utf8_put(char *buf, size_t size, size_t *len, uint32_t cp)
{
	unsigned char t[4];
	size_t n;

	if (cp < 0x80) {
		t[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (unsigned char)(0xc0 | (cp >> 6));
		t[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (unsigned char)(0xe0 | (cp >> 12));
		t[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		t[0] = (unsigned char)(0xf0 | (cp >> 18));
		t[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*len + n >= size)
		return -1;
	memcpy(buf + *len, t, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

/* The 16-bit unit at HEX (four digits), or -1. */
static long unit_at(const char *hex)
{
	long u = 0;

	for (int i = 0; i < 4; i++) {
		int v = hex_digit_value(hex[i]);
		if (v < 0)
			return -1;
		u = u << 4 | v;
	}
	return u;
}

int ucs2_hex_to_utf8(const char *hex, size_t len, char *out, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (len % 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		long u = unit_at(hex + i), lo;
		uint32_t cp = (uint32_t)u;

		if (u <= 0 || (u >= 0xdc00 && u <= 0xdfff))
			return -EINVAL; /* not hex, NUL (no C string holds it), a lone low half */
		if (u >= 0xd800 && u <= 0xdbff) {
			if (i + 8 > len || (lo = unit_at(hex + i + 4)) < 0xdc00 || lo > 0xdfff)
				return -EINVAL;
			cp = 0x10000 + (((uint32_t)u - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
			i += 4;
		}
		if (utf8_put(out, size, &n, cp) < 0)
			return -ENOSPC;
	}
	return (int)n;
}

static int put_unit(char *out, size_t size, size_t *len, uint32_t u)
{
	if (*len + 4 >= size)
		return -1;
	for (int i = 0; i < 4; i++)
		out[(*len)++] = hex_digit(u >> (12 - 4 * i), HEX_UPPER);
	out[*len] = '\0';
	return 0;
}

int utf8_to_ucs2_hex(const char *text, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = 0;

	if (size == 0)
		return -ENOSPC;
	out[0] = '\0';
	while (*p) {
		uint32_t cp;
		int n = utf8_next(p, &cp);

		if (n < 0)
			return -EINVAL;
		p += n;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			if (put_unit(out, size, &len, 0xd800 | (cp >> 10)) < 0 ||
			    put_unit(out, size, &len, 0xdc00 | (cp & 0x3ff)) < 0)
				return -ENOSPC;
		} else if (put_unit(out, size, &len, cp) < 0) {
			return -ENOSPC;
		}
	}
	return (int)len;
}
