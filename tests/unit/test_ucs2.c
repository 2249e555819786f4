/* UTF-8 and the UCS2 TE character set (src/common/ucs2.c): texts as clients send them in
 * +CSCS="UCS2", and what is not UCS-2 hex. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/ucs2.h"

static int from_hex(const char *hex, char *out, size_t size)
{
	return ucs2_hex_to_utf8(hex, strlen(hex), out, size);
}

static void hex_to_utf8(void **unused)
{
	char out[64];

	(void)unused;
	assert_int_equal(from_hex("00480069", out, sizeof(out)), 2);
	assert_string_equal(out, "Hi");
	/* Lower case digits too; Latin-1, a BMP symbol, a surrogate pair. */
	assert_int_equal(from_hex("00e9260ed83dde00", out, sizeof(out)), 2 + 3 + 4);
	assert_string_equal(out, "\xc3\xa9\xe2\x98\x8e\xf0\x9f\x98\x80");
	assert_int_equal(from_hex("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* Not UCS-2 hex. */
	assert_int_equal(from_hex("004", out, sizeof(out)), -EINVAL);
	assert_int_equal(from_hex("00G1", out, sizeof(out)), -EINVAL);
	assert_int_equal(from_hex("+155", out, sizeof(out)), -EINVAL);
	assert_int_equal(from_hex("0000", out, sizeof(out)), -EINVAL);
	assert_int_equal(from_hex("D83D", out, sizeof(out)), -EINVAL);	   /* high half alone */
	assert_int_equal(from_hex("D83D0041", out, sizeof(out)), -EINVAL); /* not followed */
	assert_int_equal(from_hex("DE000041", out, sizeof(out)), -EINVAL); /* low half first */
	/* What does not fit. */
	assert_int_equal(from_hex("00410042", out, 2), -ENOSPC);
	assert_int_equal(from_hex("00410042", out, 3), 2);
	assert_int_equal(from_hex("0041", out, 0), -ENOSPC);
}

static void utf8_to_hex(void **unused)
{
	char out[64];

	(void)unused;
	assert_int_equal(utf8_to_ucs2_hex("+1555", out, sizeof(out)), 20);
	assert_string_equal(out, "002B0031003500350035");
	assert_int_equal(utf8_to_ucs2_hex("\xc3\xa9\xe2\x98\x8e\xf0\x9f\x98\x80", out, sizeof(out)),
			 16);
	assert_string_equal(out, "00E9260ED83DDE00");
	assert_int_equal(utf8_to_ucs2_hex("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(utf8_to_ucs2_hex("\xc3", out, sizeof(out)), -EINVAL);
	assert_int_equal(utf8_to_ucs2_hex("\xed\xa0\x80", out, sizeof(out)), -EINVAL);
	assert_int_equal(utf8_to_ucs2_hex("\xc0\xaf", out, sizeof(out)), -EINVAL);
	assert_int_equal(utf8_to_ucs2_hex("AB", out, 8), -ENOSPC);
	assert_int_equal(utf8_to_ucs2_hex("AB", out, 9), 8);
	assert_int_equal(utf8_to_ucs2_hex("\xf0\x9f\x98\x80", out, 8), -ENOSPC);
}

static void round_trip(void **unused)
{
	static const char *const texts[] = {"hello", "\xd0\x9f\xd1\x80\xd0\xb8", "a\nb",
					    "\xf0\x9f\x98\x80\xf0\x9f\x98\x81"};
	char hex[128], back[64];

	(void)unused;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int n = utf8_to_ucs2_hex(texts[i], hex, sizeof(hex));
		assert_true(n > 0);
		assert_int_equal(ucs2_hex_to_utf8(hex, (size_t)n, back, sizeof(back)),
				 (int)strlen(texts[i]));
		assert_string_equal(back, texts[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_to_utf8),
		cmocka_unit_test(utf8_to_hex),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
