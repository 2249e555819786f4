/* cell: the command line of Cells. It speaks only the control protocol of cellsd. */
#include "cli/client.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: cell [--run DIR] COMMAND [ARG]...\n"
	"  image build [NAME]                 build an image from its recipe (default minimal)\n"
	"  image list                         list images\n"
	"  image import NAME DIR|TARBALL      make an image of any root file system\n"
	"  create NAME [--image NAME] [--device DEV=none|shared|exclusive]... [--number NUM]\n"
	"              [--memory SIZE] [--pids N] [--cpu PERCENT] [--uplink wlan|cell]\n"
	"              [--background run|throttle|freeze] [--autostart]\n"
	"  start NAME | stop NAME [--timeout S] | destroy NAME [--force]\n"
	"  list [--json]                      VPs and their state\n"
	"  switch NAME | next | prev | active the foreground VP\n"
	"  exec NAME -- CMD [ARG]...          run a command inside a VP\n"
	"  console NAME                       the VP's console (Ctrl-] leaves)\n"
	"  stats [NAME] [--json]              resource use\n"
	"  events                             stream events as JSON lines\n"
	"  screenshot FILE.png                what the screen shows now\n"
	"  input tap X Y | swipe X1 Y1 X2 Y2 [MS] | key NAME|CHORD | text STRING\n"
	"                                     touch or type into the foreground VP\n"
	"                                     (a chord: ctrl+alt+right)\n"
	"The daemon is found in --run DIR, $CELLS_RUN, or /run/cells.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("cell: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(see cell --help)\n", stderr);
	return EXIT_USAGE;
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
	int out = 2;

	if (argc < 2)
		return usage_error("image wants build, list or import%s", "");
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		json_t *img;
		size_t i;
		if (cli_request(cli, json_pack("{s:s}", "cmd", "image.list"), NULL, 0, &reply) < 0)
			return 1;
		printf("%-20s %-4s %s\n", "NAME", "VPS", "SOURCE");
		json_array_foreach(json_object_get(reply, "images"), i, img)
			printf("%-20s %-4lld %s\n", str_of(img, "name", "?"),
			       (long long)json_integer_value(json_object_get(img, "vps")),
			       str_of(img, "source", "-"));
		return 0;
	}
	if (strcmp(argv[1], "build") == 0 && argc <= 3) {
		const char *name = argc == 3 ? argv[2] : "minimal";
		if (cli_request(cli, json_pack("{s:s, s:s}", "cmd", "image.build", "name", name),
				&out, 1, NULL) < 0)
			return 1;
		printf("image %s built\n", name);
		return 0;
	}
	if (strcmp(argv[1], "import") == 0 && argc == 4) {
		char source[PATH_MAX];
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
	return usage_error("bad image command '%s'", argv[1]);
}

static int cmd_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image", required_argument, NULL, 'i'},
		{"device", required_argument, NULL, 'd'},
		{"number", required_argument, NULL, 'n'},
		{"memory", required_argument, NULL, 'm'},
		{"pids", required_argument, NULL, 'p'},
		{"cpu", required_argument, NULL, 'c'},
		{"uplink", required_argument, NULL, 'u'},
		{"background", required_argument, NULL, 'b'},
		{"autostart", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	json_t *options = json_object(), *devices = json_array();
	json_t *req;
	bool autostart = false;
	int opt, idx;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (opt == '?') {
			json_decref(options);
			json_decref(devices);
			return EXIT_USAGE;
		}
		if (opt == 'd')
			json_array_append_new(devices, json_string(optarg));
		else if (opt == 'a')
			autostart = true;
		else
			json_object_set_new(options, opts[idx].name, json_string(optarg));
	}
	if (optind != argc - 1) {
		json_decref(options);
		json_decref(devices);
		return usage_error("create wants exactly one NAME%s", "");
	}
	req = json_pack("{s:s, s:s, s:o, s:o, s:b}", "cmd", "create", "name", argv[optind],
			"options", options, "devices", devices, "autostart", autostart);
	return simple(cli, req);
}

