#include "common/at_cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Characters of an extended command's name after its prefix (V.250 §5.4.1). */
static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!%-./:_", c);
}

/* '+' is the standard's; the others are the ones manufacturers use ("^SYSINFO",
 * "$QCSIMSTAT", "%IPR"): they parse, so that a modem can answer them ERROR. */
static bool ext_prefix(char c)
{
	return c == '+' || c == '^' || c == '$' || c == '%';
}

/* The line as V.250 §5.2.1 reads it: blanks dropped and letters upper case outside
 * strings. Strings keep every byte but control ones. */
static int normalize(const char *line, size_t len, char *norm, size_t *nlen, struct error *err)
{
	bool quoted = false;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			return error_set(err, 0, "control byte 0x%02x in the command line", c);
		if (c == '"') {
			quoted = !quoted;
		} else if (!quoted) {
			if (c == ' ')
				continue;
			if (c >= 0x80)
				return error_set(err, 0, "byte 0x%02x outside a string", c);
			c = (unsigned char)toupper(c);
		}
		if (n >= AT_LINE_MAX)
			return error_set(err, 0, "command line longer than %d", AT_LINE_MAX);
		norm[n++] = (char)c;
	}
	if (quoted)
		return error_set(err, 0, "unterminated string");
	norm[n] = '\0';
	*nlen = n;
	return 0;
}

/* Copy S[0..LEN) into the line's buffer, NUL-ended; returns where it went. */
static const char *keep(struct at_line *out, size_t *used, const char *s, size_t len)
{
	char *dst = out->buf + *used;

	/* normalize() bounds the text, AT_CMDS_MAX the NULs: this always fits. */
	memcpy(dst, s, len);
	dst[len] = '\0';
	*used += len + 1;
	return dst;
}

static int set_name(struct at_cmd *c, const char *s, size_t len, struct error *err)
{
	if (len >= sizeof(c->name))
		return error_set(err, 0, "command name longer than %zu", sizeof(c->name) - 1);
	memcpy(c->name, s, len);
	c->name[len] = '\0';
	return 0;
}

static size_t digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* From P (after a name and its '='), the end of the arguments: the first ';' outside a
 * string, or the end. */
static size_t args_end(const char *p)
{
	bool quoted = false;
	size_t i = 0;

	for (; p[i]; i++) {
		if (p[i] == '"')
			quoted = !quoted;
		else if (p[i] == ';' && !quoted)
			break;
	}
	return i;
}

static int parse_extended(const char **pp, struct at_cmd *c, struct at_line *out, size_t *used,
			  struct error *err)
{
	const char *p = *pp, *name = p;
	size_t n;
	int r;

	p++;
	while (*p && name_char(*p))
		p++;
	if (p == name + 1)
		return error_set(err, 0, "'%c' without a command name", *name);
	r = set_name(c, name, (size_t)(p - name), err);
	if (r < 0)
		return r;
	c->args = keep(out, used, "", 0);
	if (p[0] == '=' && p[1] == '?') {
		c->kind = AT_TEST;
		p += 2;
	} else if (p[0] == '?') {
		c->kind = AT_READ;
		p++;
	} else if (p[0] == '=') {
		c->kind = AT_SET;
		p++;
		n = args_end(p);
		*used -= 1; /* the empty args above are replaced */
		c->args = keep(out, used, p, n);
		p += n;
	} else {
		c->kind = AT_EXEC;
	}
	if (*p && *p != ';')
		return error_set(err, 0, "unexpected '%c' after %s", *p, c->name);
	*pp = p;
	return 0;
}

static int parse_dial(const char **pp, struct at_cmd *c, struct at_line *out, size_t *used)
{
	const char *p = *pp + 1;
	size_t n = args_end(p);

	strcpy(c->name, "D");
	c->kind = AT_EXEC;
	c->args = keep(out, used, p, n);
	p += n;
	c->semicolon = *p == ';';
	if (c->semicolon)
		p++;
	*pp = p;
	return 0;
}

static int parse_sreg(const char **pp, struct at_cmd *c, struct at_line *out, size_t *used,
		      struct error *err)
{
	const char *p = *pp + 1;
	size_t n = digits(p);
	int r;

