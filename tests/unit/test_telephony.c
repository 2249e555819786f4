/* A VP's AT session (src/devices/telephony_at.c) fed lines as a VP's program writes
 * them, with a device that records what it is asked; and the numbers rules
 * (src/devices/telephony_number.c). No modem. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devices/telephony_at.h"
#include "devices/telephony_number.h"
#include "devices/telephony_sim.h"

struct fake {
	char out[8192];
	size_t len;
	int writes;
	struct tel_request last;
	struct tel_crsm crsm;
	char number[64], data[512], dest[64];
	int asked;
	int answer; /* what the device answers: TEL_OK, TEL_PENDING... */
	int code;
};

static void fake_write(void *ctx, const char *buf, size_t len)
{
	struct fake *f = ctx;

	f->writes++;
	if (f->len + len < sizeof(f->out)) {
		memcpy(f->out + f->len, buf, len);
		f->len += len;
		f->out[f->len] = '\0';
	}
}

static int fake_request(void *ctx, struct tel_at *s, const struct tel_request *req, int *code)
{
	struct fake *f = ctx;

	f->asked++;
	f->last = *req;
	snprintf(f->number, sizeof(f->number), "%s", req->number ? req->number : "");
	snprintf(f->data, sizeof(f->data), "%s", req->data ? req->data : "");
	snprintf(f->dest, sizeof(f->dest), "%s", req->dest ? req->dest : "");
	if (req->kind == TEL_REQ_CNUM)
		tel_at_info(s, "+CNUM: \"\",\"+15550102\",145");
	if (req->crsm)
		f->crsm = *req->crsm;
	*code = f->code;
	return f->answer;
}

static const struct tel_at_ops ops = {fake_write, fake_request};

static struct tel_at s;
static struct fake f;

static int setup(void **unused)
{
	(void)unused;
	memset(&f, 0, sizeof(f));
	f.answer = TEL_OK;
	tel_at_init(&s, &ops, &f);
	return 0;
}

/* Feed TEXT, return what came out since the last call. */
static const char *feed(const char *text)
{
	f.len = 0;
	f.out[0] = '\0';
	tel_at_feed(&s, text, strlen(text));
	return f.out;
}

