/* The SMS PDU codec (src/common/sms_pdu.c): well-known PDUs (the "hellohello" SUBMIT and
 * DELIVER of the GSM 03.40/23.040 primers), the alphabets (GSM 7-bit, its extension
 * table, UCS-2 with surrogates), address types, time stamps, validity periods, headers,
 * round trips, and hostile PDUs (wrong lengths, odd hex, truncation, bad fields). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "common/sms_pdu.h"

static struct sms S;
static struct error E;

static int decode(const char *hex, size_t tpdu_len)
{
	return sms_pdu_decode(hex, tpdu_len, &S, &E);
}

static void hellohello_submit(void **state)
{
	(void)state;
	assert_int_equal(decode("0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 23), 0);
	assert_int_equal(S.kind, SMS_SUBMIT);
	assert_string_equal(S.smsc, "");
	assert_string_equal(S.addr, "+46708251358");
	assert_int_equal(S.mr, 0);
	assert_string_equal(S.text, "hellohello");
}

static void hellohello_deliver(void **state)
{
	(void)state;
	assert_int_equal(
		decode("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
		       28),
		0);
	assert_int_equal(S.kind, SMS_DELIVER);
	assert_string_equal(S.smsc, "+27381000015");
	assert_string_equal(S.addr, "27838890001");
	assert_string_equal(S.text, "hellohello");
	assert_int_equal(S.scts.year, 1999);
	assert_int_equal(S.scts.month, 3);
	assert_int_equal(S.scts.day, 29);
	assert_int_equal(S.scts.hour, 15);
	assert_int_equal(S.scts.minute, 16);
	assert_int_equal(S.scts.second, 59);
	assert_int_equal(S.scts.tz_quarters, 8);
}

static void encode_matches_the_known_submit(void **state)
{
	struct sms in = {.kind = SMS_SUBMIT, .addr = "+46708251358", .text = "hellohello"};
	char hex[SMS_HEX_MAX];
	size_t len;

	(void)state;
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), 0);
	assert_string_equal(hex, "0011000B916407281553F80000AA0AE8329BFD4697D9EC37");
	assert_int_equal(len, 23);
}

static void alphanumeric_originator(void **state)
{
	struct sms in = {.kind = SMS_DELIVER, .addr = "Test", .text = "hi"};
	char hex[SMS_HEX_MAX];
	size_t len;

	(void)state;
	/* "Test" packs to D4F29C0E: 7 semi-octets, type 0xD0. */
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), 0);
	assert_non_null(strstr(hex, "0407D0D4F29C0E"));
	assert_int_equal(decode(hex, len), 0);
	assert_string_equal(S.addr, "Test");
	assert_string_equal(S.text, "hi");
	/* Not for a destination. */
	in.kind = SMS_SUBMIT;
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), -EINVAL);
	/* Twelve characters do not fit an address. */
	strcpy(in.addr, "TwelveLetter");
	in.kind = SMS_DELIVER;
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), -EINVAL);
}

static void national_and_service_numbers(void **state)
{
	(void)state;
	/* Type 0xA1 (national): no '+'. */
	assert_int_equal(decode("0001000AA11555052143000004D4F29C0E", 16), 0);
	assert_string_equal(S.addr, "5155501234");
	assert_string_equal(S.text, "Test");
}

static void round_trip(const struct sms *in)
{
	char hex[SMS_HEX_MAX];
	size_t len;

	if (sms_pdu_encode(in, hex, sizeof(hex), &len, &E) < 0)
		fail_msg("encoding \"%s\": %s", in->text, E.msg);
	if (decode(hex, len) < 0)
		fail_msg("decoding %s: %s", hex, E.msg);
	assert_int_equal(S.kind, in->kind);
	assert_string_equal(S.smsc, in->smsc);
	assert_string_equal(S.addr, in->addr);
	assert_string_equal(S.text, in->text);
	if (in->kind == SMS_SUBMIT)
		assert_int_equal(S.mr, in->mr);
	else
		assert_memory_equal(&S.scts, &in->scts, sizeof(S.scts));
}

