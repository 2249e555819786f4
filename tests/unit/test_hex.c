/* Hex digits read and written (src/common/hex.h): every byte value, both cases, and
 * nothing written past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/hex.h"

static void digit_values(void **unused)
{
	(void)unused;
	for (int c = 0; c < 256; c++) {
		const char *lower = c ? strchr("0123456789abcdef", c) : NULL;
		const char *upper = c ? strchr("0123456789ABCDEF", c) : NULL;
		int want = lower   ? (int)(lower - "0123456789abcdef")
			   : upper ? (int)(upper - "0123456789ABCDEF")
				   : -1;

		assert_int_equal(hex_digit_value((char)c), want);
	}
}

static void digits_take_the_low_nibble(void **unused)
{
	(void)unused;
	assert_int_equal(hex_digit(0x1a, HEX_UPPER), 'A');
	assert_int_equal(hex_digit(0x1a, HEX_LOWER), 'a');
	assert_int_equal(hex_digit(0xf0, HEX_LOWER), '0');
	assert_int_equal(hex_digit(9, HEX_UPPER), '9');
}

static void bytes_in_either_case(void **unused)
{
	static const uint8_t data[] = {0x00, 0x1f, 0xa0, 0xff, 0x5c};
	char out[16];

	(void)unused;
	memset(out, 'x', sizeof(out));
	hex_encode(out, data, sizeof(data), HEX_UPPER);
	assert_string_equal(out, "001FA0FF5C");
	assert_int_equal(out[11], 'x'); /* 2 * LEN + 1 bytes, no more */
	hex_encode(out, data, sizeof(data), HEX_LOWER);
	assert_string_equal(out, "001fa0ff5c");
	memset(out, 'x', sizeof(out));
	hex_encode(out, data, 0, HEX_UPPER);
	assert_string_equal(out, "");
	assert_int_equal(out[1], 'x');
}

static void every_byte_reads_back(void **unused)
{
	char out[3];

	(void)unused;
	for (unsigned b = 0; b < 256; b++) {
		uint8_t byte = (uint8_t)b;

		hex_encode(out, &byte, 1, b % 2 ? HEX_UPPER : HEX_LOWER);
		assert_int_equal(hex_digit_value(out[0]) << 4 | hex_digit_value(out[1]), (int)b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(digit_values),
		cmocka_unit_test(digits_take_the_low_nibble),
		cmocka_unit_test(bytes_in_either_case),
		cmocka_unit_test(every_byte_reads_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
