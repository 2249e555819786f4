/* Hex digits, read and written: AT commands, SMS PDUs, sysfs attributes and tokens carry
 * bytes and numbers as text. Header-only, like clock.h, so that any program or test that
 * writes hex needs no extra source file. */
#ifndef CELLS_HEX_H
#define CELLS_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The case of the digits a..f: AT and PDU hex is upper case, sysfs and tokens lower. */
enum hex_case { HEX_LOWER, HEX_UPPER };

/* The value of a hex digit (upper or lower case), or -1. */
static inline int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The digit of V's low four bits. */
static inline char hex_digit(unsigned v, enum hex_case c)
{
	return (c == HEX_UPPER ? "0123456789ABCDEF" : "0123456789abcdef")[v & 15];
}

/* LEN bytes at DATA as 2 * LEN digits, high nibble first, NUL-ended: OUT holds
 * 2 * LEN + 1 bytes. */
static inline void hex_encode(char *out, const uint8_t *data, size_t len, enum hex_case c)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digit(data[i] >> 4, c);
		out[2 * i + 1] = hex_digit(data[i], c);
	}
	out[2 * len] = '\0';
}

#endif
