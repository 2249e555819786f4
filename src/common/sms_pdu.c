#include "common/sms_pdu.h"
#include "common/hex.h"
#include "common/ucs2.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* TS 23.038 §6.2.1: the GSM 7-bit default alphabet, as Unicode. 0x1B is the escape to
 * the extension table. */
static const uint16_t gsm7[128] = {
	'@',	0x00a3, '$',	0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, 0x00f2, 0x00c7, '\n',
	0x00d8, 0x00f8, '\r',	0x00c5, 0x00e5, 0x0394, '_',	0x03a6, 0x0393, 0x039b, 0x03a9,
	0x03a0, 0x03a8, 0x03a3, 0x0398, 0x039e, 0x001b, 0x00c6, 0x00e6, 0x00df, 0x00c9, ' ',
	'!',	'"',	'#',	0x00a4, '%',	'&',	'\'',	'(',	')',	'*',	'+',
	',',	'-',	'.',	'/',	'0',	'1',	'2',	'3',	'4',	'5',	'6',
	'7',	'8',	'9',	':',	';',	'<',	'=',	'>',	'?',	0x00a1, 'A',
	'B',	'C',	'D',	'E',	'F',	'G',	'H',	'I',	'J',	'K',	'L',
	'M',	'N',	'O',	'P',	'Q',	'R',	'S',	'T',	'U',	'V',	'W',
	'X',	'Y',	'Z',	0x00c4, 0x00d6, 0x00d1, 0x00dc, 0x00a7, 0x00bf, 'a',	'b',
	'c',	'd',	'e',	'f',	'g',	'h',	'i',	'j',	'k',	'l',	'm',
	'n',	'o',	'p',	'q',	'r',	's',	't',	'u',	'v',	'w',	'x',
	'y',	'z',	0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

#define GSM7_ESC 0x1b

/* TS 23.038 §6.2.1.1: the default extension table (after an escape). */
static const struct {
	uint8_t code;
	uint16_t cp;
} gsm7_ext[] = {
	{0x0a, 0x000c}, {0x14, '^'}, {0x28, '{'}, {0x29, '}'}, {0x2f, '\\'},
	{0x3c, '['},	{0x3d, '~'}, {0x3e, ']'}, {0x40, '|'}, {0x65, 0x20ac},
};

/* Septets for code point CP: 1 (*CODE the septet), 2 (an escape, then *CODE), or 0. */
static int gsm7_find(uint32_t cp, uint8_t *code)
{
	if (cp == GSM7_ESC)
		return 0;
	for (size_t i = 0; i < 128; i++)
		if (gsm7[i] == cp) {
			*code = (uint8_t)i;
			return 1;
		}
	for (size_t i = 0; i < sizeof(gsm7_ext) / sizeof(gsm7_ext[0]); i++)
		if (gsm7_ext[i].cp == cp) {
			*code = gsm7_ext[i].code;
			return 2;
		}
	return 0;
}

int sms_text_units(const char *text, size_t *units, int *ucs2)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t septets = 0, u16 = 0;
	bool gsm = true;

	while (*s) {
		uint32_t cp;
		uint8_t code;
		int n = utf8_next(s, &cp), k;

		if (n < 0)
			return -EINVAL;
		s += n;
		k = gsm7_find(cp, &code);
		if (k == 0)
			gsm = false;
		septets += (size_t)k;
		u16 += cp > 0xffff ? 2 : 1;
	}
	*ucs2 = !gsm;
	*units = gsm ? septets : u16;
	return 0;
}

/* ---- Decoding ---- */

struct reader {
	const uint8_t *b;
	size_t n, pos;
};

static int get(struct reader *r, uint8_t *v)
{
	if (r->pos >= r->n)
		return -1;
	*v = r->b[r->pos++];
	return 0;
}

/* Septet I of packed data B (enough octets for it: the caller checked). */
static uint8_t septet_at(const uint8_t *b, size_t i)
{
	size_t bit = i * 7, byte = bit / 8, shift = bit % 8;
	unsigned v = b[byte] >> shift;

	if (shift > 1)
		v |= (unsigned)b[byte + 1] << (8 - shift);
	return (uint8_t)(v & 0x7f);
}

