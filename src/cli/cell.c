/* cell: the command line of Cells. It speaks only the control protocol of cellsd. */
#include "cli/client.h"
#include "cli/help.h"
#include "common/cleanup.h"
#include "common/version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

/* "cell: MSG (see cell help VERB)": the one line of every usage error. */
static int __attribute__((format(printf, 2, 3))) verb_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fputs("cell: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see cell help%s%s)\n", verb ? " " : "", verb ? verb : "");
	return EXIT_USAGE;
}

#define usage_error(...) verb_error(NULL, __VA_ARGS__)

/* What getopt_long (opterr 0, optstring ":...") refused, as one line. */
static int option_error(const char *verb, int opt, char **argv)
{
	char shortopt[3] = {'-', (char)optopt, '\0'};
	const char *word = argv[optind - 1];
	int len = (int)strcspn(word, "=");

	/* A long option is the word itself (up to any "="); a short one is in optopt. */
	if (strncmp(word, "--", 2) != 0) {
		word = shortopt;
		len = 2;
	}
	if (opt == ':')
		return verb_error(verb, "option '%.*s' wants a value", len, word);
	return verb_error(verb, "unknown option '%.*s'", len, word);
}

/* Verbs without options: ARGV[1..] must not look like options ("--" ends them, and
 * goes). Returns the number of words left, or -1 after the error. */
static int plain_args(int argc, char **argv)
{
	int n = 1, i = 1;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			verb_error(argv[0], "unknown option '%s'", argv[i]);
			return -1;
		}
		argv[n++] = argv[i];
	}
	for (i++; i < argc; i++)
		argv[n++] = argv[i];
	return n;
}

/* WHAT (a verb, or "image rm") got GOT arguments, not what it wants. */
static int count_error(const char *what, const char *want, int got)
{
	char verb[32];

	snprintf(verb, sizeof(verb), "%.*s", (int)strcspn(what, " "), what);
	if (got == 0)
		return verb_error(verb, "%s wants %s", what, want);
	return verb_error(verb, "%s wants %s, not %d argument%s", what, want, got,
			  got == 1 ? "" : "s");
}

/* A request that is answered with "ok" alone. */
static int simple(struct cli *cli, json_t *req)
{
	return cli_request(cli, req, NULL, 0, NULL) < 0 ? 1 : 0;
}

static int print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	return 0;
}

static const char *str_of(json_t *obj, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && s[0] ? s : fallback;
}

static int cmd_image(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	const char *sub;
	int out = 2;

	if ((argc = plain_args(argc, argv)) < 0)
		return EXIT_USAGE;
	if (argc < 2)
		return verb_error("image", "image wants build, list, import or rm");
	sub = argv[1];
	if (strcmp(sub, "list") == 0) {
		json_t *img;
		size_t i;
		if (argc != 2)
			return count_error("image list", "no argument", argc - 2);
		if (cli_request(cli, json_pack("{s:s}", "cmd", "image.list"), NULL, 0, &reply) < 0)
			return 1;
		printf("%-20s %-4s %s\n", "NAME", "VPS", "SOURCE");
		json_array_foreach(json_object_get(reply, "images"), i, img)
			printf("%-20s %-4lld %s\n", str_of(img, "name", "?"),
			       (long long)json_integer_value(json_object_get(img, "vps")),
			       str_of(img, "source", "-"));
		return 0;
	}
	if (strcmp(sub, "build") == 0) {
		const char *name = argc == 3 ? argv[2] : "minimal";
		if (argc > 3)
			return count_error("image build", "at most one NAME", argc - 2);
		if (cli_request(cli, json_pack("{s:s, s:s}", "cmd", "image.build", "name", name),
				&out, 1, NULL) < 0)
			return 1;
		printf("image %s built\n", name);
		return 0;
	}
	if (strcmp(sub, "import") == 0) {
		char source[PATH_MAX];
		if (argc != 4)
			return count_error("image import", "NAME and DIR|TARBALL", argc - 2);
		if (!realpath(argv[3], source)) {
			cli_error("%s: %s", argv[3], strerror(errno));
			return 1;
		}
		if (cli_request(cli,
				json_pack("{s:s, s:s, s:s}", "cmd", "image.import", "name", argv[2],
					  "source", source),
				&out, 1, NULL) < 0)
			return 1;
		printf("image %s imported from %s\n", argv[2], source);
		return 0;
	}
	if (strcmp(sub, "rm") == 0) {
		if (argc != 3)
			return count_error("image rm", "exactly one NAME", argc - 2);
		if (cli_request(cli, json_pack("{s:s, s:s}", "cmd", "image.rm", "name", argv[2]),
				NULL, 0, NULL) < 0)
			return 1;
		printf("image %s removed\n", argv[2]);
		return 0;
	}
	return verb_error("image", "image has no command '%s': build, list, import or rm", sub);
}

