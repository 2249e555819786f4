/* Unit tests of src/common/names.c: VP/image name validation and size parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/names.h"

#include <errno.h>
#include <string.h>

/* A name of LEN copies of 'a'. */
static const char *name_of_len(char *buf, size_t len)
{
	memset(buf, 'a', len);
	buf[len] = '\0';
	return buf;
}

static void name_accepts_plain_names(void **state)
{
	(void)state;
	assert_true(name_is_valid("work"));
	assert_true(name_is_valid("a"));
	assert_true(name_is_valid("A"));
	assert_true(name_is_valid("7"));
	assert_true(name_is_valid("Work2"));
}

static void name_accepts_dot_dash_underscore_after_first(void **state)
{
	(void)state;
	assert_true(name_is_valid("a.b-c_d"));
	assert_true(name_is_valid("1.0"));
	assert_true(name_is_valid("a-"));
	assert_true(name_is_valid("a.."));
}

static void name_accepts_32_chars(void **state)
{
	char buf[64];

	(void)state;
	assert_true(name_is_valid(name_of_len(buf, NAME_MAX_LEN)));
}

static void name_rejects_33_chars(void **state)
{
	char buf[64];

	(void)state;
	assert_false(name_is_valid(name_of_len(buf, NAME_MAX_LEN + 1)));
}

static void name_rejects_empty_and_null(void **state)
{
	(void)state;
	assert_false(name_is_valid(""));
	assert_false(name_is_valid(NULL));
}

static void name_rejects_path_like_names(void **state)
{
	(void)state;
	assert_false(name_is_valid("."));
	assert_false(name_is_valid(".."));
	assert_false(name_is_valid("../x"));
	assert_false(name_is_valid("a/b"));
	assert_false(name_is_valid("/a"));
	assert_false(name_is_valid("a/"));
	assert_false(name_is_valid(".hidden"));
}

static void name_rejects_leading_dash_or_underscore(void **state)
{
	(void)state;
	assert_false(name_is_valid("-x"));
	assert_false(name_is_valid("_x"));
}

static void name_rejects_spaces_and_punctuation(void **state)
{
	(void)state;
	assert_false(name_is_valid("a b"));
	assert_false(name_is_valid(" a"));
	assert_false(name_is_valid("a "));
	assert_false(name_is_valid("a:b"));
	assert_false(name_is_valid("a*"));
	assert_false(name_is_valid("a$b"));
}

static void name_rejects_non_ascii(void **state)
{
	(void)state;
	assert_false(name_is_valid("w\xc3\xb6rk")); /* "wörk" in UTF-8 */
	assert_false(name_is_valid("\xc3\xa9t\xc3\xa9"));
	assert_false(name_is_valid("a\xff"));
}

static void name_rejects_control_chars(void **state)
{
	(void)state;
	assert_false(name_is_valid("a\nb"));
	assert_false(name_is_valid("a\tb"));
	assert_false(name_is_valid("\x01"
				   "a"));
	assert_false(name_is_valid("a\x7f"));
	assert_false(name_is_valid("a\r"));
}

static void size_parses_plain_bytes(void **state)
{
	uint64_t b = 1;

	(void)state;
	assert_int_equal(parse_size("0", &b), 0);
	assert_true(b == 0);
	assert_int_equal(parse_size("65536", &b), 0);
	assert_true(b == 65536);
}

static void size_parses_suffixes(void **state)
{
	uint64_t b = 0;

	(void)state;
	assert_int_equal(parse_size("4k", &b), 0);
	assert_true(b == 4096);
	assert_int_equal(parse_size("4K", &b), 0);
	assert_true(b == 4096);
	assert_int_equal(parse_size("512M", &b), 0);
	assert_true(b == 512ull << 20);
	assert_int_equal(parse_size("512m", &b), 0);
	assert_true(b == 512ull << 20);
	assert_int_equal(parse_size("1G", &b), 0);
	assert_true(b == 1ull << 30);
	assert_int_equal(parse_size("2T", &b), 0);
	assert_true(b == 2ull << 40);
}

/* The code takes an optional "B" or "iB" after the unit, both as powers of 1024. */
static void size_accepts_b_and_ib_after_unit(void **state)
{
	uint64_t b = 0;

	(void)state;
	assert_int_equal(parse_size("1MiB", &b), 0);
	assert_true(b == 1ull << 20);
	assert_int_equal(parse_size("1MB", &b), 0);
	assert_true(b == 1ull << 20);
	assert_int_equal(parse_size("3kB", &b), 0);
	assert_true(b == 3ull << 10);
	assert_int_equal(parse_size("1GiB", &b), 0);
	assert_true(b == 1ull << 30);
}

