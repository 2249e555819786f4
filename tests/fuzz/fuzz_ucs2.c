/* The UCS2 TE character set (src/common/ucs2.c): what a VP's program types after +CMGS's
 * prompt, or gives as its number, with +CSCS="UCS2" in text mode.
 *
 * Input: the bytes as typed (hex, or anything).
 *
 * Checked: a decode fails or gives NUL-ended valid UTF-8 of the length it returns, which
 * encodes again to the input's hex (upper-cased); the input taken as UTF-8 either fails
 * or encodes to hex that decodes back to it. */
#include "common/ucs2.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char text[4096], hex[4 * 4096 + 1], back[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n, m;

	if (size > 1024)
		return 0;
	n = ucs2_hex_to_utf8((const char *)data, size, text, sizeof(text));
	if (n >= 0) {
		if (strlen(text) != (size_t)n)
			abort();
		m = utf8_to_ucs2_hex(text, hex, sizeof(hex));
		if (m != (int)size)
			abort();
		for (size_t i = 0; i < size; i++)
			if (hex[i] != toupper(data[i]))
				abort();
	} else if (n != -EINVAL && n != -ENOSPC) {
		abort();
	}
	/* The input as a C string of UTF-8. */
	memcpy(text, data, size);
	text[size] = '\0';
	m = utf8_to_ucs2_hex(text, hex, sizeof(hex));
	if (m >= 0) {
		n = ucs2_hex_to_utf8(hex, (size_t)m, back, sizeof(back));
		if (n != (int)strlen(text) || strcmp(back, text) != 0)
			abort();
	}
	return 0;
}
