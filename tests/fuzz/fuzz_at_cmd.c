/* The V.250 command-line parser (src/common/at_cmd.c): a line a VP's program writes to
 * its /dev/ttyM0, or the modem simulator reads from cellsd, without its CR.
 *
 * Checked: a parse gives at most AT_CMDS_MAX commands, each with a non-empty upper-case
 * name and NUL-ended arguments inside the line's own buffer, no longer than the line;
 * only D has the semicolon flag; each argument list splits into at most AT_ARGS_MAX values
 * inside its buffer, and every integer read is within the bounds asked. A failed parse
 * leaves no command and a message. */
#include "common/at_cmd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct at_line line;
static struct at_args args;

static void check_args(const char *s)
{
	struct error err = {{0}};
	long v;

	if (at_split_args(s, &args, &err) < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (args.n > AT_ARGS_MAX)
		abort();
	for (size_t i = 0; i < args.n; i++) {
		const char *p = args.v[i].s;

		if (p < args.buf || p >= args.buf + sizeof(args.buf) ||
		    strnlen(p, (size_t)(args.buf + sizeof(args.buf) - p)) ==
			    (size_t)(args.buf + sizeof(args.buf) - p))
			abort();
		if (args.v[i].empty && (args.v[i].quoted || *p))
			abort();
		v = -1;
		if (at_arg_int(&args, i, 3, 300, &v) == 0 && (v < 3 || v > 300))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = {{0}};

	if (at_parse((const char *)data, size, &line, &err) < 0) {
		if (line.n != 0 || !err.msg[0])
			abort();
		return 0;
	}
	if (line.n > AT_CMDS_MAX)
		abort();
	for (size_t i = 0; i < line.n; i++) {
		const struct at_cmd *c = &line.cmd[i];
		const char *a = c->args;

		if (!c->name[0] || strnlen(c->name, sizeof(c->name)) == sizeof(c->name))
			abort();
		for (const char *p = c->name; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				abort();
		if (c->kind < AT_EXEC || c->kind > AT_SET)
			abort();
		if (c->semicolon && strcmp(c->name, "D") != 0)
			abort();
		if (a < line.buf || a >= line.buf + sizeof(line.buf) ||
		    strnlen(a, (size_t)(line.buf + sizeof(line.buf) - a)) > AT_LINE_MAX)
			abort();
		check_args(a);
	}
	return 0;
}
