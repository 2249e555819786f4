/* One VP's AT session (telephony_at.h). */
#include "devices/telephony_at.h"
#include "common/ucs2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTRL_Z 0x1a
#define ESC    0x1b

static const char *const result_text[] = {
	[TEL_OK] = "OK",       [TEL_CONNECT] = "CONNECT",
	[TEL_RING] = "RING",   [TEL_NO_CARRIER] = "NO CARRIER",
	[TEL_ERROR] = "ERROR", [TEL_NO_DIALTONE] = "NO DIALTONE",
	[TEL_BUSY] = "BUSY",   [TEL_NO_ANSWER] = "NO ANSWER",
};

static void flush_echo(struct tel_at *s)
{
	if (s->necho == 0)
		return;
	s->ops->write(s->ctx, s->echo, s->necho);
	s->necho = 0;
}

/* Every write to the VP: the echo gathered so far first, so that the order is what the
 * VP typed and was answered (one write per chunk fed, not per byte echoed). */
static void emit(struct tel_at *s, const char *buf, size_t len)
{
	flush_echo(s);
	s->ops->write(s->ctx, buf, len);
}

static void out(struct tel_at *s, const char *text)
{
	emit(s, text, strlen(text));
}

void tel_at_reset(struct tel_at *s)
{
	s->set = (struct tel_at_settings){
		.echo = true,
		.verbose = true,
		.cmgf = 0,
		.cscs = "GSM",
	};
}

void tel_at_init(struct tel_at *s, const struct tel_at_ops *ops, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->ctx = ctx;
	tel_at_reset(s);
}

void tel_at_info(struct tel_at *s, const char *text)
{
	if (s->set.verbose)
		out(s, "\r\n");
	out(s, text);
	out(s, "\r\n");
}

static bool busy(const struct tel_at *s)
{
	return s->len > 0 || s->overflow || s->mode != TEL_AT_IDLE;
}

static void flush_urcs(struct tel_at *s)
{
	if (busy(s) || s->nurcs == 0)
		return;
	emit(s, s->urcs, s->nurcs);
	s->nurcs = 0;
}

/* TEXT as the VP's verbosity frames it, now or once the session is idle. What does not
 * fit the buffer is dropped, as a modem's full buffer does. */
static void unsolicited(struct tel_at *s, const char *text, bool result)
{
	char buf[1100]; /* a text-mode +CMT of 160 characters in UCS2: 640 hex digits */
	int n;

	if (result && !s->set.verbose)
		n = snprintf(buf, sizeof(buf), "%s", text);
	else
		n = snprintf(buf, sizeof(buf), "%s%s\r\n", s->set.verbose ? "\r\n" : "", text);
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return;
	if (!busy(s)) {
		emit(s, buf, (size_t)n);
		return;
	}
	if (s->nurcs + (size_t)n <= sizeof(s->urcs)) {
		memcpy(s->urcs + s->nurcs, buf, (size_t)n);
		s->nurcs += (size_t)n;
	}
}

void tel_at_urc(struct tel_at *s, const char *text)
{
	unsolicited(s, text, false);
}

/* A result code as V0/V1 and +CMEE want it. */
static void final(struct tel_at *s, int result, int code)
{
	char buf[48];

	if (result == TEL_CME || result == TEL_CMS || result == TEL_ERROR)
		s->errors++;
	if (s->set.quiet)
		return;
	if ((result == TEL_CME || result == TEL_CMS) && s->set.cmee == 0)
		result = TEL_ERROR;
	if (result == TEL_CME || result == TEL_CMS) {
		snprintf(buf, sizeof(buf), "+%s ERROR: %d", result == TEL_CME ? "CME" : "CMS",
			 code);
		tel_at_info(s, buf);
		return;
	}
	if ((unsigned)result >= sizeof(result_text) / sizeof(result_text[0]) ||
	    !result_text[result])
		result = TEL_ERROR;
	if (s->set.verbose) {
		snprintf(buf, sizeof(buf), "\r\n%s\r\n", result_text[result]);
	} else {
		snprintf(buf, sizeof(buf), "%d\r", result);
	}
	out(s, buf);
}

