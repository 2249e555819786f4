/* libFuzzer harness: the viewer's HTTP request parser (src/viewer/http.c), whose input is
 * anyone's who can connect. Sources: src/viewer/http.c. Every field it fills is
 * NUL-terminated within its size, and the head's length is within the input. */
#include "copy.h"
#include "viewer/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char value[64];
	char *copy = (char *)fuzz_copy(data, size);

	if (!copy)
		return 0;
	if (http_parse(copy, size, &req) == 0) {
		if (req.head_len > size || !memchr(req.path, 0, sizeof(req.path)) ||
		    !memchr(req.query, 0, sizeof(req.query)) ||
		    !memchr(req.origin, 0, sizeof(req.origin)) ||
		    !memchr(req.token, 0, sizeof(req.token)))
			abort();
		http_query_get(req.query, "name", value, sizeof(value));
		http_query_get(req.query, "token", value, sizeof(value));
		(void)http_same_origin(&req);
	}
	free(copy);
	return 0;
}
