/* libnftables for the net device (net_nft.h). */
#include "devices/net_nft.h"
#include "devices/net_rules.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

struct nft_ctx *net_nft_new(struct error *err)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft) {
		error_set(err, ENOMEM, "nftables context");
		return NULL;
	}
	/* Messages come back to us, never on the daemon's stdout. */
	if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0) {
		nft_ctx_free(nft);
		error_set(err, ENOMEM, "nftables buffers");
		return NULL;
	}
	return nft;
}

void net_nft_free(struct nft_ctx *nft)
{
	if (nft)
		nft_ctx_free(nft);
}

/* The first line of libnftables' error buffer, as ERR. */
static int nft_error(struct nft_ctx *nft, const char *what, struct error *err)
{
	const char *msg = nft_ctx_get_error_buffer(nft);
	char line[256];
	size_t len = strcspn(msg ? msg : "", "\n");

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, msg ? msg : "", len);
	line[len] = '\0';
	return error_set(err, EIO, "nftables%s: %s", what, line);
}

int net_nft_run(struct nft_ctx *nft, char *text, struct error *err)
{
	int ret;

	if (!text)
		return error_set(err, ENOMEM, "nftables rules");
	nft_ctx_output_set_flags(nft, 0);
	ret = nft_run_cmd_from_buffer(nft, text);
	free(text);
	return ret != 0 ? nft_error(nft, "", err) : 0;
}

static void add_objects(json_t *list, json_t *out)
{
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item)
	{
		json_t *c = json_object_get(item, "counter"), *q = json_object_get(item, "quota");
		json_t *o = c ? c : q;
		const char *name = json_string_value(json_object_get(o, "name"));
		if (!o || !name)
			continue;
		if (c)
			json_object_set_new(out, name,
					    json_pack("{s:O, s:O}", "bytes",
						      json_object_get(c, "bytes"), "packets",
						      json_object_get(c, "packets")));
		else
			json_object_set_new(out, name,
					    json_pack("{s:O, s:O}", "used",
						      json_object_get(q, "used"), "limit",
						      json_object_get(q, "bytes")));
	}
}

json_t *net_nft_objects(struct nft_ctx *nft, struct error *err)
{
	static const char *const cmds[] = {"list counters table inet " NET_TABLE,
					   "list quotas table inet " NET_TABLE};
	json_t *out = json_object();

	if (!out) {
		error_set(err, ENOMEM, "counters");
		return NULL;
	}
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		json_error_t jerr;
		json_t *doc;
		if (nft_run_cmd_from_buffer(nft, cmds[i]) != 0) {
			nft_error(nft, " (list the counters)", err);
			json_decref(out);
			nft_ctx_output_set_flags(nft, 0);
			return NULL;
		}
		doc = json_loads(nft_ctx_get_output_buffer(nft), 0, &jerr);
		add_objects(json_object_get(doc, "nftables"), out);
		json_decref(doc);
	}
	nft_ctx_output_set_flags(nft, 0);
	return out;
}