/* The options of create and config: the request's "options" and "devices". */
struct vp_options {
	json_t *options, *devices;
	bool autostart, json;
	const char *name;
};

static bool is_option(const struct option *opts, const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return true;
	return false;
}

/* A long option that is none of OPTS (--uplink cell, --number=+4930…) is a setting of one
 * of the daemon's devices, which checks it: taken out of ARGV into SETTINGS. Returns the
 * words left, or -1 after the error. */
static int take_settings(const char *verb, int argc, char **argv, const struct option *opts,
			 json_t *settings)
{
	int n = 1;

	for (int i = 1; i < argc; i++) {
		const char *word = argv[i], *eq;
		char key[64];
		size_t len;

		if (strcmp(word, "--") == 0) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strncmp(word, "--", 2) != 0 || !word[2]) {
			argv[n++] = argv[i];
			continue;
		}
		word += 2;
		len = (eq = strchr(word, '=')) ? (size_t)(eq - word) : strlen(word);
		if (is_option(opts, word, len)) {
			argv[n++] = argv[i];
			continue;
		}
		if (len >= sizeof(key))
			return verb_error(verb, "unknown option '--%.*s'", (int)len, word), -1;
		if (!eq && i + 1 == argc)
			return verb_error(verb,
					  "unknown option '--%s', or a device's setting without "
					  "its value",
					  word),
			       -1;
		snprintf(key, sizeof(key), "%.*s", (int)len, word);
		json_object_set_new(settings, key, json_string(eq ? eq + 1 : argv[++i]));
	}
	argv[n] = NULL;
	return n;
}

static int parse_vp_options(const char *verb, int argc, char **argv, struct vp_options *o)
{
	static const struct option opts[] = {
		{"image", required_argument, NULL, 'i'},   {"device", required_argument, NULL, 'd'},
		{"memory", required_argument, NULL, 'm'},  {"disk", required_argument, NULL, 'D'},
		{"pids", required_argument, NULL, 'p'},	   {"cpu", required_argument, NULL, 'c'},
		{"restart", required_argument, NULL, 'r'}, {"autostart", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},	   {NULL, 0, NULL, 0},
	};
	int opt, idx;

	o->options = json_object();
	o->devices = json_array();
	if ((argc = take_settings(verb, argc, argv, opts, o->options)) < 0)
		return EXIT_USAGE;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", opts, &idx)) != -1) {
		if (opt == '?' || opt == ':')
			return option_error(verb, opt, argv);
		if (opt == 'd')
			json_array_append_new(o->devices, json_string(optarg));
		else if (opt == 'a')
			o->autostart = true;
		else if (opt == 'j' && strcmp(verb, "config") == 0)
			o->json = true;
		else if (opt == 'j')
			return verb_error(verb, "unknown option '--json'");
		else
			json_object_set_new(o->options, opts[idx].name, json_string(optarg));
	}
	if (optind != argc - 1)
		return count_error(verb, "exactly one NAME", argc - optind);
	o->name = argv[optind];
	return 0;
}

static void vp_options_free(struct vp_options *o)
{
	json_decref(o->options);
	json_decref(o->devices);
}

static json_t *vp_options_request(const char *cmd, const struct vp_options *o)
{
	return json_pack("{s:s, s:s, s:O, s:O, s:b}", "cmd", cmd, "name", o->name, "options",
			 o->options, "devices", o->devices, "autostart", o->autostart);
}

static int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct vp_options o = {0};
	int ret = parse_vp_options("create", argc, argv, &o);

	if (ret == 0) {
		ret = simple(cli, vp_options_request("create", &o));
	}
	vp_options_free(&o);
	return ret;
}

