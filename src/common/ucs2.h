/* Unicode text as Cells carries it (UTF-8) and as AT commands carry it in the TE
 * character set "UCS2" (3GPP TS 27.007 §5.5 +CSCS: each 16-bit unit of the string's
 * UTF-16, big-endian, as four hex digits; "0041" is "A"). Shared by the SMS PDU codec and
 * the telephony device's text mode. Untrusted input: no allocation, no globals. */
#ifndef CELLS_UCS2_H
#define CELLS_UCS2_H

#include <stddef.h>
#include <stdint.h>

/* One code point of NUL-ended UTF-8 at S into *CP: the bytes it took (1-4), or -1 for an
 * invalid sequence (overlong, a surrogate, past U+10FFFF, cut short). */
int utf8_next(const unsigned char *s, uint32_t *cp);
/* CP appended as UTF-8 to BUF (SIZE bytes, *LEN used, kept NUL-ended): 0, or -1 if it
 * does not fit. */
int utf8_put(char *buf, size_t size, size_t *len, uint32_t cp);

/* LEN hex digits of UCS-2 (upper or lower case; surrogate pairs joined) into NUL-ended
 * UTF-8 in OUT: its length, -EINVAL (a length not a multiple of 4, a non-hex digit, a
 * lone surrogate, U+0000) or -ENOSPC. */
int ucs2_hex_to_utf8(const char *hex, size_t len, char *out, size_t size);
/* NUL-ended UTF-8 TEXT as UCS-2 hex (upper case, characters past U+FFFF as surrogate
 * pairs) into OUT, NUL-ended: its length, -EINVAL (not UTF-8) or -ENOSPC. */
int utf8_to_ucs2_hex(const char *text, char *out, size_t size);

#endif
