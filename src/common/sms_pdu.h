/* SMS PDUs (3GPP TS 23.040 §9.2, TS 23.038 alphabets) as AT modems carry them in PDU mode
 * (TS 27.005: +CMGS, +CMGR, +CMGL, +CMT): hex, the SMSC address first. Used by the modem
 * simulator and cellsd's telephony device on untrusted input: no allocation, no globals,
 * every length checked against what it claims.
 *
 * Addresses: "+" first means international (type 145). A number with a supplementary
 * service prefix and an international number after it, "*772*+15551234", travels as
 * TS 22.030 dials such strings: the '+' dropped and the type international (digits
 * "*772*15551234", type 145); decoding puts the '+' back after the last '*' or '#' of the
 * leading service part. Other addresses are national/unknown (type 129 or 161), or for a
 * DELIVER's originator alphanumeric (type 208, GSM 7-bit, at most 11 characters).
 *
 * Text: UTF-8. Encoding picks the GSM 7-bit default alphabet with its extension table when
 * every character is in them, UCS-2 otherwise. Decoding takes GSM 7-bit and UCS-2 (8-bit
 * data is refused: there is no text to give), skips a user data header (a concatenated
 * message's part is decoded as one message). */
#ifndef CELLS_SMS_PDU_H
#define CELLS_SMS_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* The longest TPDU (an SMS-SUBMIT with an absolute validity period and 140 octets of
 * user data) and the longest hex PDU with its SMSC part. */
#define SMS_TPDU_MAX 164
#define SMS_HEX_MAX  (2 * (SMS_TPDU_MAX + 12) + 1)
/* Characters in one message. */
#define SMS_GSM7_MAX 160
#define SMS_UCS2_MAX 70

enum sms_kind { SMS_DELIVER, SMS_SUBMIT };

struct sms {
	enum sms_kind kind;
	char smsc[24];	/* "+15550000" or "" */
	char addr[24];	/* DELIVER: originator; SUBMIT: destination; '+' = international */
	uint8_t mr;	/* SUBMIT's message reference */
	char text[640]; /* UTF-8, NUL-ended; from GSM 7-bit (with the extension table) or UCS-2 */
	struct {
		int year, month, day, hour, minute, second, tz_quarters;
	} scts; /* DELIVER */
};

/* Hex PDU (with the SMSC part first, as +CMGS/+CMGR/+CMT carry it) <-> struct sms.
 * decode: the hex and the TPDU length the AT command gave (checked against the hex);
 * encode: writes hex into OUT (NUL-ended) and the TPDU length into *TPDU_LEN; picks GSM
 * 7-bit when the text fits the default alphabet, UCS-2 otherwise; -EMSGSIZE if the text
 * needs more than one SMS. Errors: -EINVAL + a message in ERR (common/error.h); decode
 * also -ENOTSUP for what is valid but not text (8-bit data, compressed text, a status
 * report or command). */
int sms_pdu_decode(const char *hex, size_t tpdu_len, struct sms *out, struct error *err);
int sms_pdu_encode(const struct sms *in, char *out, size_t size, size_t *tpdu_len,
		   struct error *err);

/* Septets (GSM 7-bit) or UCS-2 units TEXT needs, and which: 0 and *UCS2 set, or -EINVAL
 * (not UTF-8). For a caller that checks the length before encoding (+CMGS in text mode,
 * a gateway's header). */
int sms_text_units(const char *text, size_t *units, int *ucs2);

#endif