static void print_size(const char *what, json_int_t bytes)
{
	if (bytes && bytes % (1 << 30) == 0)
		printf("%-10s %lldG\n", what, (long long)bytes >> 30);
	else if (bytes && bytes % (1 << 20) == 0)
		printf("%-10s %lldM\n", what, (long long)bytes >> 20);
	else if (bytes)
		printf("%-10s %lld bytes\n", what, (long long)bytes);
	else
		printf("%-10s no limit\n", what);
}

static void print_config(json_t *config)
{
	json_int_t memory = json_integer_value(json_object_get(config, "memory"));
	json_int_t pids = json_integer_value(json_object_get(config, "pids"));
	json_int_t cpu = json_integer_value(json_object_get(config, "cpu"));
	json_t *devices = json_object_get(config, "devices"), *entry;
	const char *dev;

	printf("%-10s %s\n", "name", str_of(config, "name", "?"));
	printf("%-10s %lld\n", "id", (long long)json_integer_value(json_object_get(config, "id")));
	printf("%-10s %s\n", "state", str_of(config, "state", "?"));
	printf("%-10s %s\n", "image", str_of(config, "image", "?"));
	print_size("memory", memory);
	print_size("disk", json_integer_value(json_object_get(config, "disk")));
	if (pids)
		printf("%-10s %lld\n", "pids", (long long)pids);
	else
		printf("%-10s no limit\n", "pids");
	if (cpu)
		printf("%-10s %lld%% of a CPU\n", "cpu", (long long)cpu);
	else
		printf("%-10s no limit\n", "cpu");
	printf("%-10s %s\n", "restart", str_of(config, "restart", "?"));
	printf("%-10s", "devices");
	json_object_foreach(devices, dev, entry)
		printf(" %s=%s", dev, str_of(entry, "access", "?"));
	putchar('\n');
	/* Each device's settings, under their own names (those of the command line). */
	json_object_foreach(devices, dev, entry)
	{
		const char *key;
		json_t *value;
		json_object_foreach(entry, key, value) if (strcmp(key, "access") != 0)
			printf("%-10s %s\n", key,
			       json_string_value(value)[0] ? json_string_value(value) : "-");
	}
}

/* `cell config NAME` prints the config; with options it changes them and prints the
 * result. */
static int cmd_config(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	struct vp_options o = {0};
	int ret = parse_vp_options("config", argc, argv, &o);

	if (ret == 0 && cli_request(cli, vp_options_request("config", &o), NULL, 0, &reply) < 0)
		ret = 1;
	if (ret == 0 && o.json)
		print_json(json_object_get(reply, "config"));
	else if (ret == 0)
		print_config(json_object_get(reply, "config"));
	vp_options_free(&o);
	return ret;
}

/* start, stop, destroy, switch: a NAME, and --timeout for stop, --force for destroy. */
static int cmd_named(struct cli *cli, int argc, char **argv)
{
	static const struct option stop_opts[] = {
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	static const struct option destroy_opts[] = {
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	static const struct option no_opts[] = {{NULL, 0, NULL, 0}};
	const char *cmd = argv[0];
	const struct option *opts = !strcmp(cmd, "stop")      ? stop_opts
				    : !strcmp(cmd, "destroy") ? destroy_opts
							      : no_opts;
	json_t *req;
	int opt;
	bool force = false;
	long timeout = -1;
	char *end;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'f') {
			force = true;
		} else if (opt == 't') {
			errno = 0;
			timeout = strtol(optarg, &end, 10);
			if (errno || *end || !optarg[0] || timeout < 0 || timeout > 3600)
				return verb_error(cmd, "--timeout wants 0..3600 seconds, not '%s'",
						  optarg);
		} else {
			return option_error(cmd, opt, argv);
		}
	}
	if (optind != argc - 1)
		return count_error(cmd, "exactly one NAME", argc - optind);
	req = json_pack("{s:s, s:s}", "cmd", cmd, "name", argv[optind]);
	if (force)
		json_object_set_new(req, "force", json_true());
	if (timeout >= 0)
		json_object_set_new(req, "timeout", json_integer(timeout));
	return simple(cli, req);
}