void tel_at_unsolicited(struct tel_at *s, int result)
{
	char code[8];

	/* Q1 silences results of commands, not a ring. */
	if ((unsigned)result >= sizeof(result_text) / sizeof(result_text[0]) ||
	    !result_text[result])
		return;
	if (s->set.verbose) {
		unsolicited(s, result_text[result], true);
	} else {
		snprintf(code, sizeof(code), "%d\r", result);
		unsolicited(s, code, true);
	}
}

/* An integer setting from +NAME=<v>, within [MIN, MAX]. */
static int set_int(const struct at_cmd *c, int *field, long min, long max)
{
	struct at_args a;
	struct error err;
	long v = *field;

	if (at_split_args(c->args, &a, &err) < 0 || a.n > 1 || at_arg_int(&a, 0, min, max, &v) < 0)
		return TEL_ERROR;
	*field = (int)v;
	return TEL_OK;
}

static int info_text(struct tel_at *s, const char *text)
{
	tel_at_info(s, text);
	return TEL_OK;
}

/* The plain on/off settings: +CMEE, +CLIP, +CRC, +CCWA, +COLP, +CREG... */
struct flag_cmd {
	const char *name;
	size_t offset;
	int max;
	const char *test;
};

#define FLAG(n, f, m, t)                                                                           \
	{                                                                                          \
		n, offsetof(struct tel_at_settings, f), m, t                                       \
	}
static const struct flag_cmd flags[] = {
	FLAG("+CMEE", cmee, 2, "+CMEE: (0-2)"), FLAG("+CLIP", clip, 1, "+CLIP: (0,1)"),
	FLAG("+CRC", crc, 1, "+CRC: (0,1)"),	FLAG("+CCWA", ccwa, 1, "+CCWA: (0,1)"),
	FLAG("+COLP", colp, 1, "+COLP: (0,1)"), FLAG("+CMGF", cmgf, 1, "+CMGF: (0,1)"),
	FLAG("+CSMS", csms, 1, "+CSMS: (0,1)"),
};

static int run_flag(struct tel_at *s, const struct flag_cmd *f, const struct at_cmd *c)
{
	int *field = (int *)((char *)&s->set + f->offset);
	char buf[64];

	switch (c->kind) {
	case AT_SET:
		return set_int(c, field, 0, f->max);
	case AT_TEST:
		return info_text(s, f->test);
	case AT_READ:
		if (strcmp(f->name, "+CLIP") == 0 || strcmp(f->name, "+COLP") == 0)
			snprintf(buf, sizeof(buf), "%s: %d,1", f->name, *field); /* provisioned */
		else if (strcmp(f->name, "+CCWA") == 0 || strcmp(f->name, "+CREG") == 0)
			snprintf(buf, sizeof(buf), "%s: %d", f->name, *field);
		else if (strcmp(f->name, "+CSMS") == 0)
			snprintf(buf, sizeof(buf), "+CSMS: %d,1,1,1", *field);
		else
			snprintf(buf, sizeof(buf), "%s: %d", f->name, *field);
		return info_text(s, buf);
	case AT_EXEC:
		return strcmp(f->name, "+CSMS") == 0 ? TEL_ERROR : TEL_OK;
	}
	return TEL_ERROR;
}

static int ask(struct tel_at *s, struct tel_request *req, int *code)
{
	return s->ops->request(s->ctx, s, req, code);
}

/* A dial string without V.250's modifiers (T tone, P pulse, W wait, ',' pause, '!' flash,
 * '@' quiet answer) nor 27.007's I/G (CLIR, closed user group: not the VP's to ask of a
 * shared line): what is left is the number, checked by the device. */
static const char *dial_digits(const char *dial, char *out, size_t size)
{
	size_t n = 0;

	for (; *dial && n + 1 < size; dial++)
		if (!strchr("TtPpWw,!@IiGg", *dial))
			out[n++] = *dial;
	out[n] = '\0';
	return out;
}