/* Septets FROM..TO of packed B as UTF-8 into OUT. */
static int gsm7_unpack(const uint8_t *b, size_t from, size_t to, char *out, size_t size,
		       struct error *err)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = from; i < to; i++) {
		uint8_t c = septet_at(b, i);
		uint32_t cp = gsm7[c];

		if (c == GSM7_ESC) {
			/* An escape at the end, or before a code the extension table
			 * lacks: TS 23.038 shows a space, or the default table's character. */
			cp = ' ';
			if (i + 1 < to) {
				c = septet_at(b, ++i);
				cp = c == GSM7_ESC ? ' ' : gsm7[c];
				for (size_t k = 0; k < sizeof(gsm7_ext) / sizeof(gsm7_ext[0]); k++)
					if (gsm7_ext[k].code == c)
						cp = gsm7_ext[k].cp;
			}
		}
		if (utf8_put(out, size, &len, cp) < 0)
			return error_set(err, 0, "text too long");
	}
	return 0;
}

static const char bcd_digits[] = "0123456789*#abc";

/* TS 22.030's place of an international number's '+' among a service string's digits:
 * after the last '*' or '#' that a digit follows, else first. */
static size_t plus_place(const char *digits)
{
	size_t at = 0;

	for (size_t i = 0; digits[i]; i++)
		if ((digits[i] == '*' || digits[i] == '#') && digits[i + 1] >= '0' &&
		    digits[i + 1] <= '9')
			at = i + 1;
	return at;
}

/* NDIGITS semi-octets of B as text, with '+' placed when INTL. */
static int bcd_decode(const uint8_t *b, size_t ndigits, bool intl, char *out, size_t size,
		      struct error *err)
{
	char digits[24];
	size_t at;

	if (ndigits + 2 > size || ndigits >= sizeof(digits))
		return error_set(err, 0, "address of %zu digits", ndigits);
	for (size_t i = 0; i < ndigits; i++) {
		unsigned v = i % 2 ? b[i / 2] >> 4 : b[i / 2] & 0x0f;

		if (v > 14)
			return error_set(err, 0, "filler inside an address");
		digits[i] = bcd_digits[v];
	}
	digits[ndigits] = '\0';
	if (!intl) {
		memcpy(out, digits, ndigits + 1);
		return 0;
	}
	at = plus_place(digits);
	memcpy(out, digits, at);
	out[at] = '+';
	memcpy(out + at + 1, digits + at, ndigits - at + 1);
	return 0;
}

/* TS 23.040 §9.1.2.5: an address field (length in digits, type, semi-octets). */
static int addr_decode(struct reader *r, char *out, size_t size, struct error *err)
{
	uint8_t len, toa;
	size_t octets;
	unsigned ton;

	if (get(r, &len) < 0 || get(r, &toa) < 0)
		return error_set(err, 0, "PDU ends in an address");
	if (len > 20)
		return error_set(err, 0, "address length %u", len);
	octets = (len + 1u) / 2;
	if (r->n - r->pos < octets)
		return error_set(err, 0, "PDU ends in an address");
	ton = (toa >> 4) & 7;
	r->pos += octets;
	if (ton == 5)
		return gsm7_unpack(r->b + r->pos - octets, 0, len * 4u / 7, out, size, err);
	return bcd_decode(r->b + r->pos - octets, len, ton == 1, out, size, err);
}

/* The SMSC part: a length in octets (the type's included), 0 = none. */
static int smsc_decode(const uint8_t *b, char *out, size_t size, struct error *err)
{
	size_t octets = b[0];

	out[0] = '\0';
	if (octets == 0)
		return 0;
	return bcd_decode(b + 2, (octets - 1) * 2 - ((b[octets] >> 4) == 0xf ? 1 : 0),
			  ((b[1] >> 4) & 7) == 1, out, size, err);
}

enum alphabet { ALPHA_GSM7, ALPHA_8BIT, ALPHA_UCS2 };