static void size_rejects_bad_unit_tails(void **state)
{
	uint64_t b = 0;

	(void)state;
	assert_int_equal(parse_size("1B", &b), -EINVAL);
	assert_int_equal(parse_size("1Mb", &b), -EINVAL);
	assert_int_equal(parse_size("1MiBx", &b), -EINVAL);
	assert_int_equal(parse_size("1MM", &b), -EINVAL);
	assert_int_equal(parse_size("1P", &b), -EINVAL);
	assert_int_equal(parse_size("1 M", &b), -EINVAL);
}

static void size_rejects_junk(void **state)
{
	uint64_t b = 77;

	(void)state;
	assert_int_equal(parse_size("12x", &b), -EINVAL);
	assert_int_equal(parse_size("", &b), -EINVAL);
	assert_int_equal(parse_size("-1", &b), -EINVAL);
	assert_int_equal(parse_size("M", &b), -EINVAL);
	assert_int_equal(parse_size(" 1", &b), -EINVAL);
	assert_int_equal(parse_size("+1", &b), -EINVAL);
	assert_int_equal(parse_size("1.5G", &b), -EINVAL);
	assert_int_equal(parse_size(NULL, &b), -EINVAL);
	assert_true(b == 77); /* untouched on error */
}

static void size_rejects_overflow_with_erange(void **state)
{
	uint64_t b = 77;

	(void)state;
	assert_int_equal(parse_size("99999999999999T", &b), -ERANGE);
	assert_int_equal(parse_size("16777216T", &b), -ERANGE); /* 2^24 * 2^40 = 2^64 */
	assert_int_equal(parse_size("18446744073709551616", &b), -ERANGE);
	assert_int_equal(parse_size("99999999999999999999999", &b), -ERANGE);
	assert_true(b == 77);
}

static void size_accepts_largest_values(void **state)
{
	uint64_t b = 0;

	(void)state;
	assert_int_equal(parse_size("18446744073709551615", &b), 0);
	assert_true(b == UINT64_MAX);
	assert_int_equal(parse_size("16777215T", &b), 0);
	assert_true(b == 16777215ull << 40);
}

static void mode_parses_width_and_height(void **state)
{
	unsigned w = 0, h = 0;

	(void)state;
	assert_int_equal(parse_mode("720x1280", &w, &h), 0);
	assert_int_equal(w, 720);
	assert_int_equal(h, 1280);
	assert_int_equal(parse_mode("64x4096", &w, &h), 0);
	assert_int_equal(w, 64);
	assert_int_equal(h, 4096);
}

static void mode_rejects_junk_and_out_of_range(void **state)
{
	static const char *const bad[] = {
		"",	     "720",	  "720x",	"x1280",
		"720X1280",  "720x-1",	  "-720x100",	"+720x100",
		"720x+100",  "63x100",	  "100x63",	"4097x100",
		"720x1280 ", " 720x1280", "720x1280x2", "99999999999999999999x100"};
	unsigned w = 7, h = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_mode(bad[i], &w, &h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_accepts_plain_names),
		cmocka_unit_test(name_accepts_dot_dash_underscore_after_first),
		cmocka_unit_test(name_accepts_32_chars),
		cmocka_unit_test(name_rejects_33_chars),
		cmocka_unit_test(name_rejects_empty_and_null),
		cmocka_unit_test(name_rejects_path_like_names),
		cmocka_unit_test(name_rejects_leading_dash_or_underscore),
		cmocka_unit_test(name_rejects_spaces_and_punctuation),
		cmocka_unit_test(name_rejects_non_ascii),
		cmocka_unit_test(name_rejects_control_chars),
		cmocka_unit_test(size_parses_plain_bytes),
		cmocka_unit_test(size_parses_suffixes),
		cmocka_unit_test(size_accepts_b_and_ib_after_unit),
		cmocka_unit_test(size_rejects_bad_unit_tails),
		cmocka_unit_test(size_rejects_junk),
		cmocka_unit_test(size_rejects_overflow_with_erange),
		cmocka_unit_test(size_accepts_largest_values),
		cmocka_unit_test(mode_parses_width_and_height),
		cmocka_unit_test(mode_rejects_junk_and_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