/* V.250 basic commands. */
static int run_basic(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct tel_request req = {.cmd = c};
	char number[AT_LINE_MAX + 1];
	char n = c->name[0];
	long v = 0;

	if (c->name[1] == '\0' && n != 'D' && c->args[0]) {
		char *end;
		v = strtol(c->args, &end, 10);
		if (*end)
			return TEL_ERROR;
	}
	switch (n) {
	case 'E':
		if (v > 1)
			return TEL_ERROR;
		s->set.echo = v == 1;
		return TEL_OK;
	case 'V':
		if (v > 1)
			return TEL_ERROR;
		s->set.verbose = v == 1;
		return TEL_OK;
	case 'Q':
		if (v > 1)
			return TEL_ERROR;
		s->set.quiet = v == 1;
		return TEL_OK;
	case 'Z':
		tel_at_reset(s);
		return TEL_OK;
	case 'I':
		req.kind = TEL_REQ_MIRROR;
		return ask(s, &req, code);
	case 'A':
		req.kind = TEL_REQ_ANSWER;
		return ask(s, &req, code);
	case 'H':
		if (v != 0)
			return TEL_ERROR;
		req.kind = TEL_REQ_HANGUP;
		return ask(s, &req, code);
	case 'D':
		if (!c->semicolon)
			return TEL_NO_CARRIER; /* a data call: no data here */
		req.kind = TEL_REQ_DIAL;
		req.number = dial_digits(c->args, number, sizeof(number));
		return ask(s, &req, code);
	case '&': /* &F factory settings; &C &D &K &V &W: line and profile, nothing here */
		if (c->name[1] == 'F')
			tel_at_reset(s);
		return TEL_OK;
	case 'S':
		if (c->kind == AT_READ)
			return info_text(s, "000");
		return TEL_OK;
	case 'L': /* speaker, tone/pulse, result sets: nothing to change */
	case 'M':
	case 'X':
	case 'T':
	case 'P':
		return TEL_OK;
	}
	return TEL_ERROR;
}

static int run_cnmi(struct tel_at *s, const struct at_cmd *c)
{
	static const long max[5] = {3, 3, 3, 2, 1};
	struct at_args a;
	struct error err;
	int v[5];
	char buf[64];

	switch (c->kind) {
	case AT_READ:
		snprintf(buf, sizeof(buf), "+CNMI: %d,%d,%d,%d,%d", s->set.cnmi[0], s->set.cnmi[1],
			 s->set.cnmi[2], s->set.cnmi[3], s->set.cnmi[4]);
		return info_text(s, buf);
	case AT_TEST:
		return info_text(s, "+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)");
	case AT_SET:
		memcpy(v, s->set.cnmi, sizeof(v));
		if (at_split_args(c->args, &a, &err) < 0 || a.n > 5)
			return TEL_ERROR;
		for (size_t i = 0; i < a.n; i++) {
			long x = v[i];
			if (at_arg_int(&a, i, 0, max[i], &x) < 0)
				return TEL_ERROR;
			v[i] = (int)x;
		}
		memcpy(s->set.cnmi, v, sizeof(v));
		return TEL_OK;
	case AT_EXEC:
		return TEL_OK;
	}
	return TEL_ERROR;
}

static int run_cscs(struct tel_at *s, const struct at_cmd *c)
{
	static const char *const sets[] = {"GSM", "IRA", "UCS2", "UTF-8", "8859-1", "PCCP437"};
	struct at_args a;
	struct error err;
	char buf[64];

	switch (c->kind) {
	case AT_READ:
		snprintf(buf, sizeof(buf), "+CSCS: \"%s\"", s->set.cscs);
		return info_text(s, buf);
	case AT_TEST:
		return info_text(
			s, "+CSCS: (\"GSM\",\"IRA\",\"UCS2\",\"UTF-8\",\"8859-1\",\"PCCP437\")");
	case AT_SET:
		if (at_split_args(c->args, &a, &err) < 0 || a.n != 1)
			return TEL_ERROR;
		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
			if (strcmp(a.v[0].s, sets[i]) == 0) {
				snprintf(s->set.cscs, sizeof(s->set.cscs), "%s", sets[i]);
				return TEL_OK;
			}
		return TEL_ERROR;
	case AT_EXEC:
		return TEL_OK;
	}
	return TEL_ERROR;
}

