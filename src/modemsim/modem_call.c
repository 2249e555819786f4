/* The modem's call commands (V.250 D, A, H; TS 27.007 +CLCC, +CHUP, +CHLD, +VTS) and the
 * settings of the call URCs (+CLIP, +CRC, +CCWA, +COLP, +CVHU). */
#include "modemsim/sim.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static bool is(const struct at_cmd *c, const char *name)
{
	return strcmp(c->name, name) == 0;
}

/* The number in a dial string: digits, '*', '#', '+', A-D; V.250's modifiers (T, P, W,
 * ',', '!', '@') and 27.007's CLIR/CUG ones (I, G) dropped. */
static int dial_number(const char *ds, char *out, size_t size)
{
	size_t n = 0;

	for (; *ds; ds++) {
		if (strchr("TPW,!@IG", *ds))
			continue;
		if (!strchr("0123456789*#+ABCD", *ds) || n + 1 >= size)
			return -1;
		out[n++] = *ds;
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

static enum cmd_result dial(struct sim *sim, const struct at_cmd *c)
{
	char number[NUMBER_MAX];
	struct error err;
	int r;

	if (!c->semicolon) {
		/* A data call: this modem has no data service. */
		modem_result(sim, "NO CARRIER");
		return CMD_DONE;
	}
	if (c->args[0] == '>' || dial_number(c->args, number, sizeof(number)) < 0)
		return cme_error(sim, 50);
	r = call_dial(sim, number, &err);
	if (r == -EBUSY)
		return cme_error(sim, 3);
	if (r < 0) {
		modem_result(sim, "NO CARRIER");
		return CMD_DONE;
	}
	return CMD_OK;
}

static void clcc(struct sim *sim)
{
	for (int idx = 1; idx <= CALLS_MAX; idx++) {
		struct call *c = call_by_idx(sim, idx);

		if (c)
			modem_line(sim, "+CLCC: %d,%d,%d,0,0,\"%s\",%d", c->idx, c->dir,
				   (int)c->stat, c->number, c->type);
	}
}

static enum cmd_result vts(struct sim *sim, const struct at_cmd *c)
{
	struct at_args a;
	struct call *active = call_find(sim, CALL_ACTIVE);

	if (at_split_args(c->args, &a, NULL) < 0 || a.n < 1 || !a.v[0].s[0] ||
	    strspn(a.v[0].s, "0123456789*#ABCD") != strlen(a.v[0].s))
		return cme_error(sim, 50);
	if (!active)
		return cme_error(sim, 3);
	if (control_subscribed(sim))
		control_event(sim, json_pack("{s:s, s:i, s:s}", "event", "dtmf", "call", active->id,
					     "tones", a.v[0].s));
	return CMD_OK;
}

/* A 0/1 setting: "+X=n" sets it, "+X?" shows "+X: n<suffix>", "+X=?" its range. */
static enum cmd_result toggle(struct sim *sim, const struct at_cmd *c, bool *v, const char *suffix)
{
	struct at_args a;
	long n;

	if (c->kind == AT_TEST) {
		modem_line(sim, "%s: (0,1)", c->name);
	} else if (c->kind == AT_READ) {
		modem_line(sim, "%s: %d%s", c->name, *v, suffix);
	} else if (c->kind == AT_SET) {
		if (at_split_args(c->args, &a, NULL) < 0 || at_arg_int(&a, 0, 0, 1, &n) != 0)
			return cme_error(sim, 50);
		*v = n;
	} else {
		return cme_error(sim, 4);
	}
	return CMD_OK;
}

static enum cmd_result ccwa(struct sim *sim, const struct at_cmd *c)
{
	struct at_args a;
	long mode = 0;

	if (c->kind == AT_SET) {
		/* +CCWA=<n>[,<mode>[,<class>]]: mode 2 asks the network, which always
		 * has call waiting on for voice. */
		if (at_split_args(c->args, &a, NULL) < 0 || at_arg_int(&a, 1, 0, 2, &mode) < 0)
			return cme_error(sim, 50);
		if (mode == 2) {
			modem_line(sim, "+CCWA: 1,1");
			if (a.n > 0 && !a.v[0].empty)
				return toggle(sim, c, &sim->cfg.ccwa, "");
			return CMD_OK;
		}
	}
	return toggle(sim, c, &sim->cfg.ccwa, "");
}

int modem_call_cmd(struct sim *sim, const struct at_cmd *c, enum cmd_result *res)
{
	struct at_args a;
	int e;

	*res = CMD_OK;
	if (is(c, "D")) {
		*res = dial(sim, c);
	} else if (is(c, "A")) {
		struct call *in = call_find(sim, CALL_INCOMING);

		if (!in) {
			modem_result(sim, "NO CARRIER");
			*res = CMD_DONE;
		} else {
			call_answer(sim, in, "modem");
		}
	} else if (is(c, "H")) {
		if (c->args[0] && strcmp(c->args, "0") != 0)
			*res = cme_error(sim, 50);
		else
			calls_release_on_modem(sim);
	} else if (is(c, "+CHUP")) {
		if (c->kind == AT_EXEC)
			calls_release_on_modem(sim);
		else if (c->kind != AT_TEST)
			*res = cme_error(sim, 4);
	} else if (is(c, "+CLCC")) {
		if (c->kind == AT_EXEC)
			clcc(sim);
		else if (c->kind != AT_TEST)
			*res = cme_error(sim, 4);
	} else if (is(c, "+CHLD")) {
		if (c->kind == AT_TEST) {
			modem_line(sim, "+CHLD: (0,1,1x,2,2x)");
		} else if (c->kind != AT_SET || at_split_args(c->args, &a, NULL) < 0 || a.n != 1 ||
			   a.v[0].quoted || strlen(a.v[0].s) > 2) {
			*res = cme_error(sim, 50);
		} else if ((e = calls_chld(sim, a.v[0].s)) != 0) {
			*res = cme_error(sim, e);
		}
	} else if (is(c, "+VTS")) {
		if (c->kind == AT_TEST)
			modem_line(sim, "+VTS: (0-9,#,*,A-D)");
		else if (c->kind == AT_SET)
			*res = vts(sim, c);
		else
			*res = cme_error(sim, 4);
	} else if (is(c, "+CLIP")) {
		*res = toggle(sim, c, &sim->cfg.clip, ",1");
	} else if (is(c, "+CRC")) {
		*res = toggle(sim, c, &sim->cfg.crc, "");
	} else if (is(c, "+COLP")) {
		*res = toggle(sim, c, &sim->cfg.colp, ",1");
	} else if (is(c, "+CCWA")) {
		*res = ccwa(sim, c);
	} else if (is(c, "+CVHU")) {
		/* Voice hang-up control: ATH always ends voice calls here (mode 0). */
		if (c->kind == AT_READ)
			modem_line(sim, "+CVHU: 0");
		else if (c->kind == AT_TEST)
			modem_line(sim, "+CVHU: (0-2)");
	} else {
		return -1;
	}
	return 0;
}
