/* The head of an HTTP/1.x request, as the viewer needs it: parsed from untrusted bytes
 * into fixed fields (what does not fit is an error, never truncated). */
#ifndef CELLS_VIEWER_HTTP_H
#define CELLS_VIEWER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX 8192

struct http_request {
	char method[8];
	char path[256];
	char query[256];
	char host[256];
	char origin[256];
	char token[65]; /* the cells_token cookie, or an Authorization: Bearer */
	bool has_origin;
	bool websocket;	 /* Upgrade: websocket */
	size_t head_len; /* bytes up to and with the blank line */
};

/* Parse LEN bytes at BUF. Returns 0 (REQ filled), -EAGAIN (the head is not complete yet),
 * -E2BIG (a head or a field too long), -EINVAL (not a request). */
int http_parse(const char *buf, size_t len, struct http_request *req);

/* The value of KEY in a query string ("a=1&b=2"), undecoded, into OUT (at most SIZE - 1
 * bytes). Returns false when absent or too long. */
bool http_query_get(const char *query, const char *key, char *out, size_t size);

/* Whether ORIGIN names the page served to HOST: "http://" HOST exactly. */
bool http_same_origin(const struct http_request *req);

/* Compare secrets in a time that does not depend on where they differ. */
bool http_secret_equal(const char *a, const char *b);

#endif
