/* A VP's datagrams to its Wi-Fi control socket (/run/wpa_supplicant/wlan0): the request
 * parser (src/devices/wifi_req.c). Checks its contract: what it takes has no control
 * character, quote or backslash inside a value's quotes, fits its fields, and a value
 * it takes is one the store takes too (which checks it again). */
#include "devices/wifi_req.h"
#include "devices/wifi_store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wifi_store store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wifi_req req;

	if (wifi_req_parse((const char *)data, size, &req) < 0)
		return 0;
	if (size > WIFI_REQ_MAX || memchr(req.value, '\n', sizeof(req.value)) ||
	    strnlen(req.value, sizeof(req.value)) == sizeof(req.value) ||
	    strnlen(req.arg, sizeof(req.arg)) == sizeof(req.arg) ||
	    strnlen(req.var, sizeof(req.var)) == sizeof(req.var))
		abort();
	if (req.cmd == WIFI_SET_NETWORK) {
		size_t len = strlen(req.value);
		if (req.value[0] == '"')
			for (size_t i = 1; i + 1 < len; i++)
				if (req.value[i] == '"' || req.value[i] == '\\' ||
				    (unsigned char)req.value[i] < 0x20)
					abort();
		wifi_store_init(&store);
		if (wifi_store_add(&store) != 0 ||
		    wifi_store_set(&store, 0, req.var, req.value) != 0)
			abort();
		if (req.id < 0 || req.id > WIFI_NET_ID_MAX)
			abort();
	}
	return 0;
}
