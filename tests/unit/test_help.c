/* Unit tests of src/cli/help.c: the one table of cell's verbs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cli/help.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What PRINT writes, as a string to free. */
static char *printed(void (*print)(FILE *, const struct verb_help *), const struct verb_help *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	print(f, v);
	fclose(f);
	return text;
}

static void print_all(FILE *f, const struct verb_help *v)
{
	(void)v;
	help_print_all(f);
}

/* Every verb of the overview is found, and its help begins with its synopsis. */
static void every_listed_verb_has_its_help(void **state)
{
	char *all = printed(print_all, NULL), *line, *save = NULL;
	int verbs = 0;

	(void)state;
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32], want[48];
		const struct verb_help *v;
		char *text;

		assert_true(strlen(line) <= 90);
		if (sscanf(line, "  cell %31[a-z]", name) != 1)
			continue;
		verbs++;
		v = help_find(name);
		assert_non_null(v);
		assert_string_equal(v->name, name);
		/* The synopsis begins with the verb and the description with a sentence. */
		assert_int_equal(strncmp(v->synopsis, name, strlen(name)), 0);
		assert_true(strlen(v->description) > 10);
		assert_true(v->description[strcspn(v->description, "\n") - 1] == '.');
		text = printed(help_print_verb, v);
		snprintf(want, sizeof(want), "usage: cell %s", name);
		assert_int_equal(strncmp(text, want, strlen(want)), 0);
		assert_non_null(strstr(text, "\n\n"));
		free(text);
	}
	assert_true(verbs >= 19);
	free(all);
}

static void unknown_verbs_are_not_found(void **state)
{
	(void)state;
	assert_null(help_find("frobnicate"));
	assert_null(help_find(""));
	assert_null(help_find("imag"));
	assert_non_null(help_find("logs"));
	assert_non_null(help_find("config"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_listed_verb_has_its_help),
		cmocka_unit_test(unknown_verbs_are_not_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
