/* The V.250 command line (§5.2-5.4): what a terminal sends after "AT", split into its
 * commands. Used by the modem simulator (the modem's side) and by cellsd's telephony
 * device (each VP's side), both reading untrusted lines: no allocation, no globals, every
 * length checked. */
#ifndef CELLS_AT_CMD_H
#define CELLS_AT_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The longest command line taken, "AT" and the final CR not counted. V.250 asks for at
 * least 40 characters; common modems take a few hundred (PDUs never come on a command
 * line: +CMGS sends them after its prompt). Longer is an error, as on a modem. */
#define AT_LINE_MAX 512
/* Commands on one line ("ATE0V1+CMEE=1;+CREG?" is four). */
#define AT_CMDS_MAX 16
/* A command's name: "E", "&F", "S7", "D", "+CMGS", "^SYSINFO". */
#define AT_NAME_MAX 24
/* Values in one argument list. */
#define AT_ARGS_MAX 32

enum at_kind {
	AT_EXEC, /* "E0", "A", "+CLCC", "D123;" */
	AT_READ, /* "+CREG?", "S0?" */
	AT_TEST, /* "+CNMI=?" */
	AT_SET,	 /* "+CMGF=0", "S0=2" */
};

struct at_cmd {
	char name[AT_NAME_MAX]; /* upper case; basic ones one letter or "&X" or "Sn" */
	enum at_kind kind;
	/* Basic commands: the number after the letter ("" if none: E means E0); D: the
	 * dial string, blanks dropped; S-registers and extended: what follows '=' with
	 * blanks outside quotes dropped and letters outside quotes in upper case. */
	const char *args;
	bool semicolon; /* D only: the dial string ended with ';' (a voice call) */
};

struct at_line {
	size_t n;
	struct at_cmd cmd[AT_CMDS_MAX];
	char buf[AT_LINE_MAX + AT_CMDS_MAX + 1]; /* where names' args point, NUL-ended */
};

/* Parse LINE (LEN bytes, without the final CR/LF) that must begin with "AT" (any case).
 * A bare "AT" gives n == 0. Errors (-EINVAL, message in ERR): no "AT", too long, a NUL
 * or control byte, an unterminated string, an unknown character where a command
 * should start, too many commands, a name too long. */
int at_parse(const char *line, size_t len, struct at_line *out, struct error *err);

/* One value of an argument list. */
struct at_arg {
	const char *s; /* NUL-ended; quotes removed, '\' escapes left as given */
	bool quoted;
	bool empty; /* nothing between the commas */
};

struct at_args {
	size_t n;
	struct at_arg v[AT_ARGS_MAX];
	char buf[AT_LINE_MAX + 1];
};

/* Split ARGS (an at_cmd's args) at the commas outside strings: "2,1,,\"SM\"" is four
 * values, the third empty. "" is zero values. -EINVAL: text around a string
 * ("a\"b\""), an unterminated string, more than AT_ARGS_MAX values, too long. */
int at_split_args(const char *args, struct at_args *out, struct error *err);

/* Value I of A as an integer in [MIN, MAX]: 0 and *OUT set; 1 if absent or empty (*OUT
 * untouched: the caller's default stays); -EINVAL if not a decimal number in range or
 * quoted. */
int at_arg_int(const struct at_args *a, size_t i, long min, long max, long *out);

#endif