static int cmd_named(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = argv[0];
	json_t *req;
	int opt;
	bool force = false;
	long timeout = -1;
	char *end;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f' && strcmp(cmd, "destroy") == 0) {
			force = true;
		} else if (opt == 't' && strcmp(cmd, "stop") == 0) {
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout < 0 || timeout > 3600)
				return usage_error("--timeout wants 0..3600 seconds, not '%s'",
						   optarg);
		} else {
			return usage_error("bad option for %s", cmd);
		}
	}
	if (optind != argc - 1)
		return usage_error("%s wants exactly one NAME", cmd);
	req = json_pack("{s:s, s:s}", "cmd", cmd, "name", argv[optind]);
	if (force)
		json_object_set_new(req, "force", json_true());
	if (timeout >= 0)
		json_object_set_new(req, "timeout", json_integer(timeout));
	if (strcmp(cmd, "switch") == 0) {
		if (cli_request(cli, req, NULL, 0, NULL) < 0)
			return 1;
		return 0;
	}
	return simple(cli, req);
}

static bool want_json(int argc, char **argv, int *nargs)
{
	bool json = false;

	*nargs = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			argv[++*nargs] = argv[i];
	}
	return json;
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int nargs;
	bool json = want_json(argc, argv, &nargs);
	json_t *vp;
	size_t i;

	if (nargs != 0)
		return usage_error("list takes no argument but --json%s", "");
	if (cli_request(cli, json_pack("{s:s}", "cmd", "list"), NULL, 0, &reply) < 0)
		return 1;
	if (json)
		return print_json(json_object_get(reply, "vps"));
	printf("%-20s %4s %-9s %-12s %8s %s\n", "NAME", "ID", "STATE", "IMAGE", "PID", "FG");
	json_array_foreach(json_object_get(reply, "vps"), i, vp)
	{
		json_t *pid = json_object_get(vp, "pid");
		char pid_text[24] = "-";
		if (pid)
			snprintf(pid_text, sizeof(pid_text), "%lld",
				 (long long)json_integer_value(pid));
		printf("%-20s %4lld %-9s %-12s %8s %s\n", str_of(vp, "name", "?"),
		       (long long)json_integer_value(json_object_get(vp, "id")),
		       str_of(vp, "state", "?"), str_of(vp, "image", "?"), pid_text,
		       json_is_true(json_object_get(vp, "foreground")) ? "*" : "");
		if (json_object_get(vp, "error"))
			printf("  error: %s\n", str_of(vp, "error", ""));
	}
	return 0;
}

static int cmd_foreground(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	const char *fg;

	if (argc != 1)
		return usage_error("%s takes no argument", argv[0]);
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
			fprintf(stderr,
				"cell: input %s wants numbers, not '%s'\n(see cell --help)\n", what,
				arg);
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
			return usage_error("input text: the text is not valid UTF-8%s", "");
		req = json_pack("{s:s, s:o}", "cmd", "input", "text", text);
	} else {
		return usage_error("input wants 'tap X Y', 'swipe X1 Y1 X2 Y2 [MS]', "
				   "'key NAME|CHORD' or 'text STRING'%s",
				   "");
	}
	return cli_request(cli, req, NULL, 0, &reply) < 0 ? 1 : 0;
}

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	const int stdio[3] = {0, 1, 2};
	json_t *args;
	int first = 2;

	if (argc < 3)
		return usage_error("exec wants NAME -- CMD [ARG]...%s", "");
	if (strcmp(argv[2], "--") == 0)
		first = 3;
	if (first >= argc)
		return usage_error("exec wants a command after NAME --%s", "");
	args = json_array();
	for (int i = first; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	if (cli_request(cli,
			json_pack("{s:s, s:s, s:o, s:s?}", "cmd", "exec", "name", argv[1], "argv",
				  args, "term", getenv("TERM")),
			stdio, 3, &reply) < 0)
		return 125;
	return (int)json_integer_value(json_object_get(reply, "status"));
}

static void print_size(const char *label, json_t *vp, const char *key)
{
	json_t *v = json_object_get(vp, key);
	if (v)
		printf("  %-14s %.1f MiB\n", label, (double)json_integer_value(v) / 1048576.0);
}

