/* The V.250 command-line parser (src/common/at_cmd.c): what gammu, ModemManager and oFono
 * send, several commands on a line, dial strings, S-registers, argument lists, and
 * hostile lines (too long, control bytes, unterminated strings, garbage). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "common/at_cmd.h"

static struct at_line L;
static struct error E;

static int parse(const char *s)
{
	return at_parse(s, strlen(s), &L, &E);
}

static void assert_cmd(size_t i, const char *name, enum at_kind kind, const char *args)
{
	assert_true(i < L.n);
	assert_string_equal(L.cmd[i].name, name);
	assert_int_equal(L.cmd[i].kind, kind);
	assert_string_equal(L.cmd[i].args, args);
}

static void bare_at_is_no_command(void **state)
{
	(void)state;
	assert_int_equal(parse("AT"), 0);
	assert_int_equal(L.n, 0);
	assert_int_equal(parse("at"), 0);
	assert_int_equal(L.n, 0);
	assert_int_equal(parse("aT"), 0);
}

static void basic_commands_run_together(void **state)
{
	(void)state;
	assert_int_equal(parse("ATE0V1Q0&F"), 0);
	assert_int_equal(L.n, 4);
	assert_cmd(0, "E", AT_EXEC, "0");
	assert_cmd(1, "V", AT_EXEC, "1");
	assert_cmd(2, "Q", AT_EXEC, "0");
	assert_cmd(3, "&F", AT_EXEC, "");
	assert_int_equal(parse("atz"), 0);
	assert_cmd(0, "Z", AT_EXEC, "");
	assert_int_equal(parse("ATI3"), 0);
	assert_cmd(0, "I", AT_EXEC, "3");
	assert_int_equal(parse("ATH"), 0);
	assert_cmd(0, "H", AT_EXEC, "");
	assert_int_equal(parse("ATA"), 0);
	assert_cmd(0, "A", AT_EXEC, "");
	assert_int_equal(parse("AT E 1 &C1"), 0);
	assert_cmd(0, "E", AT_EXEC, "1");
	assert_cmd(1, "&C", AT_EXEC, "1");
}

static void extended_kinds(void **state)
{
	(void)state;
	assert_int_equal(parse("AT+CREG?"), 0);
	assert_cmd(0, "+CREG", AT_READ, "");
	assert_int_equal(parse("AT+CNMI=?"), 0);
	assert_cmd(0, "+CNMI", AT_TEST, "");
	assert_int_equal(parse("AT+CLCC"), 0);
	assert_cmd(0, "+CLCC", AT_EXEC, "");
	assert_int_equal(parse("at+cnmi=2,1,0,0,0"), 0);
	assert_cmd(0, "+CNMI", AT_SET, "2,1,0,0,0");
	assert_int_equal(parse("AT^SYSINFO"), 0);
	assert_cmd(0, "^SYSINFO", AT_EXEC, "");
}

static void several_on_a_line(void **state)
{
	(void)state;
	/* ModemManager's and gammu's habits: basic then extended, ';' between extended. */
	assert_int_equal(parse("ATE0V1+CMEE=1;+CREG?;+CSCS=\"GSM\""), 0);
	assert_int_equal(L.n, 5);
	assert_cmd(0, "E", AT_EXEC, "0");
	assert_cmd(1, "V", AT_EXEC, "1");
	assert_cmd(2, "+CMEE", AT_SET, "1");
	assert_cmd(3, "+CREG", AT_READ, "");
	assert_cmd(4, "+CSCS", AT_SET, "\"GSM\"");
	/* A stray ';' is an empty command. */
	assert_int_equal(parse("AT;;+CSQ;"), 0);
	assert_int_equal(L.n, 1);
}

