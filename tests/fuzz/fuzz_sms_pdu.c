/* The SMS PDU codec (src/common/sms_pdu.c): a PDU a VP's program gives after +CMGS's
 * prompt, or the modem gives in +CMGR/+CMGL/+CMT, with the TPDU length its command
 * carried.
 *
 * Input: byte 0 the TPDU length; byte 1 how the rest is read: even, as the hex text
 * itself; odd, as the PDU's octets (hexed here, to reach the fields faster).
 *
 * Checked: a decode either fails with a message or gives NUL-ended fields of valid UTF-8
 * text; what decodes and encodes again (it may be refused: an alphanumeric destination)
 * decodes to the same kind, addresses and text, within the TPDU limit. */
#include "common/sms_pdu.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char hex[4 * SMS_HEX_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char digits[] = "0123456789ABCDEF";
	struct error err = {{0}};
	struct sms s, again;
	char out[SMS_HEX_MAX];
	size_t tpdu_len, len, units;
	int ucs2;

	if (size < 2)
		return 0;
	tpdu_len = data[0];
	data += 2;
	size -= 2;
	if (data[-1] & 1) {
		if (size > sizeof(hex) / 2 - 1)
			size = sizeof(hex) / 2 - 1;
		for (size_t i = 0; i < size; i++) {
			hex[2 * i] = digits[data[i] >> 4];
			hex[2 * i + 1] = digits[data[i] & 0xf];
		}
		hex[2 * size] = '\0';
	} else {
		if (size > sizeof(hex) - 1)
			size = sizeof(hex) - 1;
		memcpy(hex, data, size);
		hex[size] = '\0';
	}
	if (sms_pdu_decode(hex, tpdu_len, &s, &err) < 0) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	if (!memchr(s.smsc, 0, sizeof(s.smsc)) || !memchr(s.addr, 0, sizeof(s.addr)) ||
	    !memchr(s.text, 0, sizeof(s.text)))
		abort();
	if (sms_text_units(s.text, &units, &ucs2) < 0)
		abort();
	if (sms_pdu_encode(&s, out, sizeof(out), &len, &err) < 0)
		return 0;
	if (len > SMS_TPDU_MAX)
		abort();
	if (sms_pdu_decode(out, len, &again, &err) < 0)
		abort();
	if (again.kind != s.kind || strcmp(again.smsc, s.smsc) || strcmp(again.addr, s.addr) ||
	    strcmp(again.text, s.text))
		abort();
	return 0;
}
