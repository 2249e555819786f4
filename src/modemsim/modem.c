/* The modem's serial line: what it writes (V.250 §5.7: information text, result codes,
 * verbose or numeric) and how a command line is run, command after command, to one final
 * result. The command groups are in modem_info.c, modem_call.c and modem_sms.c. */
#include "modemsim/sim.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

void modem_reset(struct sim *sim)
{
	struct modem_cfg *c = &sim->cfg;
	char csca[sizeof(c->csca)];

	memcpy(csca, c->csca, sizeof(csca));
	*c = (struct modem_cfg){.echo = true, .verbose = true, .cfun = 1, .cnmi = {0, 0, 0, 0, 0}};
	memcpy(c->csca, csca, sizeof(csca));
	strcpy(c->cscs, "IRA");
	/* V.250 §6.2: the registers' defaults (S3 CR, S4 LF, S5 BS). */
	c->s[3] = 13;
	c->s[4] = 10;
	c->s[5] = 8;
	c->s[6] = 2;
	c->s[7] = 50;
	c->s[8] = 2;
	c->s[10] = 14;
}

void modem_raw(struct sim *sim, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(sim->master, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Nobody reads the line and its buffer is full: a modem's output
			 * is lost the same way. */
			log_debug("modem output dropped: %zu bytes", len);
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

/* TS 27.007 §4.1 / 27.005 §3.4.1: URCs wait while the TE is typing a command line or a
 * PDU and while a line runs, so that they never split a command's echo or answer. */
static bool urcs_held(const struct sim *sim)
{
	return sim->running || sim->rd.len > 0 || sim->rd.mode == READ_PDU;
}

void modem_flush_urcs(struct sim *sim)
{
	if (urcs_held(sim) || sim->urc_len == 0)
		return;
	modem_raw(sim, sim->urc, sim->urc_len);
	sim->urc_len = 0;
}

static void emit(struct sim *sim, bool urc, const char *data, size_t len)
{
	if (!urc) {
		modem_raw(sim, data, len);
		return;
	}
	if (!urcs_held(sim)) {
		modem_flush_urcs(sim);
		modem_raw(sim, data, len);
		return;
	}
	if (sim->urc_len + len > sizeof(sim->urc)) {
		log_debug("URC dropped: %zu bytes waiting", sim->urc_len);
		return;
	}
	memcpy(sim->urc + sim->urc_len, data, len);
	sim->urc_len += len;
}

/* Text as the line carries it: "\r\n<text>\r\n" (V1) or "<text>\r\n" (V0). */
static void put_text(struct sim *sim, bool urc, const char *fmt, va_list ap)
{
	char buf[SMS_HEX_MAX + 256];
	int n = vsnprintf(buf + 2, sizeof(buf) - 4, fmt, ap);

	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 5)
		n = (int)sizeof(buf) - 5;
	buf[0] = '\r';
	buf[1] = '\n';
	memcpy(buf + 2 + n, "\r\n", 2);
	if (sim->cfg.verbose)
		emit(sim, urc, buf, (size_t)n + 4);
	else
		emit(sim, urc, buf + 2, (size_t)n + 2);
}

void modem_line(struct sim *sim, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_text(sim, false, fmt, ap);
	va_end(ap);
}

void modem_urc(struct sim *sim, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_text(sim, true, fmt, ap);
	va_end(ap);
}

static void text(struct sim *sim, bool urc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_text(sim, urc, fmt, ap);
	va_end(ap);
}

static void result(struct sim *sim, bool urc, const char *code)
{
	static const char *const numeric[] = {"OK", "CONNECT",	   "RING", "NO CARRIER", "ERROR",
					      NULL, "NO DIALTONE", "BUSY", "NO ANSWER"};
	char buf[8];

	if (sim->cfg.quiet)
		return;
	if (sim->cfg.verbose) {
		text(sim, urc, "%s", code);
		return;
	}
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++)
		if (numeric[i] && strcmp(numeric[i], code) == 0) {
			snprintf(buf, sizeof(buf), "%zu\r", i);
			emit(sim, urc, buf, strlen(buf));
			return;
		}
	text(sim, urc, "%s", code);
}

void modem_result(struct sim *sim, const char *code)
{
	result(sim, false, code);
}

void modem_urc_result(struct sim *sim, const char *code)
{
	result(sim, true, code);
}

static const char *cme_text(int code)
{
	switch (code) {
	case 3:
		return "operation not allowed";
	case 4:
		return "operation not supported";
	case 21:
		return "invalid index";
	case 30:
		return "no network service";
	case 50:
		return "incorrect parameters";
	default:
		return "unknown";
	}
}