static void round_trips(void **state)
{
	struct sms in = {
		.kind = SMS_DELIVER,
		.smsc = "+15550000",
		.addr = "*772*+15551234",
		.text = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà",
		.scts = {2026, 12, 5, 0, 13, 7, -20}};
	char many[SMS_HEX_MAX];
	size_t len;

	(void)state;
	round_trip(&in);
	/* The extension table: each costs two septets. */
	strcpy(in.text, "{}[]~|\\^€\f");
	round_trip(&in);
	/* UCS-2, a surrogate pair included. */
	strcpy(in.text, "你好, Ελληνικά 😀");
	round_trip(&in);
	in.kind = SMS_SUBMIT;
	in.mr = 200;
	strcpy(in.addr, "+15559876");
	round_trip(&in);
	strcpy(in.addr, "12345678901234567890");
	strcpy(in.smsc, "");
	round_trip(&in);
	/* 160 septets fit one message, 161 do not; 80 with escapes are 160. */
	memset(many, 'a', SMS_GSM7_MAX);
	many[SMS_GSM7_MAX] = '\0';
	strcpy(in.text, many);
	round_trip(&in);
	memset(in.text, '[', SMS_GSM7_MAX / 2);
	in.text[SMS_GSM7_MAX / 2] = '\0';
	round_trip(&in);
	strcat(in.text, "a");
	assert_int_equal(sms_pdu_encode(&in, many, sizeof(many), &len, &E), -EMSGSIZE);
	in.text[0] = '\0';
	round_trip(&in);
}

static void too_long_is_emsgsize(void **state)
{
	struct sms in = {.kind = SMS_SUBMIT, .addr = "+15559876"};
	char hex[SMS_HEX_MAX];
	size_t len;

	(void)state;
	memset(in.text, 'a', SMS_GSM7_MAX + 1);
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), -EMSGSIZE);
	memset(in.text, 0, sizeof(in.text));
	for (int i = 0; i < SMS_UCS2_MAX + 1; i++)
		memcpy(in.text + 3 * i, "€", 3); /* in the extension table: 2 septets each */
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), 0);
	for (int i = 0; i < SMS_UCS2_MAX + 1; i++)
		memcpy(in.text + 3 * i, "你", 3);
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), -EMSGSIZE);
	/* A too small buffer. */
	strcpy(in.text, "hi");
	assert_int_equal(sms_pdu_encode(&in, hex, 10, &len, &E), -ENOSPC);
}

static void bad_addresses_refused(void **state)
{
	static const char *const bad[] = {"",		"+",   "++1",  "1+2",
					  "+*772*1555", "12a", "+1 2", "123456789012345678901"};
	struct sms in = {.kind = SMS_SUBMIT, .text = "x"};
	char hex[SMS_HEX_MAX];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(in.addr, bad[i]);
		assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), -EINVAL);
	}
	strcpy(in.addr, "+1");
	strcpy(in.text, "\xff");
	assert_int_equal(sms_pdu_encode(&in, hex, sizeof(hex), &len, &E), -EINVAL);
}

static void validity_periods_and_headers(void **state)
{
	(void)state;
	/* No validity period (VPF 0). */
	assert_int_equal(decode("0001000B916407281553F800000AE8329BFD4697D9EC37", 22), 0);
	assert_string_equal(S.text, "hellohello");
	/* Absolute (VPF 3): seven octets. */
	assert_int_equal(decode("0019000B916407281553F80000993092516195800AE8329BFD4697D9EC37", 29),
			 0);
	assert_string_equal(S.text, "hellohello");
	/* Enhanced (VPF 1), seven octets too. */
	assert_int_equal(decode("0009000B916407281553F80000420000000000000AE8329BFD4697D9EC37", 29),
			 0);
	/* A concatenation header (UDHI): 6 octets, then a fill bit, then "hi". */
	assert_int_equal(decode("0041000B916407281553F80000090500030A0201D069", 21), 0);
	assert_string_equal(S.text, "hi");
	/* UCS-2 with the same header. */
	assert_int_equal(decode("0041000B916407281553F800080A0500030A0201004F0061", 23), 0);
	assert_string_equal(S.text, "Oa");
}

static void other_alphabets(void **state)
{
	(void)state;
	/* 8-bit data and a status report are valid but have no text. */
	assert_int_equal(decode("0011000B916407281553F80004AA026869", 16), -ENOTSUP);
	assert_int_equal(decode("0011000B916407281553F800F6AA026869", 16), -ENOTSUP);
	assert_int_equal(decode("0002000B916407281553F80000AA026869", 16), -ENOTSUP);
	/* Compressed. */
	assert_int_equal(decode("0011000B916407281553F80020AA026869", 16), -ENOTSUP);
	/* Message waiting, store, UCS-2 (0xE0). */
	assert_int_equal(decode("0011000B916407281553F800E0AA02004F", 16), 0);
	assert_string_equal(S.text, "O");
	/* A lone surrogate is shown as U+FFFD. */
	assert_int_equal(decode("0011000B916407281553F80008AA02D800", 16), 0);
	assert_string_equal(S.text, "\xef\xbf\xbd");
	/* An escape at the end, or before a code not in the extension table. */
	assert_int_equal(decode("0011000B916407281553F80000AA011B", 15), 0);
	assert_string_equal(S.text, " ");
	assert_int_equal(decode("0011000B916407281553F80000AA029B20", 16), 0);
	assert_string_equal(S.text, "A");
}