/* +CREG, +CGREG, +CEREG: the VP's URC mode here, the state the modem's. */
static int run_reg(struct tel_at *s, const struct at_cmd *c, int *field, int *code)
{
	struct tel_request req = {.kind = TEL_REQ_MIRROR, .cmd = c, .index = *field};
	char buf[48];

	switch (c->kind) {
	case AT_SET:
		return set_int(c, field, 0, 2);
	case AT_TEST:
		snprintf(buf, sizeof(buf), "%s: (0-2)", c->name);
		return info_text(s, buf);
	case AT_READ:
		return ask(s, &req, code);
	case AT_EXEC:
		return TEL_OK;
	}
	return TEL_ERROR;
}

/* +COPS: the operator is the modem's; choosing one is no VP's business. */
static int run_cops(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct tel_request req = {.kind = TEL_REQ_MIRROR, .cmd = c, .index = s->set.cops_format};
	struct at_args a;
	struct error err;
	long mode = -1, format = 0;

	if (c->kind == AT_READ || c->kind == AT_TEST)
		return ask(s, &req, code);
	if (c->kind != AT_SET)
		return TEL_ERROR;
	if (at_split_args(c->args, &a, &err) < 0 || at_arg_int(&a, 0, 0, 4, &mode) != 0)
		return TEL_ERROR;
	if (mode == 3) {
		if (at_arg_int(&a, 1, 0, 2, &format) < 0)
			return TEL_ERROR;
		s->set.cops_format = (int)format;
		return TEL_OK;
	}
	if (mode == 0) /* automatic: what the modem does already */
		return TEL_OK;
	*code = CME_NOT_ALLOWED;
	return TEL_CME;
}

/* +CFUN: the modem is on for every VP; "on" is granted, anything else refused. */
static int run_cfun(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct tel_request req = {.kind = TEL_REQ_MIRROR, .cmd = c};
	struct at_args a;
	struct error err;
	long fun = -1;

	if (c->kind == AT_READ || c->kind == AT_TEST)
		return ask(s, &req, code);
	if (c->kind == AT_SET && at_split_args(c->args, &a, &err) == 0 &&
	    at_arg_int(&a, 0, 0, 127, &fun) == 0 && fun == 1)
		return TEL_OK;
	*code = CME_NOT_ALLOWED;
	return TEL_CME;
}

bool tel_at_ucs2(const struct tel_at *s)
{
	return strcmp(s->set.cscs, "UCS2") == 0;
}

/* +CMGS's <da> in the VP's character set into s->sms_dest. In UCS2 a number that is not
 * hex of UCS-2 is taken as written: "+1555..." cannot be hex, and clients that set UCS2
 * for the text alone send it so. */
static int take_dest(struct tel_at *s, const char *da)
{
	if (tel_at_ucs2(s) &&
	    ucs2_hex_to_utf8(da, strlen(da), s->sms_dest, sizeof(s->sms_dest)) > 0)
		return 0;
	if (strlen(da) >= sizeof(s->sms_dest))
		return -1;
	snprintf(s->sms_dest, sizeof(s->sms_dest), "%s", da);
	return 0;
}

static int run_cmgs(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct at_args a;
	struct error err;
	long len = 0;

	if (c->kind == AT_TEST)
		return TEL_OK;
	if (c->kind != AT_SET || at_split_args(c->args, &a, &err) < 0 || a.n < 1) {
		*code = s->set.cmgf ? CMS_BAD_TEXT : CMS_BAD_PDU;
		return TEL_CMS;
	}
	s->sms_dest[0] = '\0';
	if (s->set.cmgf) {
		if (!a.v[0].quoted || take_dest(s, a.v[0].s) < 0) {
			*code = CMS_BAD_TEXT;
			return TEL_CMS;
		}
	} else if (a.n != 1 || at_arg_int(&a, 0, 1, 175, &len) != 0) {
		*code = CMS_BAD_PDU;
		return TEL_CMS;
	}
	s->sms_tpdu_len = len;
	s->sms_len = 0;
	s->sms_overflow = false;
	s->sms_ack = false;
	s->mode = TEL_AT_PROMPT;
	out(s, "\r\n> ");
	return TEL_PENDING;
}

/* +CNMA: messages reach a VP from cellsd, which took them from the modem's store itself,
 * so an acknowledgement is taken and dropped. In PDU mode one may carry an RP-ACK or
 * RP-ERROR TPDU of <length> octets (27.005 §3.4.4): it is read after a "> " prompt, as a
 * modem does (oFono sends AT+CNMA=1,2 and its PDU once prompted). */