static void strings_keep_case_blanks_and_semicolons(void **state)
{
	(void)state;
	assert_int_equal(parse("AT+CPBW=1, \"+1555\" ,145,\"Ab c;d\\22\""), 0);
	assert_int_equal(L.n, 1);
	assert_cmd(0, "+CPBW", AT_SET, "1,\"+1555\",145,\"Ab c;d\\22\"");
	assert_int_equal(parse("AT+CSCS=\"UCS2\";+CSCS?"), 0);
	assert_int_equal(L.n, 2);
}

static void dial_strings(void **state)
{
	(void)state;
	assert_int_equal(parse("ATD+15559876;"), 0);
	assert_int_equal(L.n, 1);
	assert_cmd(0, "D", AT_EXEC, "+15559876");
	assert_true(L.cmd[0].semicolon);
	assert_int_equal(parse("ATD 555 1234"), 0);
	assert_cmd(0, "D", AT_EXEC, "5551234");
	assert_false(L.cmd[0].semicolon);
	assert_int_equal(parse("ATD*772*+15559876;+CLCC"), 0);
	assert_int_equal(L.n, 2);
	assert_cmd(0, "D", AT_EXEC, "*772*+15559876");
	assert_cmd(1, "+CLCC", AT_EXEC, "");
	assert_int_equal(parse("atdt1,w2#;"), 0);
	assert_cmd(0, "D", AT_EXEC, "T1,W2#");
}

static void s_registers(void **state)
{
	(void)state;
	assert_int_equal(parse("ATS0=2S7?"), 0);
	assert_int_equal(L.n, 2);
	assert_cmd(0, "S0", AT_SET, "2");
	assert_cmd(1, "S7", AT_READ, "");
	assert_int_equal(parse("ATS0"), -EINVAL);
	assert_int_equal(parse("ATS=1"), -EINVAL);
}

static void bad_lines(void **state)
{
	char line[AT_LINE_MAX + 32];

	(void)state;
	assert_int_equal(parse(""), -EINVAL);
	assert_int_equal(parse("A"), -EINVAL);
	assert_int_equal(parse("XT+CSQ"), -EINVAL);
	assert_int_equal(parse("AT+"), -EINVAL);
	assert_int_equal(parse("AT+CSCS=\"GSM"), -EINVAL);
	assert_int_equal(parse("AT+CREG?X"), -EINVAL);
	assert_int_equal(parse("AT+CNMI=?1"), -EINVAL);
	assert_int_equal(parse("AT!"), -EINVAL);
	assert_int_equal(parse("AT&"), -EINVAL);
	assert_int_equal(parse("AT\x01"), -EINVAL);
	assert_int_equal(parse("AT\xc3\xa9"), -EINVAL);
	assert_int_equal(parse("AT+ABCDEFGHIJKLMNOPQRSTUVWXYZ"), -EINVAL);
	assert_int_equal(at_parse("AT\0E0", 5, &L, &E), -EINVAL);
	assert_int_equal(L.n, 0);
	/* The longest line is taken, one more character is not. */
	memcpy(line, "AT", 2);
	memset(line + 2, 'E', AT_LINE_MAX);
	line[2 + AT_LINE_MAX] = '\0';
	assert_int_equal(parse(line), -EINVAL); /* too many commands, but not too long */
	assert_non_null(strstr(E.msg, "commands"));
	memset(line + 2, ' ', AT_LINE_MAX);
	assert_int_equal(parse(line), 0);
	line[2 + AT_LINE_MAX] = ' ';
	line[3 + AT_LINE_MAX] = '\0';
	assert_int_equal(parse(line), 0); /* blanks do not count ... */
	memset(line + 2, '"', AT_LINE_MAX);
	line[2 + AT_LINE_MAX] = '\0';
	assert_int_equal(parse(line), -EINVAL); /* ... what is kept does */
	/* "+CPBW=\"" (7), AT_LINE_MAX - 8 letters, '"': exactly AT_LINE_MAX. */
	memcpy(line, "AT+CPBW=\"", 9);
	memset(line + 9, 'a', AT_LINE_MAX - 8);
	memcpy(line + 1 + AT_LINE_MAX, "\"", 2);
	assert_int_equal(parse(line), 0);
	assert_int_equal(strlen(L.cmd[0].args), AT_LINE_MAX - 6);
	memcpy(line + 1 + AT_LINE_MAX, "a\"", 3);
	assert_int_equal(parse(line), -EINVAL);
}