static void hostile_pdus(void **state)
{
	static const struct {
		const char *hex;
		size_t len;
	} bad[] = {
		{"", 1},
		{"0", 1},
		{"0011000B916407281553F80000AA0AE8329BFD4697D9EC3", 23},   /* odd hex */
		{"0011000B916407281553F80000AA0AE8329BFD4697D9EC3G", 23},  /* non-hex */
		{"0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 22},  /* length */
		{"0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 24},  /* length */
		{"0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 0},   /* length */
		{"0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 999}, /* length */
		{"0011000B916407281553F80000AA0BE8329BFD4697D9EC37", 23},  /* UDL > data */
		{"0011000B916407281553F80000AA09E8329BFD4697D9EC37", 23},  /* UDL < data */
		{"0011000B916407281553F80000AAA1", 15},			   /* 161 septets */
		{"0011000B916407281553F80008AA8D", 15},			   /* 141 octets */
		{"0011000B916407281553F80008AA03004F00", 17},		   /* odd UCS-2 */
		{"0011001B916407281553F80000AA00", 15},			   /* 27 digits */
		{"0011000B916407281553", 9},				   /* cut in DA */
		{"0011000B916407281553F800", 11},			   /* cut before DCS */
		{"0011000B916407281553F80000", 12},			   /* cut in VP */
		{"0011000B916407281553F80000AA", 13},			   /* cut before UDL */
		{"0011000B916407281F53F80000AA00", 15},			   /* filler inside */
		{"0C9151555010002143658709", 1},			   /* SMSC too long */
		{"0191", 1},						   /* SMSC no digits */
		{"00040B916407281553F80000993092516195", 17},		   /* cut in SCTS */
		{"00040B916407281553F800009930925161A58000", 20},	   /* bad BCD */
		{"00040B916407281553F800009930925161958A00", 20},	   /* bad zone */
		{"0051000B916407281553F80000AA02FF00", 16},		   /* UDH > UD */
		{"0051000B916407281553F80000AA0106", 15},		   /* UDH > septets */
		{"0051000B916407281553F80000AA00", 15},			   /* UDHI, no UD */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = decode(bad[i].hex, bad[i].len);

		if (r == 0)
			fail_msg("PDU %zu (%s) accepted", i, bad[i].hex);
		assert_int_equal(r, -EINVAL);
		assert_true(E.msg[0] != '\0');
	}
}

static void long_hex_is_refused_without_overread(void **state)
{
	static char hex[4 * SMS_HEX_MAX];

	(void)state;
	memset(hex, '0', sizeof(hex) - 1);
	assert_int_equal(decode(hex, SMS_TPDU_MAX), -EINVAL);
}

static void text_units(void **state)
{
	size_t n;
	int ucs2;

	(void)state;
	assert_int_equal(sms_text_units("hello", &n, &ucs2), 0);
	assert_int_equal(n, 5);
	assert_false(ucs2);
	assert_int_equal(sms_text_units("€[", &n, &ucs2), 0);
	assert_int_equal(n, 4);
	assert_false(ucs2);
	assert_int_equal(sms_text_units("a😀", &n, &ucs2), 0);
	assert_int_equal(n, 3);
	assert_true(ucs2);
	assert_int_equal(sms_text_units("\xc0\x80", &n, &ucs2), -EINVAL);     /* overlong */
	assert_int_equal(sms_text_units("\xed\xa0\x80", &n, &ucs2), -EINVAL); /* surrogate */
	assert_int_equal(sms_text_units("\xe4\xbd", &n, &ucs2), -EINVAL);     /* cut */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hellohello_submit),
		cmocka_unit_test(hellohello_deliver),
		cmocka_unit_test(encode_matches_the_known_submit),
		cmocka_unit_test(alphanumeric_originator),
		cmocka_unit_test(national_and_service_numbers),
		cmocka_unit_test(round_trips),
		cmocka_unit_test(too_long_is_emsgsize),
		cmocka_unit_test(bad_addresses_refused),
		cmocka_unit_test(validity_periods_and_headers),
		cmocka_unit_test(other_alphabets),
		cmocka_unit_test(hostile_pdus),
		cmocka_unit_test(long_hex_is_refused_without_overread),
		cmocka_unit_test(text_units),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