static int run_cnma(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct at_args a;
	struct error err;
	long n = 0, len = 0;

	if (c->kind == AT_TEST)
		return info_text(s, s->set.cmgf ? "+CNMA:" : "+CNMA: (0-2)");
	if (c->kind == AT_EXEC)
		return TEL_OK;
	if (c->kind != AT_SET || s->set.cmgf || at_split_args(c->args, &a, &err) < 0 || a.n > 2 ||
	    at_arg_int(&a, 0, 0, 2, &n) < 0 || at_arg_int(&a, 1, 0, 175, &len) < 0) {
		*code = s->set.cmgf ? CMS_BAD_TEXT : CMS_BAD_PDU;
		return TEL_CMS;
	}
	if (len == 0)
		return TEL_OK;
	s->sms_tpdu_len = len;
	s->sms_len = 0;
	s->sms_overflow = false;
	s->sms_ack = true;
	s->mode = TEL_AT_PROMPT;
	out(s, "\r\n> ");
	return TEL_PENDING;
}

static const char *const cmgl_stats[] = {"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"};

static int run_sms_index(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct tel_request req = {.text_mode = s->set.cmgf == 1};
	struct at_args a;
	struct error err;
	long index = -1, flag = 0;
	bool list = strcmp(c->name, "+CMGL") == 0, del = strcmp(c->name, "+CMGD") == 0;

	if (c->kind == AT_TEST) {
		if (list && s->set.cmgf)
			return info_text(s, "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\","
					    "\"STO SENT\",\"ALL\")");
		if (list)
			return info_text(s, "+CMGL: (0-4)");
		if (del)
			return info_text(s, "+CMGD: (1-99),(0-4)");
		return TEL_OK;
	}
	if (list && c->kind == AT_EXEC)
		index = 0; /* "REC UNREAD", the default */
	else if (c->kind != AT_SET || at_split_args(c->args, &a, &err) < 0 || a.n < 1)
		goto bad;
	else if (list && s->set.cmgf) {
		index = -1;
		for (size_t i = 0; i < 5; i++)
			if (a.v[0].quoted && strcmp(a.v[0].s, cmgl_stats[i]) == 0)
				index = (long)i;
		if (index < 0 || a.n > 1)
			goto bad;
	} else if (list) {
		if (a.n > 1 || at_arg_int(&a, 0, 0, 4, &index) != 0)
			goto bad;
	} else {
		if (at_arg_int(&a, 0, 0, 100000, &index) != 0)
			goto bad;
		if (del && a.n > 1 && at_arg_int(&a, 1, 0, 4, &flag) < 0)
			goto bad;
		if (!del && a.n > 2)
			goto bad;
		if (del && a.n > 2)
			goto bad;
	}
	req.kind = list ? TEL_REQ_SMS_LIST : del ? TEL_REQ_SMS_DELETE : TEL_REQ_SMS_READ;
	req.index = index;
	req.flag = flag;
	return ask(s, &req, code);
bad:
	*code = s->set.cmgf ? CMS_BAD_TEXT : CMS_BAD_PDU;
	return TEL_CMS;
}

/* +CPMS: one store per VP, named "SM" (as gammu and ModemManager expect one to be). */
static int run_cpms(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct tel_request req = {.kind = TEL_REQ_SMS_COUNT};
	struct at_args a;
	struct error err;
	char buf[96];
	int used, ret, total;

	if (c->kind == AT_TEST)
		return info_text(s, "+CPMS: (\"SM\"),(\"SM\"),(\"SM\")");
	if (c->kind == AT_SET) {
		if (at_split_args(c->args, &a, &err) < 0 || a.n < 1 || a.n > 3)
			goto bad;
		for (size_t i = 0; i < a.n; i++)
			if (!a.v[i].empty && strcmp(a.v[i].s, "SM") != 0 &&
			    strcmp(a.v[i].s, "ME") != 0 && strcmp(a.v[i].s, "MT") != 0)
				goto bad;
	} else if (c->kind != AT_READ) {
		goto bad;
	}
	used = 0;
	if ((ret = ask(s, &req, &used)) != TEL_OK)
		return ret == TEL_PENDING ? TEL_ERROR : (*code = used, ret);
	total = TEL_SMS_STORE_MAX;
	if (c->kind == AT_READ)
		snprintf(buf, sizeof(buf), "+CPMS: \"SM\",%d,%d,\"SM\",%d,%d,\"SM\",%d,%d", used,
			 total, used, total, used, total);
	else
		snprintf(buf, sizeof(buf), "+CPMS: %d,%d,%d,%d,%d,%d", used, total, used, total,
			 used, total);
	return info_text(s, buf);
bad:
	*code = CMS_NOT_SUPPORTED;
	return TEL_CMS;
}

