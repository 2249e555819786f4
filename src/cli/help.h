/* The verbs of `cell`: one table for `cell --help`, `cell help` and `cell help VERB`. */
#ifndef CELLS_CLI_HELP_H
#define CELLS_CLI_HELP_H

#include <stdio.h>

struct verb_help {
	const char *name;
	const char *synopsis;	 /* after "cell "; lines after the first are indented */
	const char *description; /* its first line is the summary of `cell --help` */
};

/* The verb NAME, or NULL. */
const struct verb_help *help_find(const char *name);
/* `cell --help`: every verb's synopsis and summary. */
void help_print_all(FILE *out);
/* `cell help VERB`: its synopsis and the whole description. */
void help_print_verb(FILE *out, const struct verb_help *v);

#endif
