/* EF_MSISDN for a VP's +CRSM (telephony_sim.h). */
#include "devices/telephony_sim.h"
#include "common/hex.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ALPHA_LEN  14
#define RECORD_LEN (ALPHA_LEN + 14)
#define BCD_MAX	   10 /* bytes of digits in a record: 20 digits */

/* TS 51.011 §10.5.1's BCD: two digits a byte, the first in the low nibble, '*' A, '#' B,
 * F for padding. */
static int bcd_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch == '*')
		return 0xA;
	if (ch == '#')
		return 0xB;
	return -1;
}

static int record(const char *number, uint8_t rec[RECORD_LEN])
{
	const char *digits = number[0] == '+' ? number + 1 : number;
	size_t n = strlen(digits);
	uint8_t *bcd = rec + ALPHA_LEN + 2;

	memset(rec, 0xff, RECORD_LEN);
	if (!number[0])
		return 0;
	if (n == 0 || n > 2 * BCD_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int d = bcd_digit(digits[i]);
		if (d < 0)
			return -EINVAL;
		if (i % 2 == 0)
			bcd[i / 2] = (uint8_t)(0xf0 | d);
		else
			bcd[i / 2] = (uint8_t)((bcd[i / 2] & 0x0f) | (d << 4));
	}
	rec[ALPHA_LEN] = (uint8_t)(1 + (n + 1) / 2); /* the type byte and the digits' */
	rec[ALPHA_LEN + 1] = number[0] == '+' ? 0x91 : 0x81;
	return 0;
}

static int answer(char *out, size_t size, int sw1, int sw2, const uint8_t *data, size_t len)
{
	size_t off;
	int n = snprintf(out, size, "+CRSM: %d,%d", sw1, sw2);

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	off = (size_t)n;
	if (!data)
		return (int)off;
	if (off + 2 * len + 4 > size)
		return -ENOSPC;
	out[off++] = ',';
	out[off++] = '"';
	hex_encode(out + off, data, len, HEX_UPPER);
	off += 2 * len;
	out[off++] = '"';
	out[off] = '\0';
	return (int)off;
}

int tel_sim_msisdn(const char *number, const struct tel_crsm *c, char *out, size_t size)
{
	/* TS 51.011 §9.2.1: RFU, file size, file id, type EF (04), RFU, access conditions
	 * (read and update CHV1, increase never, invalidate and rehabilitate ADM), status
	 * (not invalidated), 2 more bytes: linear fixed (01) of RECORD_LEN. */
	const uint8_t info[15] = {0x00,
				  0x00,
				  0x00,
				  RECORD_LEN,
				  TEL_EF_MSISDN >> 8,
				  TEL_EF_MSISDN & 0xff,
				  0x04,
				  0x00,
				  0x11,
				  0xf0,
				  0x44,
				  0x01,
				  0x02,
				  0x01,
				  RECORD_LEN};
	uint8_t rec[RECORD_LEN];
	int ret;

	if ((ret = record(number, rec)) < 0)
		return ret;
	switch (c->command) {
	case CRSM_GET_RESPONSE:
		return answer(out, size, 0x90, 0x00, info, sizeof(info));
	case CRSM_READ_RECORD:
		if (c->p2 != 4) /* only absolute: no record pointer kept per VP */
			return answer(out, size, 0x6b, 0x00, NULL, 0);
		if (c->p1 != 1)
			return answer(out, size, 0x6a, 0x83, NULL, 0); /* record not found */
		if (c->p3 >= 0 && c->p3 != RECORD_LEN)
			return answer(out, size, 0x67, RECORD_LEN, NULL, 0); /* wrong length */
		return answer(out, size, 0x90, 0x00, rec, sizeof(rec));
	default: /* binary reads on a record file; writes: the file is the daemon's */
		return answer(out, size, 0x69, 0x81, NULL, 0);
	}
}