/* +CRSM: EF_MSISDN is the VP's own (its number); writes to the SIM are the root's; the
 * other files are not answered (the SIM's stored messages and phonebook are no VP's). */
static int run_crsm(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct tel_crsm crsm = {-1, -1, -1, -1, -1};
	struct tel_request req = {.kind = TEL_REQ_SIM_MSISDN, .cmd = c, .crsm = &crsm};
	long *field[] = {&crsm.command, &crsm.fileid, &crsm.p1, &crsm.p2, &crsm.p3};
	struct at_args a;
	struct error err;

	if (c->kind == AT_TEST)
		return TEL_OK;
	if (c->kind != AT_SET || at_split_args(c->args, &a, &err) < 0 || a.n < 1 || a.n > 7 ||
	    a.v[0].empty)
		return TEL_ERROR; /* the command is the one argument that is not optional */
	for (size_t i = 0; i < 5 && i < a.n; i++)
		if (!a.v[i].empty && at_arg_int(&a, i, 0, 65535, field[i]) < 0)
			return TEL_ERROR;
	if (crsm.command == CRSM_UPDATE_BIN || crsm.command == CRSM_UPDATE_REC) {
		*code = CME_NOT_ALLOWED;
		return TEL_CME;
	}
	if (crsm.fileid != TEL_EF_MSISDN)
		return TEL_ERROR;
	return ask(s, &req, code);
}

/* What the modem answers alike for every VP. */
static const char *const mirrored[] = {
	"+CGMI", "+CGMM", "+CGMR", "+CGSN", "+CIMI", "+GCAP", "+GMI",	"+GMM",	 "+GMR",  "+GSN",
	"+CPIN", "+CSQ",  "+CSCA", "+CBC",  "+CSCB", "+CLAC", "+CGATT", "+CPAS", "+CIND",
};