static int cmd_stats(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int nargs;
	bool json = want_json(argc, argv, &nargs);
	json_t *req = json_pack("{s:s}", "cmd", "stats");
	json_t *d, *vp;
	size_t i;

	if (nargs > 1)
		return usage_error("stats takes at most one NAME%s", "");
	if (nargs == 1)
		json_object_set_new(req, "name", json_string(argv[1]));
	if (cli_request(cli, req, NULL, 0, &reply) < 0)
		return 1;
	if (json)
		return print_json(reply);
	d = json_object_get(reply, "daemon");
	printf("cellsd: %lld KiB resident, %lld VPs (%lld running), %lld switches, last %.1f us, "
	       "cgroup %s\n",
	       (long long)json_integer_value(json_object_get(d, "rss_kb")),
	       (long long)json_integer_value(json_object_get(d, "vps")),
	       (long long)json_integer_value(json_object_get(d, "running")),
	       (long long)json_integer_value(json_object_get(d, "switches")),
	       json_real_value(json_object_get(d, "last_switch_usec")), str_of(d, "cgroups", "?"));
	json_array_foreach(json_object_get(reply, "vps"), i, vp)
	{
		printf("%s: %s%s\n", str_of(vp, "name", "?"), str_of(vp, "state", "?"),
		       json_is_true(json_object_get(vp, "foreground")) ? ", foreground" : "");
		if (!json_object_get(vp, "pid"))
			continue;
		printf("  %-14s %lld\n", "init pid",
		       (long long)json_integer_value(json_object_get(vp, "pid")));
		printf("  %-14s %.1f s\n", "uptime",
		       json_real_value(json_object_get(vp, "uptime_s")));
		print_size("memory", vp, "memory_bytes");
		print_size("memory peak", vp, "memory_peak_bytes");
		printf("  %-14s %lld of %lld\n", "tasks",
		       (long long)json_integer_value(json_object_get(vp, "pids")),
		       (long long)json_integer_value(json_object_get(vp, "pids_limit")));
		printf("  %-14s %.3f s\n", "cpu",
		       (double)json_integer_value(json_object_get(vp, "cpu_usec")) / 1e6);
		printf("  %-14s %lld\n", "oom kills",
		       (long long)json_integer_value(json_object_get(vp, "oom_kills")));
	}
	return 0;
}

static int cmd_screenshot(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	_cleanup_close_ int fd = -1;

	if (argc != 2)
		return usage_error("screenshot wants exactly one FILE.png%s", "");
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
	(void)argv;
	if (argc != 1)
		return usage_error("events takes no argument%s", "");
	if (cli_request(cli, json_pack("{s:s}", "cmd", "events"), NULL, 0, NULL) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		json_t *ev = NULL;
		int ret = proto_recv(cli->sock, &cli->reader, &ev);
		if (ret < 0)
			return ret == -ECONNRESET ? 0 : 1;
		json_dumpf(ev, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(ev);
	}
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "image") == 0)
		return cmd_image(cli, argc, argv);
	if (strcmp(cmd, "create") == 0)
		return cmd_create(cli, argc, argv);
	if (!strcmp(cmd, "start") || !strcmp(cmd, "stop") || !strcmp(cmd, "destroy") ||
	    !strcmp(cmd, "switch"))
		return cmd_named(cli, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(cli, argc, argv);
	if (!strcmp(cmd, "next") || !strcmp(cmd, "prev") || !strcmp(cmd, "active"))
		return cmd_foreground(cli, argc, argv);
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(cli, argc, argv);
	if (strcmp(cmd, "console") == 0)
		return argc == 2 ? cli_console(cli, argv[1])
				 : usage_error("console wants exactly one NAME%s", "");
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(cli, argc, argv);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(cli, argc, argv);
	if (strcmp(cmd, "screenshot") == 0)
		return cmd_screenshot(cli, argc, argv);
	if (strcmp(cmd, "input") == 0)
		return cmd_input(cli, argc, argv);
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
	struct cli cli = {.run_dir = getenv("CELLS_RUN"), .sock = -1};
	int i = 1;

	if (!cli.run_dir || !cli.run_dir[0])
		cli.run_dir = "/run/cells";
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "--run") == 0 && i + 1 < argc) {
			cli.run_dir = argv[++i];
		} else if (strncmp(argv[i], "--run=", 6) == 0) {
			cli.run_dir = argv[i] + 6;
		} else {
			return usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	/* Check the words before bothering the daemon. */
	static const char *const known[] = {
		"image", "create", "start", "stop",    "destroy", "list",   "switch",	  "next",
		"prev",	 "active", "exec",  "console", "stats",	  "events", "screenshot", "input"};
	bool found = false;
	for (size_t k = 0; k < ARRAY_SIZE(known); k++)
		found |= strcmp(argv[i], known[k]) == 0;
	if (!found)
		return usage_error("unknown command '%s'", argv[i]);
	if (cli_connect(&cli) < 0)
		return 1;
	return run(&cli, argc - i, argv + i);
}
