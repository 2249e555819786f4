/* The V.250 command-line parser (src/common/at_cmd.c): what gammu, ModemManager and oFono
 * send, several commands on a line, dial strings, S-registers, argument lists, and
 * hostile lines (too long, control bytes, unterminated strings, garbage). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The tables leave out what is empty or false. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* A command as the parser should give it. */
struct want {
	const char *name;
	enum at_kind kind;
	const char *args;
	bool semicolon;
};

/* A line that is taken, and its commands in order (up to the first without a name). */
struct taken {
	const char *line;
	struct want cmd[5];
};

static const struct taken taken[] = {
	/* A bare AT, in any case. */
	{"AT", {}},
	{"at", {}},
	{"aT", {}},
	/* Basic commands run together, blanks between them. */
	{"ATE0V1Q0&F",
	 {{"E", AT_EXEC, "0"}, {"V", AT_EXEC, "1"}, {"Q", AT_EXEC, "0"}, {"&F", AT_EXEC, ""}}},
	{"atz", {{"Z", AT_EXEC, ""}}},
	{"ATI3", {{"I", AT_EXEC, "3"}}},
	{"ATH", {{"H", AT_EXEC, ""}}},
	{"ATA", {{"A", AT_EXEC, ""}}},
	{"AT E 1 &C1", {{"E", AT_EXEC, "1"}, {"&C", AT_EXEC, "1"}}},
	/* Extended commands of every kind. */
	{"AT+CREG?", {{"+CREG", AT_READ, ""}}},
	{"AT+CNMI=?", {{"+CNMI", AT_TEST, ""}}},
	{"AT+CLCC", {{"+CLCC", AT_EXEC, ""}}},
	{"at+cnmi=2,1,0,0,0", {{"+CNMI", AT_SET, "2,1,0,0,0"}}},
	{"AT^SYSINFO", {{"^SYSINFO", AT_EXEC, ""}}},
	/* ModemManager's and gammu's habits: basic then extended, ';' between extended. */
	{"ATE0V1+CMEE=1;+CREG?;+CSCS=\"GSM\"",
	 {{"E", AT_EXEC, "0"},
	  {"V", AT_EXEC, "1"},
	  {"+CMEE", AT_SET, "1"},
	  {"+CREG", AT_READ, ""},
	  {"+CSCS", AT_SET, "\"GSM\""}}},
	/* A stray ';' is an empty command. */
	{"AT;;+CSQ;", {{"+CSQ", AT_EXEC, ""}}},
	/* Strings keep their case, blanks and semicolons. */
	{"AT+CPBW=1, \"+1555\" ,145,\"Ab c;d\\22\"",
	 {{"+CPBW", AT_SET, "1,\"+1555\",145,\"Ab c;d\\22\""}}},
	{"AT+CSCS=\"UCS2\";+CSCS?", {{"+CSCS", AT_SET, "\"UCS2\""}, {"+CSCS", AT_READ, ""}}},
	/* Dial strings: blanks dropped, ';' a voice call, modifiers kept. */
	{"ATD+15559876;", {{"D", AT_EXEC, "+15559876", true}}},
	{"ATD 555 1234", {{"D", AT_EXEC, "5551234", false}}},
	{"ATD*772*+15559876;+CLCC",
	 {{"D", AT_EXEC, "*772*+15559876", true}, {"+CLCC", AT_EXEC, ""}}},
	{"atdt1,w2#;", {{"D", AT_EXEC, "T1,W2#", true}}},
	/* S-registers. */
	{"ATS0=2S7?", {{"S0", AT_SET, "2"}, {"S7", AT_READ, ""}}},
};

static void lines_give_their_commands(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(taken); i++) {
		const struct taken *t = &taken[i];
		size_t n = 0;
		int rc = parse(t->line);

		if (rc != 0)
			fail_msg("\"%s\": %d (%s), wanted 0", t->line, rc, E.msg);
		while (n < ARRAY_SIZE(t->cmd) && t->cmd[n].name)
			n++;
		if (L.n != n)
			fail_msg("\"%s\": %zu commands, wanted %zu", t->line, L.n, n);
		for (size_t c = 0; c < n; c++) {
			const struct want *w = &t->cmd[c];
			const struct at_cmd *got = &L.cmd[c];

			if (strcmp(got->name, w->name) != 0 || got->kind != w->kind ||
			    strcmp(got->args, w->args) != 0 || got->semicolon != w->semicolon)
				fail_msg("\"%s\", command %zu: %s kind %d \"%s\"%s, wanted %s kind "
					 "%d \"%s\"%s",
					 t->line, c, got->name, got->kind, got->args,
					 got->semicolon ? " ;" : "", w->name, w->kind, w->args,
					 w->semicolon ? " ;" : "");
		}
	}
}

static void bad_lines(void **state)
{
	static const char *const refused[] = {
		"",
		"A",
		"XT+CSQ",
		"AT+",
		"AT+CSCS=\"GSM",
		"AT+CREG?X",
		"AT+CNMI=?1",
		"AT!",
		"AT&",
		"AT\x01",
		"AT\xc3\xa9",
		"AT+ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"ATS0",	 /* an S-register with neither '=' nor '?' */
		"ATS=1", /* nor a number */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		if (parse(refused[i]) != -EINVAL)
			fail_msg("\"%s\" taken", refused[i]);
	assert_int_equal(at_parse("AT\0E0", 5, &L, &E), -EINVAL);
	assert_int_equal(L.n, 0);
}

static void the_longest_line(void **state)
{
	char line[AT_LINE_MAX + 32];

	(void)state;
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
		cmocka_unit_test(lines_give_their_commands),
		cmocka_unit_test(bad_lines),
		cmocka_unit_test(the_longest_line),
		cmocka_unit_test(too_many_commands),
		cmocka_unit_test(argument_lists),
		cmocka_unit_test(integers_are_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