static int run_extended(struct tel_at *s, const struct at_cmd *c, int *code)
{
	struct tel_request req = {.cmd = c};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(c->name, flags[i].name) == 0)
			return run_flag(s, &flags[i], c);
	if (strcmp(c->name, "+CNMI") == 0)
		return run_cnmi(s, c);
	if (strcmp(c->name, "+CSCS") == 0)
		return run_cscs(s, c);
	if (strcmp(c->name, "+CREG") == 0)
		return run_reg(s, c, &s->set.creg, code);
	if (strcmp(c->name, "+CGREG") == 0)
		return run_reg(s, c, &s->set.cgreg, code);
	if (strcmp(c->name, "+CEREG") == 0)
		return run_reg(s, c, &s->set.cereg, code);
	if (strcmp(c->name, "+COPS") == 0)
		return run_cops(s, c, code);
	if (strcmp(c->name, "+CFUN") == 0)
		return run_cfun(s, c, code);
	if (strcmp(c->name, "+CMGS") == 0)
		return run_cmgs(s, c, code);
	if (strcmp(c->name, "+CMGL") == 0 || strcmp(c->name, "+CMGR") == 0 ||
	    strcmp(c->name, "+CMGD") == 0)
		return run_sms_index(s, c, code);
	if (strcmp(c->name, "+CPMS") == 0)
		return run_cpms(s, c, code);
	if (strcmp(c->name, "+CNMA") == 0)
		return run_cnma(s, c, code);
	if (strcmp(c->name, "+CRSM") == 0)
		return run_crsm(s, c, code);
	if (strcmp(c->name, "+CNUM") == 0) {
		if (c->kind != AT_EXEC)
			return c->kind == AT_TEST ? TEL_OK : TEL_ERROR;
		req.kind = TEL_REQ_CNUM;
		return ask(s, &req, code);
	}
	if (strcmp(c->name, "+CHUP") == 0 || strcmp(c->name, "+CLCC") == 0) {
		if (c->kind == AT_TEST)
			return TEL_OK;
		if (c->kind != AT_EXEC)
			return TEL_ERROR;
		req.kind = c->name[2] == 'H' ? TEL_REQ_HANGUP : TEL_REQ_CLCC;
		return ask(s, &req, code);
	}
	if (strcmp(c->name, "+CHLD") == 0 || strcmp(c->name, "+VTS") == 0) {
		bool chld = c->name[2] == 'H';
		if (c->kind == AT_TEST)
			return chld ? info_text(s, "+CHLD: (0,1,1x,2,2x)") : TEL_OK;
		if (c->kind != AT_SET || !c->args[0] || strlen(c->args) > 8)
			return TEL_ERROR;
		req.kind = chld ? TEL_REQ_CHLD : TEL_REQ_VTS;
		req.arg = c->args;
		return ask(s, &req, code);
	}
	if (strcmp(c->name, "+CPIN") == 0 && c->kind == AT_SET) {
		*code = CME_NOT_ALLOWED; /* the SIM is unlocked by the root, not a VP */
		return TEL_CME;
	}
	for (size_t i = 0; i < sizeof(mirrored) / sizeof(mirrored[0]); i++)
		if (strcmp(c->name, mirrored[i]) == 0) {
			if (c->kind == AT_SET && strcmp(c->name, "+CSCA") == 0)
				return TEL_OK; /* the SMSC is the SIM's: kept */
			if (c->kind == AT_SET && strcmp(c->name, "+CGATT") == 0) {
				if (strcmp(c->args, "1") == 0)
					return TEL_OK; /* attached: the modem's data is the root's
							*/
				*code = CME_NOT_ALLOWED;
				return TEL_CME;
			}
			if (c->kind == AT_SET)
				return TEL_ERROR;
			req.kind = TEL_REQ_MIRROR;
			return ask(s, &req, code);
		}
	return TEL_ERROR;
}

static int run_cmd(struct tel_at *s, const struct at_cmd *c, int *code)
{
	if (c->name[0] == '+')
		return run_extended(s, c, code);
	return run_basic(s, c, code);
}

/* Run the parsed line from s->next on, until a command waits or the line ends. */
static void run_line(struct tel_at *s)
{
	while (s->next < s->parsed.n) {
		int code = 0;
		int r = run_cmd(s, &s->parsed.cmd[s->next++], &code);
		if (r == TEL_PENDING) {
			if (s->mode != TEL_AT_PROMPT)
				s->mode = TEL_AT_PENDING;
			return;
		}
		if (r != TEL_OK || s->next == s->parsed.n) {
			final(s, r, code);
			s->next = s->parsed.n;
			return;
		}
	}
	final(s, TEL_OK, 0);
}

static void take_line(struct tel_at *s)
{
	struct error err;
	const char *p = s->line;
	size_t len = s->len;

	s->lines++;
	/* V.250 §5.2.1: what comes before "AT" is ignored; a line without it is no command
	 * (a VP echoing our own answers back must not start a conversation with itself). */
	while (len >= 2 && !((p[0] == 'A' || p[0] == 'a') && (p[1] == 'T' || p[1] == 't')))
		p++, len--;
	if (len < 2)
		return;
	if (s->overflow || at_parse(p, len, &s->parsed, &err) < 0) {
		final(s, TEL_ERROR, 0);
		return;
	}
	s->next = 0;
	if (s->parsed.n == 0) {
		final(s, TEL_OK, 0);
		return;
	}
	run_line(s);
}

/* A byte after the "> " prompt. In text mode a CR ends a line of the text (a new
 * prompt); in UCS2 the text's own line breaks are in its hex, and the CR only that. */
