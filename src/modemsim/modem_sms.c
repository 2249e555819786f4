/* The modem's SMS commands in PDU mode (TS 27.005 §3, §4): the message service, storage,
 * the service centre, new message indications, sending with the "> " prompt, reading,
 * listing, deleting; and the delivery of a message the network brings. */
#include "modemsim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static bool is(const struct at_cmd *c, const char *name)
{
	return strcmp(c->name, name) == 0;
}

static enum cmd_result cpms(struct sim *sim, const struct at_cmd *c)
{
	struct at_args a;
	int used = store_used(sim);

	if (c->kind == AT_TEST) {
		modem_line(sim, "+CPMS: (\"SM\"),(\"SM\"),(\"SM\")");
	} else if (c->kind == AT_READ) {
		modem_line(sim, "+CPMS: \"SM\",%d,%d,\"SM\",%d,%d,\"SM\",%d,%d", used, STORE_SLOTS,
			   used, STORE_SLOTS, used, STORE_SLOTS);
	} else if (c->kind == AT_SET) {
		if (at_split_args(c->args, &a, NULL) < 0 || a.n < 1 || a.n > 3)
			return cms_error(sim, 302);
		for (size_t i = 0; i < a.n; i++)
			if (!a.v[i].empty && strcmp(a.v[i].s, "SM") != 0)
				return cms_error(sim, 302);
		modem_line(sim, "+CPMS: %d,%d,%d,%d,%d,%d", used, STORE_SLOTS, used, STORE_SLOTS,
			   used, STORE_SLOTS);
	} else {
		return cms_error(sim, 302);
	}
	return CMD_OK;
}

static enum cmd_result csca(struct sim *sim, const struct at_cmd *c)
{
	struct at_args a;

	if (c->kind == AT_READ) {
		modem_line(sim, "+CSCA: \"%s\",%d", sim->cfg.csca,
			   sim->cfg.csca[0] == '+' ? 145 : 129);
	} else if (c->kind == AT_SET) {
		if (at_split_args(c->args, &a, NULL) < 0 || a.n < 1 || !a.v[0].quoted ||
		    strlen(a.v[0].s) >= sizeof(sim->cfg.csca) ||
		    strspn(a.v[0].s, "+0123456789") != strlen(a.v[0].s))
			return cms_error(sim, 304);
		strcpy(sim->cfg.csca, a.v[0].s);
	} else if (c->kind != AT_TEST) {
		return cms_error(sim, 302);
	}
	return CMD_OK;
}

static enum cmd_result cnmi(struct sim *sim, const struct at_cmd *c)
{
	static const long max[5] = {3, 3, 3, 2, 1};
	struct at_args a;
	long v[5];

	if (c->kind == AT_TEST) {
		modem_line(sim, "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)");
	} else if (c->kind == AT_READ) {
		modem_line(sim, "+CNMI: %d,%d,%d,%d,%d", sim->cfg.cnmi[0], sim->cfg.cnmi[1],
			   sim->cfg.cnmi[2], sim->cfg.cnmi[3], sim->cfg.cnmi[4]);
	} else if (c->kind == AT_SET) {
		if (at_split_args(c->args, &a, NULL) < 0 || a.n > 5)
			return cms_error(sim, 303);
		for (size_t i = 0; i < 5; i++) {
			v[i] = sim->cfg.cnmi[i];
			if (at_arg_int(&a, i, 0, max[i], &v[i]) < 0)
				return cms_error(sim, 303);
		}
		for (size_t i = 0; i < 5; i++)
			sim->cfg.cnmi[i] = (int)v[i];
	} else {
		return cms_error(sim, 302);
	}
	return CMD_OK;
}

static int int_arg(const struct at_cmd *c, size_t i, long min, long max, long *v)
{
	struct at_args a;

	if (at_split_args(c->args, &a, NULL) < 0)
		return -1;
	return at_arg_int(&a, i, min, max, v);
}

static void show(struct sim *sim, const char *what, size_t index, struct store_slot *s)
{
	if (index)
		modem_line(sim, "%s: %zu,%d,,%zu\r\n%s", what, index, (int)s->stat, s->tpdu_len,
			   s->pdu);
	else
		modem_line(sim, "%s: %d,,%zu\r\n%s", what, (int)s->stat, s->tpdu_len, s->pdu);
	if (s->stat == STO_REC_UNREAD)
		s->stat = STO_REC_READ;
}

