/* `cell device`: the daemon's devices, and their own commands. The command line names no
 * device: what there is comes from the daemon. */
#include "cli/client.h"
#include "common/cleanup.h"

#include <stdio.h>
#include <string.h>

static const char *str_or(json_t *obj, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && s[0] ? s : fallback;
}

/* Each device, the right a new VP gets, its settings and its commands. */
static int list_devices(struct cli *cli)
{
	_cleanup_json_ json_t *reply = NULL;
	json_t *device, *item;
	size_t i, j;

	if (cli_request(cli, json_pack("{s:s}", "cmd", "devices"), NULL, 0, &reply) < 0)
		return 1;
	json_array_foreach(json_object_get(reply, "devices"), i, device)
	{
		const char *name = str_or(device, "name", "?");
		char left[96];

		printf("%-12s a new VP's right: %s\n", name, str_or(device, "initial", "?"));
		json_array_foreach(json_object_get(device, "settings"), j, item)
		{
			snprintf(left, sizeof(left), "--%s %s", str_or(item, "key", "?"),
				 str_or(item, "arg", "VALUE"));
			printf("  %-30s %s (new VPs: %s)\n", left, str_or(item, "help", ""),
			       str_or(item, "initial", "none"));
		}
		json_array_foreach(json_object_get(device, "verbs"), j, item)
		{
			snprintf(left, sizeof(left), "cell device %s %s %s", name,
				 str_or(item, "name", "?"), str_or(item, "args", ""));
			printf("  %-30s %s\n", left, str_or(item, "help", ""));
		}
	}
	return 0;
}

int cli_device(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	json_t *args;
	const char *text;

	if (argc == 1)
		return list_devices(cli);
	if (argc == 2 || argv[1][0] == '-') {
		fprintf(stderr, "cell: device wants DEVICE VERB [ARG]..., or nothing to list them "
				"(see cell help device)\n");
		return 2;
	}
	if (!(args = json_array()))
		return 1;
	for (int i = 3; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	if (cli_request(cli,
			json_pack("{s:s, s:s, s:s, s:o}", "cmd", "device", "device", argv[1],
				  "verb", argv[2], "args", args),
			NULL, 0, &reply) < 0)
		return 1;
	if ((text = json_string_value(json_object_get(reply, "text")))) {
		fputs(text, stdout);
		return 0;
	}
	json_object_del(reply, "ok");
	json_dumpf(reply, stdout, JSON_INDENT(2));
	putchar('\n');
	return 0;
}