	if (n == 0)
		return error_set(err, 0, "S without a register number");
	r = set_name(c, *pp, n + 1, err);
	if (r < 0)
		return r;
	p += n;
	if (*p == '?') {
		c->kind = AT_READ;
		c->args = keep(out, used, "", 0);
		p++;
	} else if (p[0] == '=' && p[1] == '?') {
		c->kind = AT_TEST;
		c->args = keep(out, used, "", 0);
		p += 2;
	} else if (*p == '=') {
		p++;
		n = digits(p);
		c->kind = AT_SET;
		c->args = keep(out, used, p, n);
		p += n;
	} else {
		return error_set(err, 0, "%s without '?' or '='", c->name);
	}
	*pp = p;
	return 0;
}

/* A basic command: a letter, or '&' and a letter, then an optional number. */
static int parse_basic(const char **pp, struct at_cmd *c, struct at_line *out, size_t *used,
		       struct error *err)
{
	const char *p = *pp;
	size_t len = 1, n;
	int r;

	if (*p == '&') {
		if (!(p[1] >= 'A' && p[1] <= 'Z'))
			return error_set(err, 0, "'&' without a letter");
		len = 2;
	}
	r = set_name(c, p, len, err);
	if (r < 0)
		return r;
	p += len;
	n = digits(p);
	c->kind = AT_EXEC;
	c->args = keep(out, used, p, n);
	*pp = p + n;
	return 0;
}

int at_parse(const char *line, size_t len, struct at_line *out, struct error *err)
{
	char norm[AT_LINE_MAX + 1] = {0}; /* zeroed for the analyzer: normalize() ends it */
	const char *p;
	size_t nlen, used = 0;
	int r;

	out->n = 0;
	if (len < 2 || toupper((unsigned char)line[0]) != 'A' ||
	    toupper((unsigned char)line[1]) != 'T')
		return error_set(err, 0, "the command line does not start with AT");
	r = normalize(line + 2, len - 2, norm, &nlen, err);
	if (r < 0)
		return r;
	for (p = norm; *p;) {
		struct at_cmd *c;

		if (*p == ';') {
			p++;
			continue;
		}
		if (out->n >= AT_CMDS_MAX) {
			out->n = 0;
			return error_set(err, 0, "more than %d commands on a line", AT_CMDS_MAX);
		}
		c = &out->cmd[out->n];
		memset(c, 0, sizeof(*c));
		if (ext_prefix(*p))
			r = parse_extended(&p, c, out, &used, err);
		else if (*p == 'D')
			r = parse_dial(&p, c, out, &used);
		else if (*p == 'S')
			r = parse_sreg(&p, c, out, &used, err);
		else if (*p == '&' || (*p >= 'A' && *p <= 'Z'))
			r = parse_basic(&p, c, out, &used, err);
		else
			r = error_set(err, 0, "unexpected '%c' in the command line", *p);
		if (r < 0) {
			out->n = 0;
			return r;
		}
		out->n++;
	}
	return 0;
}

int at_split_args(const char *args, struct at_args *out, struct error *err)
{
	size_t len = strlen(args), w = 0;
	const char *p = args;

	out->n = 0;
	if (len > AT_LINE_MAX)
		return error_set(err, 0, "arguments longer than %d", AT_LINE_MAX);
	if (len == 0)
		return 0;
	for (;;) {
		struct at_arg *a;
		const char *start;

		if (out->n >= AT_ARGS_MAX)
			return error_set(err, 0, "more than %d values", AT_ARGS_MAX);
		a = &out->v[out->n];
		a->s = out->buf + w;
		a->quoted = *p == '"';
		if (a->quoted) {
			start = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p)
				return error_set(err, 0, "unterminated string");
			memcpy(out->buf + w, start, (size_t)(p - start));
			w += (size_t)(p - start);
			p++;
			if (*p && *p != ',')
				return error_set(err, 0, "text after a string");
		} else {
			start = p;
			while (*p && *p != ',') {
				if (*p == '"')
					return error_set(err, 0, "a string inside a value");
				p++;
			}
			memcpy(out->buf + w, start, (size_t)(p - start));
			w += (size_t)(p - start);
		}
		a->empty = !a->quoted && a->s == out->buf + w;
		out->buf[w++] = '\0';
		out->n++;
		if (!*p)
			return 0;
		p++; /* the comma: a value follows, even an empty one */
	}
}

int at_arg_int(const struct at_args *a, size_t i, long min, long max, long *out)
{
	const char *s;
	long v = 0;

	if (i >= a->n || a->v[i].empty)
		return 1;
	if (a->v[i].quoted)
		return -EINVAL;
	s = a->v[i].s;
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