static void too_many_commands(void **state)
{
	char line[64] = "AT";

	(void)state;
	for (int i = 0; i < AT_CMDS_MAX; i++)
		strcat(line, "E");
	assert_int_equal(parse(line), 0);
	assert_int_equal(L.n, AT_CMDS_MAX);
	strcat(line, "E");
	assert_int_equal(parse(line), -EINVAL);
	assert_int_equal(L.n, 0);
}

static void argument_lists(void **state)
{
	static struct at_args a;
	long v = 42;

	(void)state;
	assert_int_equal(at_split_args("", &a, &E), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(at_split_args("2,1,,\"SM\",\"\"", &a, &E), 0);
	assert_int_equal(a.n, 5);
	assert_string_equal(a.v[0].s, "2");
	assert_string_equal(a.v[2].s, "");
	assert_true(a.v[2].empty);
	assert_string_equal(a.v[3].s, "SM");
	assert_true(a.v[3].quoted);
	assert_string_equal(a.v[4].s, "");
	assert_false(a.v[4].empty);
	assert_int_equal(at_arg_int(&a, 0, 0, 3, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(at_arg_int(&a, 2, 0, 3, &v), 1);
	assert_int_equal(v, 2);
	assert_int_equal(at_arg_int(&a, 9, 0, 3, &v), 1);
	assert_int_equal(at_arg_int(&a, 3, 0, 3, &v), -EINVAL);
	assert_int_equal(at_split_args("1,", &a, &E), 0);
	assert_int_equal(a.n, 2);
	assert_true(a.v[1].empty);
	assert_int_equal(at_split_args("\"a,b\",\"c\\22\"", &a, &E), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0].s, "a,b");
	assert_string_equal(a.v[1].s, "c\\22");
	assert_int_equal(at_split_args("\"a\"b", &a, &E), -EINVAL);
	assert_int_equal(at_split_args("a\"b\"", &a, &E), -EINVAL);
	assert_int_equal(at_split_args("\"ab", &a, &E), -EINVAL);
	assert_int_equal(at_split_args(",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,", &a, &E), 0);
	assert_int_equal(a.n, AT_ARGS_MAX);
	assert_int_equal(at_split_args(",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,", &a, &E), -EINVAL);
}

static void integers_are_checked(void **state)
{
	static struct at_args a;
	long v = 0;

	(void)state;
	assert_int_equal(at_split_args("99999999999999999999999,-1,1x,7,255,256", &a, &E), 0);
	assert_int_equal(at_arg_int(&a, 0, 0, 255, &v), -EINVAL);
	assert_int_equal(at_arg_int(&a, 1, 0, 255, &v), -EINVAL);
	assert_int_equal(at_arg_int(&a, 2, 0, 255, &v), -EINVAL);
	assert_int_equal(at_arg_int(&a, 3, 8, 255, &v), -EINVAL);
	assert_int_equal(at_arg_int(&a, 3, 0, 5, &v), -EINVAL);
	assert_int_equal(at_arg_int(&a, 4, 0, 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(at_arg_int(&a, 5, 0, 255, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bare_at_is_no_command),
		cmocka_unit_test(basic_commands_run_together),
		cmocka_unit_test(extended_kinds),
		cmocka_unit_test(several_on_a_line),
		cmocka_unit_test(strings_keep_case_blanks_and_semicolons),
		cmocka_unit_test(dial_strings),
		cmocka_unit_test(s_registers),
		cmocka_unit_test(bad_lines),
		cmocka_unit_test(too_many_commands),
		cmocka_unit_test(argument_lists),
		cmocka_unit_test(integers_are_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