/* --json and no other option; the other words are left in ARGV[1..*NARGS]. Returns
 * false after the error. */
static bool json_option(int argc, char **argv, int *nargs, bool *json)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	*json = false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt != 'j') {
			option_error(argv[0], opt, argv);
			return false;
		}
		*json = true;
	}
	*nargs = argc - optind;
	memmove(argv + 1, argv + optind, sizeof(*argv) * (size_t)*nargs);
	return true;
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int nargs;
	bool json;
	json_t *vp;
	size_t i;

	if (!json_option(argc, argv, &nargs, &json))
		return EXIT_USAGE;
	if (nargs != 0)
		return count_error("list", "no argument but --json", nargs);
	if (cli_request(cli, json_pack("{s:s}", "cmd", "list"), NULL, 0, &reply) < 0)
		return 1;
	if (json)
		return print_json(json_object_get(reply, "vps"));
	printf("%-20s %4s %-9s %-12s %8s %-2s %s\n", "NAME", "ID", "STATE", "IMAGE", "PID", "FG",
	       "NOTE");
	json_array_foreach(json_object_get(reply, "vps"), i, vp)
	{
		json_t *pid = json_object_get(vp, "pid");
		char pid_text[24] = "-";
		if (pid)
			snprintf(pid_text, sizeof(pid_text), "%lld",
				 (long long)json_integer_value(pid));
		printf("%-20s %4lld %-9s %-12s %8s %-2s %s\n", str_of(vp, "name", "?"),
		       (long long)json_integer_value(json_object_get(vp, "id")),
		       str_of(vp, "state", "?"), str_of(vp, "image", "?"), pid_text,
		       json_is_true(json_object_get(vp, "foreground")) ? "*" : "",
		       str_of(vp, "note", ""));
		if (json_object_get(vp, "error"))
			printf("  error: %s\n", str_of(vp, "error", ""));
	}
	return 0;
}

static int cmd_foreground(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	const char *fg;

	if ((argc = plain_args(argc, argv)) < 0)
		return EXIT_USAGE;
	if (argc != 1)
		return count_error(argv[0], "no argument", argc - 1);
	if (cli_request(cli, json_pack("{s:s}", "cmd", argv[0]), NULL, 0, &reply) < 0)
		return 1;
	fg = str_of(reply, "foreground", NULL);
	if (!fg) {
		cli_error("no VP is in the foreground");
		return 1;
	}
	printf("%s\n", fg);
	return 0;
}

/* ARGV[FIRST..FIRST+N-1] as integers into OUT; false (after saying so) for one that is not. */
static bool input_numbers(char **argv, int first, int n, json_int_t *out, const char *what)
{
	for (int i = 0; i < n; i++) {
		const char *arg = argv[first + i];
		char *end;
		errno = 0;
		out[i] = strtoll(arg, &end, 10);
		if (errno || *end || !arg[0]) {
			verb_error("input", "input %s wants numbers, not '%s'", what, arg);
			return false;
		}
	}
	return true;
}