/* TS 23.038 §4: the data coding scheme's alphabet. */
static int dcs_alphabet(uint8_t dcs, enum alphabet *a, struct error *err)
{
	unsigned group = dcs >> 4;

	*a = ALPHA_GSM7; /* and so the reserved groups and values */
	if (group < 8) {
		if (dcs & 0x20)
			return error_set(err, ENOTSUP, "compressed text");
		if (((dcs >> 2) & 3) == 1)
			*a = ALPHA_8BIT;
		else if (((dcs >> 2) & 3) == 2)
			*a = ALPHA_UCS2;
	} else if (group == 0xe) {
		*a = ALPHA_UCS2;
	} else if (group == 0xf && (dcs & 0x04)) {
		*a = ALPHA_8BIT;
	}
	if (*a == ALPHA_8BIT)
		return error_set(err, ENOTSUP, "8-bit data");
	return 0;
}

static int ud_decode(struct reader *r, uint8_t dcs, bool udhi, struct sms *out, struct error *err)
{
	const uint8_t *ud;
	enum alphabet a;
	uint8_t udl;
	size_t octets, skip = 0, len = 0;
	int ret = dcs_alphabet(dcs, &a, err);

	if (ret < 0)
		return ret;
	if (get(r, &udl) < 0)
		return error_set(err, 0, "PDU ends before its user data length");
	if (a == ALPHA_GSM7) {
		if (udl > SMS_GSM7_MAX)
			return error_set(err, 0, "%u septets of user data", udl);
		octets = (udl * 7u + 7) / 8;
	} else {
		if (udl > 2 * SMS_UCS2_MAX)
			return error_set(err, 0, "%u octets of user data", udl);
		octets = udl;
	}
	if (r->n - r->pos != octets)
		return error_set(err, 0, "user data of %zu octets where its length says %zu",
				 r->n - r->pos, octets);
	ud = r->b + r->pos;
	if (udhi) {
		if (octets == 0 || (size_t)ud[0] + 1 > octets)
			return error_set(err, 0, "user data header longer than the user data");
		skip = ud[0] + 1u;
	}
	if (a == ALPHA_GSM7) {
		/* The header is followed by fill bits up to a septet boundary. */
		size_t first = (skip * 8 + 6) / 7;

		if (first > udl)
			return error_set(err, 0, "user data header longer than the user data");
		return gsm7_unpack(ud, first, udl, out->text, sizeof(out->text), err);
	}
	if ((octets - skip) % 2)
		return error_set(err, 0, "UCS-2 text of an odd length");
	out->text[0] = '\0';
	for (size_t i = skip; i < octets; i += 2) {
		uint32_t cp = (uint32_t)ud[i] << 8 | ud[i + 1];

		if (cp >= 0xd800 && cp <= 0xdbff && i + 3 < octets) {
			uint32_t lo = (uint32_t)ud[i + 2] << 8 | ud[i + 3];

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xfffd; /* a lone surrogate */
		if (utf8_put(out->text, sizeof(out->text), &len, cp) < 0)
			return error_set(err, 0, "text too long");
	}
	return 0;
}

static int bcd2(uint8_t b, int *v)
{
	unsigned lo = b & 0x0f, hi = b >> 4;

	if (lo > 9 || hi > 9)
		return -1;
	*v = (int)(lo * 10 + hi);
	return 0;
}

/* TS 23.040 §9.2.3.11: seven swapped BCD octets, the zone in quarters of an hour with its
 * sign in bit 3. */
static int scts_decode(struct reader *r, struct sms *out, struct error *err)
{
	int *f[] = {&out->scts.year, &out->scts.month,	&out->scts.day,
		    &out->scts.hour, &out->scts.minute, &out->scts.second};
	uint8_t tz;

	if (r->n - r->pos < 7)
		return error_set(err, 0, "PDU ends in its time stamp");
	for (size_t i = 0; i < 6; i++)
		if (bcd2(r->b[r->pos + i], f[i]) < 0)
			return error_set(err, 0, "time stamp octet 0x%02x", r->b[r->pos + i]);
	out->scts.year += out->scts.year < 90 ? 2000 : 1900;
	tz = r->b[r->pos + 6];
	if (bcd2(tz & 0xf7, &out->scts.tz_quarters) < 0)
		return error_set(err, 0, "time zone octet 0x%02x", tz);
	if (tz & 0x08)
		out->scts.tz_quarters = -out->scts.tz_quarters;
	r->pos += 7;
	return 0;
}

int sms_pdu_decode(const char *hex, size_t tpdu_len, struct sms *out, struct error *err)
{
	uint8_t b[(SMS_HEX_MAX - 1) / 2] = {0}, fo, pid, dcs, vpf;
	size_t hexlen = strnlen(hex, SMS_HEX_MAX), n;
	struct reader r;
	int ret;

	memset(out, 0, sizeof(*out));
	if (hexlen >= SMS_HEX_MAX)
		return error_set(err, 0, "PDU longer than %d hex digits", SMS_HEX_MAX - 1);
	if (hexlen == 0 || hexlen % 2)
		return error_set(err, 0, "PDU of %zu hex digits", hexlen);
	n = hexlen / 2;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return error_set(err, 0, "PDU with a non-hex digit");
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (tpdu_len == 0 || tpdu_len > SMS_TPDU_MAX)
		return error_set(err, 0, "TPDU length %zu", tpdu_len);
	if (b[0] > 11)
		return error_set(err, 0, "SMSC address of %u octets", b[0]);
	if (b[0] == 1)
		return error_set(err, 0, "SMSC address without digits");
	if (n != 1u + b[0] + tpdu_len)
		return error_set(err, 0, "PDU of %zu octets where the lengths say %zu", n,
				 1u + b[0] + tpdu_len);
	ret = smsc_decode(b, out->smsc, sizeof(out->smsc), err);
	if (ret < 0)
		return ret;
	r = (struct reader){.b = b + 1 + b[0], .n = tpdu_len};
	if (get(&r, &fo) < 0)
		return error_set(err, 0, "empty TPDU");
	switch (fo & 3) {
	case 0:
		out->kind = SMS_DELIVER;
		ret = addr_decode(&r, out->addr, sizeof(out->addr), err);
		if (ret < 0)
			return ret;
		if (get(&r, &pid) < 0 || get(&r, &dcs) < 0)
			return error_set(err, 0, "PDU ends before its coding scheme");
		ret = scts_decode(&r, out, err);
		break;
	case 1:
		out->kind = SMS_SUBMIT;
		if (get(&r, &out->mr) < 0)
			return error_set(err, 0, "PDU ends before its reference");
		ret = addr_decode(&r, out->addr, sizeof(out->addr), err);
		if (ret < 0)
			return ret;
		if (get(&r, &pid) < 0 || get(&r, &dcs) < 0)
			return error_set(err, 0, "PDU ends before its coding scheme");
		/* TS 23.040 §9.2.3.3: none, enhanced (7), relative (1), absolute (7). */
		vpf = (fo >> 3) & 3;
		n = vpf == 0 ? 0 : vpf == 2 ? 1 : 7;
		if (r.n - r.pos < n)
			return error_set(err, 0, "PDU ends in its validity period");
		r.pos += n;
		break;
	default:
		return error_set(err, ENOTSUP, "a status report or command");
	}
	if (ret < 0)
		return ret;
	return ud_decode(&r, dcs, fo & 0x40, out, err);
}

/* ---- Encoding ---- */

struct writer {
	uint8_t b[1 + 12 + SMS_TPDU_MAX];
	size_t n;
};

static void put(struct writer *w, uint8_t v)
{
	/* Every field is bounded before it is written: the buffer holds the largest PDU. */
	if (w->n < sizeof(w->b))
		w->b[w->n++] = v;
}

/* Text as septets (escapes included) into S (at most MAX); -1 if a character is not in
 * GSM 7-bit or there are more than MAX. */
static int gsm7_septets(const char *text, uint8_t *s, size_t max, size_t *n)
{
	const unsigned char *p = (const unsigned char *)text;

	*n = 0;
	while (*p) {
		uint32_t cp;
		uint8_t code;
		int len = utf8_next(p, &cp), k;

		if (len < 0)
			return -1;
		p += len;
		k = gsm7_find(cp, &code);
		if (k == 0 || *n + (size_t)k > max)
			return -1;
		if (k == 2)
			s[(*n)++] = GSM7_ESC;
		s[(*n)++] = code;
	}
	return 0;
}

static void gsm7_pack(struct writer *w, const uint8_t *s, size_t n)
{
	size_t octets = (n * 7 + 7) / 8;
	uint8_t o[SMS_TPDU_MAX] = {0};

	for (size_t i = 0; i < n; i++) {
		size_t bit = i * 7, byte = bit / 8, shift = bit % 8;

		o[byte] |= (uint8_t)(s[i] << shift);
		if (shift > 1)
			o[byte + 1] |= (uint8_t)(s[i] >> (8 - shift));
	}
	for (size_t i = 0; i < octets; i++)
		put(w, o[i]);
}

/* A numeric address's digits and type; -1 if it is not one or cannot round-trip. */
static int numeric(const char *addr, char *digits, size_t size, bool *intl)
{
	size_t n = 0, plus = 0;
	char check[26];

	*intl = false;
	for (const char *p = addr; *p; p++) {
		if (*p == '+') {
			if (*intl)
				return -1;
			*intl = true;
			plus = n;
			continue;
		}
		if (!strchr("0123456789*#", *p) || n + 1 >= size)
			return -1;
		digits[n++] = *p;
	}
	digits[n] = '\0';
	if (n == 0 || n > 20)
		return -1;
	if (*intl) {
		/* The '+' must be where decoding will put it back. */
		size_t at = plus_place(digits);

		if (at != plus)
			return -1;
		snprintf(check, sizeof(check), "%.*s+%s", (int)at, digits, digits + at);
		if (strcmp(check, addr) != 0)
			return -1;
	}
	return 0;
}

static void bcd_put(struct writer *w, const char *digits)
{
	size_t n = strlen(digits);

	for (size_t i = 0; i < n; i += 2) {
		unsigned lo = (unsigned)(strchr(bcd_digits, digits[i]) - bcd_digits);
		unsigned hi = i + 1 < n ? (unsigned)(strchr(bcd_digits, digits[i + 1]) - bcd_digits)
					: 0xf;

		put(w, (uint8_t)(hi << 4 | lo));
	}
}

static int addr_encode(struct writer *w, const char *addr, bool alnum_ok, struct error *err)
{
	char digits[24] = {0};
	uint8_t s[11];
	size_t n;
	bool intl;

	if (numeric(addr, digits, sizeof(digits), &intl) == 0) {
		put(w, (uint8_t)strlen(digits));
		put(w, intl ? 0x91 : 0x81);
		bcd_put(w, digits);
		return 0;
	}
	if (!alnum_ok || !*addr || gsm7_septets(addr, s, sizeof(s), &n) < 0)
		return error_set(err, 0, "address \"%s\" is not one an SMS can carry", addr);
	put(w, (uint8_t)((n * 7 + 3) / 4));
	put(w, 0xd0);
	gsm7_pack(w, s, n);
	return 0;
}

static int smsc_encode(struct writer *w, const char *smsc, struct error *err)
{
	char digits[24] = {0};
	bool intl;

	if (!*smsc) {
		put(w, 0);
		return 0;
	}
	if (numeric(smsc, digits, sizeof(digits), &intl) < 0 || strlen(digits) > 20)
		return error_set(err, 0, "SMSC \"%s\" is not a number", smsc);
	put(w, (uint8_t)(1 + (strlen(digits) + 1) / 2));
	put(w, intl ? 0x91 : 0x81);
	bcd_put(w, digits);
	return 0;
}

static int scts_encode(struct writer *w, const struct sms *in, struct error *err)
{
	int f[] = {in->scts.year % 100, in->scts.month,	 in->scts.day,
		   in->scts.hour,	in->scts.minute, in->scts.second};
	int tz = in->scts.tz_quarters < 0 ? -in->scts.tz_quarters : in->scts.tz_quarters;

	if (in->scts.year < 0 || tz > 79)
		return error_set(err, 0, "time stamp out of range");
	for (size_t i = 0; i < 6; i++) {
		if (f[i] < 0 || f[i] > 99)
			return error_set(err, 0, "time stamp out of range");
		put(w, (uint8_t)((f[i] % 10) << 4 | f[i] / 10));
	}
	put(w, (uint8_t)((tz % 10) << 4 | tz / 10 | (in->scts.tz_quarters < 0 ? 0x08 : 0)));
	return 0;
}

static int ud_encode(struct writer *w, const char *text, uint8_t *dcs_at, struct error *err)
{
	const unsigned char *p = (const unsigned char *)text;
	uint8_t s[SMS_GSM7_MAX];
	size_t units, n;
	int ucs2;

	if (sms_text_units(text, &units, &ucs2) < 0)
		return error_set(err, 0, "text is not UTF-8");
	if (!ucs2) {
		if (units > SMS_GSM7_MAX || gsm7_septets(text, s, sizeof(s), &n) < 0)
			return error_set(err, EMSGSIZE, "%zu characters of GSM 7-bit text", units);
		*dcs_at = 0x00;
		put(w, (uint8_t)n);
		gsm7_pack(w, s, n);
		return 0;
	}
	if (units > SMS_UCS2_MAX)
		return error_set(err, EMSGSIZE, "%zu characters of UCS-2 text", units);
	*dcs_at = 0x08;
	put(w, (uint8_t)(units * 2));
	while (*p) {
		uint32_t cp;

		p += utf8_next(p, &cp); /* checked by sms_text_units() */
		if (cp > 0xffff) {
			cp -= 0x10000;
			put(w, (uint8_t)((0xd800 + (cp >> 10)) >> 8));
			put(w, (uint8_t)(0xd800 + (cp >> 10)));
			cp = 0xdc00 + (cp & 0x3ff);
		}
		put(w, (uint8_t)(cp >> 8));
		put(w, (uint8_t)cp);
	}
	return 0;
}

int sms_pdu_encode(const struct sms *in, char *out, size_t size, size_t *tpdu_len,
		   struct error *err)
{
	struct writer w = {.n = 0};
	size_t tpdu_start, dcs_at;
	int ret;

	if (memchr(in->smsc, '\0', sizeof(in->smsc)) == NULL ||
	    memchr(in->addr, '\0', sizeof(in->addr)) == NULL ||
	    memchr(in->text, '\0', sizeof(in->text)) == NULL)
		return error_set(err, 0, "unterminated field");
	ret = smsc_encode(&w, in->smsc, err);
	if (ret < 0)
		return ret;
	tpdu_start = w.n;
	if (in->kind == SMS_SUBMIT) {
		put(&w, 0x11); /* SMS-SUBMIT, a relative validity period */
		put(&w, in->mr);
		ret = addr_encode(&w, in->addr, false, err);
		if (ret < 0)
			return ret;
		put(&w, 0x00); /* PID: a plain message */
		dcs_at = w.n;
		put(&w, 0x00);
		put(&w, 0xaa); /* 4 days */
	} else if (in->kind == SMS_DELIVER) {
		put(&w, 0x04); /* SMS-DELIVER, no more messages waiting */
		ret = addr_encode(&w, in->addr, true, err);
		if (ret < 0)
			return ret;
		put(&w, 0x00);
		dcs_at = w.n;
		put(&w, 0x00);
		ret = scts_encode(&w, in, err);
		if (ret < 0)
			return ret;
	} else {
		return error_set(err, 0, "unknown message kind %d", (int)in->kind);
	}
	ret = ud_encode(&w, in->text, &w.b[dcs_at], err);
	if (ret < 0)
		return ret;
	if (size < 2 * w.n + 1)
		return error_set(err, ENOSPC, "PDU of %zu octets", w.n);
	hex_encode(out, w.b, w.n, HEX_UPPER);
	*tpdu_len = w.n - tpdu_start;
	return 0;
}
