/* The keymap's character table (src/common/keymap.c): every printable ASCII character is
 * typed with the key and shift of a US keyboard, written out here on its own; keysyms say
 * when shift matters; what a US keyboard cannot type is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/keymap.h"

#include <linux/input.h>

/* The rows of a US keyboard: the plain characters, the shifted ones, their keys. */
static const struct {
	const char *plain, *shifted;
	unsigned codes[13];
} rows[] = {
	{"`1234567890-=",
	 "~!@#$%^&*()_+",
	 {KEY_GRAVE, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0,
	  KEY_MINUS, KEY_EQUAL}},
	{"qwertyuiop[]\\",
	 "QWERTYUIOP{}|",
	 {KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P, KEY_LEFTBRACE,
	  KEY_RIGHTBRACE, KEY_BACKSLASH}},
	{"asdfghjkl;'",
	 "ASDFGHJKL:\"",
	 {KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, KEY_SEMICOLON,
	  KEY_APOSTROPHE}},
	{"zxcvbnm,./",
	 "ZXCVBNM<>?",
	 {KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M, KEY_COMMA, KEY_DOT, KEY_SLASH}},
};

/* The US key and shift of CH; false for none. */
static bool us_key(unsigned char ch, unsigned *code, bool *shift)
{
	if (ch == ' ' || ch == '\n' || ch == '\t') {
		*code = ch == ' ' ? KEY_SPACE : ch == '\n' ? KEY_ENTER : KEY_TAB;
		*shift = false;
		return true;
	}
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const char *p = ch ? strchr(rows[r].plain, ch) : NULL;
		const char *s = ch ? strchr(rows[r].shifted, ch) : NULL;
		if (p || s) {
			*code = rows[r].codes[p ? p - rows[r].plain : s - rows[r].shifted];
			*shift = s != NULL;
			return true;
		}
	}
	return false;
}

static void every_printable_character_is_a_us_key(void **state)
{
	unsigned seen = 0;

	(void)state;
	for (unsigned ch = 0x20; ch < 0x7f; ch++) {
		unsigned want_code = 0, code = 0;
		bool want_shift = false, shift = true;
		assert_true(us_key((unsigned char)ch, &want_code, &want_shift));
		assert_int_equal(keymap_from_char((unsigned char)ch, &code, &shift), 0);
		if (code != want_code || shift != want_shift)
			fail_msg("'%c': key %u shift %d, a US keyboard has key %u shift %d", ch,
				 code, shift, want_code, want_shift);
		seen++;
	}
	assert_int_equal(seen, 95);
}

static void newline_and_tab_are_keys(void **state)
{
	unsigned code;
	bool shift;

	(void)state;
	assert_int_equal(keymap_from_char('\n', &code, &shift), 0);
	assert_int_equal(code, KEY_ENTER);
	assert_false(shift);
	assert_int_equal(keymap_from_char('\t', &code, &shift), 0);
	assert_int_equal(code, KEY_TAB);
	assert_false(shift);
}

static void what_a_us_keyboard_cannot_type_is_refused(void **state)
{
	unsigned code;
	bool shift;

	(void)state;
	for (unsigned ch = 0; ch < 0x20; ch++)
		if (ch != '\n' && ch != '\t')
			assert_int_equal(keymap_from_char((unsigned char)ch, &code, &shift),
					 -EINVAL);
	for (unsigned ch = 0x7f; ch < 0x100; ch++) /* DEL, and every byte of UTF-8 */
		assert_int_equal(keymap_from_char((unsigned char)ch, &code, &shift), -EINVAL);
}

static void keysyms_say_when_shift_matters(void **state)
{
	int shift;

	(void)state;
	/* A printable keysym is its character: shift as the US keyboard types it. */
	for (unsigned ch = 0x21; ch < 0x7f; ch++) {
		unsigned want_code;
		bool want_shift;
		assert_true(us_key((unsigned char)ch, &want_code, &want_shift));
		assert_int_equal(keymap_from_keysym_shift(ch, &shift), want_code);
		assert_int_equal(shift, want_shift);
	}
	/* Keys that type nothing else shifted: shift as it is (shift+arrow selects). */
	assert_int_equal(keymap_from_keysym_shift(' ', &shift), KEY_SPACE);
	assert_int_equal(shift, -1);
	assert_int_equal(keymap_from_keysym_shift(0xff53 /* Right */, &shift), KEY_RIGHT);
	assert_int_equal(shift, -1);
	assert_int_equal(keymap_from_keysym_shift(0xff0d /* Return */, &shift), KEY_ENTER);
	assert_int_equal(shift, -1);
	assert_int_equal(keymap_from_keysym_shift(0xffe1 /* Shift_L */, &shift), KEY_LEFTSHIFT);
	assert_int_equal(shift, -1);
	assert_int_equal(keymap_from_keysym_shift(0xe9 /* eacute */, &shift), 0);
	assert_int_equal(keymap_from_keysym_shift(0, &shift), 0);
}

static void letters_are_letters(void **state)
{
	(void)state;
	assert_true(keymap_is_letter(KEY_A));
	assert_true(keymap_is_letter(KEY_Z));
	assert_true(keymap_is_letter(KEY_Q));
	assert_false(keymap_is_letter(KEY_1));
	assert_false(keymap_is_letter(KEY_SEMICOLON));
	assert_false(keymap_is_letter(KEY_LEFTSHIFT));
	assert_false(keymap_is_letter(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_printable_character_is_a_us_key),
		cmocka_unit_test(newline_and_tab_are_keys),
		cmocka_unit_test(what_a_us_keyboard_cannot_type_is_refused),
		cmocka_unit_test(keysyms_say_when_shift_matters),
		cmocka_unit_test(letters_are_letters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