static int cmd_input(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	json_t *req, *text;
	json_int_t n[5] = {0, 0, 0, 0, 300};
	const char *verb = argc >= 2 ? argv[1] : "";

	if (strcmp(verb, "tap") == 0 && argc == 4) {
		if (!input_numbers(argv, 2, 2, n, "tap"))
			return EXIT_USAGE;
		req = json_pack("{s:s, s:[I,I]}", "cmd", "input", "tap", n[0], n[1]);
	} else if (strcmp(verb, "swipe") == 0 && (argc == 6 || argc == 7)) {
		if (!input_numbers(argv, 2, argc - 2, n, "swipe"))
			return EXIT_USAGE;
		req = json_pack("{s:s, s:[I,I,I,I,I]}", "cmd", "input", "swipe", n[0], n[1], n[2],
				n[3], n[4]);
	} else if (strcmp(verb, "key") == 0 && argc == 3) {
		req = json_pack("{s:s, s:s}", "cmd", "input", "key", argv[2]);
	} else if (strcmp(verb, "text") == 0 && argc == 3) {
		if (!(text = json_string(argv[2])))
			return verb_error("input", "input text: the text is not valid UTF-8");
		req = json_pack("{s:s, s:o}", "cmd", "input", "text", text);
	} else {
		return verb_error("input", "input wants 'tap X Y', 'swipe X1 Y1 X2 Y2 [MS]', "
					   "'key NAME|CHORD' or 'text STRING'");
	}
	return cli_request(cli, req, NULL, 0, &reply) < 0 ? 1 : 0;
}

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	bool tty = false;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 2 < argc && strcmp(argv[i + 2], "--") == 0) {
			i++; /* `exec -- NAME -- CMD`: a NAME that looks like an option */
			break;
		}
		if (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--tty") == 0)
			tty = true;
		else
			return verb_error("exec", "unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return verb_error("exec", "exec wants NAME -- CMD [ARG]...");
	if (i + 1 < argc && strcmp(argv[i + 1], "--") == 0) {
		if (i + 2 >= argc)
			return verb_error("exec", "exec wants a command after NAME --");
		return cli_exec(cli, argv[i], argv + i + 2, argc - i - 2, tty);
	}
	if (i + 1 >= argc)
		return verb_error("exec", "exec wants NAME -- CMD [ARG]...");
	return cli_exec(cli, argv[i], argv + i + 1, argc - i - 1, tty);
}

/* One field of `cell stats`, under its --json key, with a readable form where it helps. */
static void print_field(const char *key, json_t *v)
{
	size_t klen = strlen(key);
	bool bytes = klen > 6 && strcmp(key + klen - 6, "_bytes") == 0;
	bool usec = klen > 5 && strcmp(key + klen - 5, "_usec") == 0;

	printf("  %-24s ", key);
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		printf("%lld", (long long)n);
		if (bytes && n > 0)
			printf(" (%.1f MiB)", (double)n / 1048576.0);
		else if (usec && n > 0)
			printf(" (%.3f s)", (double)n / 1e6);
	} else if (json_is_real(v)) {
		printf("%.3f", json_real_value(v));
	} else if (json_is_string(v)) {
		printf("%s", json_string_value(v));
	} else if (json_is_boolean(v)) {
		printf("%s", json_is_true(v) ? "yes" : "no");
	} else {
		_cleanup_free_ char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s", text ? text : "?");
	}
	putchar('\n');
}

/* The text shows every field --json has: what the daemon adds shows without a change
 * here. */
static void print_fields(json_t *obj, const char *skip)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) if (!skip || strcmp(key, skip) != 0) print_field(key, v);
}

/* A VP's fields, a device's section's own one a line each: "net.wlan.bytes_in". */
static void print_flat(json_t *obj, const char *prefix, const char *skip)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		char name[128];
		if (skip && strcmp(key, skip) == 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, key);
		if (json_is_object(v)) {
			strncat(name, ".", sizeof(name) - strlen(name) - 1);
			print_flat(v, name, NULL);
		} else {
			print_field(name, v);
		}
	}
}

static int cmd_stats(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int nargs;
	bool json;
	json_t *req, *vp;
	size_t i;

	if (!json_option(argc, argv, &nargs, &json))
		return EXIT_USAGE;
	if (nargs > 1)
		return count_error("stats", "at most one NAME", nargs);
	req = json_pack("{s:s}", "cmd", "stats");
	if (nargs == 1)
		json_object_set_new(req, "name", json_string(argv[1]));
	if (cli_request(cli, req, NULL, 0, &reply) < 0)
		return 1;
	if (json)
		return print_json(reply);
	printf("cellsd\n");
	print_fields(json_object_get(reply, "daemon"), NULL);
	json_array_foreach(json_object_get(reply, "vps"), i, vp)
	{
		printf("VP %s\n", str_of(vp, "name", "?"));
		print_flat(vp, "", "name");
	}
	return 0;
}