static void take_sms_byte(struct tel_at *s, char ch)
{
	struct tel_request req = {.kind = TEL_REQ_SMS_SEND, .text_mode = s->set.cmgf == 1};
	char text[TEL_SMS_INPUT_MAX + 1];
	int code = 0, r;

	if (ch == ESC) {
		s->mode = TEL_AT_IDLE;
		final(s, TEL_OK, 0);
		s->next = s->parsed.n;
		return;
	}
	if (ch != CTRL_Z) {
		if (ch == '\r' && s->set.cmgf) {
			out(s, "\r\n> ");
			if (tel_at_ucs2(s))
				return;
			ch = '\n';
		} else if (ch == '\r' || ch == '\n') {
			return;
		}
		if (s->sms_len >= TEL_SMS_INPUT_MAX)
			s->sms_overflow = true;
		else
			s->sms[s->sms_len++] = ch;
		return;
	}
	s->sms[s->sms_len] = '\0';
	s->mode = TEL_AT_IDLE;
	s->next = s->parsed.n; /* +CMGS ends its line */
	/* +CNMA's PDU: hex, nothing more is asked of it. */
	if (s->sms_ack) {
		bool hex = !s->sms_overflow && s->sms_len % 2 == 0 &&
			   strspn(s->sms, "0123456789ABCDEFabcdef") == s->sms_len;
		final(s, hex ? TEL_OK : TEL_CMS, CMS_BAD_PDU);
		return;
	}
	if (s->sms_overflow || memchr(s->sms, '\0', s->sms_len) ||
	    (s->set.cmgf && tel_at_ucs2(s) &&
	     ucs2_hex_to_utf8(s->sms, s->sms_len, text, sizeof(text)) < 0)) {
		final(s, TEL_CMS, s->set.cmgf ? CMS_BAD_TEXT : CMS_BAD_PDU);
		return;
	}
	req.dest = s->sms_dest;
	req.data = s->set.cmgf && tel_at_ucs2(s) ? text : s->sms;
	req.tpdu_len = (size_t)s->sms_tpdu_len;
	s->mode = TEL_AT_PENDING;
	r = ask(s, &req, &code);
	if (r != TEL_PENDING)
		tel_at_done(s, r, code);
}

static void hold(struct tel_at *s, const char *buf, size_t len)
{
	size_t room = sizeof(s->hold) - s->nhold;

	if (len > room)
		len = room; /* typed far ahead of the answers: dropped, as a modem's buffer would */
	memcpy(s->hold + s->nhold, buf, len);
	s->nhold += len;
}

void tel_at_feed(struct tel_at *s, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (s->mode == TEL_AT_PENDING) {
			hold(s, buf + i, len - i);
			flush_echo(s);
			return;
		}
		if (s->set.echo && !s->tty_echoes && ch != CTRL_Z && ch != ESC) {
			if (s->necho == sizeof(s->echo))
				flush_echo(s);
			s->echo[s->necho++] = ch;
		}
		if (s->mode == TEL_AT_PROMPT) {
			take_sms_byte(s, ch);
			continue;
		}
		if (ch == '\r' || ch == '\n') {
			if (s->len > 0 || s->overflow)
				take_line(s);
			s->len = 0;
			s->overflow = false;
			continue;
		}
		if (ch == '\b' || ch == 0x7f) { /* V.250 S5: backspace edits the line */
			if (s->len > 0)
				s->len--;
			continue;
		}
		if (s->len >= AT_LINE_MAX + 2) /* "AT" and AT_LINE_MAX more */
			s->overflow = true;
		else
			s->line[s->len++] = ch;
	}
	flush_echo(s);
	flush_urcs(s);
}

void tel_at_hangup(struct tel_at *s)
{
	s->nurcs = 0; /* nobody to tell */
	s->necho = 0;
	s->len = 0;
	s->overflow = false;
	s->nhold = 0;
	if (s->mode == TEL_AT_PROMPT) {
		s->mode = TEL_AT_IDLE;
		s->next = s->parsed.n;
	}
}

void tel_at_done(struct tel_at *s, int result, int code)
{
	char held[TEL_HOLD_MAX];
	size_t n;

	if (s->mode != TEL_AT_PENDING && s->mode != TEL_AT_PROMPT)
		return;
	s->mode = TEL_AT_IDLE;
	if (result != TEL_OK || s->next >= s->parsed.n) {
		s->next = s->parsed.n;
		final(s, result, code);
	} else {
		run_line(s);
	}
	if (s->mode != TEL_AT_IDLE || s->nhold == 0) {
		flush_urcs(s);
		return;
	}
	n = s->nhold;
	memcpy(held, s->hold, n);
	s->nhold = 0;
	tel_at_feed(s, held, n);
	flush_urcs(s);
}
