/* The viewer's HTTP request parser. Its input comes from anyone who can connect: it reads
 * within LEN only, copies into fixed fields with their sizes checked, and knows the few
 * headers the viewer looks at (Host, Origin, Cookie, Authorization, Upgrade). */
#include "viewer/http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copy LEN bytes at SRC into DST of SIZE, trimmed of spaces and tabs at both ends. */
static int copy_field(char *dst, size_t size, const char *src, size_t len)
{
	while (len > 0 && (*src == ' ' || *src == '\t'))
		src++, len--;
	while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t'))
		len--;
	if (len >= size)
		return -E2BIG;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

static bool header_is(const char *line, size_t len, const char *name, size_t *value_at)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return false;
	*value_at = n + 1;
	return true;
}

/* The cells_token cookie among "a=1; b=2". */
static int cookie_token(const char *value, size_t len, struct http_request *req)
{
	static const char key[] = "cells_token=";
	size_t i = 0;

	while (i < len) {
		while (i < len && (value[i] == ' ' || value[i] == ';'))
			i++;
		size_t end = i;
		while (end < len && value[end] != ';')
			end++;
		if (end - i > sizeof(key) - 1 && memcmp(value + i, key, sizeof(key) - 1) == 0)
			return copy_field(req->token, sizeof(req->token),
					  value + i + sizeof(key) - 1, end - i - (sizeof(key) - 1));
		i = end;
	}
	return 0;
}

/* The request line: METHOD SP TARGET SP HTTP/x.y */
static int request_line(const char *line, size_t len, struct http_request *req)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *q;
	size_t target_len;

	if (!sp1 || sp1 == line)
		return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
	if (!sp2 || len - (size_t)(sp2 + 1 - line) < 5 || memcmp(sp2 + 1, "HTTP/", 5) != 0)
		return -EINVAL;
	if (copy_field(req->method, sizeof(req->method), line, (size_t)(sp1 - line)) < 0)
		return -EINVAL;
	target_len = (size_t)(sp2 - sp1 - 1);
	if (target_len == 0 || sp1[1] != '/')
		return -EINVAL;
	q = memchr(sp1 + 1, '?', target_len);
	if (q) {
		if (copy_field(req->path, sizeof(req->path), sp1 + 1, (size_t)(q - sp1 - 1)) < 0 ||
		    copy_field(req->query, sizeof(req->query), q + 1, (size_t)(sp2 - q - 1)) < 0)
			return -E2BIG;
	} else if (copy_field(req->path, sizeof(req->path), sp1 + 1, target_len) < 0) {
		return -E2BIG;
	}
	return 0;
}

int http_parse(const char *buf, size_t len, struct http_request *req)
{
	size_t pos = 0, at;
	bool first = true;
	int ret;

	memset(req, 0, sizeof(*req));
	if (len > HTTP_HEAD_MAX)
		len = HTTP_HEAD_MAX;
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t line_len;
		const char *line = buf + pos;

		if (!nl)
			return len >= HTTP_HEAD_MAX ? -E2BIG : -EAGAIN;
		line_len = (size_t)(nl - line);
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		pos = (size_t)(nl - buf) + 1;
		if (memchr(line, '\0', line_len))
			return -EINVAL;
		if (first) {
			if ((ret = request_line(line, line_len, req)) < 0)
				return ret;
			first = false;
			continue;
		}
		if (line_len == 0)
			break;
		if (header_is(line, line_len, "Host", &at))
			ret = copy_field(req->host, sizeof(req->host), line + at, line_len - at);
		else if (header_is(line, line_len, "Origin", &at)) {
			ret = copy_field(req->origin, sizeof(req->origin), line + at,
					 line_len - at);
			req->has_origin = true;
		} else if (header_is(line, line_len, "Cookie", &at))
			ret = cookie_token(line + at, line_len - at, req);
		else if (header_is(line, line_len, "Authorization", &at)) {
			char value[128];
			ret = copy_field(value, sizeof(value), line + at, line_len - at);
			if (ret == 0 && strncasecmp(value, "Bearer ", 7) == 0)
				ret = copy_field(req->token, sizeof(req->token), value + 7,
						 strlen(value + 7));
		} else if (header_is(line, line_len, "Upgrade", &at)) {
			char value[32];
			ret = copy_field(value, sizeof(value), line + at, line_len - at);
			req->websocket = ret == 0 && strcasecmp(value, "websocket") == 0;
			ret = 0;
		} else
			ret = 0;
		if (ret < 0)
			return ret;
	}
	req->head_len = pos;
	return 0;
}

bool http_query_get(const char *query, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
		size_t len = strcspn(p, "&");
		if (len > klen && p[klen] == '=' && strncmp(p, key, klen) == 0) {
			if (len - klen - 1 >= size)
				return false;
			memcpy(out, p + klen + 1, len - klen - 1);
			out[len - klen - 1] = '\0';
			return true;
		}
	}
	return false;
}

bool http_same_origin(const struct http_request *req)
{
	char want[sizeof(req->host) + 8];

	if (!req->host[0])
		return false;
	snprintf(want, sizeof(want), "http://%s", req->host);
	return strcmp(req->origin, want) == 0;
}

bool http_secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0 && la > 0;
}
