/* What the modem says about itself and its network (TS 27.007 §5, §7, §8, §9): identity,
 * the SIM, radio, registration, operator, signal, the SIM's number, the character set and
 * the error format. The network is one: "Cells", MCC/MNC 001/01 (the test network),
 * always registered at home while the radio is on. */
#include "modemsim/sim.h"

#include <stdio.h>
#include <string.h>

#define IMEI "353490069873319"
#define IMSI "001010123456789"

static bool is(const struct at_cmd *c, const char *name)
{
	return strcmp(c->name, name) == 0;
}

/* A value set with "=n", n in [0, MAX], the command's first argument. */
static int set_int(const struct at_cmd *c, long max, int *out)
{
	struct at_args a;
	long v;

	if (at_split_args(c->args, &a, NULL) < 0 || at_arg_int(&a, 0, 0, max, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int registered(const struct sim *sim)
{
	return sim->cfg.cfun == 1 ? 1 : 0;
}

/* +CREG/+CGREG/+CEREG: <n>,<stat>[,<lac>,<ci>,<AcT>]. */
static enum cmd_result reg(struct sim *sim, const struct at_cmd *c, int *mode, const char *tag)
{
	if (c->kind == AT_TEST) {
		modem_line(sim, "%s: (0-2)", tag);
	} else if (c->kind == AT_READ) {
		if (*mode == 2 && registered(sim))
			modem_line(sim, "%s: %d,%d,\"00C3\",\"0000ABCD\",7", tag, *mode,
				   registered(sim));
		else
			modem_line(sim, "%s: %d,%d", tag, *mode, registered(sim));
	} else if (c->kind == AT_SET) {
		if (set_int(c, 2, mode) < 0)
			return cme_error(sim, 50);
	} else {
		return cme_error(sim, 4);
	}
	return CMD_OK;
}

static enum cmd_result identity(struct sim *sim, const struct at_cmd *c, const char *text)
{
	if (c->kind == AT_TEST)
		return CMD_OK;
	if (c->kind != AT_EXEC)
		return cme_error(sim, 4);
	modem_line(sim, "%s", text);
	return CMD_OK;
}

static enum cmd_result cops(struct sim *sim, const struct at_cmd *c)
{
	struct at_args a;
	long mode = 0, format = sim->cfg.cops_format;

	if (c->kind == AT_TEST) {
		modem_line(sim, "+COPS: (2,\"Cells\",\"Cells\",\"00101\",7),,(0-4),(0-2)");
	} else if (c->kind == AT_READ) {
		if (!registered(sim))
			modem_line(sim, "+COPS: 0");
		else if (sim->cfg.cops_format == 2)
			modem_line(sim, "+COPS: 0,2,\"00101\",7");
		else
			modem_line(sim, "+COPS: 0,%d,\"Cells\",7", sim->cfg.cops_format);
	} else if (c->kind == AT_SET) {
		/* Automatic (0), manual to our network (1, 4), deregister (2), format (3). */
		if (at_split_args(c->args, &a, NULL) < 0 || at_arg_int(&a, 0, 0, 4, &mode) < 0 ||
		    at_arg_int(&a, 1, 0, 2, &format) < 0)
			return cme_error(sim, 50);
		if ((mode == 1 || mode == 4) && a.n > 2 && strcmp(a.v[2].s, "Cells") != 0 &&
		    strcmp(a.v[2].s, "00101") != 0)
			return cme_error(sim, 30);
		sim->cfg.cops_format = (int)format;
	}
	return CMD_OK;
}

static enum cmd_result cscs(struct sim *sim, const struct at_cmd *c)
{
	struct at_args a;

	if (c->kind == AT_TEST) {
		modem_line(sim, "+CSCS: (\"GSM\",\"IRA\",\"UCS2\")");
	} else if (c->kind == AT_READ) {
		modem_line(sim, "+CSCS: \"%s\"", sim->cfg.cscs);
	} else if (c->kind == AT_SET) {
		if (at_split_args(c->args, &a, NULL) < 0 || a.n != 1 || !a.v[0].quoted ||
		    (strcmp(a.v[0].s, "GSM") && strcmp(a.v[0].s, "IRA") &&
		     strcmp(a.v[0].s, "UCS2")))
			return cme_error(sim, 4);
		snprintf(sim->cfg.cscs, sizeof(sim->cfg.cscs), "%s", a.v[0].s);
	}
	return CMD_OK;
}

static enum cmd_result cfun(struct sim *sim, const struct at_cmd *c)
{
	int v;

	if (c->kind == AT_TEST)
		modem_line(sim, "+CFUN: (0,1,4),(0,1)");
	else if (c->kind == AT_READ)
		modem_line(sim, "+CFUN: %d", sim->cfg.cfun);
	else if (c->kind == AT_SET) {
		if (set_int(c, 4, &v) < 0 || (v != 0 && v != 1 && v != 4))
			return cme_error(sim, 50);
		if (v != 1)
			calls_release_on_modem(sim);
		sim->cfg.cfun = v;
	} else
		return cme_error(sim, 4);
	return CMD_OK;
}

int modem_info_cmd(struct sim *sim, const struct at_cmd *c, enum cmd_result *res)
{
	int v;

	*res = CMD_OK;
	if (is(c, "+CGMI") || is(c, "+GMI"))
		*res = identity(sim, c, "Cells");
	else if (is(c, "+CGMM") || is(c, "+GMM"))
		*res = identity(sim, c, "Cells modem simulator");
	else if (is(c, "+CGMR") || is(c, "+GMR"))
		*res = identity(sim, c, CELLS_VERSION);
	else if (is(c, "+CGSN") || is(c, "+GSN"))
		*res = identity(sim, c, IMEI);
	else if (is(c, "+CIMI"))
		*res = identity(sim, c, IMSI);
	else if (is(c, "+GCAP"))
		*res = identity(sim, c, "+GCAP: +CGSM");
	else if (is(c, "+CPIN")) {
		if (c->kind == AT_READ)
			modem_line(sim, "+CPIN: READY");
		else if (c->kind != AT_TEST)
			*res = cme_error(sim, 3); /* no PIN is asked for */
	} else if (is(c, "+CFUN"))
		*res = cfun(sim, c);
	else if (is(c, "+CREG"))
		*res = reg(sim, c, &sim->cfg.creg, "+CREG");
	else if (is(c, "+CGREG"))
		*res = reg(sim, c, &sim->cfg.cgreg, "+CGREG");
	else if (is(c, "+CEREG"))
		*res = reg(sim, c, &sim->cfg.cereg, "+CEREG");
	else if (is(c, "+COPS"))
		*res = cops(sim, c);
	else if (is(c, "+CSQ")) {
		if (c->kind == AT_TEST)
			modem_line(sim, "+CSQ: (0-31,99),(0-7,99)");
		else if (c->kind == AT_EXEC)
			modem_line(sim, "+CSQ: %d,99", registered(sim) ? 20 : 99);
		else
			*res = cme_error(sim, 4);
	} else if (is(c, "+CNUM")) {
		if (c->kind == AT_EXEC)
			modem_line(sim, "+CNUM: ,\"%s\",%d", sim->number,
				   sim->number[0] == '+' ? 145 : 129);
		else if (c->kind != AT_TEST)
			*res = cme_error(sim, 4);
	} else if (is(c, "+CMEE")) {
		if (c->kind == AT_TEST)
			modem_line(sim, "+CMEE: (0-2)");
		else if (c->kind == AT_READ)
			modem_line(sim, "+CMEE: %d", sim->cfg.cmee);
		else if (c->kind == AT_SET && set_int(c, 2, &v) == 0)
			sim->cfg.cmee = v;
		else
			*res = cme_error(sim, 50);
	} else if (is(c, "+CGATT")) {
		/* Packet service: attached while registered (there is no data path). */
		if (c->kind == AT_READ)
			modem_line(sim, "+CGATT: %d", registered(sim));
		else if (c->kind == AT_TEST)
			modem_line(sim, "+CGATT: (0,1)");
		else if (c->kind != AT_SET || set_int(c, 1, &v) < 0)
			*res = cme_error(sim, 50);
	} else if (is(c, "+CSCS"))
		*res = cscs(sim, c);
	else
		return -1;
	return 0;
}