/* Where the phone can be seen and what it takes: the viewer's sockets and secrets. */
static int cmd_viewer(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int nargs;
	bool json;

	if (!json_option(argc, argv, &nargs, &json))
		return EXIT_USAGE;
	if (nargs > 0)
		return count_error("viewer", "no argument", nargs);
	if (cli_request(cli, json_pack("{s:s}", "cmd", "viewer"), NULL, 0, &reply) < 0)
		return 1;
	if (json)
		return print_json(reply);
	if (!json_object_get(reply, "secrets_file")) {
		printf("no viewer: cellsd runs with --vnc none --web none\n");
		return 0;
	}
	if (json_object_get(reply, "vnc_unix"))
		printf("VNC (local):  %s\n", str_of(reply, "vnc_unix", "?"));
	if (json_object_get(reply, "vnc_tcp"))
		printf("VNC (TCP):    %s  password %s\n", str_of(reply, "vnc_tcp", "?"),
		       str_of(reply, "vnc_password", "?"));
	if (json_object_get(reply, "web_unix"))
		printf("web (local):  %s\n", str_of(reply, "web_unix", "?"));
	if (json_object_get(reply, "web_tcp"))
		printf("web (TCP):    http://%s/?token=%s\n", str_of(reply, "web_tcp", "?"),
		       str_of(reply, "web_token", "?"));
	printf("secrets in:   %s\n", str_of(reply, "secrets_file", "?"));
	return 0;
}

static int cmd_screenshot(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	_cleanup_close_ int fd = -1;

	if ((argc = plain_args(argc, argv)) < 0)
		return EXIT_USAGE;
	if (argc != 2)
		return count_error("screenshot", "exactly one FILE.png", argc - 1);
	/* The file is opened here, with the caller's rights, and handed to cellsd. */
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		cli_error("%s: %s", argv[1], strerror(errno));
		return 1;
	}
	if (cli_request(cli, json_pack("{s:s}", "cmd", "screenshot"), &fd, 1, &reply) < 0) {
		unlink(argv[1]);
		return 1;
	}
	return 0;
}

static int cmd_events(struct cli *cli, int argc, char **argv)
{
	if ((argc = plain_args(argc, argv)) < 0)
		return EXIT_USAGE;
	if (argc != 1)
		return count_error("events", "no argument", argc - 1);
	if (cli_request(cli, json_pack("{s:s}", "cmd", "events"), NULL, 0, NULL) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		json_t *ev = NULL;
		int ret = proto_recv(cli->sock, &cli->reader, &ev);
		if (ret < 0)
			return ret == -ECONNRESET ? 0 : 1;
		/* 16 digits: "time" to the microsecond. */
		json_dumpf(ev, stdout, JSON_COMPACT | JSON_REAL_PRECISION(16));
		putchar('\n');
		json_decref(ev);
	}
}

/* Copy SIZE bytes of FD from its start (or, with SIZE < 0, up to its end) to stdout. */
static int copy_out(int fd, off_t size)
{
	char buf[65536];
	off_t done = 0;

	while (size < 0 || done < size) {
		size_t want = size < 0 || size - done > (off_t)sizeof(buf) ? sizeof(buf)
									   : (size_t)(size - done);
		ssize_t n = size < 0 ? read(fd, buf, want) : pread(fd, buf, want, done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("read the log: %s", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				cli_error("write: %s", strerror(errno));
				return 1;
			}
			off += w;
		}
		done += n;
	}
	return 0;
}

/* cellsd hands over the log files with their sizes at the request and, following a
 * running VP, a pipe of what comes after; the pipe ends with the run. */
static int cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_json_ json_t *reply = NULL;
	bool follow = false;
	json_t *sizes;
	size_t nsizes;
	int opt, ret = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		if (opt != 'f')
			return option_error("logs", opt, argv);
		follow = true;
	}
	if (optind != argc - 1)
		return count_error("logs", "exactly one NAME", argc - optind);
	if (cli_request(cli,
			json_pack("{s:s, s:s, s:b}", "cmd", "logs", "name", argv[optind], "follow",
				  follow),
			NULL, 0, &reply) < 0)
		return 1;
	sizes = json_object_get(reply, "sizes");
	nsizes = json_array_size(sizes);
	if ((size_t)cli->reader.nfds != nsizes + json_is_true(json_object_get(reply, "follow"))) {
		cli_error("cellsd sent %d descriptors for %zu logs", cli->reader.nfds, nsizes);
		return 1;
	}
	for (int i = 0; i < cli->reader.nfds && ret == 0; i++)
		ret = copy_out(cli->reader.fds[i],
			       (size_t)i < nsizes
				       ? (off_t)json_integer_value(json_array_get(sizes, i))
				       : -1);
	return ret;
}

