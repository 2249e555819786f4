/* The filter of what the real supplicant says, before a VP sees it (wifi_filter.h). */
#include "devices/wifi_filter.h"

#include <stdio.h>
#include <string.h>

static const char *const forwarded[] = {
	"CTRL-EVENT-CONNECTED ",
	"CTRL-EVENT-DISCONNECTED ",
	"CTRL-EVENT-SCAN-RESULTS",
	"CTRL-EVENT-STATE-CHANGE ",
};

bool wifi_event_forwarded(const char *line, size_t len)
{
	size_t i = 1;

	if (len < 3 || line[0] != '<')
		return false;
	while (i < len && i < 4 && line[i] >= '0' && line[i] <= '9')
		i++;
	if (i == 1 || i >= len || line[i] != '>')
		return false;
	i++;
	for (size_t f = 0; f < sizeof(forwarded) / sizeof(forwarded[0]); f++) {
		size_t flen = strlen(forwarded[f]);
		if (len - i >= flen && memcmp(line + i, forwarded[f], flen) == 0)
			return true;
		/* The last word may end the line. */
		if (forwarded[f][flen - 1] == ' ' && len - i == flen - 1 &&
		    memcmp(line + i, forwarded[f], flen - 1) == 0)
			return true;
	}
	return false;
}

/* Whether LINE[I] begins a word: at the start, or after a space, a tab, a newline or a
 * '['. */
static bool word_start(const char *line, size_t i)
{
	return i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t' || line[i - 1] == '\n' ||
	       line[i - 1] == '[';
}

static int number_at(const char *line, size_t len, size_t i, size_t *end)
{
	int v = 0;
	size_t j = i;

	while (j < len && j - i < 5 && line[j] >= '0' && line[j] <= '9')
		v = v * 10 + (line[j++] - '0');
	*end = j;
	return j == i || (j < len && line[j] >= '0' && line[j] <= '9') ? -1 : v;
}

int wifi_real_id(const char *line, size_t len)
{
	size_t end;

	for (size_t i = 0; i + 3 < len; i++)
		if (word_start(line, i) && memcmp(line + i, "id=", 3) == 0)
			return number_at(line, len, i + 3, &end);
	return -1;
}

size_t wifi_filter_ids(const char *line, size_t len, wifi_map_id map, void *ctx, char *out,
		       size_t size)
{
	size_t o = 0, i = 0;
	bool mapped = false;

	if (size == 0)
		return 0;
	while (i < len && o + 1 < size) {
		size_t end;
		if (word_start(line, i) && len - i > 3 && memcmp(line + i, "id=", 3) == 0) {
			int real = number_at(line, len, i + 3, &end),
			    vp = real < 0 ? -1 : map(ctx, real);
			int n = snprintf(out + o, size - o, "id=%d", vp);
			mapped = vp >= 0;
			o = n > 0 && (size_t)n < size - o ? o + (size_t)n : size - 1;
			i = end;
			continue;
		}
		if (word_start(line, i) && len - i >= 7 && memcmp(line + i, "id_str=", 7) == 0 &&
		    !mapped) {
			int n = snprintf(out + o, size - o, "id_str=");
			o = n > 0 && (size_t)n < size - o ? o + (size_t)n : size - 1;
			for (i += 7;
			     i < len && line[i] != ' ' && line[i] != ']' && line[i] != '\n';)
				i++;
			continue;
		}
		out[o++] = line[i++];
	}
	out[o] = '\0';
	return o;
}
