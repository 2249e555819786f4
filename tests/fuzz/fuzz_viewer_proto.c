/* libFuzzer harness: cellsd's parser of what the viewer sends (src/viewer/proto.c), and
 * the viewer's of what cellsd sends. Sources: src/viewer/proto.c src/common/error.c
 * src/common/names.c. Whatever the bytes, the parsers return 0 or -EINVAL, read within
 * SIZE, and what they accept is in range. */
#include "copy.h"
#include "viewer/proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union viewer_msg msg;
	struct error err;
	uint8_t *copy = fuzz_copy(data, size);

	if (!copy)
		return 0;
	if (viewer_parse(copy, size, &msg, &err) == 0) {
		if (msg.head.len != size || msg.head.type < VIEWER_STATUS ||
		    msg.head.type > VIEWER_LIST)
			abort();
		if (msg.head.type == VIEWER_POINTER &&
		    (msg.pointer.x < 0 || msg.pointer.y < 0 || msg.pointer.x > VIEWER_COORD_MAX))
			abort();
		if (msg.head.type == VIEWER_ACTION && !memchr(msg.action.name, 0, VIEWER_NAME_LEN))
			abort();
	}
	if (viewer_parse_from_daemon(copy, size, &msg, &err) == 0 &&
	    (msg.head.len != size || msg.head.type < VIEWER_HELLO))
		abort();
	free(copy);
	return 0;
}
