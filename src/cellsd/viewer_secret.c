/* The viewer's secrets: the VNC password (for VNC over TCP) and the web page's token (for
 * the web page over TCP), made at the first start from getrandom and kept in the state
 * directory, readable by root alone, so that they survive restarts (a user's bookmark and
 * saved password keep working). `cell viewer` shows them to root. */
#include "cellsd/viewer.h"
#include "common/fsutil.h"
#include "common/hex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static bool all_of(const char *s, const char *alphabet, size_t len)
{
	return strlen(s) == len && strspn(s, alphabet) == len;
}

static const char password_chars[] =
	"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* no 0/O, 1/l/I */
static const char hex[] = "0123456789abcdef";

static int generate(struct viewer_secrets *s, struct error *err)
{
	unsigned char bytes[8 + 16];

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return error_set(err, errno, "viewer: getrandom");
	for (int i = 0; i < 8; i++)
		s->vnc_password[i] = password_chars[bytes[i] % (sizeof(password_chars) - 1)];
	s->vnc_password[8] = '\0';
	hex_encode(s->web_token, bytes + 8, 16, HEX_LOWER);
	return 0;
}

int viewer_secrets_load(const char *path, struct viewer_secrets *s, struct error *err)
{
	char *text = NULL, line[256];
	int ret = read_file(path, 4096, &text, NULL);

	if (ret == 0) {
		memset(s, 0, sizeof(*s));
		ret = sscanf(text, "vnc-password %8s web-token %32s", s->vnc_password,
			     s->web_token);
		free(text);
		if (ret == 2 && all_of(s->vnc_password, password_chars, 8) &&
		    all_of(s->web_token, hex, 32))
			return 0;
		return error_set(err, 0, "%s: not a viewer secret file (remove it to make one)",
				 path);
	}
	if (ret != -ENOENT)
		return error_set(err, -ret, "read %s", path);
	if ((ret = generate(s, err)) < 0)
		return ret;
	snprintf(line, sizeof(line), "vnc-password %s\nweb-token %s\n", s->vnc_password,
		 s->web_token);
	if ((ret = write_file_atomic(path, line, strlen(line), 0600)) < 0)
		return error_set(err, -ret, "write %s", path);
	return 0;
}
