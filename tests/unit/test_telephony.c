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

struct fake {
	char out[8192];
	size_t len;
	struct tel_request last;
	char number[64], data[512], dest[64];
	int asked;
	int answer; /* what the device answers: TEL_OK, TEL_PENDING... */
	int code;
};

static void fake_write(void *ctx, const char *buf, size_t len)
{
	struct fake *f = ctx;

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
		cmocka_unit_test_setup(errors_as_cmee_says, setup),
		cmocka_unit_test_setup(local_settings, setup),
		cmocka_unit_test_setup(cnum_is_asked, setup),
		cmocka_unit_test_setup(dial_waits_for_the_device, setup),
		cmocka_unit_test_setup(urcs, setup),
		cmocka_unit_test_setup(urcs_wait_for_the_line, setup),
		cmocka_unit_test_setup(sms_prompt, setup),
		cmocka_unit_test_setup(bad_input, setup),
		cmocka_unit_test(numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
