/* The short strings a client sends in requests and a user gives on the command line, each
 * parsed as every kind cellsd takes: a VP or image name, a size ("512M"), a display mode
 * ("720x1280"), a key name or chord ("ctrl+alt+right"), a text to type. Each parser must
 * say yes only to what its contract allows. */
#include "copy.h"
#include "common/names.h"
#include "common/keymap.h"

#include <ctype.h>
#include <errno.h>
#include <linux/input.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	if (!name_is_valid(s))
		return;
	size_t len = strlen(s);
	if (len == 0 || len > NAME_MAX_LEN || !isalnum((unsigned char)s[0]))
		abort();
	/* It becomes a path component and a hostname. */
	if (strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		abort();
}

static void check_size(const char *s)
{
	uint64_t bytes = 0;
	int ret = parse_size(s, &bytes);

	if (ret != 0 && ret != -EINVAL && ret != -ERANGE)
		abort();
	/* Plain digits are bytes, as strtoull reads them. */
	if (ret == 0 && strspn(s, "0123456789") == strlen(s) && bytes != strtoull(s, NULL, 10))
		abort();
}

static void check_mode(const char *s)
{
	unsigned w = 0, h = 0;

	if (parse_mode(s, &w, &h) == 0 && (w < 64 || w > 4096 || h < 64 || h > 4096))
		abort();
}

/* As cellsd's `input key`: one typable character, a key name, or a chord. */
static void check_key(const char *s)
{
	struct key_chord chord = {0, 0};
	unsigned code;
	bool shift;

	if (s[0] && !s[1] && keymap_from_char((unsigned char)s[0], &code, &shift) == 0 &&
	    (code == 0 || code >= KEY_CNT))
		abort();
	if ((code = keymap_from_name(s)) >= KEY_CNT)
		abort();
	if (keymap_parse_chord(s, &chord) == 0 &&
	    (chord.mods == 0 || chord.mods > 15 || chord.key == 0 || chord.key >= KEY_CNT ||
	     keymap_modifier(chord.key)))
		abort();
}

/* As `input text`: either it names a byte it cannot type, or every byte has a key. */
static void check_text(const char *s, size_t len)
{
	char msg[160];

	if (keymap_untypable(s, len, msg, sizeof(msg))) {
		if (strnlen(msg, sizeof(msg)) == sizeof(msg) || !strstr(msg, "cannot type"))
			abort();
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned code = 0;
		bool shift;
		if (keymap_from_char((unsigned char)s[i], &code, &shift) < 0 || code == 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);

	if (!s)
		return 0;
	check_name(s);
	check_size(s);
	check_mode(s);
	check_key(s);
	check_text(s, strlen(s));
	free(s);
	return 0;
}