static int cmd_help(int argc, char **argv)
{
	const struct verb_help *v;

	if ((argc = plain_args(argc, argv)) < 0)
		return EXIT_USAGE;
	if (argc > 2)
		return count_error("help", "at most one COMMAND", argc - 1);
	if (argc == 1) {
		help_print_all(stdout);
		return 0;
	}
	if (!(v = help_find(argv[1])))
		return usage_error("no command '%s'", argv[1]);
	help_print_verb(stdout, v);
	return 0;
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "image") == 0)
		return cmd_image(cli, argc, argv);
	if (strcmp(cmd, "create") == 0)
		return cmd_create(cli, argc, argv);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(cli, argc, argv);
	if (!strcmp(cmd, "start") || !strcmp(cmd, "stop") || !strcmp(cmd, "destroy") ||
	    !strcmp(cmd, "switch"))
		return cmd_named(cli, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(cli, argc, argv);
	if (!strcmp(cmd, "next") || !strcmp(cmd, "prev") || !strcmp(cmd, "active"))
		return cmd_foreground(cli, argc, argv);
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(cli, argc, argv);
	if (strcmp(cmd, "console") == 0) {
		if ((argc = plain_args(argc, argv)) < 0)
			return EXIT_USAGE;
		return argc == 2 ? cli_console(cli, argv[1])
				 : count_error("console", "exactly one NAME", argc - 1);
	}
	if (strcmp(cmd, "logs") == 0)
		return cmd_logs(cli, argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(cli, argc, argv);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(cli, argc, argv);
	if (strcmp(cmd, "viewer") == 0)
		return cmd_viewer(cli, argc, argv);
	if (strcmp(cmd, "screenshot") == 0)
		return cmd_screenshot(cli, argc, argv);
	if (strcmp(cmd, "input") == 0)
		return cmd_input(cli, argc, argv);
	if (strcmp(cmd, "device") == 0)
		return cli_device(cli, argc, argv);
	return usage_error("unknown command '%s'", cmd);
}

/* --run DIR, --help and --version, anywhere on the line: before "--", and for exec before
 * its command. The other words stay in order; returns how many (argv[0] included), or -1
 * after the error. */
static int global_options(struct cli *cli, int argc, char **argv, bool *help, bool *version)
{
	int n = 1, words = 0;
	bool exec = false, done = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (done) {
		} else if (strcmp(a, "--") == 0) {
			done = true;
		} else if (strcmp(a, "--run") == 0 || strncmp(a, "--run=", 6) == 0) {
			const char *dir = a[5] ? a + 6 : i + 1 < argc ? argv[++i] : NULL;
			if (!dir || !dir[0]) {
				usage_error("--run wants a directory");
				return -1;
			}
			cli->run_dir = dir;
			continue;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
			continue;
		} else if (strcmp(a, "--version") == 0) {
			*version = true;
			continue;
		} else if (a[0] != '-') {
			if (++words == 1)
				exec = strcmp(a, "exec") == 0;
			/* exec's command and its arguments are not ours. */
			done = exec && words == 3;
		}
		argv[n++] = argv[i];
	}
	return n;
}

int main(int argc, char **argv)
{
	struct cli cli = {.run_dir = getenv("CELLS_RUN"), .sock = -1};
	const struct verb_help *verb;
	bool help = false, version = false;

	if (!cli.run_dir || !cli.run_dir[0])
		cli.run_dir = "/run/cells";
	if ((argc = global_options(&cli, argc, argv, &help, &version)) < 0)
		return EXIT_USAGE;
	if (version) {
		printf("cell %s\n", CELLS_VERSION);
		return 0;
	}
	if (argc < 2) {
		help_print_all(help ? stdout : stderr);
		return help ? 0 : EXIT_USAGE;
	}
	if (argv[1][0] == '-')
		return usage_error("unknown option '%s'", argv[1]);
	/* Check the words before bothering the daemon. */
	if (!(verb = help_find(argv[1])))
		return usage_error("unknown command '%s'", argv[1]);
	if (help) {
		help_print_verb(stdout, verb);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0)
		return cmd_help(argc - 1, argv + 1);
	return run(&cli, argc - 1, argv + 1);
}