/* TEXT with its control bytes written out, for a failure's message. */
static const char *shown(char *buf, size_t size, const char *text)
{
	size_t n = 0;

	for (const char *s = text; *s && n + 5 < size; s++)
		n += (size_t)snprintf(buf + n, size - n,
				      *s == '\r'   ? "\\r"
				      : *s == '\n' ? "\\n"
				      : *s < ' '   ? "\\x%02x"
						   : "%c",
				      (unsigned char)*s);
	buf[n] = '\0';
	return buf;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A line fed, and what the session writes back at once. */
struct exchange {
	const char *in, *out;
};

/* Feeds each exchange's line in turn: its answer is the one given. */
static void converse(const struct exchange *x, size_t n)
{
	char in[256], got[512], want[512];

	for (size_t i = 0; i < n; i++) {
		const char *out = feed(x[i].in);

		if (strcmp(out, x[i].out) != 0)
			fail_msg("fed \"%s\": \"%s\", wanted \"%s\"",
				 shown(in, sizeof(in), x[i].in), shown(got, sizeof(got), out),
				 shown(want, sizeof(want), x[i].out));
	}
}

static void echo_and_verbosity(void **unused)
{
	static const struct exchange x[] = {
		{"AT\r", "AT\r\r\nOK\r\n"}, /* echo on at start, as a modem */
		{"ATE0\r", "ATE0\r\r\nOK\r\n"},
		{"AT\r", "\r\nOK\r\n"},
		{"ATV0\r", "0\r"},
		{"ATX\r", "0\r"},
		{"AT+NOPE\r", "4\r"},
		{"ATV1Q1\r", ""},
		{"ATQ0\r", "\r\nOK\r\n"},
		{"atz\r", "\r\nOK\r\n"},
		{"AT\r", "AT\r\r\nOK\r\n"}, /* Z: echo back on */
	};

	(void)unused;
	converse(x, ARRAY_SIZE(x));
}

/* The echo of what one write brought goes back in one write, ahead of the answer. */
static void echo_in_one_write(void **unused)
{
	(void)unused;
	f.writes = 0;
	assert_string_equal(feed("AT+CMEE=1;+CLIP=1\r"), "AT+CMEE=1;+CLIP=1\r\r\nOK\r\n");
	assert_int_equal(f.writes, 2);
	/* Typed a byte at a time (gammu does): a byte each, as it comes. */
	f.writes = 0;
	feed("A");
	feed("T");
	assert_string_equal(feed("\r"), "\r\r\nOK\r\n");
	assert_int_equal(f.writes, 4);
	/* A command that waits: its echo is out before the device answers. */
	f.answer = TEL_PENDING;
	assert_string_equal(feed("ATD+15559876;\rAT\r"), "ATD+15559876;\r");
	f.len = 0;
	tel_at_done(&s, TEL_OK, 0);
	assert_string_equal(f.out, "\r\nOK\r\nAT\r\r\nOK\r\n");
}

static void errors_as_cmee_says(void **unused)
{
	static const struct exchange x[] = {
		{"AT+CFUN=0\r", "\r\nERROR\r\n"},
		{"AT+CMEE=1\r", "\r\nOK\r\n"},
		{"AT+CFUN=0\r", "\r\n+CME ERROR: 3\r\n"},
		{"AT+CFUN=1\r", "\r\nOK\r\n"},
		{"AT+CMEE?\r", "\r\n+CMEE: 1\r\n\r\nOK\r\n"},
		{"AT+CMEE=3\r", "\r\nERROR\r\n"},
		{"AT+CPIN=\"1234\"\r", "\r\n+CME ERROR: 3\r\n"},
	};

	(void)unused;
	feed("ATE0\r");
	converse(x, ARRAY_SIZE(x));
	assert_int_equal(f.asked, 0);
}

static void local_settings(void **unused)
{
	static const struct exchange x[] = {
		{"AT+CNMI?\r", "\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n"},
		{"AT+CSCS=\"UCS2\"\r", "\r\nOK\r\n"},
		{"AT+CSCS?\r", "\r\n+CSCS: \"UCS2\"\r\n\r\nOK\r\n"},
		{"AT+CSCS=\"KOI8\"\r", "\r\nERROR\r\n"},
		{"AT+CNMI=9\r", "\r\nERROR\r\n"},
	};

	(void)unused;
	feed("ATE0\r");
	assert_string_equal(feed("AT+CLIP=1;+CRC=1;+CCWA=1;+CNMI=2,1,0,0,0;+CMGF=1\r"),
			    "\r\nOK\r\n");
	assert_int_equal(s.set.clip, 1);
	assert_int_equal(s.set.crc, 1);
	assert_int_equal(s.set.cnmi[1], 1);
	assert_int_equal(s.set.cmgf, 1);
	converse(x, ARRAY_SIZE(x));
	assert_int_equal(f.asked, 0);
}

static void cnum_is_asked(void **unused)
{
	(void)unused;
	feed("ATE0\r");
	assert_string_equal(feed("AT+CNUM\r"), "\r\n+CNUM: \"\",\"+15550102\",145\r\n\r\nOK\r\n");
	assert_int_equal(f.last.kind, TEL_REQ_CNUM);
}

static void dial_waits_for_the_device(void **unused)
{
	(void)unused;
	feed("ATE0\r");
	f.answer = TEL_PENDING;
	assert_string_equal(feed("ATD+15559876;\r"), "");
	assert_int_equal(f.last.kind, TEL_REQ_DIAL);
	assert_string_equal(f.number, "+15559876");
	/* Typed ahead: kept until the dial is answered. */
	f.answer = TEL_OK;
	assert_string_equal(feed("AT\r"), "");
	f.len = 0;
	tel_at_done(&s, TEL_OK, 0);
	assert_string_equal(f.out, "\r\nOK\r\n\r\nOK\r\n");
	/* Dial modifiers are not the number. */
	f.answer = TEL_OK;
	feed("ATDT+1555,9876W;\r");
	assert_string_equal(f.number, "+15559876");
	/* A data call: no. */
	assert_string_equal(feed("ATD123\r"), "\r\nNO CARRIER\r\n");
	/* BUSY from the device. */
	f.answer = TEL_BUSY;
	assert_string_equal(feed("ATD123;\r"), "\r\nBUSY\r\n");
}

static void urcs(void **unused)
{
	(void)unused;
	feed("ATE0\r");
	f.len = 0;
	tel_at_unsolicited(&s, TEL_RING);
	tel_at_urc(&s, "+CLIP: \"+15551234\",145");
	assert_string_equal(f.out, "\r\nRING\r\n\r\n+CLIP: \"+15551234\",145\r\n");
}

/* A RING while a line is being typed waits for its answer (gammu writes byte by byte). */
static void urcs_wait_for_the_line(void **unused)
{
	(void)unused;
	feed("ATE0\r");
	assert_string_equal(feed("AT+CS"), "");
	f.len = 0;
	tel_at_unsolicited(&s, TEL_RING);
	assert_string_equal(f.out, "");
	assert_string_equal(feed("Q\r"), "\r\nOK\r\n\r\nRING\r\n");
}

static void sms_prompt(void **unused)
{
	(void)unused;
	feed("ATE0\r");
	f.answer = TEL_PENDING;
	assert_string_equal(feed("AT+CMGS=17\r"), "\r\n> ");
	assert_int_equal(f.asked, 0);
	assert_string_equal(feed("0011000B915155591876F90000AA03C8341B\x1a"), "");
	assert_int_equal(f.last.kind, TEL_REQ_SMS_SEND);
	assert_int_equal(f.last.tpdu_len, 17);
	assert_string_equal(f.data, "0011000B915155591876F90000AA03C8341B");
	f.len = 0;
	tel_at_info(&s, "+CMGS: 5");
	tel_at_done(&s, TEL_OK, 0);
	assert_string_equal(f.out, "\r\n+CMGS: 5\r\n\r\nOK\r\n");
	/* ESC cancels. */
	f.answer = TEL_OK;
	feed("AT+CMGS=17\r");
	assert_string_equal(feed("00\x1b"), "\r\nOK\r\n");
	/* Text mode: the number, then the text; CR gives a new prompt. */
	feed("AT+CMGF=1\r");
	feed("AT+CMGS=\"+15559876\"\r");
	assert_string_equal(feed("hi\rthere\x1a"), "\r\n> \r\nOK\r\n");
	assert_string_equal(f.dest, "+15559876");
	assert_string_equal(f.data, "hi\nthere");
	/* Too long: refused once Ctrl-Z comes, the device never asked. */
	char big[TEL_SMS_INPUT_MAX + 10];
	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\x1a';
	big[sizeof(big) - 1] = '\0';
	int before = f.asked;
	feed("AT+CMEE=1\r");
	feed("AT+CMGS=\"+1\"\r");
	assert_string_equal(feed(big), "\r\n+CMS ERROR: 305\r\n");
	assert_int_equal(f.asked, before);
}

/* +CSCS="UCS2" in text mode: +CMGS's number and text come as hex of UCS-2 and go to the
 * device as UTF-8; "GSM" and "IRA" take them as written. */
static void sms_text_in_ucs2(void **unused)
{
	(void)unused;
	feed("ATE0;+CMEE=1;+CMGF=1;+CSCS=\"UCS2\"\r");
	assert_true(tel_at_ucs2(&s));
	assert_string_equal(feed("AT+CMGS=\"002B0031003500350035003900380037\"\r"), "\r\n> ");
	/* "Grüße ☎ 😀": Latin-1, BMP and a surrogate pair; a CR is only a new prompt. */
	assert_string_equal(feed("004700720"
				 "0FC00DF0065\r0020260E0020D83DDE00\x1a"),
			    "\r\n> \r\nOK\r\n");
	assert_string_equal(f.dest, "+1555987");
	assert_string_equal(f.data, "Gr\xc3\xbc\xc3\x9f"
				    "e \xe2\x98\x8e \xf0\x9f\x98\x80");
	/* A number that is not hex is taken as written. */
	feed("AT+CMGS=\"+15559876\"\r");
	feed("0068\x1a");
	assert_string_equal(f.dest, "+15559876");
	assert_string_equal(f.data, "h");
	/* Not UCS-2 hex: a bad text, the device never asked. */
	int before = f.asked;
	feed("AT+CMGS=\"+1\"\r");
	assert_string_equal(feed("hi\x1a"), "\r\n+CMS ERROR: 305\r\n");
	feed("AT+CMGS=\"+1\"\r");
	assert_string_equal(feed("D83D0041\x1a"), "\r\n+CMS ERROR: 305\r\n"); /* lone half */
	feed("AT+CMGS=\"+1\"\r");
	assert_string_equal(feed("0000\x1a"), "\r\n+CMS ERROR: 305\r\n");
	assert_int_equal(f.asked, before);
	/* 160 characters in UCS2 fit the input. */
	char big[4 * 160 + 2];
	for (int i = 0; i < 160; i++)
		memcpy(big + 4 * i, "0061", 4);
	big[640] = '\x1a';
	big[641] = '\0';
	feed("AT+CMGS=\"+1\"\r");
	feed(big);
	assert_int_equal(f.asked, before + 1);
	assert_int_equal(strlen(f.data), 160);
	/* PDU mode is hex whatever the character set. */
	feed("AT+CMGF=0\r");
	feed("AT+CMGS=17\r");
	feed("0011000B915155591876F90000AA03C8341B\x1a");
	assert_string_equal(f.data, "0011000B915155591876F90000AA03C8341B");
	/* Back to GSM: as written. */
	feed("AT+CMGF=1;+CSCS=\"GSM\"\r");
	assert_false(tel_at_ucs2(&s));
	feed("AT+CMGS=\"0031\"\r");
	feed("0041\x1a");
	assert_string_equal(f.dest, "0031");
	assert_string_equal(f.data, "0041");
}

/* +CNMA: taken and dropped; in PDU mode with a length, its PDU after a prompt. */
static void cnma_takes_its_pdu(void **unused)
{
	(void)unused;
	feed("ATE0;+CMEE=1\r");
	assert_string_equal(feed("AT+CNMA\r"), "\r\nOK\r\n");
	assert_string_equal(feed("AT+CNMA=0\r"), "\r\nOK\r\n");
	assert_string_equal(feed("AT+CNMA=1,0\r"), "\r\nOK\r\n");
	assert_string_equal(feed("AT+CNMA=1,2\r"), "\r\n> ");
	assert_string_equal(feed("0000\x1a"), "\r\nOK\r\n");
	assert_string_equal(feed("AT+CNMA=2,2\r"), "\r\n> ");
	assert_string_equal(feed("00zz\x1a"), "\r\n+CMS ERROR: 304\r\n");
	assert_string_equal(feed("AT+CNMA=1,2\r"), "\r\n> ");
	assert_string_equal(feed("00\x1b"), "\r\nOK\r\n");
	assert_string_equal(feed("AT+CNMA=3\r"), "\r\n+CMS ERROR: 304\r\n");
	assert_string_equal(feed("AT+CNMA=?\r"), "\r\n+CNMA: (0-2)\r\n\r\nOK\r\n");
	assert_int_equal(f.asked, 0);
	/* A +CMGS after it still sends. */
	feed("AT+CMGF=1\r");
	assert_string_equal(feed("AT+CNMA=1,2\r"), "\r\n+CMS ERROR: 305\r\n");
	feed("AT+CMGS=\"+1\"\r");
	feed("x\x1a");
	assert_int_equal(f.asked, 1);
	assert_string_equal(f.data, "x");
}

static void bad_input(void **unused)
{
	char big[AT_LINE_MAX + 100];

	(void)unused;
	feed("ATE0\r");
	memset(big, 'A', sizeof(big));
	big[0] = 'A', big[1] = 'T';
	big[sizeof(big) - 1] = '\r';
	f.len = 0;
	tel_at_feed(&s, big, sizeof(big));
	assert_string_equal(f.out, "\r\nERROR\r\n");
	assert_string_equal(feed("garbage without the prefix\r"), ""); /* no AT: no command */
	assert_string_equal(feed("\r\nOK\r\n"), "");		       /* our own answers echoed */
	f.len = 0;
	tel_at_feed(&s, "AT\0E1\r", 6);
	assert_string_equal(f.out, "\r\nERROR\r\n");
	assert_string_equal(feed("AT+CMGR=\"x\"\r"), "\r\nERROR\r\n");
	assert_string_equal(feed("AT+CMGL=9\r"), "\r\nERROR\r\n");
	assert_int_equal(f.asked, 0);
	/* A half line, then the tty closed: dropped. */
	feed("AT+CL");
	tel_at_hangup(&s);
	assert_string_equal(feed("AT\r"), "\r\nOK\r\n");
}

/* +CRSM: EF_MSISDN is asked of the device (the VP's number); a write is refused, other
 * files are not answered. */
static void crsm_on_msisdn_only(void **unused)
{
	(void)unused;
	feed("ATE0;+CMEE=1\r");
	assert_string_equal(feed("AT+CRSM=192,28480\r"), "\r\nOK\r\n");
	assert_int_equal(f.asked, 1);
	assert_int_equal(f.last.kind, TEL_REQ_SIM_MSISDN);
	assert_int_equal(f.crsm.command, 192);
	assert_int_equal(f.crsm.fileid, 28480);
	assert_int_equal(f.crsm.p1, -1);
	feed("AT+CRSM=178,28480,1,4,28\r");
	assert_int_equal(f.asked, 2);
	assert_int_equal(f.crsm.p1, 1);
	assert_int_equal(f.crsm.p2, 4);
	assert_int_equal(f.crsm.p3, 28);
	assert_string_equal(feed("AT+CRSM=220,28480,1,4,28,\"FFFF\"\r"), "\r\n+CME ERROR: 3\r\n");
	assert_string_equal(feed("AT+CRSM=214,12258,0,0,10,\"00\"\r"), "\r\n+CME ERROR: 3\r\n");
	assert_string_equal(feed("AT+CRSM=178,28476,1,4,176\r"), "\r\nERROR\r\n"); /* EF_SMS */
	assert_string_equal(feed("AT+CRSM=192,12258\r"), "\r\nERROR\r\n");
	assert_string_equal(feed("AT+CRSM=192,99999\r"), "\r\nERROR\r\n");
	assert_string_equal(feed("AT+CRSM=x\r"), "\r\nERROR\r\n");
	assert_string_equal(feed("AT+CRSM=,28480\r"), "\r\nERROR\r\n"); /* found by the fuzzer */
	assert_string_equal(feed("AT+CRSM?\r"), "\r\nERROR\r\n");
	assert_string_equal(feed("AT+CRSM=?\r"), "\r\nOK\r\n");
	assert_int_equal(f.asked, 2);
}

/* EF_MSISDN's file information and record as a 2G SIM gives them (TS 51.011 §9.2.1,
 * §10.5.5): what oFono's sim_parse_2g_get_response and sim_adn_parse read. */
static void msisdn_file(void **unused)
{
	struct tel_crsm info = {192, 28480, -1, -1, -1}, rec = {178, 28480, 1, 4, 28};
	char out[128];

	(void)unused;
	assert_true(tel_sim_msisdn("+15550102", &info, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 144,0,\"0000001C6F40040011F0440102011C\"");
	assert_true(tel_sim_msisdn("+15550102", &rec, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 144,0,\"FFFFFFFFFFFFFFFFFFFFFFFFFFFF"
				 "059151551020FFFFFFFFFFFFFFFF\"");
	/* An odd count of digits ends with F; no '+': type 0x81. */
	assert_true(tel_sim_msisdn("12345", &rec, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 144,0,\"FFFFFFFFFFFFFFFFFFFFFFFFFFFF"
				 "04812143F5FFFFFFFFFFFFFFFFFF\"");
	/* No number: an empty record. */
	assert_true(tel_sim_msisdn("", &rec, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 144,0,\"FFFFFFFFFFFFFFFFFFFFFFFFFFFF"
				 "FFFFFFFFFFFFFFFFFFFFFFFFFFFF\"");
	rec.p1 = 2;
	assert_true(tel_sim_msisdn("+1", &rec, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 106,131");
	rec.p1 = 1, rec.p2 = 2; /* next record: no pointer is kept */
	assert_true(tel_sim_msisdn("+1", &rec, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 107,0");
	rec.p2 = 4, rec.p3 = 30;
	assert_true(tel_sim_msisdn("+1", &rec, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 103,28");
	rec.p3 = -1; /* P3 left out: the whole record */
	assert_true(tel_sim_msisdn("+1", &rec, out, sizeof(out)) > 0);
	info.command = 176;
	assert_true(tel_sim_msisdn("+1", &info, out, sizeof(out)) > 0);
	assert_string_equal(out, "+CRSM: 105,129");
	assert_int_equal(tel_sim_msisdn("+123456789012345678901", &rec, out, sizeof(out)), -EINVAL);
	assert_int_equal(tel_sim_msisdn("+1x", &rec, out, sizeof(out)), -EINVAL);
	assert_int_equal(tel_sim_msisdn("+1", &rec, out, 20), -ENOSPC);
	assert_int_equal(tel_sim_msisdn("+1", &rec, out, 8), -ENOSPC);
}

static void numbers(void **unused)
{
	struct tel_numbers n = {.prefix = "*77", .access = "+15550999", .sim = "+15550100"};
	char out[64], body[200], caller[32];
	struct error err;
	unsigned id = 0;

	(void)unused;
	assert_true(tel_number_valid("+15551234"));
	assert_true(tel_number_valid("123*#"));
	assert_false(tel_number_valid(""));
	assert_false(tel_number_valid("+"));
	assert_false(tel_number_valid("12a"));
	assert_false(tel_number_valid("1+2"));
	assert_false(tel_number_valid("123456789012345678901"));
	/* Incoming: the tag names the VP, the caller is what follows. */
	assert_int_equal(tel_number_incoming(&n, "*772*+15551234", &id, caller, sizeof(caller)), 1);
	assert_int_equal(id, 2);
	assert_string_equal(caller, "+15551234");
	assert_int_equal(tel_number_incoming(&n, "*7712*555", &id, caller, sizeof(caller)), 1);
	assert_int_equal(id, 12);
	assert_int_equal(tel_number_incoming(&n, "+15551234", &id, caller, sizeof(caller)), 0);
	assert_string_equal(caller, "+15551234");
	assert_int_equal(tel_number_incoming(&n, "*77x*1", &id, caller, sizeof(caller)), -EINVAL);
	assert_int_equal(tel_number_incoming(&n, "*772", &id, caller, sizeof(caller)), -EINVAL);
	/* Outgoing. */
	assert_int_equal(tel_number_dial(&n, true, 1, "+15559876", out, sizeof(out), &err), 0);
	assert_string_equal(out, "+15559876");
	assert_int_equal(tel_number_dial(&n, false, 2, "+15559876", out, sizeof(out), &err), 0);
	assert_string_equal(out, "+15550999*772*+15559876");
	/* Forged tags and the access number are refused, for every VP. */
	assert_int_equal(tel_number_dial(&n, false, 2, "*773*+15559876", out, sizeof(out), &err),
			 -EPERM);
	assert_int_equal(tel_number_dial(&n, true, 1, "*773*+15559876", out, sizeof(out), &err),
			 -EPERM);
	assert_int_equal(tel_number_dial(&n, false, 2, "+15550999*773*1", out, sizeof(out), &err),
			 -EPERM);
	assert_int_equal(tel_number_dial(&n, false, 2, "12;34", out, sizeof(out), &err), -EPERM);
	/* SMS: through the gateway with the header. */
	assert_int_equal(tel_number_sms(&n, false, 2, "+15559876", "hello", out, sizeof(out), body,
					sizeof(body), &err),
			 0);
	assert_string_equal(out, "+15550999");
	assert_string_equal(body, "*772*+15559876 hello");
	assert_int_equal(tel_number_sms(&n, true, 1, "+15559876", "hello", out, sizeof(out), body,
					sizeof(body), &err),
			 0);
	assert_string_equal(body, "hello");
	n.access[0] = '\0';
	assert_int_equal(tel_number_dial(&n, false, 2, "+15559876", out, sizeof(out), &err),
			 -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(echo_and_verbosity, setup),
		cmocka_unit_test_setup(echo_in_one_write, setup),
		cmocka_unit_test_setup(errors_as_cmee_says, setup),
		cmocka_unit_test_setup(local_settings, setup),
		cmocka_unit_test_setup(cnum_is_asked, setup),
		cmocka_unit_test_setup(dial_waits_for_the_device, setup),
		cmocka_unit_test_setup(urcs, setup),
		cmocka_unit_test_setup(urcs_wait_for_the_line, setup),
		cmocka_unit_test_setup(sms_prompt, setup),
		cmocka_unit_test_setup(sms_text_in_ucs2, setup),
		cmocka_unit_test_setup(cnma_takes_its_pdu, setup),
		cmocka_unit_test_setup(bad_input, setup),
		cmocka_unit_test_setup(crsm_on_msisdn_only, setup),
		cmocka_unit_test(msisdn_file),
		cmocka_unit_test(numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