enum cmd_result cme_error(struct sim *sim, int code)
{
	char buf[64];

	if (sim->cfg.cmee == 0)
		snprintf(buf, sizeof(buf), "ERROR");
	else if (sim->cfg.cmee == 1)
		snprintf(buf, sizeof(buf), "+CME ERROR: %d", code);
	else
		snprintf(buf, sizeof(buf), "+CME ERROR: %s", cme_text(code));
	modem_result(sim, buf);
	return CMD_DONE;
}

/* TS 27.005 §3.2.5: SMS commands end in +CMS ERROR whatever +CMEE says; numeric here. */
enum cmd_result cms_error(struct sim *sim, int code)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "+CMS ERROR: %d", code);
	modem_result(sim, buf);
	return CMD_DONE;
}

static enum cmd_result error(struct sim *sim)
{
	modem_result(sim, "ERROR");
	return CMD_DONE;
}

/* E, V, Q: "" or "0" off, "1" on. */
static int flag(const char *args, bool *out)
{
	if (!*args || strcmp(args, "0") == 0)
		*out = false;
	else if (strcmp(args, "1") == 0)
		*out = true;
	else
		return -1;
	return 0;
}

static enum cmd_result sreg(struct sim *sim, const struct at_cmd *c)
{
	long n = 0, v = 0;
	struct at_args a;

	if (at_split_args(c->name + 1, &a, NULL) < 0 || at_arg_int(&a, 0, 0, 12, &n) != 0)
		return error(sim);
	if (c->kind == AT_READ) {
		modem_line(sim, "%03d", sim->cfg.s[n]);
		return CMD_OK;
	}
	if (c->kind == AT_SET) {
		if (at_split_args(c->args, &a, NULL) < 0 || at_arg_int(&a, 0, 0, 255, &v) < 0)
			return error(sim);
		sim->cfg.s[n] = (int)v;
		return CMD_OK;
	}
	return CMD_OK; /* =? */
}

static int basic_cmd(struct sim *sim, const struct at_cmd *c, enum cmd_result *res)
{
	const char *n = c->name;

	*res = CMD_OK;
	if (strcmp(n, "E") == 0) {
		if (flag(c->args, &sim->cfg.echo) < 0)
			*res = error(sim);
	} else if (strcmp(n, "V") == 0) {
		if (flag(c->args, &sim->cfg.verbose) < 0)
			*res = error(sim);
	} else if (strcmp(n, "Q") == 0) {
		if (flag(c->args, &sim->cfg.quiet) < 0)
			*res = error(sim);
	} else if (strcmp(n, "Z") == 0 || strcmp(n, "&F") == 0) {
		modem_reset(sim);
	} else if (n[0] == 'S' && n[1]) {
		*res = sreg(sim, c);
	} else if (strcmp(n, "I") == 0) {
		/* ATI (V.250 §6.1.3): the identification, as ATI0 on most modems. */
		modem_line(sim, "Cells\r\nCells modem simulator\r\nRevision: " CELLS_VERSION);
	} else if (strchr("XLM", n[0]) && !n[1]) {
		/* Result code set, speaker: nothing to do on a simulator. */
	} else if (strcmp(n, "&C") == 0 || strcmp(n, "&D") == 0 || strcmp(n, "&K") == 0 ||
		   strcmp(n, "&W") == 0 || strcmp(n, "&S") == 0) {
		/* Circuit and flow control, profile saving: a pty has none of them. */
	} else {
		return -1;
	}
	return 0;
}

void modem_command_line(struct sim *sim, const char *line, size_t len)
{
	static struct at_line l;
	struct error err;

	if (at_parse(line, len, &l, &err) < 0) {
		log_debug("bad command line: %s", err.msg);
		error(sim);
		return;
	}
	sim->running = true;
	for (size_t i = 0; i < l.n; i++) {
		const struct at_cmd *c = &l.cmd[i];
		enum cmd_result r;

		sim->cmd_last = i + 1 == l.n;
		if (basic_cmd(sim, c, &r) < 0 && modem_info_cmd(sim, c, &r) < 0 &&
		    modem_call_cmd(sim, c, &r) < 0 && modem_sms_cmd(sim, c, &r) < 0)
			r = error(sim);
		if (r == CMD_DONE || r == CMD_PROMPT)
			goto out;
	}
	modem_result(sim, "OK");
out:
	sim->running = false;
}