static enum cmd_result cmgr(struct sim *sim, const struct at_cmd *c)
{
	long i;

	if (c->kind == AT_TEST)
		return CMD_OK;
	if (c->kind != AT_SET || int_arg(c, 0, 1, STORE_SLOTS, &i) != 0)
		return cms_error(sim, 321);
	if (!sim->store[i - 1].used)
		return cms_error(sim, 321);
	show(sim, "+CMGR", 0, &sim->store[i - 1]);
	return CMD_OK;
}

static enum cmd_result cmgl(struct sim *sim, const struct at_cmd *c)
{
	long stat = STO_REC_UNREAD;

	if (c->kind == AT_TEST) {
		modem_line(sim, "+CMGL: (0-4)");
		return CMD_OK;
	}
	if (c->kind == AT_SET && int_arg(c, 0, 0, 4, &stat) < 0)
		return cms_error(sim, 304);
	if (c->kind == AT_READ)
		return cms_error(sim, 302);
	for (size_t i = 0; i < STORE_SLOTS; i++) {
		struct store_slot *s = &sim->store[i];

		if (s->used && (stat == 4 || (long)s->stat == stat))
			show(sim, "+CMGL", i + 1, s);
	}
	return CMD_OK;
}

static enum cmd_result cmgd(struct sim *sim, const struct at_cmd *c)
{
	long i = 0, flag = 0;

	if (c->kind == AT_TEST) {
		modem_line(sim, "+CMGD: (1-%d),(0-4)", STORE_SLOTS);
		return CMD_OK;
	}
	if (c->kind != AT_SET || int_arg(c, 1, 0, 4, &flag) < 0)
		return cms_error(sim, 302);
	if (flag == 0) {
		if (int_arg(c, 0, 1, STORE_SLOTS, &i) != 0)
			return cms_error(sim, 321);
		sim->store[i - 1].used = false;
		return CMD_OK;
	}
	/* 1: the read ones, 2: and the sent, 3: and the unsent, 4: all. */
	for (size_t k = 0; k < STORE_SLOTS; k++) {
		struct store_slot *s = &sim->store[k];

		if (s->stat == STO_REC_READ || flag == 4 || (flag >= 2 && s->stat == STO_SENT) ||
		    (flag >= 3 && s->stat == STO_UNSENT))
			s->used = false;
	}
	return CMD_OK;
}

static enum cmd_result cmgs(struct sim *sim, const struct at_cmd *c)
{
	long len;

	if (c->kind == AT_TEST)
		return CMD_OK;
	if (c->kind != AT_SET || int_arg(c, 0, 1, SMS_TPDU_MAX, &len) != 0)
		return cms_error(sim, 304);
	/* The PDU follows the line: nothing may come after +CMGS on it. */
	if (!sim->cmd_last)
		return cms_error(sim, 302);
	if (sim->cfg.cfun != 1)
		return cms_error(sim, 331);
	reader_expect_pdu(sim, (size_t)len);
	return CMD_PROMPT;
}

void modem_pdu_done(struct sim *sim, const char *hex, bool cancelled)
{
	char to[NUMBER_MAX], from[NUMBER_MAX], text[sizeof(((struct sms *)0)->text)];
	struct error err;
	struct sms s;

	if (cancelled) {
		modem_result(sim, "OK");
		return;
	}
	if (sms_pdu_decode(hex, sim->rd.pdu_len, &s, &err) < 0 || s.kind != SMS_SUBMIT) {
		log_debug("+CMGS: %s", s.kind != SMS_SUBMIT ? "not an SMS-SUBMIT" : err.msg);
		cms_error(sim, 304);
		return;
	}
	service_route_sms(sim, s.addr, s.text, to, from, text, sizeof(text));
	modem_line(sim, "+CMGS: %u", sim->next_mr++);
	modem_result(sim, "OK");
	service_record_sent(sim, from, to, text);
}

