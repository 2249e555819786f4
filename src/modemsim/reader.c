/* The modem's input: bytes from the serial line, echoed as a modem echoes them (ATE1),
 * gathered into command lines (V.250 §5.2.1: ended by S3, edited by S5, a LF ignored)
 * or, after +CMGS's prompt, into a PDU ended by Ctrl-Z or cancelled by ESC (TS 27.005
 * §3.5.1). */
#include "modemsim/sim.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#define CTRL_Z 0x1a
#define ESC    0x1b

/* Every command line, for tests and benchmarks to follow: printable ASCII only, so that
 * any garbage a line holds still makes a JSON string. */
static void at_event(struct sim *sim, const char *line, size_t len)
{
	char clean[sizeof(sim->rd.buf)];

	if (!control_at_subscribed(sim))
		return;
	for (size_t i = 0; i < len; i++)
		clean[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	control_at_event(sim, json_pack("{s:s, s:s%}", "event", "at", "line", clean, len));
}

static void command_line(struct sim *sim)
{
	struct reader *rd = &sim->rd;
	size_t at = 0;
	bool blank = true;

	if (rd->overflow) {
		/* Longer than a modem takes: the whole line is an error. */
		rd->overflow = false;
		rd->len = 0;
		modem_result(sim, "ERROR");
		return;
	}
	for (size_t i = 0; i < rd->len; i++)
		if (!isspace((unsigned char)rd->buf[i]))
			blank = false;
	if (blank) {
		rd->len = 0;
		return;
	}
	/* V.250 §5.2.1: what comes before "AT" is not part of the command line. */
	while (at + 1 < rd->len && strncasecmp(rd->buf + at, "AT", 2) != 0)
		at++;
	at_event(sim, rd->buf, rd->len);
	if (at + 1 >= rd->len) {
		rd->len = 0;
		modem_result(sim, "ERROR");
		return;
	}
	/* The buffer is reused as the line runs (a +CMGS prompt): copy first. */
	{
		char line[sizeof(rd->buf)];
		size_t len = rd->len - at;

		memcpy(line, rd->buf + at, len);
		rd->len = 0;
		modem_command_line(sim, line, len);
	}
}

static void pdu_end(struct sim *sim, bool cancelled)
{
	struct reader *rd = &sim->rd;
	char hex[sizeof(rd->buf) + 1];
	bool overflow = rd->overflow;

	memcpy(hex, rd->buf, rd->len);
	hex[rd->len] = '\0';
	rd->mode = READ_COMMAND;
	rd->len = 0;
	rd->overflow = false;
	if (overflow && !cancelled) {
		cms_error(sim, 304);
		return;
	}
	modem_pdu_done(sim, hex, cancelled);
}

void reader_expect_pdu(struct sim *sim, size_t tpdu_len)
{
	sim->rd.mode = READ_PDU;
	sim->rd.pdu_len = tpdu_len;
	sim->rd.len = 0;
	sim->rd.overflow = false;
	modem_raw(sim, "\r\n> ", 4);
}

void reader_input(struct sim *sim, const char *data, size_t len)
{
	struct reader *rd = &sim->rd;
	size_t echo_from = 0;

	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		bool ends = rd->mode == READ_COMMAND ? c == (char)sim->cfg.s[3]
						     : c == CTRL_Z || c == ESC;

		if (ends) {
			/* What the line echoed comes before its answer. */
			if (sim->cfg.echo)
				modem_raw(sim, data + echo_from, i + 1 - echo_from);
			echo_from = i + 1;
			if (rd->mode == READ_COMMAND)
				command_line(sim);
			else
				pdu_end(sim, c == ESC);
			modem_flush_urcs(sim);
			continue;
		}
		if (c == (char)sim->cfg.s[5] || c == 0x7f) {
			if (rd->len > 0)
				rd->len--;
		} else if (c == '\n' || (rd->mode == READ_PDU && c == '\r')) {
			/* A LF after the CR, a line break inside a PDU. */
		} else if (rd->len < sizeof(rd->buf)) {
			rd->buf[rd->len++] = c;
		} else {
			rd->overflow = true;
		}
	}
	if (sim->cfg.echo && echo_from < len)
		modem_raw(sim, data + echo_from, len - echo_from);
	modem_flush_urcs(sim);
}