int modem_sms_deliver(struct sim *sim, const char *from, const char *text, struct error *err)
{
	struct sms s = {.kind = SMS_DELIVER};
	char pdu[SMS_HEX_MAX];
	size_t len;
	struct tm tm;
	time_t t = time(NULL);
	int mode = sim->cfg.cnmi[0], mt = sim->cfg.cnmi[1], r, idx;

	gmtime_r(&t, &tm);
	s.scts.year = tm.tm_year + 1900;
	s.scts.month = tm.tm_mon + 1;
	s.scts.day = tm.tm_mday;
	s.scts.hour = tm.tm_hour;
	s.scts.minute = tm.tm_min;
	s.scts.second = tm.tm_sec;
	snprintf(s.smsc, sizeof(s.smsc), "%s", sim->cfg.csca);
	if (strlen(from) >= sizeof(s.addr) || strlen(text) >= sizeof(s.text))
		return error_set(err, EINVAL, "sender or text too long");
	strcpy(s.addr, from);
	strcpy(s.text, text);
	r = sms_pdu_encode(&s, pdu, sizeof(pdu), &len, err);
	if (r < 0)
		return r;
	/* +CNMI mt 2: routed to the TE, not stored; with +CSMS=1 one at a time, each
	 * acknowledged with +CNMA (a second one waits in the store meanwhile). */
	if (mode > 0 && mt == 2 && !(sim->cfg.csms == 1 && sim->cnma_pending)) {
		modem_urc(sim, "+CMT: ,%zu\r\n%s", len, pdu);
		if (sim->cfg.csms == 1)
			sim->cnma_pending = true;
		return 0;
	}
	idx = store_put(sim, STO_REC_UNREAD, pdu, len);
	if (idx < 0)
		return error_set(err, -idx, "the SIM's memory is full");
	if (mode > 0 && mt > 0)
		modem_urc(sim, "+CMTI: \"SM\",%d", idx);
	return idx;
}

int modem_sms_cmd(struct sim *sim, const struct at_cmd *c, enum cmd_result *res)
{
	long v;

	*res = CMD_OK;
	if (is(c, "+CMGF")) {
		if (c->kind == AT_TEST)
			modem_line(sim, "+CMGF: (0)");
		else if (c->kind == AT_READ)
			modem_line(sim, "+CMGF: 0");
		else if (c->kind != AT_SET || int_arg(c, 0, 0, 0, &v) != 0)
			*res = cms_error(sim, 303); /* text mode is the TE's business */
	} else if (is(c, "+CSMS")) {
		if (c->kind == AT_TEST) {
			modem_line(sim, "+CSMS: (0,1)");
		} else if (c->kind == AT_READ) {
			modem_line(sim, "+CSMS: %d,1,1,1", sim->cfg.csms);
		} else if (c->kind == AT_SET && int_arg(c, 0, 0, 1, &v) == 0) {
			sim->cfg.csms = (int)v;
			modem_line(sim, "+CSMS: 1,1,1");
		} else {
			*res = cms_error(sim, 303);
		}
	} else if (is(c, "+CPMS")) {
		*res = cpms(sim, c);
	} else if (is(c, "+CSCA")) {
		*res = csca(sim, c);
	} else if (is(c, "+CNMI")) {
		*res = cnmi(sim, c);
	} else if (is(c, "+CNMA")) {
		if (c->kind == AT_TEST)
			modem_line(sim, "+CNMA: (0-2)");
		else if (sim->cfg.csms != 1 || !sim->cnma_pending)
			*res = cms_error(sim, 340);
		else
			sim->cnma_pending = false;
	} else if (is(c, "+CMGS")) {
		*res = cmgs(sim, c);
	} else if (is(c, "+CMGR")) {
		*res = cmgr(sim, c);
	} else if (is(c, "+CMGL")) {
		*res = cmgl(sim, c);
	} else if (is(c, "+CMGD")) {
		*res = cmgd(sim, c);
	} else if (is(c, "+CSDH") || is(c, "+CMMS")) {
		/* Text mode headers, more-messages link: answered, nothing to change. */
		if (c->kind == AT_READ)
			modem_line(sim, "%s: 0", c->name);
	} else {
		return -1;
	}
	return 0;
}
